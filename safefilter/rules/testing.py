"""Run every rule's inline examples through the full scanner (normalization included).

Used by `safefilter rules test` and by pytest, so a rule that does not catch its own positives,
or fires on its own negatives, cannot ship.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from typing import Any, Sequence

import orjson

from ..policy import Policy
from ..types import Finding, Segment
from .model import Rule, split_rules

__all__ = ["ExampleResult", "example_record", "check_rules", "segment_events", "scanner_matches_events"]

TOOL_FOR_KIND = {
    "shell": ("bash", "command"),
    "code": ("python", "code"),
    "args": ("http_fetch", "url"),
}


@dataclass(frozen=True, slots=True)
class ExampleResult:
    rule_id: str
    expect_match: bool
    example: Any
    passed: bool
    fired: tuple[str, ...]
    event_kind: str | None = None  # the event kind an event rule reads, for the hint on failure

    def describe(self) -> str:
        want = "match" if self.expect_match else "no_match"
        got = ", ".join(self.fired) or "no rule"
        text = f"{self.rule_id} {want} example {_short(self.example)}: fired {got}"
        if self.passed or self.event_kind is None:
            return text
        command = self.example if isinstance(self.example, str) else (
            self.example.get("code") or self.example.get("shell") if isinstance(self.example, dict) else None)
        flag = " --python" if isinstance(self.example, dict) and "code" in self.example else ""
        if isinstance(command, str):
            text += f"\n    see its {self.event_kind} events: safefilter rules explain{flag} {shlex.quote(command)}"
        return text


def _short(example: Any) -> str:
    text = example if isinstance(example, str) else orjson.dumps(example).decode()
    return repr(text if len(text) < 120 else text[:117] + "...")


def example_record(example: Any, default_kind: str) -> dict[str, Any]:
    """A small chat-format trajectory that performs the example's steps."""
    task = "Fix the failing unit test in the repository."
    if isinstance(example, dict) and "steps" in example:
        task = example.get("task", task)
        items = example["steps"]
    else:
        items = [example]
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are a coding agent working in a sandbox."},
        {"role": "user", "content": task},
    ]
    pending_id = None
    for n, item in enumerate(items):
        kind, text = (default_kind, item) if isinstance(item, str) else next(iter(item.items()))
        if kind == "observation":
            if pending_id is None:
                pending_id = f"call_{n}"
                messages.append({"role": "assistant", "content": "", "tool_calls": [
                    {"id": pending_id, "type": "function",
                     "function": {"name": "bash", "arguments": orjson.dumps({"command": "./run.sh"}).decode()}}]})
            messages.append({"role": "tool", "tool_call_id": pending_id, "content": text})
            pending_id = None
            continue
        call_id = f"call_{n}"
        if kind == "file":
            # a file example is a file that is then loaded: written content nothing reads is data
            name, args = "write_file", {"path": f"/tmp/work/file_{n}.txt", "content": text}
            messages.append({"role": "assistant", "content": "", "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": orjson.dumps(args).decode()}}]})
            call_id = f"call_{n}_load"
            name, args = "bash", {"command": f"./app --config /tmp/work/file_{n}.txt"}
        else:
            tool, key = TOOL_FOR_KIND[kind]
            name, args = tool, {key: text}
        messages.append({"role": "assistant", "content": "", "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": orjson.dumps(args).decode()}}]})
        pending_id = call_id
    return {"id": "example", "messages": messages}


def scanner_matches_events(scanner: Any) -> bool:
    """True once a detector of the scanner holds an EventMatcher, so event rules fire inside
    `scan` like text rules; until then `check_rules` matches them on the side."""
    from .events import EventMatcher

    return any(isinstance(v, EventMatcher) for d in scanner.detectors for v in getattr(d, "__dict__", {}).values())


def segment_events(segments: Sequence[Segment]) -> tuple[Any, ...]:
    """The events of a record's segments, in trajectory order.

    Uses the trajectory stage (`safefilter.events.trajectory.build_events`) when it exists; else a
    plain bridge: each original shell/code/file segment parsed on its own, tool output attributed
    to the first top-level exec of its tool call. No data flow, no masks: only for `rules test`
    and `rules explain` before the trajectory stage lands."""
    try:
        from ..events.trajectory import build_events  # type: ignore[import-not-found]
    except ImportError:
        build_events = None
    if build_events is not None:
        return tuple(build_events(segments).events)
    from ..events import Observation, Origin, Source, events_of_file_write, events_of_python, events_of_shell

    events: list[Any] = []
    first_exec: dict[str | None, int] = {}
    for seg in segments:
        if seg.decoded_from is not None or seg.depth:
            continue
        origin = Origin(seg.message_index, seg.tool_call_id, seg.field, seg.start)
        if seg.kind == "observation":
            end = seg.end if seg.end >= 0 else seg.start + len(seg.text)
            events.append(Observation(Source(seg.message_index, seg.tool_call_id, seg.field, seg.start, end),
                                      seg.text, produced_by=first_exec.get(seg.tool_call_id)))
            continue
        if seg.kind == "shell":
            result = events_of_shell(seg.text, origin=origin)
        elif seg.kind == "code":
            result = events_of_python(seg.text, origin=origin)
        elif seg.kind == "file" and seg.path:
            result = events_of_file_write(seg.path, seg.text, origin=origin)
        else:
            continue
        base = len(events)
        for event in result.events:
            if event.parent is not None:
                event = replace(event, parent=event.parent + base)
            if event.kind == "exec" and event.parent is None:
                first_exec.setdefault(seg.tool_call_id, len(events))
            events.append(event)
    return tuple(events)


def example_findings(scanner: Any, record: dict[str, Any], event_matcher: Any = None) -> list[Finding]:
    """Every finding on one example record: the scanner's, plus (before the scanner matches
    events itself) the event rules' on the record's events."""
    findings = list(scanner.scan(record, "example").findings)
    if event_matcher is not None and event_matcher.rules and not scanner_matches_events(scanner):
        prepared = scanner.prepare(record, "example")
        built = getattr(prepared, "events", None)
        events = built.events if built is not None else segment_events(prepared.trajectory.segments)
        findings += event_matcher.match(events, prepared.trajectory.request)
    return findings


def _loaded_rules(scanner: Any) -> list[Rule]:
    return [r for d in scanner.detectors for r in getattr(getattr(d, "engine", None), "rules", [])]


def check_rules(rules: Sequence[Rule], scanner: Any = None) -> list[ExampleResult]:
    """Scan every example of every rule with all `rules` loaded; one result per example."""
    from ..scanner import RuleDetector, Scanner
    from .events import EventMatcher

    if scanner is None:
        scanner = Scanner([RuleDetector(rules)], Policy(requested_is_unsafe=True))
    event_matcher = EventMatcher(split_rules(_loaded_rules(scanner) or rules)[1])
    results = []
    for rule in rules:
        default_kind = rule.applies_to[0]
        for expect, examples in ((True, rule.examples["match"]), (False, rule.examples["no_match"])):
            for example in examples:
                findings = example_findings(scanner, example_record(example, default_kind), event_matcher)
                # a finding the example's task asked for does not count: that is what `task:` tests
                fired = tuple(sorted({f.rule_id for f in findings if not f.requested}))
                results.append(ExampleResult(rule.id, expect, example, (rule.id in fired) == expect, fired,
                                             rule.event.kind if rule.event else None))
    return results
