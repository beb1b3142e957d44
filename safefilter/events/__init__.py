"""Trajectory events: what an action makes happen, built by real parsers (issue 8, items 1-2).

    from safefilter.events import Origin, events_of_shell, events_of_python
    result = events_of_shell("nohup ./xmrig -o stratum+tcp://pool:3333 &",
                             origin=Origin(message_index=3, tool_call_id="call_1",
                                           field="arguments.command"))
    result.events   # (Exec(name="xmrig", wrappers=("nohup",), ...), Connect(host="pool", ...))
    result.parsed   # False when the text is not valid shell: no events, see result.reasons

Nothing from a trajectory is ever executed. Both functions are bounded by `Caps` (depth of
nested parses, events per text, text size, syntax nodes visited) and never raise on any input
text; a text that does not parse returns no events and a reason, and the caller keeps its text
path. See docs/events.md.
"""
from __future__ import annotations

from .context import Caps, Origin, Result, Sink, Frame
from .model import (EVENT_KINDS, CloudCall, Connect, EnvSet, Event, Exec, FileRead, FileWrite,
                    Observation, Persist, Privilege, Source)

__all__ = [
    "Caps", "Origin", "Result", "events_of_shell", "events_of_python", "events_of_file_write",
    "Event", "EVENT_KINDS",
    "Source", "Exec", "Connect", "FileWrite", "FileRead", "EnvSet", "Persist", "CloudCall",
    "Privilege", "Observation",
]

_DEFAULT_CAPS = Caps()


def _run(parse, text: str, origin: Origin, caps: Caps, launch: str) -> Result:
    sink = Sink(caps)
    frame = Frame(origin, 0, launch, origin.offset)
    try:
        parsed = parse(text, frame, sink)
    except RecursionError:
        return Result((), False, ("recursion limit while parsing",))
    if not parsed:
        return Result((), False, tuple(sink.reasons) or ("did not parse",))
    return Result(tuple(sink.events), True, tuple(sink.reasons),
                  sink.data_spans(origin.offset, origin.offset + len(text)))


def events_of_shell(text: str, *, origin: Origin, caps: Caps = _DEFAULT_CAPS) -> Result:
    """Events of a shell command or script (bash grammar)."""
    from .shell import parse_into

    return _run(parse_into, text, origin, caps, "direct")


def events_of_python(text: str, *, origin: Origin, caps: Caps = _DEFAULT_CAPS) -> Result:
    """Events of Python source (standard `ast`, with constant folding of built strings)."""
    from .python import parse_into

    return _run(parse_into, text, origin, caps, "direct")


def events_of_file_write(path: str, content: str | None, *, origin: Origin,
                         mode: str = "write", caps: Caps = _DEFAULT_CAPS) -> Result:
    """Events of a write tool call (`write_file`, `str_replace_editor create`, ...): a
    `file_write` with `how="editor"` (plus `persist` / `privilege` for rc files, crontabs,
    units, authorized_keys, sudoers). The content is data: it is not parsed here; whether it
    runs later is the data-flow stage's question. `origin.offset`/span cover the content."""
    from .emit import Emit

    sink = Sink(caps)
    frame = Frame(origin, 0, "direct", origin.offset)
    text = content if content is None or len(content) <= caps.max_text else None
    reasons = () if text is not None or content is None else ("content longer than the text cap",)
    Emit(frame, sink, 0, len(content or ""), None).write(path, text, mode=mode, how="editor",
                                                         reasons=reasons)
    return Result(tuple(sink.events), True, tuple(sink.reasons))
