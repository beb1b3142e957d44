"""The facts of one action segment, from the trajectory's events, as a short stable string.

Why: the same command line means different things when it is run, written into a file nothing
runs, launched in the background under `nohup`, or pointed at an internal host. The event model
already knows these things; the classifier reads them as words (`run xmrig under nohup in
background; connect external pool.example:3333`), so it does not have to infer them from the raw
text. Facts name programs, launch modes, host classes, ports, paths and operations -- never
offsets, reprs or whole argv -- in a fixed order, and are bounded (`context.yaml` `limits`).

`notable` is false when every fact is ordinary (`context.yaml`): then the model text leaves out the
task and the output, so everyday commands give the same text in every trajectory. Runners, output
markers and Python sinks come from `events/gate.yaml`: the event stage and the classifier share one
list of what makes an action worth reading closely. Shell texts the stage's gate left unparsed are
parsed here (cached per text), so a command has the same facts whichever record it is in.
"""
from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Iterator, Sequence

import re2
import yaml

from ..events import Caps, Origin, events_of_shell
from ..events.model import CloudCall, Connect, EnvSet, Event, Exec, FileRead, FileWrite, Observation, Persist, Privilege
from ..types import Segment

__all__ = ["LIMITS", "SegmentFacts", "FactIndex", "outputs_by_action", "squash"]


def _load() -> dict[str, Any]:
    return yaml.safe_load(resources.files("safefilter").joinpath("classifier/context.yaml").read_text())


def _gate() -> dict[str, Any]:
    return yaml.safe_load(resources.files("safefilter").joinpath("events/gate.yaml").read_text())


_DATA = _load()
_GATE = _gate()
_RE2 = re2.Options()
_RE2.case_sensitive = False
#: Runners that load files without naming them (gate.yaml `runners`), with the file globs they load.
RUNNERS = tuple((re2.compile(r["pattern"], _RE2), tuple(r["files"])) for r in _GATE["runners"])
#: What a tool output shows when a miner, tunnel, launch or scan ran (gate.yaml `observation_markers`).
TELLING_OUTPUT = re2.compile("|".join(f"(?:{p})" for p in [*_GATE["observation_markers"], _DATA["telling_output"]]),
                             _RE2)
HOOK_FILES = tuple(_DATA["hook_files"])
INLINE_CALLS = {name: re2.compile(pattern, _RE2) for name, pattern in _DATA["inline_calls"].items()}
NOTABLE_CODE = re2.compile("|".join(f"(?:{p})" for p in [*_GATE["python"]["sinks"], _DATA["notable_code"]]), _RE2)
INLINE_CODE: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in _DATA["inline_code_options"].items()}
ORDINARY_PROGRAMS = frozenset(str(p) for p in _DATA["ordinary_programs"])
ORDINARY_LAUNCHES = frozenset(_DATA["ordinary_launches"])
ORDINARY_WRAPPERS = frozenset(_DATA["ordinary_wrappers"])
ORDINARY_ENV = frozenset(_DATA["ordinary_env"])
ORDINARY_KINDS = frozenset(_DATA["ordinary_kinds"])
NOTABLE_PATHS = re2.compile(_DATA["notable_paths"])
HOST_CLASSES: dict[str, str] = dict(_DATA["host_classes"])
LIMITS: dict[str, int] = dict(_DATA["limits"])

#: `decoded_from` tags of events the data-flow stage derives from written content that is run or loaded.
_FLOW_TAGS = ("script:", "import:", "hook:", "cron:", "config:", "ssh_config:", "manifest:")
#: Shell texts longer than this are not parsed here (the trajectory stage parsed what rules need).
_OWN_PARSE_LIMIT = 4096
_ORIGIN = Origin(0, None, "", 0)
_CAPS = Caps()
_STANDARD_DIRS = ("/usr/", "/bin/", "/sbin/", "/opt/conda/", "~/.local/bin/")


@dataclass(frozen=True, slots=True)
class SegmentFacts:
    """The facts string of one segment and whether any fact is notable."""

    text: str
    notable: bool
    output: str = ""


_WORD = re.compile(r"\S+")


