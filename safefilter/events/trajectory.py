"""The trajectory stage: every action of a record as events, and what of its text is data.

The parsers (`events_of_shell`, `events_of_python`, `events_of_file_write`) read one text each.
This stage runs them over a trajectory's segments in order, re-bases every event onto the
message, tool call and field it came from, attributes tool outputs to the process that printed
them, and lets the data-flow stage (`flow.py`) resolve what later steps run or load. What the
scanner gets:

- `events`: for rules over event fields;
- `masks`: spans of action text that are data (heredoc bodies nothing runs, `echo` text,
  comments, commit messages, Python literals that reach no sink), blanked before text rules read
  the segment, so the same words as data no longer fire; a span is un-masked when the file it
  writes is later run or loaded;
- `dropped`: whole segments that are data: files written by an editor tool that nothing runs or
  loads, the old text of an edit, and tool output that only displays a file the agent wrote as
  data (LABELING.md sections 1 and 2).

Parsing is cached per distinct text in each process (agents repeat `ls`, `pytest`, `git status`
thousands of times), bounded by the parsers' `Caps`, and time-boxed per record: past the deadline
the record keeps whatever events were built and NO masks, so text rules read it as they did
before this stage existed (the conservative direction: nothing is hidden by a half-done parse).
"""
from __future__ import annotations

import ast
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import re2
import yaml

from ..types import Segment
from . import Caps, Origin, Result, events_of_file_write, events_of_python, events_of_shell
from .model import Event, Exec, FileRead, FileWrite, Observation, Persist, Source
from .paths import home_relative, persist_mechanism

if TYPE_CHECKING:
    from .gate import ParseGate

__all__ = ["TrajectoryEvents", "build_events", "apply_masks", "clear_cache", "process_outputs", "files_shown",
           "from_agent_process"]

#: Texts longer than this are parsed but not kept in the per-process cache.
CACHE_TEXT_LIMIT = 4 * 1024  # 8,192 entries of at most this: the cache stays under ~40 MB per process
CACHE_ENTRIES = 8192
#: Default wall-clock budget per record for this stage (seconds); the scanner passes its own.
DEFAULT_SECONDS = 2.0
_ZERO = Origin(0, None, "", 0)


def _knowledge() -> dict[str, Any]:
    text = resources.files("safefilter").joinpath("events/trajectory.yaml").read_text()
    return yaml.safe_load(text)


_DATA = _knowledge()
#: Programs whose output is the content of the files they are given, not something they do.
DISPLAY_TOOLS = frozenset(_DATA["display_tools"])
#: Editor-tool commands that only show a file.
VIEW_COMMANDS = frozenset(_DATA["view_commands"])
#: Programs that load a file they name (see trajectory.yaml `loaders`).
LOADERS: dict[str, frozenset[str]] = {name: frozenset((spec or {}).get("subcommands", ()))
                                      for name, spec in _DATA["loaders"].items()}
#: Paths whose content is in effect once written (see trajectory.yaml).
EFFECTIVE_PATHS = tuple(_DATA["effective_paths"])
#: Python test files, where literals that reach no sink are test data (see trajectory.yaml).
_TESTS = _DATA["test_files"]
#: What a written file's name says about the language it is run in (for masks of loaded files).
_PYTHON_SUFFIXES = (".py", ".pyw")
_SHELL_SUFFIXES = (".sh", ".bash", ".zsh", ".ksh")


