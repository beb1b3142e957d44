"""Any trajectory shape as one list of chat messages with a fixed schema.

Trainers (TRL's DPO trainer, chat templates) take `{"role", "content", "tool_calls",
"tool_call_id"}` messages. Chat records keep their own messages (content parts joined, Anthropic
`tool_use` parts as tool calls, arguments always a JSON string so Parquet has one column type);
SWE-agent and plain `steps` records become task, then per step an assistant tool call and its
output. `position` maps the extractor's message index to the message that carries it, and
`call_sources` names, per message, where each of its tool calls came from in the record (the
extractor's field prefix), so an action found by its segments' fields can be cut out as its own call.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..normalize.extract import TASK_KEYS, TASK_ROLES, TOOL_ROLES, Trajectory

__all__ = ["Conversation", "conversation", "message_feature", "action_message"]


def message_feature() -> dict[str, Any]:
    """The `datasets` feature of one message (imported lazily: `datasets` is heavy)."""
    from datasets import Value

    return {"role": Value("string"), "content": Value("string"),
            "tool_calls": [{"id": Value("string"), "type": Value("string"),
                            "function": {"name": Value("string"), "arguments": Value("string")}}],
            "tool_call_id": Value("string")}



@dataclass(frozen=True, slots=True)
class Conversation:
    messages: list[dict[str, Any]]
    position: dict[int, int]  # extractor message_index -> index in `messages`
    shape: str
    call_sources: dict[int, list[str]] = field(default_factory=dict)  # message -> field prefix per tool call


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    parts.append(part["text"])
                elif part.get("type") == "tool_result":
                    parts.append(_text(part.get("content")))
        return "\n".join(p for p in parts if p)
    return json.dumps(content, ensure_ascii=False, sort_keys=True)


def _arguments(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value if value is not None else {}, ensure_ascii=False, sort_keys=True)


def _call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    return {"id": None if call_id is None else str(call_id), "type": "function",
            "function": {"name": str(name or ""), "arguments": _arguments(arguments)}}


def _message(role: str, content: str, calls: list[dict[str, Any]] | None = None,
             call_id: Any = None) -> dict[str, Any]:
    return {"role": role, "content": content, "tool_calls": calls or [],
            "tool_call_id": None if call_id is None else str(call_id)}


def _chat(record: dict[str, Any]) -> Conversation:
    out = []
    sources: dict[int, list[str]] = {}
    for message in record["messages"]:
        if not isinstance(message, dict):
            continue
        role = str(message.get("role", "")).lower()
        content = message.get("content")
        calls, where = [], []
        for j, call in enumerate(message.get("tool_calls") or ()):
            if isinstance(call, dict) and isinstance(call.get("function"), dict):
                fn = call["function"]
                calls.append(_call(call.get("id"), fn.get("name"), fn.get("arguments")))
                where.append(f"tool_calls.{j}.function.arguments")
        legacy = message.get("function_call")
        if isinstance(legacy, dict):
            calls.append(_call(None, legacy.get("name"), legacy.get("arguments")))
            where.append("function_call.arguments")
        if isinstance(content, list):
            for i, part in enumerate(content):
                if isinstance(part, dict) and part.get("type") == "tool_use":
                    calls.append(_call(part.get("id"), part.get("name"), part.get("input")))
                    where.append(f"content.{i}.input")
        if where:
            sources[len(out)] = where
        if role in TOOL_ROLES:
            role = "tool"
        elif role not in TASK_ROLES:
            role = "assistant"  # as the extractor reads it: an unknown role is the agent's
        out.append(_message(role, _text(content), calls, message.get("tool_call_id")))
    return Conversation(out, {i: i for i in range(len(out))}, "chat", sources)


def _task(record: dict[str, Any]) -> str:
    return "\n".join(record[k] for k in TASK_KEYS if isinstance(record.get(k), str))


def _steps(record: dict[str, Any], key: str, trajectory: Trajectory) -> Conversation:
    out = []
    task = trajectory.task or _task(record)
    if task:
        out.append(_message("user", task))
    position, sources = {}, {}
    for index, step in enumerate(record[key]):
        if not isinstance(step, dict):
            continue
        action = step.get("action")
        call_id = f"step-{index}"
        if isinstance(action, dict):
            name = action.get("tool") or action.get("name") or ""
            args = action.get("arguments", action.get("args", action.get("input")))
            if args is None:
                args = {k: v for k, v in action.items() if k not in ("tool", "name", "id")}
            call = _call(call_id, name, args)
        elif isinstance(action, str) and action:
            call = _call(call_id, "bash", {"command": action})
        else:
            call = None
        thought = step.get("thought") if isinstance(step.get("thought"), str) else ""
        position[index] = len(out)
        if call is not None:
            sources[len(out)] = [f"{key}.{index}.action"]
        out.append(_message("assistant", thought, [call] if call else []))
        observation = step.get("observation")
        if isinstance(observation, str) and call is not None:
            out.append(_message("tool", observation, call_id=call_id))
    return Conversation(out, position, "swe_agent" if key == "trajectory" else "steps", sources)


def conversation(record: dict[str, Any], trajectory: Trajectory) -> Conversation:
    """The record as chat messages; a record with several shapes is read as its first (SHAPES order)."""
    first = trajectory.format.split("+")[0]
    if first == "chat":
        return _chat(record)
    return _steps(record, "trajectory" if first == "swe_agent" else "steps", trajectory)


def _from(field_path: str, source: str) -> bool:
    return field_path == source or field_path.startswith(source + ".")


def action_message(conv: Conversation, at: int, fields: set[str], text: str, kind: str) -> dict[str, Any]:
    """The action alone as an assistant message of `conv`'s schema: the tool call(s) of message `at`
    that the action's segment `fields` come from, without the prose around them; an action with no
    call of its own (a fenced block in the agent's text) is that block, fenced again."""
    message = conv.messages[at]
    picked = [call for call, source in zip(message["tool_calls"], conv.call_sources.get(at, ()))
              if any(_from(f, source) for f in fields)]
    if picked:
        return _message("assistant", "", picked)
    lang = "python" if kind == "code" else "bash"
    return _message("assistant", f"```{lang}\n{text.rstrip(chr(10))}\n```")