def _words(text: str, limit: int) -> str:
    """`text` with whitespace runs as single spaces, cut at `limit`; reads no more than it needs
    (a masked heredoc can be kilobytes of blanks before its next word)."""
    window = text[:8 * limit]
    flat = " ".join(window.split())
    if len(flat) >= limit or len(window) == len(text):
        return flat[:limit]
    out: list[str] = []
    size = 0
    for m in _WORD.finditer(text):
        out.append(m.group()[:limit])
        size += len(out[-1]) + 1
        if size > limit:
            break
    return " ".join(out)[:limit]


def squash(text: str, limit: int, *, tail: bool = False) -> str:
    """Whitespace squashed and cut to `limit` characters: the head, or with `tail` the end."""
    if not tail:
        return _words(text, limit)
    window = text[-8 * limit:]
    flat = " ".join(window.split())
    return flat[-limit:]


def _short(value: str) -> str:
    limit = LIMITS["fact_item"]
    value = " ".join(value.split())
    return value if len(value) <= limit else ".." + value[-(limit - 2):]


def _base(path: str) -> str:
    return path.rstrip("/").rpartition("/")[2]


def _host_class(host: str) -> str:
    if host in ("localhost", "ip6-localhost") or host.endswith(".localhost"):
        return HOST_CLASSES["loopback"]
    try:
        ip = ipaddress.ip_network(host.strip("[]"), strict=False).network_address  # a host or a range
    except ValueError:
        return HOST_CLASSES["other"]
    if ip.is_loopback or ip.is_unspecified:
        return HOST_CLASSES["loopback"]
    if ip.is_link_local:
        return HOST_CLASSES["link_local"]
    if ip.is_private and not _documentation(ip):
        return HOST_CLASSES["private"]
    return HOST_CLASSES["other"]


_DOC_NETS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
                                                      "2001:db8::/32"))


