"""Turn one input record, whatever its format, into the segments detectors read.

Three shapes are understood (see CONTRACT.md): OpenAI chat `messages` with tool calls
(Anthropic-style `tool_use`/`tool_result` content parts too), SWE-agent `.traj` objects
(`trajectory` steps) and the plain `steps` shape. Every segment keeps its message index,
tool_call_id and field path so a finding can point at the exact characters of the input.
Structural validation happens before this (see `safefilter.schema`); this module only reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import orjson

from ..errors import RecordError
from ..requested import affirmed
from ..types import Segment

__all__ = ["ShapeError", "Trajectory", "detect_format", "detect_formats", "extract"]

SHELL_TOOLS = frozenset(
    "bash execute_bash shell run run_command run_shell_command terminal exec execute cmd "
    "sh zsh command computer_terminal container.exec local_shell".split()
)
CODE_TOOLS = frozenset("python ipython execute_python python_exec run_python jupyter notebook code_interpreter".split())
SHELL_KEYS = ("command", "cmd", "script", "commands", "input", "keys")
CODE_KEYS = ("code", "source", "python")
FILE_CONTENT_KEYS = ("file_text", "content", "new_str", "text", "contents", "data", "insert_text")
PATH_KEYS = ("path", "file_path", "filename", "file", "filepath", "target_file")
PATH_KEY_SET = frozenset(PATH_KEYS)
FILE_CONTENT_KEY_SET = frozenset(FILE_CONTENT_KEYS)
TASK_ROLES = frozenset(("system", "user", "developer", "human"))
#: Languages of the fenced blocks read as actions (what follows ``` on the opening line).
FENCE_LANGS = frozenset(("bash", "sh", "shell", "console", "zsh", "python", "py", "python3"))


@dataclass(frozen=True, slots=True)
class Trajectory:
    """A record reduced to what detection needs: its id, the task text and the segments.

    `request` is the task without its negated clauses (see `safefilter.requested`): what the
    task asks for, and the only text `requested` is decided from. `task` is kept as stated.
    """

    id: str
    format: str
    task: str
    segments: tuple[Segment, ...]
    request: str = ""


#: The top-level list that names each trajectory shape.
SHAPES = (("messages", "chat"), ("trajectory", "swe_agent"), ("steps", "steps"))
#: Roles whose turns after the agent's may be tool output coming back (plain-chat agents).
USER_ROLES = frozenset(("user", "human"))
#: Roles of tool output. Any role that is neither this nor a task role is read as the agent's turn,
#: so actions under an unexpected role name are scanned rather than skipped.
TOOL_ROLES = frozenset(("tool", "function", "ipython", "observation", "environment", "tool_result", "tool_response"))


def detect_formats(record: dict[str, Any]) -> tuple[str, ...]:
    """Every trajectory shape the record carries, in SHAPES order.

    All of them are scanned: a record with `messages` and `steps` must not pass with one unread.
    A shape key holding an object or a string is a trajectory we cannot read (RecordError); a
    number, boolean or null there is metadata (`"steps": 12`) and is ignored.
    """
    found = []
    for key, fmt in SHAPES:
        value = record.get(key)
        if isinstance(value, list):
            found.append(fmt)
        elif key in record and (isinstance(value, (dict, str)) or not found and not _other_shape(record, key)):
            raise RecordError(f"'{key}' must be a list ({fmt} format), got {type(value).__name__}")
    if not found:
        raise RecordError(
            "record has no 'messages', 'trajectory' or 'steps' list; expected OpenAI chat, SWE-agent "
            ".traj or steps format (see CONTRACT.md)"
        )
    return tuple(found)


def _other_shape(record: dict[str, Any], key: str) -> bool:
    return any(isinstance(record.get(other), list) for other, _ in SHAPES if other != key)


def detect_format(record: dict[str, Any]) -> str:
    """The record's shape name; `chat+steps` (and so on) when it carries several."""
    return "+".join(detect_formats(record))


class ShapeError(ValueError):
    """The record does not have the shape the schema describes (the schema then says why)."""


_ID_TYPES = (str, int)
_OPTIONAL_ID = (str, int, type(None))


def _ensure(condition: bool) -> None:
    if not condition:
        raise ShapeError


def _is_id(value: Any, *, optional: bool) -> bool:
    return isinstance(value, _OPTIONAL_ID if optional else _ID_TYPES) and not isinstance(value, bool)


