"""The facts of one action behind a finding: programs, targets, ports, types, paths, names.

Why: whether a task asks for an action depends on what the action touches (the host of a tunnel,
the range of a scan, the instance type of a launch, the file read), not on the words of the rule
that caught it. `facts_of` reads them from the trajectory events at the finding's span (the
trajectory stage's, with variables resolved), else from the finding's evidence parsed as shell or
Python, else from the evidence text; `operation_for` places the finding in the vocabulary of
`safefilter/requested_vocab.yaml`. Everything is bounded (evidence is short, parses are capped)
and RE2 or single passes only. Used by `safefilter.requested.judge_requested`.
"""
from __future__ import annotations

import ipaddress
import posixpath
import textwrap
from dataclasses import dataclass, replace
from typing import Sequence
from urllib.parse import urlsplit

import re2

from .events import Caps, CloudCall, Connect, Event, Exec, FileRead, FileWrite, Origin, Persist
from .events import events_of_python, events_of_shell
from .hosts import NETWORK_TOOLS, Target, Unresolved, network_targets, parse_host
from .task_ask import (ALL_PORTS, Operation, Vocab, clean_text, instance_types_in, keys_in, load_vocab,
                       normalise_path, paths_in, ports_in_prose)
from .types import Finding

__all__ = ["ActionFacts", "facts_of", "action_events", "exec_lines", "operation_of", "operation_for",
           "follow_writes", "MAX_EVIDENCE"]

#: Evidence longer than this is not parsed for facts (it is a window of a longer text anyway).
MAX_EVIDENCE = 4096
_EVIDENCE_CAPS = Caps(max_depth=2, max_events=64, max_text=MAX_EVIDENCE, max_nodes=20_000)
_ORIGIN = Origin(message_index=0, tool_call_id=None, field="evidence")
_PORT_OPTIONS = frozenset(("-p", "--port", "--ports", "--dport", "--dports", "--sport", "--local-port",
                           "--remote-port", "--lport", "--rport", "--listen-port",
                           "--local_port", "--remote_port", "--server_port"))  # frpc's spelling
_FORWARD_TOOLS = frozenset(("ssh", "autossh", "plink"))
_POSITIONAL_PORT_TOOLS = frozenset(("nc", "ncat", "netcat", "telnet", "ngrok", "bore", "lt", "ufw"))
_ACCOUNT_TOOLS = frozenset(("useradd", "adduser", "usermod", "gpasswd", "passwd", "userdel", "groupadd"))
_ACCOUNT_VALUE_OPTIONS = frozenset(("-g", "-G", "--groups", "--gid", "-a", "-d", "--home", "-s", "--shell",
                                    "-c", "--comment", "-u", "--uid", "-p", "--password", "-e", "-f", "-k"))
_ACCOUNT_GROUP_OPTIONS = frozenset(("-g", "-G", "--groups", "--gid", "-a"))
_ENV_NAME = re2.compile(r"\$\{?([A-Z][A-Z0-9_]{2,})")
_CHPASSWD_LINE = re2.compile(r"(?:^|[\s'\"])([a-z_][a-z0-9_.-]{0,31}):\S")
_SUDOERS_USER = re2.compile(r"(?:^|['\"\n])\s*%?([a-z_][a-z0-9_.-]{0,31})\s+ALL\s*=")  # `deploy ALL=(ALL) ...`
_PORT_SUFFIX = re2.compile(r"^(\d{1,5})/(?:tcp|udp)$")
_COLON_PORT = re2.compile(r":(\d{1,5})(?:$|[,/])")


@dataclass(frozen=True, slots=True)
class ActionFacts:
    """The concrete things one action touches, read from its events (or its evidence text)."""

    text: str
    execs: tuple[tuple[str, str], ...] = ()   # (program name, argv joined by spaces)
    hosts: tuple[Target, ...] = ()            # non-local network targets
    ports: frozenset[int] = frozenset()
    port_ranges: tuple[tuple[int, int], ...] = ()
    bind_ports: frozenset[int] = frozenset()  # the listening end of a forward (`-L 8080:h:80` -> 8080)
    instance_types: frozenset[str] = frozenset()
    count: int | None = None
    paths: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()       # accounts, groups and environment variables it names
    keys: frozenset[str] = frozenset()        # ssh public key blobs it installs


def _events_at(finding: Finding, events: Sequence[Event]) -> list[Event]:
    """The events whose source span overlaps the finding's (same message and field)."""
    return [e for e in events
            if e.source.message_index == finding.message_index and e.source.field == finding.field
            and e.source.start < max(finding.end, finding.start + 1) and finding.start < max(e.source.end, e.source.start + 1)]


