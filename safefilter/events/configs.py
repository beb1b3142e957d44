"""Small, bounded readers of the file formats the data-flow stage needs (`flow.py`).

A file an agent writes is data until something runs or loads it; when a runner does (ssh reads
`~/.ssh/config`, git its aliases, make its Makefile, npm `package.json`, a miner its
`config.json`, kubectl a manifest), flow needs the few facts in it that make something happen:
commands, hosts, forwards, images, privileges. These readers extract exactly those facts from
text. They never raise (a file that does not parse yields nothing), never follow includes, and
bound what they walk, because the text is untrusted. Line splitting and `str` methods only; no
backtracking regular expressions.
"""
from __future__ import annotations

import configparser
import json
import shlex
import tomllib
from dataclasses import dataclass, field
from typing import Any, Iterator

import yaml

__all__ = [
    "SshHost", "ssh_hosts", "ssh_host_options", "git_aliases", "make_targets", "npm_scripts",
    "ini_commands", "cron_commands", "unit_commands", "k8s_objects", "compose_services", "structured",
    "endpoints", "dotenv", "python_imports", "git_option", "precommit_entries",
    "dockerfile_runs", "terraform_resources", "ansible_commands", "MAX_NODES",
]

MAX_NODES = 5000  # values visited in one structured document (YAML aliases can form cycles)
_MAX_DOCS = 64  # YAML documents per manifest
_MAX_LINES = 4000  # lines read from one config


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """(offset, line) of at most _MAX_LINES lines; offsets index `text`."""
    pos = 0
    for n, line in enumerate(text.split("\n")):
        if n >= _MAX_LINES:
            return
        yield pos, line
        pos += len(line) + 1


# --- ssh client config -------------------------------------------------------------------------

@dataclass(slots=True)
class SshHost:
    """What `ssh alias` means under a `Host alias` block (first value wins, as ssh does)."""

    options: dict[str, str] = field(default_factory=dict)
    forwards: list[tuple[str, str]] = field(default_factory=list)  # ("-R", "8080:localhost:80")


_FORWARDS = {"remoteforward": "-R", "localforward": "-L", "dynamicforward": "-D"}


def ssh_hosts(text: str) -> dict[str, SshHost]:
    """Options per literal `Host` alias (blocks with patterns skipped; see `ssh_host_options`
    for what ssh applies to one destination)."""
    out: dict[str, SshHost] = {}
    for patterns, options, forwards in _ssh_blocks(text):
        for alias in patterns:
            if not any(c in alias for c in "*?!"):
                host = out.setdefault(alias, SshHost())
                for k, v in options:
                    host.options.setdefault(k, v)
                host.forwards.extend(forwards)
    return out


def ssh_host_options(text: str, host: str) -> SshHost | None:
    """What ssh applies when it connects to `host`: every `Host` block whose patterns match
    (`*`, `?`, `!negation`), in file order, first value of each option winning and forwards
    adding up (`Host *` with a RemoteForward forwards on every connection). None if no block
    matches."""
    out: SshHost | None = None
    for patterns, options, forwards in _ssh_blocks(text):
        if not _host_matches(host, patterns):
            continue
        out = out or SshHost()
        for k, v in options:
            out.options.setdefault(k, v)
        out.forwards.extend(forwards)
    return out


def _ssh_blocks(text: str) -> list[tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]]:
    """(patterns, options, forwards) of each `Host` block; `Match` blocks are skipped."""
    blocks: list[tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]] = []
    current: tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]] | None = None
    for _, raw in _lines(text):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, value = _key_value(line)
        if key == "host":
            current = (value.split()[:32], [], [])
            blocks.append(current)
        elif key == "match":
            current = None
        elif current is not None and key in _FORWARDS:
            current[2].append((_FORWARDS[key], ":".join(value.split())))
        elif current is not None and key and len(current[1]) < 64:
            current[1].append((key, value))
        if len(blocks) >= 256:
            break
    return blocks


def _host_matches(host: str, patterns: list[str]) -> bool:
    host = host.lower()
    hit = False
    for p in patterns:
        negated = p.startswith("!")
        if _glob(p.lstrip("!").lower(), host):
            if negated:
                return False
            hit = True
    return hit