def extract(record: dict[str, Any], record_id: str) -> Trajectory:
    """Segments of one record. Raises ShapeError exactly where the JSON Schema would reject it.

    Walking the record once both checks its shape and extracts it, which keeps validation off the
    hot path; `safefilter.schema.read_trajectory` turns a ShapeError into the schema's message,
    and a property test keeps the two in agreement.
    """
    formats = detect_formats(record)
    if "id" in record:
        _ensure(_is_id(record["id"], optional=False))
    task_parts: list[str] = []
    _record_task(record, task_parts)
    segments: list[Segment] = []
    for fmt in formats:
        # A later shape's actions come after the earlier shape's, so sequences keep their order.
        offset = max((seg.step for seg in segments), default=-1) + 1
        for seg in _READERS[fmt](record, task_parts):
            segments.append(seg._replace(step=seg.step + offset) if offset else seg)
    task = "\n".join(task_parts)
    return Trajectory(record_id, "+".join(formats), task, tuple(segments), affirmed(task))


# --- OpenAI / Anthropic chat -------------------------------------------------------------------

def _check_message(message: Any) -> None:
    _ensure(isinstance(message, dict) and isinstance(message.get("role", None), str))
    content = message.get("content")
    if isinstance(content, list):
        for part in content:
            _ensure(isinstance(part, (str, dict)))
    else:
        _ensure(content is None or isinstance(content, str))
    if "tool_call_id" in message:
        _ensure(_is_id(message["tool_call_id"], optional=True))
    calls = message.get("tool_calls")
    if calls is not None:
        _ensure(isinstance(calls, list))
        for call in calls:
            _ensure(isinstance(call, dict) and isinstance(call.get("function"), dict))
            if "id" in call:
                _ensure(_is_id(call["id"], optional=True))
            if "type" in call:
                _ensure(call["type"] is None or isinstance(call["type"], str))
            _check_function(call["function"])
    legacy = message.get("function_call")
    if legacy is not None:
        _ensure(isinstance(legacy, dict))
        _check_function(legacy)


def _check_function(fn: dict[str, Any]) -> None:
    _ensure(isinstance(fn.get("name", None), str))
    arguments = fn.get("arguments")
    _ensure(arguments is None or isinstance(arguments, (str, dict)))


def _chat_segments(record: dict[str, Any], task_parts: list[str]) -> Iterator[Segment]:
    """Segments of the chat shape; the task is what the person or environment asked.

    User turns that carry tool output are observations, not task: Anthropic `tool_result` parts,
    observation-shaped text, and the turn that answers an assistant turn whose actions (fenced
    blocks of a plain-chat agent, or tool calls no tool message answered) got no output yet.
    Otherwise an agent could print "set up an SSH tunnel" and have its tunnel judged requested.
    """
    step = 0
    awaiting_output = False  # the latest assistant turn acted and no tool output has come back
    agent_spoke = False
    for index, message in enumerate(record["messages"]):
        _check_message(message)
        role = message["role"].lower()
        content = message.get("content")
        if role in TASK_ROLES:
            answers_agent = agent_spoke and role in USER_ROLES
            for text, field, result_of in _turn_texts(content):
                if result_of is not None or (answers_agent and (awaiting_output or _looks_like_observation(text))):
                    yield Segment("observation", text, index, field, result_of or None, step=step)
                else:
                    task_parts.append(text)
            if answers_agent:
                awaiting_output = False
            for seg in _tool_parts(content, index, step):
                step += 1
                yield seg
        elif role in TOOL_ROLES:
            awaiting_output = False
            call_id = message.get("tool_call_id")
            call_id = str(call_id) if call_id is not None else None
            for text, field in _content_texts(content):
                yield Segment("observation", text, index, field, call_id, step=step)
        else:  # the assistant, or a role we do not know (`model`, `gpt`, `Assistant`): read as the agent's
            agent_spoke = True
            first_step = step
            for seg in _fenced_blocks(content, index, step):
                step += 1
                yield seg
            for seg in _tool_parts(content, index, step):
                step += 1
                yield seg
            for call_no, call in enumerate(message.get("tool_calls") or ()):
                fn = call["function"]
                yield from _tool_call(fn["name"], fn.get("arguments"), index, call.get("id"),
                                      f"tool_calls.{call_no}.function.arguments", step)
                step += 1
            legacy = message.get("function_call")
            if legacy is not None:
                yield from _tool_call(legacy["name"], legacy.get("arguments"), index, None,
                                      "function_call.arguments", step)
                step += 1
            awaiting_output = step > first_step