def parse_evidence(text: str) -> tuple[tuple[Event, ...], str]:
    """Events of a short text (an evidence line, a command a task quotes) and the language that read it."""
    return _parse(text)


def _parse(text: str) -> tuple[tuple[Event, ...], str]:
    """Events of an evidence line and the language that read it ("shell", "python" or "")."""
    if not text or len(text) > MAX_EVIDENCE:
        return (), ""
    code = textwrap.dedent(text)
    if code.rstrip().endswith(":"):
        code = code.rstrip() + "\n    pass"  # the opening line of a block (`with open(...) as f:`)
    for lang, parse, source in (("shell", events_of_shell, text), ("python", events_of_python, code)):
        try:
            result = parse(source, origin=_ORIGIN, caps=_EVIDENCE_CAPS)
        except Exception:  # noqa: BLE001 - a parser bug on one evidence line: fall back to the text
            continue
        if result.parsed and result.events:
            return result.events, lang
    return (), ""


def _unresolved_kept(target: Target, networked: bool, lowered: str) -> bool:
    """A value that cannot be read (`$h`, `$(...)`) is a target only where a host stands: an
    argument of a network tool, a URL's host, after `@` (not `mkdir -p $(dirname f)`)."""
    if not isinstance(target, Unresolved):
        return True
    return networked or any(p + target.text.lower() in lowered for p in ("://", "@"))


def _quoted_or_linked(target: Target, lowered: str, *, quotes: bool = True) -> bool:
    """In code, a host name counts when it is written as one: in quotes, in a URL, after `@`."""
    if not isinstance(target, str):
        return True
    return any(p + target in lowered for p in (('"', "'", "://", "@") if quotes else ("://", "@")))


def _is_local(target: Target) -> bool:
    if isinstance(target, str):
        return target in ("localhost", "ip6-localhost", "") or target.endswith(".localhost")
    if isinstance(target, Unresolved):
        return False
    return bool(getattr(target, "is_loopback", False) or getattr(target, "is_unspecified", False))


def _isnum(text: str) -> bool:
    """ASCII digits only (`"²".isdigit()` is true, and `int("²")` raises)."""
    return text.isascii() and text.isdigit()


def _ports_of_word(word: str, into: set[int]) -> None:
    if "://" in word:
        try:
            port = urlsplit(word).port
        except ValueError:
            return
        if port:
            into.add(port)
        return
    m = _PORT_SUFFIX.search(word)
    if m:
        into.add(int(m.group(1)))
        return
    into.update(int(m.group(1)) for m in _COLON_PORT.finditer(word))


def _port_list(value: str, ports: set[int], ranges: list[tuple[int, int]]) -> None:
    if value in ("-", "all"):
        ranges.append(ALL_PORTS)
        return
    for part in value.replace("/tcp", "").replace("/udp", "").split(","):
        lo, _, hi = part.partition("-")
        lo = lo.split(":")[-1]
        if _isnum(lo) and _isnum(hi):
            ranges.append((int(lo), int(hi)))
        elif _isnum(lo):
            ports.add(int(lo))
        elif not lo and _isnum(hi):
            ranges.append((1, int(hi)))