def _glob(pattern: str, text: str) -> bool:
    """`*` and `?` glob without backtracking: pieces between stars matched leftmost in order."""
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return len(text) == len(pattern) and _piece_at(pattern, text, 0)
    first, last = pieces[0], pieces[-1]
    if len(first) + len(last) > len(text) or not _piece_at(first, text, 0) \
            or not _piece_at(last, text, len(text) - len(last)):
        return False
    pos, end = len(first), len(text) - len(last)
    for piece in pieces[1:-1]:
        at = _find_piece(piece, text, pos, end)
        if at < 0:
            return False
        pos = at + len(piece)
    return True


def _piece_at(piece: str, text: str, at: int) -> bool:
    return at + len(piece) <= len(text) and all(
        c == "?" or c == text[at + k] for k, c in enumerate(piece))


def _find_piece(piece: str, text: str, start: int, end: int) -> int:
    for at in range(start, end - len(piece) + 1):
        if _piece_at(piece, text, at):
            return at
    return -1


def _key_value(line: str) -> tuple[str, str]:
    """`Key value`, `Key=value` or `Key = value` (ssh_config syntax)."""
    cut = len(line)
    for i, c in enumerate(line):
        if c in " \t=":
            cut = i
            break
    key = line[:cut].lower()
    value = line[cut:].strip().lstrip("=").strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return key, value


# --- git config ---------------------------------------------------------------------------------

def git_aliases(text: str) -> dict[str, tuple[int, str]]:
    """`[alias]` entries of a git config: name -> (offset of the value in `text`, value)."""
    out: dict[str, tuple[int, str]] = {}
    section = ""
    for pos, raw in _lines(text):
        line = raw.strip()
        if line.startswith("["):
            section = line[1:line.find("]")].strip().lower() if "]" in line else ""
            continue
        if section != "alias" or "=" not in line or line.startswith(("#", ";")):
            continue
        name, _, value = line.partition("=")
        value = value.strip()
        start = pos + raw.find(value) if value else pos
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value, start = value[1:-1].replace('\\"', '"'), start + 1
        out[name.strip().lower()] = (start, value)
    return out


def git_option(text: str, section: str, key: str) -> str | None:
    """The value of `key` in `[section]` of a git config (last one wins), e.g. core.hooksPath."""
    value = None
    current = ""
    for _, raw in _lines(text):
        line = raw.strip()
        if line.startswith("["):
            current = line[1:line.find("]")].strip().lower() if "]" in line else ""
        elif current == section and "=" in line:
            k, _, v = line.partition("=")
            if k.strip().lower() == key:
                value = v.strip().strip('"')
    return value


def precommit_entries(text: str) -> list[str]:
    """`entry` commands of `repo: local` hooks in a .pre-commit-config.yaml (with their
    `args`); remote repos' hooks are code we cannot see."""
    docs = _yaml_docs(text)
    doc = docs[0] if docs else None
    out: list[str] = []
    repos = doc.get("repos") if isinstance(doc, dict) else None
    for repo in repos[:32] if isinstance(repos, list) else []:
        if not isinstance(repo, dict) or repo.get("repo") != "local":
            continue
        for hook in (repo.get("hooks") or [])[:32] if isinstance(repo.get("hooks"), list) else []:
            if isinstance(hook, dict) and isinstance(hook.get("entry"), str):
                args = hook.get("args") if isinstance(hook.get("args"), list) else []
                out.append(" ".join([hook["entry"]] + [str(a) for a in args[:32]]))
    return out


# --- Makefile, package.json, tox ---------------------------------------------------------------

Recipes = list[tuple[int, str]]


