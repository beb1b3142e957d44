"""Bounds, origins and the shared sink the shell and Python parsers write events into.

Parsing recurses (`sh -c` inside `eval` inside `python -c` inside `os.system`), so the budget is
one mutable `Sink` shared by every level: a cap on events, on syntax nodes visited (which keeps
the work linear in the input), and per-level `Frame`s that carry the depth and map local
character offsets back to the field the text came from.

The sink also collects *data spans*: characters of the action that are data, not action
(comments, heredoc bodies fed to `cat`, `echo` text, commit messages, jq filters, Python
docstrings and strings that reach no sink, `--help` invocations), so text rules can skip them.
Only verbatim text has a span in the field; text decoded or unquoted on the way in has none.
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import Event, Source

__all__ = ["Caps", "Origin", "Result", "Sink", "Frame"]

_MAX_DATA_SPANS = 4096  # per text; past it the rest stays action (never the reverse)


@dataclass(frozen=True, slots=True)
class Caps:
    """Hard limits per text handed to the public API (and everything it recurses into)."""

    max_depth: int = 4  # nested parses: sh -c, eval, python -c, os.system(...)
    max_events: int = 256  # events per text
    max_text: int = 256 * 1024  # characters per text; longer text is not parsed
    max_nodes: int = 200_000  # syntax nodes visited, all levels together
    max_value: int = 8192  # characters in one resolved value (variables, folded strings)
    max_words: int = 64  # words one brace expansion may produce
    max_nesting: int = 200  # syntax-tree nesting followed before giving up on a branch


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a text sits in the trajectory; `offset` is its start within the field."""

    message_index: int
    tool_call_id: str | None
    field: str
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Result:
    """What a parse produced. `parsed` is False when the text did not parse (then `events` is
    empty and `reasons` says why; the caller keeps its text path). `reasons` also lists caps
    that were hit and constructs that were skipped."""

    events: tuple[Event, ...]
    parsed: bool
    reasons: tuple[str, ...] = ()
    # Spans (Source coordinates: field offsets, `origin.offset` included) of text that is data,
    # not action; sorted, non-overlapping, inside the text. Empty when the text did not parse.
    data_spans: tuple[tuple[int, int], ...] = ()


class Sink:
    """The events of one public call, with the budgets every nested level shares."""

    __slots__ = ("caps", "events", "reasons", "nodes", "full", "data", "text_out")

    def __init__(self, caps: Caps) -> None:
        self.caps = caps
        self.events: list[Event] = []
        self.reasons: list[str] = []
        self.nodes = 0
        self.full = False
        self.data: list[tuple[int, int]] = []
        # True while the stdout of the command being walked is shown or written, not run or
        # captured (False inside `$(...)` and in pipeline stages that feed a non-filter).
        self.text_out = True

    def mark_data(self, frame: "Frame", start: int, end: int) -> None:
        """Record local span (start, end) of `frame`'s text as data; ignored where the frame's
        text is not a verbatim slice of the field (decoded text has no place to point at)."""
        if frame.offset is None or end <= start or len(self.data) >= _MAX_DATA_SPANS:
            return
        self.data.append((frame.offset + start, frame.offset + end))

    def data_spans(self, lo: int, hi: int) -> tuple[tuple[int, int], ...]:
        """The marked spans clipped to [lo, hi), sorted and merged."""
        out: list[tuple[int, int]] = []
        for start, end in sorted(self.data):
            start, end = max(start, lo), min(end, hi)
            if end <= start:
                continue
            if out and start <= out[-1][1]:
                if end > out[-1][1]:
                    out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
        return tuple(out)

    def add(self, event: Event) -> int | None:
        """Append an event; returns its index, or None once the event cap is reached."""
        if len(self.events) >= self.caps.max_events:
            if not self.full:
                self.full = True
                self.note(f"event cap {self.caps.max_events} reached")
            return None
        self.events.append(event)
        return len(self.events) - 1

    def note(self, reason: str) -> None:
        if len(self.reasons) < 32 and reason not in self.reasons:
            self.reasons.append(reason)

    def tick(self, n: int = 1) -> bool:
        """Count visited nodes; False once the node budget is spent."""
        self.nodes += n
        if self.nodes > self.caps.max_nodes:
            if not self.full:
                self.full = True
                self.note(f"node cap {self.caps.max_nodes} reached")
            return False
        return not self.full


@dataclass(frozen=True, slots=True)
class Frame:
    """One level of parsing: which text, how it was launched, and how its offsets map back.

    With `offset` set, a local span (start, end) maps to (offset + start, offset + end) in the
    field. With `offset` None the text is decoded or unquoted, so local offsets mean nothing in
    the field: every event gets `fixed`, the span of the encoded original.
    """

    origin: Origin
    depth: int = 0
    launch: str = "direct"
    offset: int | None = 0
    fixed: tuple[int, int] = (0, 0)
    decoded_from: str | None = None
    parent: int | None = None

    def source(self, start: int, end: int) -> Source:
        o = self.origin
        if self.offset is None:
            start, end = self.fixed
        else:
            start, end = self.offset + start, self.offset + end
        return Source(o.message_index, o.tool_call_id, o.field, start, end, self.decoded_from)

    def nested(self, *, launch: str, span: tuple[int, int], inner_offset: int | None,
               decoded_from: str | None, parent: int | None) -> "Frame":
        """The frame for a text found at local `span`; `inner_offset` is where its characters
        start locally when they are a verbatim slice of this text, else None."""
        outer = self.source(*span)
        if inner_offset is not None and self.offset is not None:
            return Frame(self.origin, self.depth + 1, launch, self.offset + inner_offset,
                         (outer.start, outer.end), self.decoded_from or decoded_from, parent)
        return Frame(self.origin, self.depth + 1, launch, None, (outer.start, outer.end),
                     self.decoded_from or decoded_from or launch, parent)