def _argv_facts(name: str, argv: Sequence[str], ports: set[int], ranges: list[tuple[int, int]],
                names: set[str], bind: set[int]) -> None:
    """Ports and account names one argv states (forward specs, `-p`, `host:port`, `useradd x`)."""
    args = [clean_text(a) for a in argv[1:]]
    positional: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        key, eq, inline = word.partition("=")
        if name in _FORWARD_TOOLS and word.startswith("-") and not word.startswith("--"):
            flags = word[1:]
            for k, flag in enumerate(flags):
                if flag in "LRDpw" or flag in "bcEeFIiJlmOoQSW":
                    value = flags[k + 1:] or (args[i + 1] if i + 1 < len(args) else "")
                    if not flags[k + 1:]:
                        i += 1
                    if flag in "LRD":  # [bind:]port[:host:hostport]: every number is a port
                        numbers = [int(p) for p in value.split(":") if _isnum(p)]
                        ports.update(numbers)
                        bind.update(numbers[:1])
                    elif flag == "p" and _isnum(value):
                        ports.add(int(value))
                    break
            i += 1
            continue
        if key in _PORT_OPTIONS:
            value = inline if eq else (args[i + 1] if i + 1 < len(args) else "")
            if not eq:
                i += 1
            _port_list(value, ports, ranges)
        elif word.startswith("-p") and _isnum(word[2:3]) or word == "-p-":
            _port_list(word[2:] or "-", ports, ranges)
        elif word.startswith("--add-port="):
            _port_list(word.split("=", 1)[1], ports, ranges)
        elif name in _ACCOUNT_TOOLS and name != "passwd" and (word in _ACCOUNT_VALUE_OPTIONS or
                                         word[:1] == "-" and word[1:2] != "-" and "-" + word[-1:] in _ACCOUNT_VALUE_OPTIONS):
            if "-" + word[-1:] in _ACCOUNT_GROUP_OPTIONS and i + 1 < len(args):  # -G x, -aG x
                names.update(g for g in args[i + 1].split(",") if g)
            i += 1
        elif not word.startswith("-"):
            positional.append(word)
            _ports_of_word(word, ports)
            pair = word.split(":")
            if len(pair) == 2 and _isnum(pair[0]) and _isnum(pair[1]):  # kubectl port-forward 3000:80
                ports.update((int(pair[0]), int(pair[1])))
                bind.add(int(pair[0]))
            elif word.upper().startswith(("TCP-LISTEN:", "TCP4-LISTEN:", "TCP6-LISTEN:", "UDP-LISTEN:")):
                listen = word.split(":", 1)[1].split(",", 1)[0]
                if _isnum(listen):
                    bind.add(int(listen))
        i += 1
    if name in _POSITIONAL_PORT_TOOLS:
        for word in positional:
            if _isnum(word.replace("-", "")):
                _port_list(word, ports, ranges)
                if _isnum(word) and name in ("ngrok", "bore", "lt"):
                    bind.add(int(word))
    if name in _IAM_TOOLS:
        _iam_names(args, names)
    if name in ("find", "fd", "locate"):  # what a search looks for: `-name '*.pem'` -> `.pem`
        for flag, value in zip(args, args[1:]):
            if flag in ("-name", "-iname", "-path", "-ipath", "-wholename", "-regex"):
                names.update(part for part in value.replace("*", " ").split() if len(part) > 1)
    if name in _ACCOUNT_TOOLS and positional:
        names.update(positional if name == "gpasswd" else positional[-1:])


def action_events(finding: Finding, events: Sequence[Event]) -> tuple[list[Event], str]:
    """The finding's events and where they came from: "events" (the trajectory's, at its span),
    "shell" / "python" (its evidence parsed), or "" (no events: the evidence text alone)."""
    evs = _events_at(finding, events) if events else []
    if evs:
        return evs, "events"
    parsed, lang = _parse(clean_text(finding.evidence))
    return list(parsed), lang


def exec_lines(evs: Sequence[Event]) -> tuple[tuple[str, str], ...]:
    return tuple((e.name.lower(), clean_text(" ".join(e.argv))) for e in evs if isinstance(e, Exec))


_IAM_TOOLS = frozenset(("aws", "gcloud", "az", "kubectl", "oc"))
#: Options of cloud CLIs that name who gets access and what access (`--policy-arn`: its last part).
_IAM_OPTIONS = frozenset(("--user-name", "--role-name", "--group-name", "--policy-arn", "--policy-name", "--member",
                          "--role", "--clusterrole", "--serviceaccount", "--assignee", "--user", "--group"))


#: The same, as SDK parameters (`iam.attach_user_policy(UserName=..., PolicyArn=...)`).
_SDK_IAM_KEYS = {"UserName": "--user-name", "RoleName": "--role-name", "GroupName": "--group-name",
                 "PolicyArn": "--policy-arn", "PolicyName": "--policy-name"}


def _iam_names(args: Sequence[str], names: set[str]) -> None:
    for i, word in enumerate(args):
        key, eq, value = word.partition("=")
        if key not in _IAM_OPTIONS:
            continue
        if not eq:
            value = args[i + 1] if i + 1 < len(args) else ""
        if not value:
            continue
        if key == "--policy-arn":
            value = value.rsplit("/", 1)[-1]
        elif key == "--member":
            value = value.split(":", 1)[-1]  # serviceAccount:ci@p.iam.gserviceaccount.com
        elif key == "--serviceaccount":
            value = value.rsplit(":", 1)[-1]  # namespace:name
        names.add(value)


