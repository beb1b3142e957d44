"""Every piece of text of a record, addressed as findings address it: (message_index, field).

The extractor names a finding's place by the message index and a field path inside the message
(chat) or from the record root (`steps.3.action`, `trajectory.2.observation`); this walker yields
the same addresses for all the text a reader should see, task and prose included, so evidence can
be highlighted where it is. Tool-call arguments given as a JSON string are shown parsed, one
block per argument, because that is the text the offsets point into.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

__all__ = ["Block", "blocks_of"]


@dataclass(frozen=True, slots=True)
class Block:
    message_index: int
    role: str      # who: system, user, assistant, tool, or the step's part (action, observation, thought)
    label: str     # what: "content", "bash: command", ...
    field: str
    text: str


def _args(value: Any, field: str, label: str) -> Iterator[tuple[str, str, str]]:
    """(field, label, text) of tool arguments, as `_argument_segments` addresses them."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            if value:
                yield field, label, value
            return
        value = parsed
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        sub = f"{field}.{key}"
        if isinstance(item, str) and item:
            yield sub, f"{label} {key}", item
        elif isinstance(item, list) and item and all(isinstance(v, str) for v in item):
            yield sub, f"{label} {key}", " ".join(item)
        elif isinstance(item, dict):
            yield from _args(item, sub, label)


def _content(content: Any, field: str = "content") -> Iterator[tuple[str, str]]:
    if isinstance(content, str):
        if content:
            yield field, content
    elif isinstance(content, list):
        for i, part in enumerate(content):
            if isinstance(part, str):
                yield f"{field}.{i}", part
            elif isinstance(part, dict):
                if isinstance(part.get("text"), str) and part["text"]:
                    yield f"{field}.{i}.text", part["text"]
                if part.get("type") == "tool_result":
                    yield from _content(part.get("content"), f"{field}.{i}.content")


def _chat(record: dict[str, Any]) -> Iterator[Block]:
    for index, message in enumerate(record.get("messages") or ()):
        if not isinstance(message, dict):
            continue
        role = str(message.get("role", "?"))
        for field, text in _content(message.get("content")):
            yield Block(index, role, "content", field, text)
        content = message.get("content")
        if isinstance(content, list):
            for i, part in enumerate(content):
                if isinstance(part, dict) and part.get("type") == "tool_use":
                    for f, label, text in _args(part.get("input"), f"content.{i}.input", str(part.get("name", ""))):
                        yield Block(index, role, label, f, text)
        for j, call in enumerate(message.get("tool_calls") or ()):
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict):
                for f, label, text in _args(fn.get("arguments"), f"tool_calls.{j}.function.arguments",
                                            str(fn.get("name", ""))):
                    yield Block(index, role, label, f, text)
        legacy = message.get("function_call")
        if isinstance(legacy, dict):
            for f, label, text in _args(legacy.get("arguments"), "function_call.arguments", str(legacy.get("name", ""))):
                yield Block(index, role, label, f, text)


def _steps(record: dict[str, Any], key: str) -> Iterator[Block]:
    for index, step in enumerate(record.get(key) or ()):
        if not isinstance(step, dict):
            continue
        base = f"{key}.{index}"
        thought = step.get("thought")
        if isinstance(thought, str) and thought:
            yield Block(index, "assistant", "thought", f"{base}.thought", thought)
        action = step.get("action")
        if isinstance(action, str) and action:
            yield Block(index, "assistant", "action", f"{base}.action", action)
        elif isinstance(action, dict):
            name = str(action.get("tool") or action.get("name") or "")
            sub = next((k for k in ("arguments", "args", "input") if k in action), None)
            if sub is not None and isinstance(action[sub], (dict, str)):
                items = _args(action[sub], f"{base}.action.{sub}", name)
            else:
                items = _args(action, f"{base}.action", name)
            for f, label, text in items:
                yield Block(index, "assistant", label, f, text)
        observation = step.get("observation")
        if isinstance(observation, str) and observation:
            yield Block(index, "tool", "observation", f"{base}.observation", observation)


def blocks_of(record: dict[str, Any]) -> list[Block]:
    """The record's text blocks: the task fields, then each shape it carries."""
    out = [Block(-1, "task", key, key, record[key])
           for key in ("task", "prompt", "instruction", "problem_statement") if isinstance(record.get(key), str)]
    if isinstance(record.get("messages"), list):
        out.extend(_chat(record))
    if isinstance(record.get("trajectory"), list):
        out.extend(_steps(record, "trajectory"))
    if isinstance(record.get("steps"), list):
        out.extend(_steps(record, "steps"))
    return out