def _turn_texts(content: Any) -> Iterator[tuple[str, str, str | None]]:
    """(text, field, tool_use_id) of a task-role turn; the id is "" or the tool's id for `tool_result` text."""
    if not isinstance(content, list):
        for text, field in _content_texts(content):
            yield text, field, None
        return
    for i, part in enumerate(content):
        if isinstance(part, dict) and part.get("type") == "tool_result":
            use_id = part.get("tool_use_id")
            result_of = "" if use_id is None else str(use_id)
            for text, field in _content_texts([part]):
                yield text, f"content.{i}{field[len('content.0'):]}", result_of
        else:
            for text, field in _content_texts([part]):
                yield text, f"content.{i}{field[len('content.0'):]}", None


def _content_texts(content: Any) -> Iterator[tuple[str, str]]:
    if isinstance(content, str):
        if content:
            yield content, "content"
    elif isinstance(content, list):
        for i, part in enumerate(content):
            if isinstance(part, str):
                yield part, f"content.{i}"
            elif isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str) and text:
                    yield text, f"content.{i}.text"
                inner = part.get("content")  # Anthropic tool_result
                if part.get("type") == "tool_result":
                    for sub, sub_field in _content_texts(inner):
                        yield sub, f"content.{i}.{sub_field}"


def _tool_parts(content: Any, index: int, step: int) -> Iterator[Segment]:
    """Anthropic-style `tool_use` parts inside message content."""
    if not isinstance(content, list):
        return
    for i, part in enumerate(content):
        if isinstance(part, dict) and part.get("type") == "tool_use":
            yield from _tool_call(str(part.get("name") or ""), part.get("input"), index, part.get("id"),
                                  f"content.{i}.input", step)


def _fenced_blocks(content: Any, index: int, step: int) -> Iterator[Segment]:
    """Shell and Python blocks in assistant text, as agents without tool calling emit actions."""
    for text, field in _content_texts(content):
        if "```" not in text:
            continue
        for lang, start, end in fences(text):
            if not lang:
                continue
            kind = "code" if lang.startswith("py") else "shell"
            yield Segment(kind, text[start:end], index, field, None, start, end, step=step)


def fences(text: str) -> Iterator[tuple[str, int, int]]:
    """Fenced blocks as (language, body start, body end), in one linear pass.

    A block opens with ``` then an optional language from FENCE_LANGS on a line of its own (blanks
    around it allowed) and closes at the next ```. A hand-written scanner rather than a regex: the
    regex form backtracked quadratically on long runs of blanks after ```.
    """
    n = len(text)
    i = text.find("```")
    while i != -1:
        k = _skip_blanks(text, i + 3)
        word_end = k
        while word_end < n and word_end - k <= 8 and text[word_end].isalnum():
            word_end += 1
        lang = text[k:word_end]
        after = _skip_blanks(text, word_end)
        if (not lang or lang in FENCE_LANGS) and after < n and text[after] == "\n":
            close = text.find("```", after + 1)
            if close == -1:
                return  # no closing fence anywhere after: no later opening can close either
            yield lang, after + 1, close
            i = text.find("```", close + 3)
        else:
            i = text.find("```", i + 1)


def _skip_blanks(text: str, k: int) -> int:
    """Index of the first character at or after k that is not a space or tab (linear in the run)."""
    n = len(text)
    while k < n:
        chunk = text[k:k + 256]
        stripped = chunk.lstrip(" \t")
        k += len(chunk) - len(stripped)
        if stripped:
            break
    return k


def _tool_call(name: str, arguments: Any, index: int, call_id: Any, prefix: str, step: int) -> Iterator[Segment]:
    call_id = str(call_id) if call_id is not None else None
    if isinstance(arguments, str):
        try:
            parsed = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict):
            # Not a JSON object: the whole string is the argument (some stacks send raw commands).
            kind = "code" if name.lower() in CODE_TOOLS else "shell" if name.lower() in SHELL_TOOLS else "args"
            if arguments:
                yield Segment(kind, arguments, index, prefix, call_id, step=step)
            return
        arguments = parsed
    if not isinstance(arguments, dict):
        return
    yield from _argument_segments(name.lower(), arguments, index, call_id, prefix, step)


