"""Every input shape becomes the right segments, with locations that point into the record."""
import json

import pytest

from safefilter.errors import RecordError
from safefilter.normalize import extract
from safefilter.schema import validate_record

from conftest import bash, call, tool, traj


def kinds(record):
    return [(s.kind, s.text, s.message_index, s.field, s.tool_call_id) for s in extract(record, "r").segments]


def test_chat_arguments_as_string_or_object_and_tool_names():
    record = traj(
        bash("ls -la", "a"),
        tool("total 0", "a"),
        call("run", {"cmd": "make test"}, "b", as_string=False),
        call("execute_python", {"code": "print(1)"}, "c"),
        call("write_file", {"path": "/tmp/x.sh", "content": "echo hi"}, "d"),
        call("str_replace_editor", {"command": "create", "path": "a.py", "file_text": "x = 1"}, "e"),
        call("http_get", {"url": "http://example.com", "timeout": 5}, "f"),
    )
    got = kinds(record)
    assert ("shell", "ls -la", 2, "tool_calls.0.function.arguments.command", "a") in got
    assert ("observation", "total 0", 3, "content", "a") in got
    assert ("shell", "make test", 4, "tool_calls.0.function.arguments.cmd", "b") in got
    assert ("code", "print(1)", 5, "tool_calls.0.function.arguments.code", "c") in got
    assert ("file", "echo hi", 6, "tool_calls.0.function.arguments.content", "d") in got
    assert ("file", "x = 1", 7, "tool_calls.0.function.arguments.file_text", "e") in got
    assert ("args", "http://example.com", 8, "tool_calls.0.function.arguments.url", "f") in got
    # the editor's `command: create` is not a shell command
    assert not any(k == "shell" and t == "create" for k, t, *_ in got)
    file_seg = next(s for s in extract(record, "r").segments if s.kind == "file" and s.text == "echo hi")
    assert file_seg.path == "/tmp/x.sh"


def test_content_parts_and_task_text():
    record = {"messages": [
        {"role": "user", "content": [{"type": "text", "text": "Set up the "}, {"type": "text", "text": "db"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "x", "type": "function", "function": {"name": "shell", "arguments": {"command": "id"}}}]},
        {"role": "tool", "tool_call_id": "x", "content": [{"type": "text", "text": "uid=0(root)"}]},
    ]}
    t = extract(record, "r")
    assert t.task == "Set up the \ndb"
    assert ("observation", "uid=0(root)", 2, "content.0.text", "x") in kinds(record)


def test_anthropic_tool_use_and_fenced_blocks():
    record = {"messages": [
        {"role": "user", "content": "task"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "tu1", "name": "bash", "input": {"command": "whoami"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu1", "content": "root"}]},
        {"role": "assistant", "content": "I will run:\n```bash\nuname -a\n```\n"},
    ]}
    got = kinds(record)
    assert ("shell", "whoami", 1, "content.0.input.command", "tu1") in got
    fenced = next(s for s in extract(record, "r").segments if s.text == "uname -a\n")
    content = record["messages"][3]["content"]
    assert content[fenced.start:fenced.start + len(fenced.text)] == fenced.text


def test_raw_non_json_arguments_are_scanned_as_the_command():
    record = traj(call("bash", "nmap -sS 10.0.0.0/24"))
    assert ("shell", "nmap -sS 10.0.0.0/24", 2, "tool_calls.0.function.arguments", "c1") in kinds(record)


def test_swe_agent_traj():
    record = {"history": [{"role": "system", "content": "sys"}, {"role": "user", "content": "Fix issue 12"}],
              "trajectory": [{"action": "ls", "observation": "a.py", "thought": "look"},
                             {"action": "python a.py", "observation": "ok"}], "info": {}}
    t = extract(record, "r")
    assert t.format == "swe_agent" and "Fix issue 12" in t.task
    assert [(s.kind, s.text, s.field) for s in t.segments] == [
        ("shell", "ls", "trajectory.0.action"), ("observation", "a.py", "trajectory.0.observation"),
        ("shell", "python a.py", "trajectory.1.action"), ("observation", "ok", "trajectory.1.observation")]


def test_steps_shape_with_string_and_tool_actions():
    record = {"task": "Train the model", "steps": [
        {"action": "nvidia-smi", "observation": "GPU 0"},
        {"action": {"tool": "python", "arguments": {"code": "import torch"}}, "observation": ""},
    ]}
    t = extract(record, "r")
    assert t.task == "Train the model"
    assert [(s.kind, s.text) for s in t.segments] == [("shell", "nvidia-smi"), ("observation", "GPU 0"),
                                                        ("code", "import torch")]


@pytest.mark.parametrize("record, reason", [
    ({"id": 1, "messages": "hello"}, "must be a list"),
    ({"id": 1}, "no 'messages'"),
    ({"messages": [{"content": "x"}]}, "'role' is a required property"),
    ({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": 3}}]}]}, "is not of type 'string'"),
    ({"messages": [{"role": "user", "content": 5}]}, "messages.0.content"),
    ([1, 2], "expected an object"),
])
def test_schema_rejects_with_readable_reason(record, reason):
    with pytest.raises(RecordError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        validate_record(record)


def test_schema_accepts_all_shapes():
    assert validate_record(traj(bash("ls"))) == "chat"
    assert validate_record({"trajectory": [{"action": "ls", "observation": None}]}) == "swe_agent"
    assert validate_record({"steps": [{"action": {"tool": "x"}}]}) == "steps"
    assert json.loads(json.dumps(traj(bash("ls"))))  # builders make plain JSON


def test_scanner_reports_the_schema_reason():
    from safefilter import RecordError, Scanner

    scanner = Scanner([], __import__("safefilter").Policy())
    with pytest.raises(RecordError, match=r"chat record: messages.1.tool_calls.0: 'function' is a required"):
        scanner.scan({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [{"id": 1}]}]})
    with pytest.raises(RecordError, match="expected an object"):
        scanner.scan(["not", "a", "record"])