def facts_of(finding: Finding, events: Sequence[Event] = (), vocab: Vocab | None = None, *,
             action: tuple[list[Event], str] | None = None) -> ActionFacts:
    """What the finding's action touches: from the events at its span, else from its evidence parsed."""
    vocab = vocab or load_vocab()
    text = clean_text(finding.evidence)
    evs, lang = action if action is not None else action_events(finding, events)  # argv etc. cleaned where read
    execs: list[tuple[str, str]] = []
    hosts = _hosts_of(text, evs, lang)
    text = _with_event_text(text, evs)  # an event rule's evidence describes; the events hold the values
    ports: set[int] = set()
    ranges: list[tuple[int, int]] = []
    if not evs:
        prose_ports, prose_ranges = ports_in_prose(text)
        ports.update(prose_ports)
        ranges.extend(prose_ranges)
    names: set[str] = set(_ENV_NAME.findall(text)) | set(_SUDOERS_USER.findall(text))
    if any(isinstance(e, Exec) and e.name == "chpasswd" for e in evs):  # `echo user:password | chpasswd`
        names.update(m.group(1) for m in _CHPASSWD_LINE.finditer(text))
    bind: set[int] = set()
    paths = set(paths_in(text, vocab))
    types = set(instance_types_in(text, vocab))
    for e in evs:
        if isinstance(e, Exec):
            execs.append((e.name.lower(), clean_text(" ".join(e.argv))))
            _argv_facts(e.name.lower(), e.argv, ports, ranges, names, bind)
            if e.name in ("printenv",):
                names.update(a for a in e.argv[1:] if not a.startswith("-"))
        elif isinstance(e, Connect):
            if e.port and e.tool not in _FORWARD_TOOLS and not (e.url and _no_explicit_port(e.url)):
                ports.add(e.port)
            if e.port_range:
                ranges.append(e.port_range)
        elif isinstance(e, (FileRead, FileWrite)):
            paths.add(normalise_path(clean_text(e.path)))
        elif isinstance(e, Persist) and e.target not in ("", "-"):
            paths.add(normalise_path(clean_text(e.target)))
        elif isinstance(e, CloudCall):
            for _, value in e.parameters:
                types.update(instance_types_in(clean_text(value), vocab))
            _iam_names([f"{_SDK_IAM_KEYS[k]}={clean_text(v)}" for k, v in e.parameters if k in _SDK_IAM_KEYS], names)
    hosts = [t for t in hosts if not (isinstance(t, str) and (t in types or instance_types_in(t, vocab)))]
    counts = [int(m.group(1)) for rx in vocab.action_count_rx for m in rx.finditer(text)]
    paths = {p for p in paths if p and not any(rx.search(p) for rx in vocab.ignored_path_rx)}
    return ActionFacts(text=text, execs=tuple(execs), hosts=tuple(hosts), ports=frozenset(ports),
                       port_ranges=tuple(ranges), bind_ports=frozenset(bind & ports), instance_types=frozenset(types),
                       count=max(counts) if counts else None, paths=frozenset(paths), names=frozenset(names),
                       keys=keys_in(text))


def _connect_target(e: Connect) -> Target | None:
    """The connect's host as a target; a host the parser could not resolve cannot be vouched for."""
    target = parse_host(e.host, loose=True)
    if target is None and "/" in e.host:
        try:
            target = ipaddress.ip_network(e.host, strict=False)
        except ValueError:
            target = None
    if target is None and e.unresolved:
        return Unresolved(e.raw_host or e.host)
    return target


def _with_event_text(text: str, evs: Sequence[Event]) -> str:
    """The evidence plus what its events carry (argv after expansion, written content, cloud
    parameters), each piece capped, so patterns (wallets, keys, sudoers lines, counts) see values
    the evidence names only through variables or an event rule's description."""
    parts = [text]
    for e in evs:
        if isinstance(e, Exec):
            parts.append(" ".join(e.argv)[:MAX_EVIDENCE])
        elif isinstance(e, (FileWrite, Persist)) and e.content:
            parts.append(e.content[:MAX_EVIDENCE])
        elif isinstance(e, CloudCall):
            parts.append(" ".join(f"{k}={v}" for k, v in e.parameters)[:MAX_EVIDENCE])
        if len(parts) > 64:
            break
    return clean_text("\n".join(parts))