def _argument_segments(tool: str, args: dict[str, Any], index: int, call_id: str | None, prefix: str,
                       step: int) -> Iterator[Segment]:
    path = None
    has_content = False
    for key, value in args.items():
        if value.__class__ is str:
            if path is None and key in PATH_KEY_SET:
                path = value
            elif key in FILE_CONTENT_KEY_SET:
                has_content = True
    is_editor = path is not None and has_content
    for key, value in args.items():
        field = f"{prefix}.{key}"
        if isinstance(value, str):
            if not value:
                continue
            if key in CODE_KEYS or (tool in CODE_TOOLS and key in SHELL_KEYS):
                kind = "code"
            elif key in SHELL_KEYS and not is_editor and tool not in ("str_replace_editor", "edit", "editor"):
                kind = "shell"
            elif key in FILE_CONTENT_KEYS and path is not None:
                yield Segment("file", value, index, field, call_id, 0, len(value), step=step, path=path)
                continue
            elif tool in SHELL_TOOLS:
                kind = "shell"
            else:
                kind = "args"
            yield Segment(kind, value, index, field, call_id, 0, len(value), step=step)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            # argv-style lists ("argv": ["nmap", "-sS", ...]) read as one command line
            kind = "shell" if key in SHELL_KEYS or key in ("argv", "args") or tool in SHELL_TOOLS else "args"
            yield Segment(kind, " ".join(value), index, field, call_id, step=step)
        elif isinstance(value, dict):
            yield from _argument_segments(tool, value, index, call_id, field, step)


def _looks_like_observation(text: str) -> bool:
    return text.startswith(("OBSERVATION", "Observation", "<output>", "<returncode>", "Output:")) or \
        text.lstrip().startswith("<returncode>")


# --- SWE-agent .traj ---------------------------------------------------------------------------

def _swe_segments(record: dict[str, Any], task_parts: list[str]) -> Iterator[Segment]:
    """Segments of a SWE-agent .traj.

    The task is the history's system prompt and its first user turn that is not a demonstration
    (`is_demo`: a worked example of another task, shown before the issue); later turns are the
    run itself, actions and their output.
    """
    history = record.get("history")
    if "history" in record:
        _ensure(isinstance(history, list))
    if isinstance(history, list):
        for message in history:
            if not isinstance(message, dict) or message.get("is_demo") is True:
                continue
            role = message.get("role")
            if not isinstance(role, str) or role not in TASK_ROLES:
                break
            for text, _ in _content_texts(message.get("content")):
                task_parts.append(text[:20000])
            if role in USER_ROLES:
                break
    for index, step in enumerate(record["trajectory"]):
        _ensure(isinstance(step, dict))
        for key in ("action", "observation", "thought"):
            _ensure(step.get(key) is None or isinstance(step[key], str))
        action = step.get("action")
        if isinstance(action, str) and action:
            yield Segment("shell", action, index, f"trajectory.{index}.action", None, 0, len(action), step=index)
        observation = step.get("observation")
        if isinstance(observation, str) and observation:
            yield Segment("observation", observation, index, f"trajectory.{index}.observation", step=index)


# --- plain steps -------------------------------------------------------------------------------

TASK_KEYS = ("task", "prompt", "instruction", "goal", "problem_statement", "query", "question")


def _record_task(record: dict[str, Any], task_parts: list[str]) -> None:
    """Top-level task fields, whatever the shape: the dataset states them, not the agent."""
    for key in TASK_KEYS:
        if isinstance(record.get(key), str):
            task_parts.append(record[key])


def _steps_segments(record: dict[str, Any], task_parts: list[str]) -> Iterator[Segment]:
    """Segments of the plain steps shape; its task is the record's own fields (see `_record_task`)."""
    if "task" in record:
        _ensure(isinstance(record["task"], str))
    for index, step in enumerate(record["steps"]):
        _ensure(isinstance(step, dict))
        _ensure(step.get("observation") is None or isinstance(step["observation"], str))
        _ensure(step.get("action") is None or isinstance(step["action"], (str, dict)))
        action = step.get("action")
        field = f"steps.{index}.action"
        if isinstance(action, str) and action:
            yield Segment("shell", action, index, field, None, 0, len(action), step=index)
        elif isinstance(action, dict):
            name = str(action.get("tool") or action.get("name") or "")
            args = action.get("arguments", action.get("args", action.get("input")))
            if isinstance(args, (dict, str)):
                sub = "arguments" if "arguments" in action else "args" if "args" in action else "input"
                yield from _tool_call(name, args, index, action.get("id"), f"{field}.{sub}", index)
            else:
                yield from _argument_segments(name.lower(), action, index, None, field, index)
        observation = step.get("observation")
        if isinstance(observation, str) and observation:
            yield Segment("observation", observation, index, f"steps.{index}.observation", step=index)


_READERS = {"chat": _chat_segments, "swe_agent": _swe_segments, "steps": _steps_segments}