def _documentation(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(ip.version == net.version and ip in net for net in _DOC_NETS)


@lru_cache(maxsize=8192)
def _own_parse(text: str) -> tuple[tuple[Event, ...], bool]:
    """Events of a shell text the trajectory stage left unparsed (its gate saw nothing to parse)."""
    result = events_of_shell(text, origin=_ORIGIN, caps=_CAPS)
    return tuple(result.events), bool(result.parsed)


class FactIndex:
    """The events of one prepared trajectory, indexed by message and field, for `facts(segment)`."""

    def __init__(self, prepared: Any) -> None:
        view = prepared.events
        self._view = view
        self._by_field: dict[tuple[int, str], list[Event]] = {}
        runs: set[str] = set()
        written: set[str] = set()
        for e in view.events if view is not None else ():
            if isinstance(e, Observation):
                continue
            self._by_field.setdefault((e.source.message_index, e.source.field), []).append(e)
            if isinstance(e, FileWrite):
                written.add(_base(e.path))
                if view.runs(e.path):
                    runs.add(_base(e.path))
        self._written_run = frozenset(runs)
        hooks = runs | {b for b in written if any(fnmatch.fnmatchcase(b, g) for g in HOOK_FILES)}
        # per runner, the first written file (by name) it loads: computed once per trajectory
        self._runner_files: list[tuple[Any, str]] = []
        for pattern, globs in RUNNERS:
            base = next((b for b in sorted(hooks) if any(fnmatch.fnmatchcase(b, g) for g in globs)), None)
            if base is not None:
                self._runner_files.append((pattern, base))
        self._outputs = outputs_by_action(prepared.segments)

    def runs(self, path: str | None) -> bool:
        return bool(path) and self._view is not None and self._view.runs(path)

    def _events(self, seg: Segment) -> tuple[list[Event], bool]:
        """Events built from the segment's characters, and whether its text was read at all."""
        lo = seg.start
        hi = seg.end if seg.end >= 0 else seg.start + len(seg.text)
        found = [e for e in self._by_field.get((seg.message_index, seg.field), ())
                 if e.source.start < max(hi, lo + 1) and lo < max(e.source.end, e.source.start + 1)
                 and _belongs(seg, e)]
        if found or seg.kind != "shell" or seg.decoded_from is not None:
            return found, True
        if len(seg.text) > _OWN_PARSE_LIMIT:
            return [], False
        events, parsed = _own_parse(seg.text)
        return list(events), parsed

    def facts(self, seg: Segment) -> SegmentFacts:
        """The segment's facts (see the module docstring)."""
        events, read = self._events(seg)
        items: list[str] = []
        notable = seg.kind not in ORDINARY_KINDS or seg.decoded_from is not None or not read
        head = self._head(seg, read)
        if head:
            items.append(head)
        groups: dict[str, list[str]] = {k: [] for k in ("run", "connect", "write", "persist", "cloud", "privilege",
                                                        "env", "read")}
        for e in events:
            item, odd = self._item(e)
            if item:
                groups[item[0]].append(item[1])
            notable = notable or odd
        for key, found in groups.items():
            if found:
                items.extend(_capped(found, LIMITS["reads" if key == "read" else "execs"]))
        if seg.kind == "code" and not notable and NOTABLE_CODE.search(seg.text[:_OWN_PARSE_LIMIT * 4]) is not None:
            items.append("code reaches network or processes")
            notable = True
        loads = self._loads_written(seg)
        if loads:
            items.append(f"loads {_short(loads)} written here")
            notable = True
        output = self._outputs.get((seg.message_index, seg.tool_call_id), "")
        if output and _telling(output):
            items.append("output shows activity")
            notable = True
        if not items:
            items.append("no effects found")
        return SegmentFacts(_join(items, LIMITS["facts"]), notable, output)

    def _loads_written(self, seg: Segment) -> str:
        """A written file that this action's runner loads without naming it (`npm install` after
        package.json): gate.yaml `runners` over the files the flow found run and context.yaml
        `hook_files`; "" when none."""
        if not self._runner_files or seg.kind != "shell" or seg.decoded_from is not None:
            return ""
        return next((base for pattern, base in self._runner_files if pattern.search(seg.text) is not None), "")

    def _head(self, seg: Segment, read: bool) -> str:
        if seg.kind == "file" or (seg.decoded_from or "").startswith("written:"):
            path = seg.path or (seg.decoded_from or "").partition(":")[2]
            return f"written {_short(path)}" + (" runs later" if self.runs(path) else "")
        if seg.decoded_from:
            return "decoded " + seg.decoded_from.split(">")[0].split("+")[0].partition(":")[0]
        if not read:
            return "not parsed"
        return ""

    def _item(self, e: Event) -> tuple[tuple[str, str] | None, bool]:
        """(group, words) for one event, and whether it makes the action notable."""
        if isinstance(e, Exec):
            return ("run", self._exec(e)), self._odd_exec(e)
        if isinstance(e, Connect):
            if e.direction == "listen":
                return ("connect", f"listen {_port(e) or '?'}"), True
            port = _port(e)
            host = _short(e.host or e.raw_host or "?")
            return ("connect", f"connect {_host_class(e.host)} {host}" + (f":{port}" if port else "")), True
        if isinstance(e, FileWrite):
            later = self.runs(e.path)
            return ("write", f"write {_short(e.path)}" + (" runs later" if later else "")), \
                later or NOTABLE_PATHS.search(e.path) is not None
        if isinstance(e, FileRead):
            return ("read", f"read {_short(e.path)}"), NOTABLE_PATHS.search(e.path) is not None
        if isinstance(e, Persist):
            return ("persist", f"persist {e.mechanism} {_short(e.target)}"), True
        if isinstance(e, CloudCall):
            return ("cloud", f"cloud {e.provider} {e.service} {e.operation}"), True
        if isinstance(e, Privilege):
            return ("privilege", f"privilege {e.how}" + (f" {_short(e.target)}" if e.target else "")), True
        if isinstance(e, EnvSet):
            return ("env", f"env {_short(e.name)}"), e.name not in ORDINARY_ENV
        return None, False

    def _exec(self, e: Exec) -> str:
        shown = e.name or "?"
        if "/" in e.path and not e.path.startswith(_STANDARD_DIRS):
            shown = _short(e.path)
        words = [f"run {shown}"]
        if e.launch != "direct":
            words.append(f"via {e.launch}")
        wrappers = [w for w in e.wrappers if w != e.launch.partition(" ")[0]][:3]  # not `find -exec ... under find`
        if wrappers:
            words.append("under " + ",".join(wrappers))
        if _inline_code(e):
            words.append("inline code")
        if _sensitive_args(e):
            words.append("sensitive argument")
        if e.background:
            words.append("in background")
        if e.script:
            words.append(f"script {_short(e.script)}" + (" written here" if _base(e.script) in self._written_run
                                                          else ""))
        elif self._written_run and any(_base(a) in self._written_run for a in e.argv[1:8]):
            words.append("on file written here")
        return " ".join(words)

    def _odd_exec(self, e: Exec) -> bool:
        if e.launch not in ORDINARY_LAUNCHES or e.background or e.name not in ORDINARY_PROGRAMS \
                or not ORDINARY_WRAPPERS.issuperset(e.wrappers) or _inline_code(e) or _sensitive_args(e):
            return True
        if "/" in e.path and not e.path.startswith(_STANDARD_DIRS):
            return True  # a program run from a path of the agent's choosing (`./.cache/kw`)
        if not self._written_run:
            return False
        names = ([e.script] if e.script else []) + list(e.argv[1:8])
        return any(_base(a) in self._written_run for a in names if a)


def _inline_code(e: Exec) -> bool:
    """An interpreter given code on its command line (`node -e`, `perl -ne`): see context.yaml."""
    calls = INLINE_CALLS.get(e.name)
    if calls is not None:
        return any(calls.search(a) is not None for a in e.argv[1:8])
    options = INLINE_CODE.get(e.name)
    if not options:
        return False
    for arg in e.argv[1:8]:
        if arg in options:
            return True
        if arg.startswith("-") and not arg.startswith("--") and any(
                len(o) == 2 and o[1] in arg[1:] for o in options):
            return True
    return False


def _sensitive_args(e: Exec) -> bool:
    """An argument names a credential, key or persistence path (`find / -name 'id_rsa*'`)."""
    return _sensitive_argv(e.argv[1:16])


@lru_cache(maxsize=16384)
def _sensitive_argv(args: tuple[str, ...]) -> bool:  # cached: rollouts repeat their commands
    return any(NOTABLE_PATHS.search(a) is not None for a in args)


def _telling(output: str) -> bool:
    """Markers of a started miner, tunnel, launch or scan at either end of an output (bounded)."""
    window = 4096
    if len(output) > 2 * window:
        return TELLING_OUTPUT.search(output[:window]) is not None or TELLING_OUTPUT.search(output[-window:]) is not None
    return TELLING_OUTPUT.search(output) is not None


def _belongs(seg: Segment, e: Event) -> bool:
    """Which overlapping events describe a segment: a command, what it does itself; written content
    that runs (a `written:` view, an editor-written file), what running it does (flow events) --
    the write itself is the segment's head fact."""
    flow = (e.source.decoded_from or "").startswith(_FLOW_TAGS)
    if (seg.decoded_from or "").startswith("written:"):
        return flow
    if seg.kind == "file":
        return flow or not (isinstance(e, FileWrite) and e.path == seg.path)
    return not flow


def _port(e: Connect) -> str:
    if e.port is not None:
        return str(e.port)
    if e.port_range is not None:
        return f"{e.port_range[0]}-{e.port_range[1]}"
    return ""


def _capped(items: Sequence[str], limit: int) -> list[str]:
    seen = list(dict.fromkeys(items))
    if len(seen) <= limit:
        return seen
    return seen[:limit] + [f"+{len(seen) - limit} more"]


def _join(items: Iterable[str], limit: int) -> str:
    out = ""
    for item in dict.fromkeys(items):
        piece = item if not out else "; " + item
        if len(out) + len(piece) > limit:
            break
        out += piece
    return out


def outputs_by_action(segments: Sequence[Segment]) -> dict[tuple[int, str | None], str]:
    """The tool output each action produced, by (message_index, tool_call_id) of the action.

    An output with a tool call id answers the latest action with that id; one without answers the
    actions of the latest action message. Outputs the event stage found to be data (a display of
    a file the agent wrote as data) are not in the segments, so they are never an action's output.
    """
    out: dict[tuple[int, str | None], str] = {}
    pending: dict[str | None, tuple[int, str | None]] = {}
    last_message: list[tuple[int, str | None]] = []
    for seg in _originals(segments):
        if seg.kind == "observation":
            if seg.tool_call_id is not None and seg.tool_call_id in pending:
                out.setdefault(pending.pop(seg.tool_call_id), seg.text)
            else:
                for key in last_message:
                    out.setdefault(key, seg.text)
            continue
        key = (seg.message_index, seg.tool_call_id)
        if seg.tool_call_id is not None:
            pending[seg.tool_call_id] = key
        if not last_message or last_message[-1][0] != seg.message_index:
            last_message = []
        last_message.append(key)
    return out


def _originals(segments: Sequence[Segment]) -> Iterator[Segment]:
    return (seg for seg in segments if seg.decoded_from is None and not seg.depth)
