"""Weakly labelled examples from the rule packs' own inline examples (``source="rule_examples"``).

Every rule carries hand-written ``examples.match`` / ``examples.no_match`` items (commands, code,
file contents, or small multi-step trajectories with a task). Their action texts are realistic and
varied, so they widen the training data. The labels are not the example's intent but what the real
rule engine says about the action: the categories of the findings it produces on that action,
findings the task asked for excluded. Observation steps (tool output) are skipped: the classifier
sees actions only.
"""
from __future__ import annotations

from typing import Any, Iterator

import orjson

from ..types import CATEGORIES as LABELS


def _actions(record: dict[str, Any]) -> Iterator[tuple[int, str, str]]:
    """(message index, kind, action) for every tool call in an example record."""
    for index, message in enumerate(record["messages"]):
        for call in message.get("tool_calls") or []:
            name = call["function"]["name"]
            args = orjson.loads(call["function"]["arguments"])
            if name == "write_file":
                yield index, "file", f"{args['path']}\n{args['content']}"
            elif name == "python":
                yield index, "code", args["code"]
            elif "command" in args:
                yield index, "shell", args["command"]
            else:
                yield index, "shell", next(iter(args.values()))


def rule_example_rows(pack_paths: tuple[str, ...] = ("builtin",)) -> list[dict[str, Any]]:
    """One row per action in the rule packs' examples, labelled by running the rule engine.

    Rows have the keys of the synthetic ones except ``text`` (the caller formats it);
    ``family`` is ``rule:<rule id>:match`` or ``rule:<rule id>:no_match``. Order follows the packs.
    """
    from ..policy import Policy
    from ..rules.model import load_packs
    from ..rules.testing import example_record
    from ..scanner import RuleDetector, Scanner

    rules = [r for pack in load_packs(list(pack_paths)) for r in pack.rules if r.status == "stable"]
    scanner = Scanner([RuleDetector(rules)], Policy(requested_is_unsafe=True))
    rows = []
    for rule in rules:
        for expect in ("match", "no_match"):
            for example in rule.examples[expect]:
                record = example_record(example, rule.applies_to[0])
                task = record["messages"][1]["content"]
                findings = scanner.scan(record, "example").findings
                prev = ""
                for index, kind, action in _actions(record):
                    cats = {f.category for f in findings if f.message_index == index and not f.requested}
                    if kind == "shell" and (action == "./run.sh" or action.startswith("./app --config /tmp/work/")):
                        continue  # stand-ins example_record adds: the process behind an output, the loader of a file
                    rows.append({"action": action, "kind": kind, "task": task, "previous": prev[:200],
                                 "labels": [int(c in cats) for c in LABELS],
                                 "family": f"rule:{rule.id}:{expect}", "disguise": "none", "source": "rule_examples"})
                    prev = action
    return rows