def make_targets(text: str) -> tuple[dict[str, tuple[list[str], Recipes]], str | None]:
    """Rules of a Makefile: target -> (prerequisites, [(offset, recipe line)]), default target.

    Recipe lines lose their `@`/`-`/`+` prefixes and `$$` becomes `$`; `$(VAR)` stays as
    written (make variables are not evaluated). Pattern rules and `.SPECIAL` targets are kept
    but never chosen as the default."""
    rules: dict[str, tuple[list[str], Recipes]] = {}
    variables: dict[str, str] = {}
    default: str | None = None
    current: list[Recipes] = []
    for pos, raw in _lines(text):
        if raw.startswith("\t"):
            body = raw[1:]
            stripped = body.lstrip("@-+ \t")
            if current and stripped and not stripped.startswith("#"):
                offset = pos + len(raw) - len(stripped)
                for recipes in current:
                    recipes.append((offset, stripped.replace("$$", "$")))
            continue
        line = raw.split("#", 1)[0]
        if ":" not in line or "=" in line.split(":", 1)[0] or line[:1] in (" ", ""):
            if line.strip():
                current = []
                _make_variable(line, variables)
            continue
        head, _, rest = line.partition(":")
        if rest.startswith("=") or rest.startswith(":="):  # `X := value`, `X ::= value`
            current = []
            _make_variable(line, variables)
            continue
        deps, _, inline = rest.partition(";")
        current = []
        for target in head.split():
            entry = rules.setdefault(target, ([], []))
            entry[0].extend(deps.split())
            current.append(entry[1])
            if default is None and not target.startswith(".") and "%" not in target:
                default = target
        if inline.strip():
            offset = pos + len(raw) - len(raw.split(";", 1)[1].lstrip())
            for recipes in current:
                recipes.append((offset, inline.strip()))
    if variables:
        for _, recipes in rules.values():
            recipes[:] = [_expand(offset, line, variables) for offset, line in recipes]
    return rules, default


def _make_variable(line: str, variables: dict[str, str]) -> None:
    """`NAME = v`, `NAME ?= v`, `NAME := v`, `NAME ::= v`, `NAME += v` (first `?=` wins)."""
    if len(variables) >= 256:
        return
    name, eq, value = line.partition("=")
    if not eq:
        return
    op = name[-2:] if name.endswith(("?", ":", "+")) else ""
    name = name.rstrip("?:+").strip()
    if not name or " " in name or "$" in name:
        return
    if name.startswith("export "):
        name = name[7:].strip()
    value = value.strip()[:4096]
    if op.endswith("?") and name in variables:
        return
    variables[name] = (variables.get(name, "") + " " + value).strip() if op.endswith("+") \
        else value


def _expand(offset: int, line: str, variables: dict[str, str]) -> tuple[int, str]:
    """Recipe line with `$(NAME)`/`${NAME}` of known variables replaced (two passes); offset
    -1 when anything changed (the line is no longer verbatim in the file)."""
    out = line
    for _ in range(2):
        if "$(" not in out and "${" not in out:
            break
        for name, value in variables.items():
            out = out.replace(f"$({name})", value).replace(f"${{{name}}}", value)
        out = out[:8192]
    return (offset if out == line else -1), out


def npm_scripts(text: str) -> dict[str, str]:
    """`scripts` of a package.json (string values only)."""
    data = _json(text)
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):
        return {}
    return {str(k): v for k, v in list(scripts.items())[:256] if isinstance(v, str)}


def ini_commands(text: str, keys: tuple[str, ...]) -> list[tuple[int, str]]:
    """Command lines under `keys` (`commands =` in tox.ini), with continuation lines.

    Returns (offset, command); a line-oriented reader so offsets stay exact."""
    out: list[tuple[int, str]] = []
    active = False
    for pos, raw in _lines(text):
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            active = False if line.startswith("[") else active
            continue
        if raw[:1] in (" ", "\t") and active:
            out.append((pos + raw.find(line), line))
            continue
        key, eq, value = line.partition("=")
        active = bool(eq) and key.strip().lower() in keys
        if active and value.strip():
            out.append((pos + raw.find(value.strip()), value.strip()))
    return out


# --- cron, systemd ------------------------------------------------------------------------------

def cron_commands(text: str, *, with_user: bool) -> list[tuple[int, str]]:
    """Commands of crontab lines (`m h dom mon dow [user] cmd` or `@reboot [user] cmd`)."""
    out: list[tuple[int, str]] = []
    for pos, raw in _lines(text):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = 1 if line.startswith("@") else 5
        fields += 1 if with_user else 0
        parts = line.split(None, fields)
        if len(parts) <= fields:
            continue
        if "=" in parts[0] and not line.startswith("@"):  # VAR=value
            continue
        cmd = parts[fields]
        out.append((pos + raw.rfind(cmd), cmd))
    return out


_UNIT_KEYS = ("execstart", "execstartpre", "execstartpost", "execreload", "execstop",
              "execstoppost", "execcondition")


