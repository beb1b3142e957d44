"""Run every rule's inline examples through the full scanner (normalization included).

Used by `safefilter rules test` and by pytest, so a rule that does not catch its own positives,
or fires on its own negatives, cannot ship.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import orjson

from ..policy import Policy
from .model import Rule

__all__ = ["ExampleResult", "example_record", "check_rules"]

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

    def describe(self) -> str:
        want = "match" if self.expect_match else "no_match"
        got = ", ".join(self.fired) or "no rule"
        return f"{self.rule_id} {want} example {_short(self.example)}: fired {got}"


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
                     "function": {"name": "bash", "arguments": orjson.dumps({"command": "cat out.log"}).decode()}}]})
            messages.append({"role": "tool", "tool_call_id": pending_id, "content": text})
            pending_id = None
            continue
        call_id = f"call_{n}"
        if kind == "file":
            name, args = "write_file", {"path": f"/tmp/work/file_{n}.txt", "content": text}
        else:
            tool, key = TOOL_FOR_KIND[kind]
            name, args = tool, {key: text}
        messages.append({"role": "assistant", "content": "", "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": orjson.dumps(args).decode()}}]})
        pending_id = call_id
    return {"id": "example", "messages": messages}


def check_rules(rules: Sequence[Rule], scanner: Any = None) -> list[ExampleResult]:
    """Scan every example of every rule with all `rules` loaded; one result per example."""
    from ..scanner import RuleDetector, Scanner

    if scanner is None:
        scanner = Scanner([RuleDetector(rules)], Policy(requested_is_unsafe=True))
    results = []
    for rule in rules:
        default_kind = rule.applies_to[0]
        for expect, examples in ((True, rule.examples["match"]), (False, rule.examples["no_match"])):
            for example in examples:
                verdict = scanner.scan(example_record(example, default_kind), "example")
                # a finding the example's task asked for does not count: that is what `task:` tests
                fired = tuple(sorted({f.rule_id for f in verdict.findings if not f.requested}))
                results.append(ExampleResult(rule.id, expect, example, (rule.id in fired) == expect, fired))
    return results