def _hosts_of(text: str, evs: Sequence[Event], lang: str) -> list[Target]:
    """Non-local network targets of the action.

    With exec events, from each program's argv after expansion (so `u@$h` with `h` set earlier is
    the host `h` holds), where a one-label word is a host only if the parser says something
    connects there (not `socat ... fork`, `chisel client`) and a dotted word only as an argument
    of a network tool, in a URL or after `@` (`cp myapp.service ...` names a file). In Python or
    unparsed text, a host name counts when written as one (quoted, in a URL, after `@`).
    """
    connected = {e.host.lower() for e in evs if isinstance(e, Connect)}
    found: list[Target] = []
    execs = [e for e in evs if isinstance(e, Exec)]
    if execs:
        for e in execs:
            line = clean_text(" ".join(e.argv))
            networked = e.name.lower() in NETWORK_TOOLS
            lowered = line.lower()
            found.extend(t for t in network_targets(line) if _unresolved_kept(t, networked, lowered) and (
                not isinstance(t, str) or t in connected or
                "." in t and (networked or _quoted_or_linked(t, lowered, quotes=False))))
    else:
        lowered = text.lower()
        first = lowered.split(None, 1)[0].rsplit("/", 1)[-1] if lowered.strip() else ""
        found.extend(t for t in network_targets(text) if _quoted_or_linked(t, lowered) and
                     _unresolved_kept(t, first in NETWORK_TOOLS, lowered))
    for e in evs:
        if isinstance(e, Connect):
            target = _connect_target(e)
            if target is not None:
                found.append(target)
    return [t for t in found if not _is_local(t)]


def _no_explicit_port(url: str) -> bool:
    try:
        return urlsplit(url).port is None
    except ValueError:
        return True


def operation_of(finding: Finding, facts: ActionFacts, vocab: Vocab | None = None) -> Operation | None:
    """The vocabulary operation this finding's action is, or None when the vocabulary has none.

    By rule id or subcategory first (with `need_exec`, one of the operation's programs must run);
    then, within that operation's family, the operation whose programs the action runs wins (an
    event rule that calls `history -c` a log wipe, or `gobuster` a scanner, is placed by what it
    runs). A finding whose subcategory the vocabulary does not list (the classifier's, a generic
    "tunnel tool" rule) is placed by the programs it runs and their argv, within its category.
    """
    return operation_for(finding, facts.execs, vocab or load_vocab())


def operation_for(finding: Finding, execs: tuple[tuple[str, str], ...], vocab: Vocab) -> Operation | None:
    rule_id, sub = finding.rule_id.lower(), finding.subcategory.lower()
    run = {name for name, _ in execs}
    claimed = next((op for op in vocab.operations if (rule_id in op.rules or sub in op.subcategories)
                    and not (op.need_exec and not run & op.execs)), None)
    if claimed is not None:
        if _runs(claimed, execs):
            return claimed
        family = vocab.family(claimed.family)
        return next((op for op in family.operations if _runs(op, execs)), claimed)
    if sub and any(sub in op.subcategories for op in vocab.operations):
        return None
    return next((op for op in vocab.operations if op.category == finding.category and _runs(op, execs)), None)


def _runs(op: Operation, execs: tuple[tuple[str, str], ...]) -> bool:
    """The action runs one of the operation's programs (with its argv pattern, if it has one)."""
    return bool(op.execs) and any(name in op.execs and (op.argv is None or op.argv.search(argv))
                                  for name, argv in execs)


#: Earlier writes of an action's files read at most (a unit enabled: what its file says it runs).
MAX_FOLLOWED_WRITES = 8


def follow_writes(facts: ActionFacts, events: Sequence[Event], vocab: Vocab) -> ActionFacts:
    """The facts plus the paths in what the trajectory wrote to the action's files (by full path,
    or by file name for a bare one such as a unit name): `systemctl enable x.service` runs what
    the `ExecStart=` of the x.service written earlier names. With no such write, the files' stems
    become names the task must say (`app` for `app.service`)."""
    names = {p for p in facts.paths} | {posixpath.basename(p) for p in facts.paths if "/" not in p}
    contents: list[str] = []
    for e in events:
        if isinstance(e, FileWrite) and e.content and (e.path in names or posixpath.basename(e.path) in names):
            contents.append(e.content[:MAX_EVIDENCE])
            if len(contents) >= MAX_FOLLOWED_WRITES:
                break
    if not contents:
        # nothing written says what it runs: the unit must be one the task names ("a service for our app")
        stems = {posixpath.basename(p).rsplit(".", 1)[0] for p in facts.paths if "." in posixpath.basename(p)}
        return replace(facts, names=facts.names | stems)
    text = clean_text("\n".join(contents))
    return replace(facts, text=facts.text + "\n" + text, paths=facts.paths | paths_in(text, vocab))