def unit_commands(text: str) -> list[tuple[int, str]]:
    """Command lines of a systemd unit (`ExecStart=` and friends, prefixes `-@:+!` removed)."""
    out: list[tuple[int, str]] = []
    for pos, raw in _lines(text):
        line = raw.strip()
        key, eq, value = line.partition("=")
        if not eq or key.strip().lower() not in _UNIT_KEYS:
            continue
        cmd = value.strip().lstrip("-@:+!")
        if cmd:
            out.append((pos + raw.rfind(cmd), cmd))
    return out


# --- structured documents -----------------------------------------------------------------------

def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _yaml_docs(text: str) -> list[Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs: list[Any] = []
    try:
        for doc in yaml.load_all(text, Loader=loader):
            docs.append(doc)
            if len(docs) >= _MAX_DOCS:
                break
    except (yaml.YAMLError, RecursionError, ValueError, TypeError):
        pass
    return docs


def structured(path: str, text: str) -> list[Any]:
    """The documents of a config file, by extension and then by trial: JSON, YAML, TOML, INI,
    `.env`. Empty when none of them reads it."""
    low = path.lower()
    base = low.rpartition("/")[2]
    if base == ".env" or base.endswith(".env") or base.startswith(".env."):
        return [dotenv(text)]
    if low.endswith(".json"):
        data = _json(text)
        return [data] if data is not None else []
    if low.endswith(".toml"):
        try:
            return [tomllib.loads(text)]
        except (tomllib.TOMLDecodeError, RecursionError, ValueError):
            return []
    if low.endswith((".ini", ".cfg", ".conf")):
        return [_ini(text)]
    docs = _yaml_docs(text)
    if any(isinstance(d, (dict, list)) for d in docs):
        return docs
    data = _json(text)
    return [data] if data is not None else [_ini(text)]


def _ini(text: str) -> dict[str, Any]:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(text if "[" in text.split("\n", 1)[0] else "[top]\n" + text)
    except (configparser.Error, ValueError):
        return {}
    return {s: dict(parser.items(s)) for s in parser.sections()[:64]}


def dotenv(text: str) -> dict[str, str]:
    """`KEY=value` lines (`export` and quotes allowed)."""
    out: dict[str, str] = {}
    for _, raw in _lines(text):
        line = raw.strip()
        if line.startswith("export "):
            line = line[7:].strip()
        key, eq, value = line.partition("=")
        key = key.strip()
        if eq and key and not key.startswith("#") and " " not in key:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            out[key] = value
    return out


def _walk(node: Any, key: str = "", budget: list[int] | None = None,
          depth: int = 0) -> Iterator[tuple[str, Any, Any]]:
    """(key, scalar value, enclosing mapping) of every scalar, bounded in nodes and depth."""
    budget = budget if budget is not None else [MAX_NODES]
    if budget[0] <= 0 or depth > 32:
        return
    budget[0] -= 1
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, (dict, list)):
                yield from _walk(v, str(k), budget, depth + 1)
            else:
                budget[0] -= 1
                yield str(k), v, node
            if budget[0] <= 0:
                return
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key, budget, depth + 1)
            if budget[0] <= 0:
                return
    else:
        yield key, node, None


def endpoints(docs: list[Any], host_keys: frozenset[str],
              port_keys: frozenset[str]) -> list[tuple[str, str, str | None]]:
    """Network destinations named in config documents: (key, value, port or None).

    A value counts when it is a URL with a scheme (`stratum+tcp://pool:3333`, `wss://...`) or
    sits under a host-like key (`url`, `server_addr`, `pool`, ...), whose port may sit next to
    it under a port-like key (`server_port`)."""
    out: list[tuple[str, str, str | None]] = []
    for doc in docs:
        for key, value, mapping in _walk(doc):
            if not isinstance(value, str) or not value or len(value) > 2048:
                continue
            k = key.lower().replace("-", "_")
            if "://" in value or k in host_keys:
                port = None
                if mapping is not None and "://" not in value:
                    for pk, pv in mapping.items():
                        if str(pk).lower().replace("-", "_") in port_keys and pv is not None:
                            port = str(pv)
                            break
                out.append((k, value.strip(), port))
            if len(out) >= 64:
                return out
    return out


# --- Kubernetes manifests, compose files --------------------------------------------------------

