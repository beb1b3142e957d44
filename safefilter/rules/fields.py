"""The fields an event rule can test, per event kind, and how each is rendered as text.

One table serves the loader (which names a bad field) and the matcher (which renders the value it
matches), so the two can never disagree. Every value is a string: tuples are joined (`argv` by
single spaces, `parameters` as `name=value` lines), numbers are decimal, booleans are
`true`/`false`, and a value the parser did not know (`None`) is the empty string. `arg` is the one
multi-valued view: it holds when any single argument (argv[1:]) matches.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

from ..events.model import (CloudCall, Connect, EnvSet, Event, Exec, FileRead, FileWrite, Observation,
                            Persist, Privilege)

__all__ = ["EVENT_CLASSES", "FIELDS", "MULTI_VALUED", "CIDR_FIELDS", "render", "render_all"]

EVENT_CLASSES: dict[str, type] = {cls.kind: cls for cls in (  # type: ignore[attr-defined]
    Exec, Connect, FileWrite, FileRead, EnvSet, Persist, CloudCall, Privilege, Observation)}

# Fields that are bookkeeping, not behaviour: spans and indexes into the event list.
_HIDDEN = {"source", "parent", "produced_by"}

MULTI_VALUED = frozenset({"arg"})
CIDR_FIELDS = frozenset({"host", "raw_host"})

View = Callable[[Any, Sequence[Event]], "str | tuple[str, ...]"]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        if value and isinstance(value[0], tuple):  # parameters: (name, value) pairs
            return "\n".join(f"{k}={v}" for k, v in value)
        if len(value) == 2 and all(isinstance(v, int) for v in value):  # port_range
            return f"{value[0]}-{value[1]}"
        return " ".join(str(v) for v in value)
    return str(value)


def _attr(name: str) -> View:
    return lambda event, _events: _text(getattr(event, name))


def _producer(event: Observation, events: Sequence[Event]) -> Exec | None:
    i = event.produced_by
    if i is None or not 0 <= i < len(events):
        return None
    producer = events[i]
    return producer if isinstance(producer, Exec) else None


def _producer_view(render_exec: Callable[[Exec], str]) -> View:
    def view(event: Any, events: Sequence[Event]) -> str:
        producer = _producer(event, events)
        return "" if producer is None else render_exec(producer)
    return view


def _views(cls: type) -> dict[str, View]:
    views: dict[str, View] = {f.name: _attr(f.name) for f in dataclasses.fields(cls) if f.name not in _HIDDEN}
    views["unresolved"] = lambda event, _events: _text(bool(event.reasons))
    if cls is Exec:
        views["args"] = lambda event, _events: " ".join(event.argv[1:])
        views["arg"] = lambda event, _events: tuple(event.argv[1:])
    if cls is Observation:
        views["produced_by.name"] = _producer_view(lambda e: e.name)
        views["produced_by.argv"] = _producer_view(lambda e: " ".join(e.argv))
        views["produced_by.args"] = _producer_view(lambda e: " ".join(e.argv[1:]))
        views["produced_by.path"] = _producer_view(lambda e: e.path)
    return views


FIELDS: dict[str, dict[str, View]] = {kind: _views(cls) for kind, cls in EVENT_CLASSES.items()}


def render(event: Event, field: str, events: Sequence[Event] = ()) -> str | tuple[str, ...]:
    """The text a rule's test on `field` reads from `event` (a tuple for multi-valued views)."""
    return FIELDS[event.kind][field](event, events)


def render_all(event: Event, events: Sequence[Event] = ()) -> dict[str, str]:
    """Every field of `event` as text (multi-valued views joined), for `rules explain`."""
    out = {}
    for field, view in FIELDS[event.kind].items():
        if field in MULTI_VALUED:
            continue
        out[field] = view(event, events)  # type: ignore[assignment]
    return out
