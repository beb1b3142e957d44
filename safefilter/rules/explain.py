"""`safefilter rules explain`: the events of one command or code text and the rules that fire.

Why: an event rule tests fields (`argv`, `host`, `operation`, ...) whose values come from the
parsers; an author writing one needs to see exactly what those fields hold for a sample command,
and which rules (text and event) fire on it, before writing `examples:`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..types import Finding
from .fields import render_all
from .model import Rule, split_rules

__all__ = ["Explanation", "explain", "render_explanation", "rule_summary"]


@dataclass(frozen=True, slots=True)
class Explanation:
    events: tuple[Any, ...]
    findings: tuple[Finding, ...]
    event_rule_kinds: dict[str, str]  # event rule id -> the event kind it reads
    problem: str = ""  # why no events could be built (a parser fault), shown instead of a traceback


def explain(text: str, rules: Sequence[Rule], *, python: bool = False, task: str = "") -> Explanation:
    """Scan `text` as one shell (or Python) tool call with `rules` loaded; nothing is run."""
    from ..policy import Policy
    from ..scanner import RuleDetector, Scanner
    from .events import EventMatcher
    from .testing import example_findings, example_record, segment_events

    step = {"code" if python else "shell": text}
    record = example_record({"steps": [step], "task": task} if task else step, "shell")
    scanner = Scanner([RuleDetector(rules)], Policy(requested_is_unsafe=True))
    prepared = scanner.prepare(record, "explain")
    event_rules = split_rules(rules)[1]
    try:
        built = getattr(prepared, "events", None)
        events = tuple(built.events) if built is not None else segment_events(prepared.trajectory.segments)
        findings = example_findings(scanner, record, EventMatcher(event_rules))
    except Exception as exc:  # noqa: BLE001 - a parser fault: show it and the text rules, not a traceback
        problem = f"the event parsers failed on this text: {type(exc).__name__}: {exc}"
        try:
            findings = list(scanner.scan(record, "explain").findings)
        except Exception as again:  # noqa: BLE001 - the scan itself failed too: say so
            problem += f"; the scan failed too: {type(again).__name__}: {again}"
            findings = []
        return Explanation((), tuple(findings), {r.id: r.event.kind for r in event_rules}, problem)  # type: ignore[union-attr]
    return Explanation(events, tuple(findings), {r.id: r.event.kind for r in event_rules})  # type: ignore[union-attr]


def render_explanation(ex: Explanation) -> str:
    """Readable text: each event with every non-empty field a rule can test, then the findings."""
    lines = [f"{len(ex.events)} events (fields a rule can test; empty ones left out):"]
    for i, event in enumerate(ex.events):
        head = f"[{i}] {event.kind}"
        if event.parent is not None:
            head += f"  (caused by [{event.parent}])"
        src = event.source
        head += f"  span {src.start}-{src.end}" + (f" decoded from {src.decoded_from}" if src.decoded_from else "")
        lines.append(head)
        for name, value in render_all(event, ex.events).items():
            if value != "":
                shown = value.replace("\n", "\\n")
                lines.append(f"    {name}: {shown if len(shown) <= 200 else shown[:197] + '...'}")
    if ex.problem:
        lines.append(f"    (none: {ex.problem})")
    elif not ex.events:
        lines.append("    (none: the text did not parse, or it only computes)")
    fired = sorted({(f.rule_id, f.requested) for f in ex.findings})
    lines.append(f"{len(fired)} rules fire:" if fired else "no rule fires")
    seen: set[tuple[str, bool]] = set()
    for f in ex.findings:
        if (f.rule_id, f.requested) in seen:
            continue
        seen.add((f.rule_id, f.requested))
        kind = "text rule"
        if f.rule_id in ex.event_rule_kinds:
            at = next((i for i, e in enumerate(ex.events) if e.kind == ex.event_rule_kinds[f.rule_id]
                       and (e.source.message_index, e.source.field) == (f.message_index, f.field)
                       and e.source.start <= f.start and f.end <= e.source.end), None)
            kind = "event rule" + (f" on [{at}]" if at is not None else "")
        req = ", requested by the task" if f.requested else ""
        lines.append(f"    {f.rule_id} ({kind}, {f.category}, {f.severity.label}{req}): {f.evidence[:160]}")
    return "\n".join(lines)


def rule_summary(rule: Rule) -> str:
    """What a rule reads, for `rules list`: its text kinds, or `event:<kind>` and the fields tested."""
    if rule.event is None:
        return ",".join(rule.applies_to)
    fields = sorted({t.field for t in rule.event.tests()})
    return f"event:{rule.event.kind}({','.join(fields)})"