@dataclass(frozen=True, slots=True)
class TrajectoryEvents:
    """What the trajectory stage found in one record (see the module docstring).

    `parsed` holds the positions (in the segments given to `build_events`) of action segments
    whose text parsed; `masks` and `dropped` use the same positions. `timed_out` is true when
    the per-record deadline cut the stage short: then `masks` and `dropped` are empty.
    `written` are new segments: content a command wrote to a file that is later run or loaded.
    """

    events: tuple[Event, ...] = ()
    masks: Mapping[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    dropped: frozenset[int] = frozenset()
    loaded_files: frozenset[str] = frozenset()
    parsed: frozenset[int] = frozenset()
    reasons: tuple[str, ...] = ()
    timed_out: bool = False
    written: tuple[Segment, ...] = ()

    def runs(self, path: str) -> bool:
        """Whether a written `path` is run or loaded later in the record (by the data flow)."""
        return _is_loaded(path, self.loaded_files)


def clear_cache() -> None:
    """Forget cached parses (tests; a long-lived worker never needs it: the cache is bounded)."""
    _parse_cached.cache_clear()


@lru_cache(maxsize=CACHE_ENTRIES)
def _parse_cached(kind: str, text: str, caps: Caps) -> Result:
    return _parse(kind, text, caps)


def _parse(kind: str, text: str, caps: Caps) -> Result:
    if kind == "shell":
        return events_of_shell(text, origin=_ZERO, caps=caps)
    return events_of_python(text, origin=_ZERO, caps=caps)


def _parse_action(kind: str, text: str, caps: Caps) -> Result:
    """The parse of an action text at origin zero; cached per distinct short text."""
    if len(text) <= CACHE_TEXT_LIMIT:
        return _parse_cached(kind, text, caps)
    return _parse(kind, text, caps)


def _rebase(event: Event, seg: Segment, base: int) -> Event:
    """An event parsed at origin zero, placed at `seg`'s message, tool call and field."""
    s = event.source
    source = Source(seg.message_index, seg.tool_call_id, seg.field, s.start + seg.start, s.end + seg.start,
                    s.decoded_from)
    parent = None if event.parent is None else event.parent + base
    if isinstance(event, FileWrite) and event.content_spans:
        spans = tuple((a + seg.start, z + seg.start) for a, z in event.content_spans)
        return replace(event, source=source, parent=parent, content_spans=spans)
    return replace(event, source=source, parent=parent)


def _top_exec(events: Sequence[Event], first: int, last: int) -> int | None:
    """The index of the last top-level exec in events[first:last] (the process whose output we see)."""
    for i in range(last - 1, first - 1, -1):
        e = events[i]
        if isinstance(e, Exec) and e.parent is None:
            return i
    return None


class _Builder:
    """State of one record's pass: events so far, and which action produced which outputs."""

    def __init__(self, segments: Sequence[Segment], caps: Caps, deadline: float | None,
                 clock: Callable[[], float], gate: "ParseGate | None" = None) -> None:
        self.segments = segments
        self.gate = gate
        self.written_names: set[str] = set()  # base names and stems of files written so far
        self.caps = caps
        self.deadline = deadline
        self.clock = clock
        self.events: list[Event] = []
        self.masks: dict[int, list[tuple[int, int]]] = {}
        self.parsed: set[int] = set()
        self.reasons: list[str] = []
        # (message_index, tool_call_id) or step -> (first, end) of the events its action produced
        self.action_events: dict[Any, tuple[int, int]] = {}
        self.last_action: tuple[int, int] | None = None
        self.file_writes: dict[int, int] = {}  # segment position of a `file` segment -> its event index
        self.editor_calls: set[tuple[int, str | None]] = set()
        self.view_calls: set[tuple[int, str | None]] = set()
        self.flow_events: tuple[Event, ...] = ()
        self.loaded_paths: frozenset[str] = frozenset()
        self.written_paths: set[str | None] = set()
        # action texts the gate left unparsed, by (message, tool call); parsed after all when their
        # output could be evidence (see `observation`)
        self.skipped: dict[tuple[int, str | None], tuple[int, Segment]] = {}
        self.last_skipped: tuple[int, Segment] | None = None

    def note(self, reason: str) -> None:
        if len(self.reasons) < 32 and reason not in self.reasons:
            self.reasons.append(reason)

    def out_of_time(self) -> bool:
        return self.deadline is not None and self.clock() > self.deadline

    def add_parse(self, pos: int, seg: Segment, result: Result) -> tuple[int, int]:
        base = len(self.events)
        room = max(0, _MAX_EVENTS - base)
        if len(result.events) > room:
            self.note(f"event cap {_MAX_EVENTS} per trajectory reached")
        self.events.extend(_rebase(e, seg, base) for e in result.events[:room])
        for r in result.reasons[:4]:
            self.note(r)
        spans = getattr(result, "data_spans", ())
        if spans:
            self.masks[pos] = list(spans)
        return base, len(self.events)

    def remember_writes(self, first: int) -> None:
        for e in self.events[first:]:
            if isinstance(e, FileWrite) and (self.gate is None or self.gate.content_matters(e.content, e.path)):
                base = _base(e.path)
                self.written_names.add(base)

    def action(self, pos: int, seg: Segment) -> None:
        if self.gate is not None and not self.gate.wants(seg.kind, seg.text, self.written_names):
            self.skipped[(seg.message_index, seg.tool_call_id)] = (pos, seg)
            self.last_skipped = (pos, seg)
            return
        self.last_skipped = None
        self.parse(pos, seg)

    def parse(self, pos: int, seg: Segment) -> None:
        result = _parse_action(seg.kind, seg.text, self.caps)
        if not result.parsed:
            return
        self.parsed.add(pos)
        span = self.add_parse(pos, seg, result)
        self.remember_writes(span[0])
        key = (seg.message_index, seg.tool_call_id)
        first, _ = self.action_events.get(key, span)
        self.action_events[key] = (first, span[1])
        self.last_action = (first, span[1])

    def file(self, pos: int, seg: Segment) -> None:
        origin = Origin(seg.message_index, seg.tool_call_id, seg.field, seg.start)
        result = events_of_file_write(seg.path or "", seg.text, origin=origin, caps=self.caps)
        base = len(self.events)
        if base >= _MAX_EVENTS:
            return
        self.events.extend(replace(e, parent=None if e.parent is None else e.parent + base)
                           for e in result.events)
        self.file_writes[pos] = base
        self.editor_calls.add((seg.message_index, seg.tool_call_id))
        self.remember_writes(base)

    def observation(self, seg: Segment) -> None:
        if self.gate is not None and (self.skipped or self.last_skipped) and self.gate.output_wants_producer(seg.text):
            behind = next((v for (m, c), v in self.skipped.items() if c == seg.tool_call_id), None) \
                if seg.tool_call_id else self.last_skipped
            if behind is not None:
                self.skipped.pop((behind[1].message_index, behind[1].tool_call_id), None)
                self.parse(*behind)
        span = self.action_events.get((seg.message_index, seg.tool_call_id)) if seg.tool_call_id else None
        if span is None and seg.tool_call_id is not None:
            span = next((v for (m, c), v in self.action_events.items() if c == seg.tool_call_id), None)
        if span is None:
            span = self.last_action
        producer = None if span is None else _top_exec(self.events, *span)
        if len(self.events) < _MAX_EVENTS:
            source = Source(seg.message_index, seg.tool_call_id, seg.field, seg.start, seg.start + len(seg.text))
            self.events.append(Observation(source, seg.text, producer))


#: Events kept per trajectory (per-text caps bound each parse; this bounds their sum).
_MAX_EVENTS = 4096
#: Test files longer than this keep their literals readable (one more parse of the file is not free).
_MAX_TEST_TEXT = 256 * 1024
#: Files written by commands and later run, read as segments of their own, per trajectory.
_MAX_WRITTEN = 64


def build_events(segments: Sequence[Segment], *, caps: Caps = Caps(), deadline: float | None = None,
                 clock: Callable[[], float] = time.perf_counter, gate: "ParseGate | None" = None) -> TrajectoryEvents:
    """Events of a record's original segments (as `extract` gives them, in trajectory order).

    `deadline` is a value of `clock()` past which the stage stops and returns what it has, with
    no masks (see the module docstring). `gate` (see gate.py) leaves action texts that can change
    nothing unparsed; None parses every action. Never raises on record content.
    """
    b = _Builder(segments, caps, deadline, clock, gate)
    if gate is not None:
        texts: dict[str, list[str]] = {}
        for seg in segments:
            if not seg.decoded_from and not seg.depth and seg.kind in ("shell", "code"):
                texts.setdefault(seg.kind, []).append(seg.text)
        gate.start_record(texts)
    for pos, seg in enumerate(segments):
        if b.out_of_time():
            b.note("time box reached: the rest of the record is read by text rules only")
            return TrajectoryEvents(tuple(b.events), {}, frozenset(), frozenset(), frozenset(b.parsed),
                                    tuple(b.reasons), timed_out=True)
        if seg.decoded_from or seg.depth:
            continue  # derived text: the parsers decode on their own
        if seg.kind in ("shell", "code"):
            b.action(pos, seg)
        elif seg.kind == "file":
            b.file(pos, seg)
        elif seg.kind == "observation":
            b.observation(seg)
    events = tuple(b.events)
    loaded, flow_events = _flow(events, caps, b)
    b.flow_events = flow_events
    if flow_events:
        events = events + flow_events
    dropped = _dropped(segments, events, b, loaded)
    _mask_loaded_files(segments, b, dropped)
    written = _written_segments(segments, events, b, loaded)
    b.loaded_paths, b.written_paths = loaded, {w.path for w in written}
    _mask_written_content(segments, events, b, written)
    return TrajectoryEvents(events, _masks(b), dropped, loaded, frozenset(b.parsed), tuple(b.reasons),
                            written=written)


def _flow(events: tuple[Event, ...], caps: Caps, b: _Builder) -> tuple[frozenset[str], tuple[Event, ...]]:
    """Loaded files and derived events from the data-flow stage (when it is installed)."""
    loaded: set[str] = set()
    derived: tuple[Event, ...] = ()
    try:
        from .flow import resolve_flow
    except ImportError:
        resolve_flow = None
    if resolve_flow is not None:
        flow = resolve_flow(events, caps=caps, deadline=b.deadline, clock=b.clock)
        loaded.update(flow.loaded)
        derived = flow.events  # their parents index events + derived: appended in that order
        for r in flow.reasons[:4]:
            b.note(r)
    loaded.update(_named_by_loaders(events))
    # Persistence is loaded by definition: an rc file, crontab, unit or authorized_keys runs later.
    for e in events:
        if isinstance(e, Persist):
            loaded.add(e.target)
        elif isinstance(e, FileWrite) and _effective(e.path):
            loaded.add(e.path)
    return frozenset(loaded), derived


def _named_by_loaders(events: Sequence[Event]) -> set[str]:
    """Written files that a later `loaders` program names (`go run x.go`, `msfconsole -r x.rc`)."""
    written: dict[str, set[str]] = {}
    out: set[str] = set()
    for e in events:
        if isinstance(e, FileWrite):
            written.setdefault(_base(e.path), set()).add(e.path)
        elif isinstance(e, Exec) and written and e.name in LOADERS:
            subs = LOADERS[e.name]
            if subs and (len(e.argv) < 2 or e.argv[1] not in subs):
                continue
            for arg in e.argv[1:]:
                out.update(written.get(_base(arg), ()))
    return out


def _effective(path: str) -> bool:
    """A path whose content takes effect when written (trajectory.yaml `effective_paths`)."""
    p = home_relative(path.strip())
    return any(p == e or (e.endswith("/") and p.startswith(e)) for e in EFFECTIVE_PATHS)


def _base(path: str) -> str:
    return path.rstrip("/").rpartition("/")[2]


def _written_paths(events: Sequence[Event]) -> dict[str, list[FileWrite]]:
    out: dict[str, list[FileWrite]] = {}
    for e in events:
        if isinstance(e, FileWrite):
            out.setdefault(e.path, []).append(e)
    return out


def _is_loaded(path: str | None, loaded: frozenset[str]) -> bool:
    if not path:
        return False
    if path in loaded:
        return True
    base = path.rstrip("/").rpartition("/")[2]
    return any(p.rstrip("/").rpartition("/")[2] == base for p in loaded) if base else False


def _dropped(segments: Sequence[Segment], events: tuple[Event, ...], b: _Builder,
             loaded: frozenset[str]) -> frozenset[int]:
    """Whole segments that are data for text rules."""
    dropped: set[int] = set()
    agent_outputs = process_outputs(events)
    shown = files_shown(events)
    outputs_at = {(e.source.message_index, e.source.field): e for e in events if isinstance(e, Observation)}
    for pos, seg in enumerate(segments):
        if seg.decoded_from or seg.depth:
            continue
        call = (seg.message_index, seg.tool_call_id)
        if seg.kind == "file" and not _is_loaded(seg.path, loaded):
            dropped.add(pos)
        elif seg.kind == "args" and call in b.editor_calls:
            dropped.add(pos)  # the old text of an edit, the editor's command word
        elif seg.kind == "observation":
            obs = outputs_at.get((seg.message_index, seg.field))
            if obs is not None and obs.produced_by is not None \
                    and not from_agent_process(obs, events, agent_outputs, shown):
                dropped.add(pos)  # it only shows files the agent wrote as data, fixtures, docs
    return frozenset(dropped)


#: Programs whose output is the agent's own text, not the output of something it started.
_TEXT_WRITERS = frozenset(("echo", "printf"))


def process_outputs(events: Sequence[Event]) -> set[str]:
    """Base names of files a process the agent started writes its output to (`nohup x > log &`,
    `nohup.out`): showing them later is evidence of what that process did."""
    out: set[str] = set()
    for e in events:
        if isinstance(e, Exec) and "nohup" in e.wrappers:
            out.add("nohup.out")  # where nohup sends the output of a job started without a redirect
        elif isinstance(e, FileWrite) and e.how == "redirect" and e.parent is not None and 0 <= e.parent < len(events):
            parent = events[e.parent]
            if isinstance(parent, Exec) and parent.name not in DISPLAY_TOOLS and parent.name not in _TEXT_WRITERS:
                out.add(e.path.rpartition("/")[2])
    return out


def files_shown(events: Sequence[Event]) -> dict[int, list[str]]:
    """The files each exec reads, by the exec's index (what a display tool shows)."""
    shown: dict[int, list[str]] = {}
    for e in events:
        if isinstance(e, FileRead) and e.parent is not None:
            shown.setdefault(e.parent, []).append(e.path)
    return shown


def from_agent_process(obs: Observation, events: Sequence[Event], outputs: set[str],
                       shown: Mapping[int, list[str]] | None = None) -> bool:
    """Whether a tool output comes from a process the agent started (LABELING.md section 2).

    Output of a display tool (`cat`, `tail`, `grep`, ...) shows files: it counts only when one of
    them is the output of a process the agent started (`outputs`, from `process_outputs`), not when
    it is a fixture, a test or a file the agent wrote as data. The one rule for text rules (which
    leave such output out) and event rules (which do not count it)."""
    i = obs.produced_by
    if i is None or not 0 <= i < len(events) or not isinstance(events[i], Exec):
        return False
    if events[i].name not in DISPLAY_TOOLS:  # type: ignore[union-attr]
        return True
    paths = (shown or {}).get(i) if shown is not None else files_shown(events).get(i)
    return not paths or any(p.rpartition("/")[2] in outputs for p in paths)


def _mask_loaded_files(segments: Sequence[Segment], b: _Builder, dropped: frozenset[int]) -> None:
    """A written file that runs is read like an action: its data (comments, literals that reach
    no sink, `echo` text) is masked the same way, by the parser of its language."""
    for pos in b.file_writes:
        if pos in dropped:
            continue
        seg = segments[pos]
        events = b.flow_events
        kind = _language(seg.path or "", seg.text)
        if kind is None and _is_test_file(seg.path or "", python_only=False):
            lexical = _lexical_test_literals(seg.text)
            if lexical:
                b.masks[pos] = lexical
            continue
        if kind is None or (b.gate is not None and not b.gate.rules_could_fire("file", seg.text)):
            continue
        result = _parse_action(kind, seg.text, b.caps)
        spans = list(getattr(result, "data_spans", ()) if result.parsed else ())
        if kind == "code" and _is_test_file(seg.path or ""):
            spans.extend(_test_literals(seg.text, _acting_spans(seg, events)))
        if spans:
            b.masks[pos] = spans


def _is_test_file(path: str, *, python_only: bool = True) -> bool:
    base = _base(path)
    if python_only and not base.endswith(_PYTHON_SUFFIXES):
        return False
    folder = "/" + path[: len(path) - len(base)]
    return (base in _TESTS["names"] or base.startswith(tuple(_TESTS["prefixes"]))
            or base.endswith(tuple(_TESTS["suffixes"])) or any("/" + f in folder for f in _TESTS["folders"]))


# a quoted string on one line (bounded), or a backquoted raw string (Go, JS templates)
_QUOTED = re2.compile(r'"(?:[^"\\\n]|\\.)*"|' + r"'(?:[^'\\\n]|\\.)*'|`[^`]*`")
_SPAWN_LINE = re2.compile(_TESTS["spawn_lines"])


def _lexical_test_literals(text: str) -> list[tuple[int, int]]:
    """Quoted strings of a test file in a language the parsers do not read, except on lines that
    start a process or open a connection: there the string may be what runs."""
    if len(text) > _MAX_TEST_TEXT:
        return []
    out: list[tuple[int, int]] = []
    for m in _QUOTED.finditer(text):
        a, z = m.start(), m.end()
        line_start = text.rfind("\n", 0, a) + 1
        line_end = text.find("\n", z)
        line = text[line_start: len(text) if line_end < 0 else line_end]
        if _SPAWN_LINE.search(line) is None:
            out.append((a, z))
    return out


def _acting_spans(seg: Segment, events: Sequence[Event]) -> list[tuple[int, int]]:
    """Spans (in `seg.text`) of the events built from a segment: where it does something."""
    return [(e.source.start - seg.start, e.source.end - seg.start) for e in events
            if e.source.message_index == seg.message_index and e.source.field == seg.field
            and not isinstance(e, (FileWrite, Observation))]


def _test_literals(text: str, acting: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of the string literals of a test file that lie outside every `acting` span."""
    if len(text) > _MAX_TEST_TEXT:
        return []
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:
        line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
        return starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", "ignore"))

    out: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))):
            if node.end_lineno is None or node.end_col_offset is None:
                continue
            a, z = offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)
            if z > a and not any(x <= a and z <= y for x, y in acting):
                out.append((a, z))
    return out


def _language(path: str, text: str) -> str | None:
    """"code" (Python) or "shell" by the file's name or shebang; None for anything else (configs)."""
    first = text[:128].partition("\n")[0]
    if path.endswith(_PYTHON_SUFFIXES) or (first.startswith("#!") and "python" in first):
        return "code"
    if path.endswith(_SHELL_SUFFIXES) or (first.startswith("#!") and first.rstrip().endswith(("sh", "bash"))):
        return "shell"
    return None


def _masks(b: _Builder) -> dict[int, tuple[tuple[int, int], ...]]:
    """Data spans per segment. The content an action writes stays masked in that action even when
    the file is run later: the run is read from the content itself (`_written_segments`)."""
    return {pos: tuple(sorted(spans)) for pos, spans in b.masks.items() if spans}


def _written_segments(segments: Sequence[Segment], events: tuple[Event, ...], b: _Builder,
                      loaded: frozenset[str]) -> tuple[Segment, ...]:
    """Content written by a command or code (a heredoc, `echo >`, `write_text`) to a file that is
    later run or loaded, as a segment of its own, masked by its own parse (a comment in a script
    that runs is still a comment). It points at the span of the write; `decoded_from` says so."""
    out: list[Segment] = []
    step_of = {(seg.message_index, seg.field): seg.step for seg in segments}
    for e in events:
        if not isinstance(e, FileWrite) or e.how == "editor" or not e.content or not _is_loaded(e.path, loaded):
            continue
        if e.source.decoded_from and e.source.decoded_from.startswith(("script:", "hook:", "written:")):
            continue  # written by a script that runs: the flow's own events cover it
        kind = _language(e.path, e.content) or ("file" if _is_config_name(e.path) else "shell")
        text = e.content
        if kind in ("shell", "code") and (b.gate is None or b.gate.rules_could_fire(kind, text)):
            result = _parse_action(kind, text, b.caps)
            spans = list(getattr(result, "data_spans", ()) if result.parsed else ())
            if kind == "code" and result.parsed and _is_test_file(e.path):
                spans.extend(_test_literals(text, [(x.source.start, x.source.end) for x in result.events
                                                   if not isinstance(x, (FileWrite, Observation))]))
            text = apply_masks(text, sorted(spans))
        elif _is_test_file(e.path, python_only=False):
            text = apply_masks(text, _lexical_test_literals(text))
        out.append(Segment(kind, text, e.source.message_index, e.source.field, e.source.tool_call_id,
                           e.source.start, e.source.end, f"written:{e.path}", 0,
                           step_of.get((e.source.message_index, e.source.field), 0), e.path))
        if len(out) >= _MAX_WRITTEN:
            b.note(f"more than {_MAX_WRITTEN} written files run: the rest are read only by event rules")
            break
    return tuple(out)


def _mask_written_content(segments: Sequence[Segment], events: tuple[Event, ...], b: _Builder,
                          written: tuple[Segment, ...]) -> None:
    """Text an action writes into a file is masked where it was written: a file nothing runs or
    loads is data (LABELING.md section 1), and one that runs is read once, as its own segment
    (`written`; a test file's literals as test data). A write to a persistence or in-effect path is
    itself the action: its text stays readable where it was written."""
    where = {(seg.message_index, seg.field): pos for pos, seg in enumerate(segments)
             if not seg.decoded_from and not seg.depth}
    for e in events:
        if isinstance(e, FileWrite) and not e.content_spans and e.content and not e.source.decoded_from \
                and not _is_loaded(e.path, b.loaded_paths) \
                and not persist_mechanism(e.path) and not _effective(e.path):
            pos = where.get((e.source.message_index, e.source.field))
            if pos is not None and segments[pos].kind in ("shell", "code"):
                b.masks.setdefault(pos, []).extend(_verbatim_lines(segments[pos], e))
            continue
        if isinstance(e, FileWrite) and e.content_spans and not e.source.decoded_from \
                and e.path and "$" not in e.path and "`" not in e.path \
                and not persist_mechanism(e.path) and not _effective(e.path) \
                and (not b.loaded_paths or not _is_loaded(e.path, b.loaded_paths) or e.path in b.written_paths):
            pos = where.get((e.source.message_index, e.source.field))
            if pos is not None:
                start = segments[pos].start
                b.masks.setdefault(pos, []).extend((a - start, z - start) for a, z in e.content_spans)


def _verbatim_lines(seg: Segment, e: FileWrite) -> list[tuple[int, int]]:
    """Where a write's content lines (or `key = value` values, as `git config alias.x '...'`
    writes them) occur verbatim, once, in the writing action's span: for writes the parser gives
    no content spans for."""
    lo, hi = e.source.start - seg.start, e.source.end - seg.start
    window = seg.text[max(0, lo):max(0, hi)]
    out: list[tuple[int, int]] = []
    for line in (e.content or "").splitlines()[:64]:
        for piece in (line.strip(), line.partition(" = ")[2].strip()):
            if len(piece) >= 8 and window.count(piece) == 1:
                at = window.index(piece) + max(0, lo)
                out.append((at, at + len(piece)))
                break
    return out


def _is_config_name(path: str) -> bool:
    base = _base(path)
    return "." in base.lstrip(".") and not base.endswith(_SHELL_SUFFIXES + _PYTHON_SUFFIXES)


def apply_masks(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with every data span blanked (same length, newlines kept), so offsets stay valid."""
    if not spans:
        return text
    parts: list[str] = []
    pos = 0
    n = len(text)
    for start, end in spans:
        start, end = max(pos, min(start, n)), max(0, min(end, n))
        if end <= start:
            continue
        parts.append(text[pos:start])
        chunk = text[start:end]
        parts.append("".join("\n" if c == "\n" else " " for c in chunk) if "\n" in chunk else " " * len(chunk))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)