def _pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    spec = obj.get("spec")
    for _ in range(4):  # Pod, Deployment/Job template, CronJob jobTemplate
        if not isinstance(spec, dict):
            return None
        if "containers" in spec:
            return spec
        nxt = spec.get("template") or spec.get("jobTemplate")
        spec = nxt.get("spec") if isinstance(nxt, dict) else None
    return None


def _truthy(value: Any) -> str:
    return str(value).lower()


def k8s_objects(text: str) -> list[tuple[tuple[str, str], ...]]:
    """CloudCall parameters of each object in a manifest (`kind`, `name`, `namespace`, `image`,
    `command`, `privileged`, `hostNetwork`, `hostPID`, `hostIPC`, `hostPath`,
    `serviceAccountName`, `capabilities`); `kind: List` items are read too."""
    out: list[tuple[tuple[str, str], ...]] = []
    objs: list[Any] = []
    for doc in _yaml_docs(text):
        if isinstance(doc, dict) and isinstance(doc.get("items"), list):
            objs.extend(doc["items"][:_MAX_DOCS])
        else:
            objs.append(doc)
    for obj in objs[:_MAX_DOCS]:
        if not isinstance(obj, dict) or "kind" not in obj:
            continue
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        params: list[tuple[str, str]] = [("kind", str(obj.get("kind")))]
        for key in ("name", "namespace"):
            if meta.get(key):
                params.append((key, str(meta[key])))
        spec = _pod_spec(obj)
        if spec is not None:
            params.extend(_pod_params(spec))
        out.append(tuple(params[:64]))
    return out


def _pod_params(spec: dict[str, Any]) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    for key in ("hostNetwork", "hostPID", "hostIPC", "serviceAccountName", "nodeName"):
        if key in spec:
            params.append((key, _truthy(spec[key])))
    for vol in spec.get("volumes") or []:
        if isinstance(vol, dict) and isinstance(vol.get("hostPath"), dict):
            params.append(("hostPath", str(vol["hostPath"].get("path", "?"))))
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    for c in containers[:16]:
        if not isinstance(c, dict):
            continue
        if c.get("image"):
            params.append(("image", str(c["image"])))
        cmd = [str(x) for x in (c.get("command") or []) + (c.get("args") or [])
               if isinstance(x, (str, int, float))] if isinstance(c.get("command") or [], list) \
            and isinstance(c.get("args") or [], list) else []
        if cmd:
            params.append(("command", " ".join(cmd)[:2048]))
        sc = c.get("securityContext")
        if isinstance(sc, dict):
            for key in ("privileged", "allowPrivilegeEscalation", "runAsUser"):
                if key in sc:
                    params.append((key, _truthy(sc[key])))
            caps = sc.get("capabilities")
            if isinstance(caps, dict) and isinstance(caps.get("add"), list):
                params.append(("capabilities", ",".join(str(x) for x in caps["add"][:16])))
    return params


def compose_services(text: str) -> list[dict[str, Any]]:
    """Services of a compose file: name, image, privileged, network_mode, pid, volumes,
    cap_add, command / entrypoint (as a list or a string)."""
    docs = _yaml_docs(text)
    doc = docs[0] if docs else None
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict):
        return []
    out = []
    for name, svc in list(services.items())[:32]:
        if isinstance(svc, dict):
            out.append({"name": str(name), **{k: svc.get(k) for k in (
                "image", "privileged", "network_mode", "pid", "volumes", "cap_add", "command",
                "entrypoint", "environment")}})
    return out


# --- Python imports -----------------------------------------------------------------------------

