"""Rows of the three export formats, and their `datasets` features.

- steps: one row per agent action (what a step-level monitor or process reward model reads);
- prefixes: the conversation up to the first unsafe action as `prompt`, that action alone (its tool
  call, or its fenced block, without the prose around it) as `rejected` (TRL's conversational
  preference format: lists of messages);
- trajectories: one row per record with trajectory-level labels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from .actions import Action, actions_of
from .chat import action_message, conversation, message_feature
from .labels import DEFAULT_SPLITS, Judge
from .runrecords import RunRecord

__all__ = ["ExportOptions", "steps_rows", "prefix_row", "trajectory_row", "features_of"]

_EVIDENCE_KEYS = ("rule_id", "category", "subcategory", "detector", "severity", "field", "evidence",
                  "decoded_from", "where")


@dataclass(frozen=True)
class ExportOptions:
    """What an export keeps; the `exports:` section of a run config holds the same keys."""

    splits: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SPLITS))
    context_chars: int = 4000       # budget of a step's context (task, then the latest previous actions)
    output_chars: int = 1000        # a step's output excerpt
    benign_ratio: float | None = None  # steps: safe rows kept per unsafe row (None: all), stratified by tool
    include_clean: bool = False     # trajectories: clean records too
    chosen_template: str = ""       # prefixes: `chosen` reply ({categories} is filled in); "" leaves it empty
    rescan_clean: bool = True       # steps: rescan clean records with the run's rules for `requested`/`evidence` (CLI: --no-rescan)


def _evidence(f: dict[str, Any]) -> dict[str, Any]:
    out = {k: (None if f.get(k) is None else str(f.get(k))) for k in _EVIDENCE_KEYS}
    out["score"] = float(f.get("score") or 0.0)
    out["message_index"] = int(f.get("message_index") or 0)
    out["start"] = int(f.get("start") or 0)
    out["end"] = int(f.get("end") or 0)
    out["requested"] = bool(f.get("requested", False))
    return out


def _context(task: str, previous: list[Action], budget: int) -> str:
    """Task first (at most half the budget), then as many of the latest previous actions as fit;
    never longer than `budget` characters."""
    half = max(budget // 2, 0)
    head = "Task:\n" + (task if len(task) + 6 <= half else task[: max(half - 9, 0)] + "...")
    if not previous:
        return head[:budget]
    sep, marker_room = "\n\nPrevious actions:\n", 40  # room kept for "(N earlier actions left out)"
    room = budget - len(head) - len(sep) - marker_room
    lines: list[str] = []
    for action in reversed(previous):
        line = f"[{action.tool}] {action.text}"
        if len(line) + 1 > room:
            if not lines and room > 40:
                lines.append(line[: room - 4] + "...")
            break
        lines.append(line)
        room -= len(line) + 1
    skipped = len(previous) - len(lines)
    body = ([f"({skipped} earlier actions left out)"] if skipped else []) + list(reversed(lines))
    return (head + sep + "\n".join(body))[:budget]


def _counting(judge: Judge, action: Action) -> list[dict[str, Any]]:
    return [f for f in action.findings if judge.counts(f)]


def steps_rows(item: RunRecord, judge: Judge, options: ExportOptions) -> Iterator[dict[str, Any]]:
    """One row per action of `item`; labels from the findings the run's policy counted (and reviewers
    did not call false alarms)."""
    actions = actions_of(item)
    for n, action in enumerate(actions):
        counted = _counting(judge, action) if item.output == "unsafe" else []
        categories = sorted({str(f.get("category")) for f in counted})
        output = action.output
        yield {
            "id": f"{item.id}#{n}", "record_id": item.id, "step": n, "message_index": action.message_index,
            "tool_call_id": action.tool_call_id, "tool": action.tool,
            "context": _context(item.trajectory.task, actions[:n], options.context_chars),
            "action": action.text,
            "output": output[: options.output_chars] + ("..." if len(output) > options.output_chars else ""),
            "label": "unsafe" if counted else "safe", "categories": categories,
            "requested": any(bool(f.get("requested")) for f in action.findings),
            "evidence": [_evidence(f) for f in action.findings],
            "record_unsafe": item.output == "unsafe", "reviewed": judge.review_of(action.findings),
            "source": item.shard,
        }


def first_unsafe_action(item: RunRecord, judge: Judge) -> tuple[Action, list[dict[str, Any]]] | None:
    """The earliest action that a counted finding points at (on the action or on its output)."""
    for action in actions_of(item):
        counted = _counting(judge, action)
        if counted:
            return action, counted
    return None


def prefix_row(item: RunRecord, judge: Judge, options: ExportOptions) -> dict[str, Any] | None:
    """The preference pair of an unsafe record; None when no counted finding names an action."""
    found = first_unsafe_action(item, judge)
    if found is None:
        return None
    action, counted = found
    conv = conversation(item.record, item.trajectory)
    at = conv.position.get(action.message_index)
    if at is None or at >= len(conv.messages):
        return None
    categories = sorted({str(f.get("category")) for f in counted})
    template = options.chosen_template
    chosen = ([{"role": "assistant", "content": template.replace("{categories}", ", ".join(categories)),
                "tool_calls": [], "tool_call_id": None}] if template else [])
    return {
        "id": item.id, "prompt": conv.messages[:at], "chosen": chosen,
        "rejected": [action_message(conv, at, {s.field for s in action.segments}, action.text,
                                    action.segments[0].kind if action.segments else "shell")],
        "categories": categories, "rule_ids": sorted({str(f.get("rule_id")) for f in counted}),
        "evidence": [_evidence(f) for f in counted], "message_index": action.message_index,
        "reviewed": judge.review_of(counted), "source": item.shard,
    }


def trajectory_row(item: RunRecord, judge: Judge) -> dict[str, Any]:
    """One record as a conversation with its trajectory-level labels; a record whose every counted
    finding reviewers called a false alarm is labeled safe (a hard negative), `reviewed` says so."""
    safety = item.safety or {}
    findings = [f for f in safety.get("findings") or () if isinstance(f, dict)]
    reviewed = judge.review_of(findings)
    categories = list(safety.get("categories") or [])
    unsafe = item.output == "unsafe"
    if reviewed is not None and unsafe:
        counted = [f for f in findings if judge.counts(f)]
        categories = sorted({str(f.get("category")) for f in counted})
        unsafe = bool(counted) or (bool(safety.get("analysis_incomplete")) and reviewed != "false_alarm")
    return {
        "id": item.id, "messages": conversation(item.record, item.trajectory).messages,
        "label": "unsafe" if unsafe else "safe", "categories": categories if unsafe else [],
        "severity": safety.get("severity"), "first_unsafe_message": safety.get("first_unsafe_message"),
        "analysis_incomplete": bool(safety.get("analysis_incomplete")),
        "evidence": [_evidence(f) for f in findings], "reviewed": reviewed,
        "format": item.trajectory.format, "source": item.shard,
    }


def features_of(fmt: str) -> Any:
    """The `datasets.Features` of one format (explicit, so every split and shard has one schema)."""
    from datasets import Features, Value

    evidence = [{**{k: Value("string") for k in _EVIDENCE_KEYS}, "score": Value("float64"),
                 "message_index": Value("int64"), "start": Value("int64"), "end": Value("int64"),
                 "requested": Value("bool")}]
    messages = [message_feature()]
    if fmt == "steps":
        return Features({"id": Value("string"), "record_id": Value("string"), "step": Value("int64"),
                         "message_index": Value("int64"), "tool_call_id": Value("string"),
                         "tool": Value("string"), "context": Value("string"), "action": Value("string"),
                         "output": Value("string"), "label": Value("string"), "categories": [Value("string")],
                         "requested": Value("bool"), "evidence": evidence, "record_unsafe": Value("bool"),
                         "reviewed": Value("string"), "source": Value("string")})
    if fmt == "prefixes":
        return Features({"id": Value("string"), "prompt": messages, "chosen": messages, "rejected": messages,
                         "categories": [Value("string")], "rule_ids": [Value("string")], "evidence": evidence,
                         "message_index": Value("int64"), "reviewed": Value("string"), "source": Value("string")})
    return Features({"id": Value("string"), "messages": messages, "label": Value("string"),
                     "categories": [Value("string")], "severity": Value("string"),
                     "first_unsafe_message": Value("int64"), "analysis_incomplete": Value("bool"),
                     "evidence": evidence, "reviewed": Value("string"), "format": Value("string"),
                     "source": Value("string")})
