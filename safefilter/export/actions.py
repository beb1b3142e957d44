"""The agent's actions in one record, each with its output and the findings that point at it.

An action is one step of the extractor (a tool call, a fenced block, a SWE-agent or `steps`
action): its segments share a `step` number. Output is the tool observation answering it (by
tool_call_id, else the next observation after it). A finding belongs to the action whose field it
points at, or whose output it points at (`where: output`: a miner log the action started).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..types import Segment
from .runrecords import RunRecord

__all__ = ["Action", "actions_of", "tool_name"]


@dataclass(slots=True)
class Action:
    step: int
    message_index: int
    tool_call_id: str | None
    tool: str
    segments: list[Segment] = field(default_factory=list)
    output_segments: list[Segment] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)  # finding dicts plus "where"

    @property
    def text(self) -> str:
        """The action as one string: the command or code itself, or `key: value` lines for a tool call."""
        if len(self.segments) == 1:
            return self.segments[0].text
        return "\n".join(f"{s.field.rsplit('.', 1)[-1]}: {s.text}" for s in self.segments)

    @property
    def output(self) -> str:
        return "\n".join(s.text for s in self.output_segments)

    @property
    def fields(self) -> set[tuple[int, str]]:
        return {(s.message_index, s.field) for s in self.segments}

    @property
    def output_fields(self) -> set[tuple[int, str]]:
        return {(s.message_index, s.field) for s in self.output_segments}


def _index(items: Any, i: int) -> Any:
    return items[i] if isinstance(items, list) and 0 <= i < len(items) else None


def tool_name(record: dict[str, Any], seg: Segment) -> str:
    """The tool that ran the action, read back from the record by the segment's field path."""
    parts = seg.field.split(".")
    if parts[0] == "trajectory":
        return "swe_agent"
    if parts[0] == "steps":
        step = _index(record.get("steps"), seg.message_index)
        action = step.get("action") if isinstance(step, dict) else None
        if isinstance(action, dict):
            return str(action.get("tool") or action.get("name") or "unknown")
        return "shell"
    message = _index(record.get("messages"), seg.message_index)
    if not isinstance(message, dict):
        return "unknown"
    if parts[0] == "tool_calls" and len(parts) > 1 and parts[1].isdigit():
        call = _index(message.get("tool_calls"), int(parts[1]))
        fn = call.get("function") if isinstance(call, dict) else None
        return str(fn.get("name")) if isinstance(fn, dict) else "unknown"
    if parts[0] == "function_call":
        fn = message.get("function_call")
        return str(fn.get("name")) if isinstance(fn, dict) else "unknown"
    if parts[0] == "content" and len(parts) > 2 and parts[2] == "input":
        part = _index(message.get("content"), int(parts[1])) if parts[1].isdigit() else None
        return str(part.get("name")) if isinstance(part, dict) else "unknown"
    return f"fenced_{seg.kind}"  # a ```bash / ```python block in the agent's text


def _owner_of_output(actions: list[Action], obs: Segment) -> Action | None:
    if obs.field.startswith(("steps.", "trajectory.")):
        return next((a for a in actions if a.step == obs.step and a.message_index == obs.message_index), None)
    if obs.tool_call_id:
        for a in actions:
            if a.tool_call_id == obs.tool_call_id:
                return a
    before = [a for a in actions if a.message_index < obs.message_index]
    return before[-1] if before else None


def _owner_of_finding(actions: list[Action], finding: dict[str, Any]) -> tuple[Action | None, str]:
    key = (finding.get("message_index"), finding.get("field"))
    for a in actions:
        if key in a.fields:
            return a, "action"
    for a in actions:
        if key in a.output_fields:
            return a, "output"
    mi = finding.get("message_index")
    if not isinstance(mi, int):
        return None, "action"
    same = [a for a in actions if a.message_index == mi
            and (finding.get("tool_call_id") is None or a.tool_call_id == finding.get("tool_call_id"))]
    if same:
        return same[0], "action"
    before = [a for a in actions if a.message_index <= mi]
    return (before[-1], "output") if before else (None, "action")


def actions_of(item: RunRecord) -> list[Action]:
    """The record's actions in order, with outputs and (for unsafe records) findings attached."""
    by_step: dict[int, Action] = {}
    observations = []
    for seg in item.trajectory.segments:
        if seg.depth:
            continue  # decoded views of an action are the same action
        if seg.kind == "observation":
            observations.append(seg)
            continue
        action = by_step.get(seg.step)
        if action is None:
            action = by_step[seg.step] = Action(seg.step, seg.message_index, seg.tool_call_id,
                                                tool_name(item.record, seg))
        action.segments.append(seg)
    actions = [by_step[k] for k in sorted(by_step)]
    for obs in observations:
        owner = _owner_of_output(actions, obs)
        if owner is not None:
            owner.output_segments.append(obs)
    for finding in (item.safety or {}).get("findings") or ():
        if isinstance(finding, dict):
            owner, where = _owner_of_finding(actions, finding)
            if owner is not None:
                owner.findings.append({**finding, "where": where})
    return actions