def python_imports(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Modules a Python file imports: (module, names imported from it), in order; relative
    modules keep their leading dots. A line reader (`import a.b`, `from .m import x, y`), so a
    file that does not parse still names its imports; at most 32."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for _, raw in _lines(text):
        line = raw.strip()
        if line.startswith("import "):
            for part in line[7:].split("#", 1)[0].split(","):
                words = part.split()
                if words:
                    out.append((words[0], ()))
        elif line.startswith("from ") and " import " in line:
            module, _, names = line[5:].partition(" import ")
            names = names.split("#", 1)[0].strip("() \\")
            out.append((module.strip(), tuple(n.split()[0] for n in names.split(",") if n.split())))
        if len(out) >= 32:
            break
    return out


# --- Dockerfile, Terraform, Ansible ---------------------------------------------------------------

def dockerfile_runs(text: str) -> list[tuple[int, str]]:
    """`RUN` commands of a Dockerfile (they run at `docker build`): (offset, command), offset -1
    when the command spans continuation lines or is in exec (JSON) form."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = -1
    for pos, raw in _lines(text):
        line = raw.strip()
        if pending:
            pending.append(line.rstrip("\\").strip())
            if not line.endswith("\\"):
                out.append((-1, " ".join(p for p in pending if p)))
                pending = []
            continue
        if line[:4].upper() != "RUN " or len(out) >= 64:
            continue
        cmd = line[4:].strip()
        while cmd.startswith("--"):  # RUN --mount=type=cache,target=/root/.cache cmd
            cmd = cmd.partition(" ")[2].strip()
        start = pos + raw.find(cmd) if cmd else pos
        if cmd.startswith("["):
            words = _json(cmd)
            if isinstance(words, list):
                out.append((-1, shlex.join(str(w) for w in words[:64])))
            continue
        if cmd.endswith("\\"):
            pending = [cmd.rstrip("\\").strip()]
            continue
        out.append((start, cmd))
    if pending:
        out.append((-1, " ".join(p for p in pending if p)))
    return out


def terraform_resources(text: str) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """`resource "TYPE" "NAME" { ... }` blocks of HCL: (type, name, parameters). Parameters are
    the block's top-level `key = value` attributes (quotes removed) and `("block", name)` for
    each nested block (`guest_accelerator`, `ebs_block_device`). A line reader, not HCL."""
    out: list[tuple[str, str, tuple[tuple[str, str], ...]]] = []
    current: list[tuple[str, str]] | None = None
    depth = 0
    for _, raw in _lines(text):
        line = raw.split("#", 1)[0].split("//", 1)[0].strip()
        if current is None:
            words = line.replace("{", " { ").split()
            if len(words) >= 3 and words[0] == "resource" and "{" in words:
                rtype, name = words[1].strip('"'), words[2].strip('"')
                current = [("name", name)]
                out.append((rtype, name, ()))
                depth = line.count("{") - line.count("}")
                if depth <= 0:
                    current = None
            continue
        if depth == 1:
            key, eq, value = line.partition("=")
            if eq and key.strip().isidentifier() and "{" not in value:
                current.append((key.strip(), value.strip().strip('"')[:512]))
            elif line.endswith("{") and line[:-1].strip().isidentifier():
                current.append(("block", line[:-1].strip()))
        depth += line.count("{") - line.count("}")
        rtype, name, _ = out[-1]
        out[-1] = (rtype, name, tuple(current[:64]))
        if depth <= 0:
            current = None
        if len(out) >= 64 and current is None:
            break
    return out


_ANSIBLE_MODULES = ("shell", "command", "raw", "ansible.builtin.shell", "ansible.builtin.command",
                    "ansible.builtin.raw")
_ANSIBLE_LISTS = ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always")


def ansible_commands(text: str) -> list[tuple[str, str]]:
    """Commands of a playbook's `shell`/`command`/`raw` tasks and the local files of its
    `script` tasks: ("shell", command) or ("script", path); nested blocks followed."""
    out: list[tuple[str, str]] = []
    docs = _yaml_docs(text)
    plays = docs[0] if docs and isinstance(docs[0], list) else []
    budget = [MAX_NODES]

    def tasks(items: Any, depth: int) -> None:
        if not isinstance(items, list) or depth > 8:
            return
        for task in items[:256]:
            budget[0] -= 1
            if not isinstance(task, dict) or budget[0] <= 0 or len(out) >= 64:
                return
            for key, value in task.items():
                if key in _ANSIBLE_MODULES:
                    cmd = value.get("cmd") if isinstance(value, dict) else value
                    if isinstance(cmd, str):
                        out.append(("shell", cmd))
                elif key in ("script", "ansible.builtin.script"):
                    path = value.get("cmd") if isinstance(value, dict) else value
                    if isinstance(path, str) and path.split():
                        out.append(("script", path.split()[0]))
                elif key in _ANSIBLE_LISTS:
                    tasks(value, depth + 1)

    for play in plays[:32]:
        if isinstance(play, dict):
            for key in _ANSIBLE_LISTS:
                tasks(play.get(key), 0)
    return out
