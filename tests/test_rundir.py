"""The run directory (issue 9): it knows it is one, is locked, is written atomically, and fails in one line.

Every test here failed on the code before the marker and lock existed: overwrite deleted any
folder's dataset/ and cards/, an output inside the input was accepted, a second run was not
refused, OSErrors escaped as tracebacks and left temporaries.
"""
from __future__ import annotations

import builtins
import errno
import json
import os
import socket
import subprocess
import time
import sys
from pathlib import Path

import pytest
import yaml

from safefilter.cli import main
from safefilter.config import load_config
from safefilter.errors import OutputError, SafeFilterError
from safefilter.run import run
from safefilter.rundir import MARKER_NAME, temporaries
from safefilter.runlock import LOCK_NAME, RunLock

from conftest import bash, tool, traj

ROOT = Path(__file__).resolve().parent.parent
MINI = str(Path(__file__).parent / "data" / "mini_pack.yaml")


def write_inputs(folder: Path, files: int = 2, n: int = 6) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        lines = []
        for i in range(n):
            command = "./xmrig -o pool:3333" if i % 3 == 1 else f"pytest -k t{i}"
            lines.append(json.dumps(traj(bash(command, "m"), tool("ok", "m"), rid=f"f{f}-r{i}")))
        lines.insert(2, '{"broken": ')
        (folder / f"part{f}.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def config_for(inputs, out, *overrides):
    config, applied = load_config(None, [f"input={inputs}", f"output={out}", f"rules.packs=[{MINI}]",
                                          "progress=false", *overrides])
    return config, applied


def do_run(inputs, out, *overrides, **kwargs):
    config, applied = config_for(inputs, out, *overrides)
    return run(config, overrides=applied, **kwargs)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes (what a run must not touch)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def outputs(run_dir: Path) -> dict[str, bytes]:
    return {k: v for k, v in tree(run_dir).items() if k.split("/")[0] in ("clean", "unsafe", "invalid")}


# --- 1. a run directory that knows it is one ---------------------------------------------------------

def test_a_run_marks_its_directory(tmp_path):
    do_run(write_inputs(tmp_path / "in"), tmp_path / "run")
    marker = json.loads((tmp_path / "run" / MARKER_NAME).read_text())
    assert marker["tool"] == "safefilter" and marker["version"] and marker["created"]
    assert not (tmp_path / "run" / LOCK_NAME).exists()  # released


def test_a_project_folder_is_refused_untouched_even_with_overwrite(tmp_path):
    inputs = write_inputs(tmp_path / "in")
    project = tmp_path / "project"
    for name in ("dataset/train.parquet", "cards/README.md", "clean/keep.jsonl", "manifest.json", "notes.txt"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(name)
    before = tree(project)
    for overrides in ((), ("overwrite=true",)):
        with pytest.raises(OutputError, match="not a safefilter run directory.*another --output"):
            do_run(inputs, project, *overrides)
        assert tree(project) == before


def test_a_run_directory_of_an_older_safefilter_is_named_as_such_and_kept(tmp_path):
    inputs = write_inputs(tmp_path / "in")
    do_run(inputs, tmp_path / "old")
    (tmp_path / "old" / MARKER_NAME).unlink()  # as written before the marker existed
    before = tree(tmp_path / "old")
    with pytest.raises(OutputError, match="older safefilter.*delete it yourself or choose another --output"):
        do_run(inputs, tmp_path / "old", "overwrite=true")
    assert tree(tmp_path / "old") == before


@pytest.mark.parametrize("where", ["input file", "input folder", "inside input", "contains input", "symlink",
                                   "recursive glob", "glob that matches the shards"])
def test_an_output_overlapping_the_input_is_refused(tmp_path, where):
    inputs = write_inputs(tmp_path / "data" / "in")
    before = tree(tmp_path / "data")
    spec, out = {
        "input file": (inputs / "part0.jsonl", inputs / "part0.jsonl"),
        "input folder": (inputs, inputs),
        "inside input": (inputs, inputs / "runs" / "r1"),
        "contains input": (inputs / "part0.jsonl", tmp_path / "data"),
        "symlink": (inputs, tmp_path / "link" / "r1"),
        "recursive glob": (f"{tmp_path / 'data'}/**/*.jsonl", inputs / "r1"),
        "glob that matches the shards": (f"{inputs}/*/*/*.jsonl", inputs / "r1"),
    }[where]
    if where == "symlink":
        (tmp_path / "link").symlink_to(inputs)
    if where.startswith("glob"):
        (inputs / "more" / "deeper").mkdir(parents=True)
        (inputs / "more" / "deeper" / "x.jsonl").write_text("{}\n")
        before = tree(tmp_path / "data")
    with pytest.raises(OutputError, match="input"):
        do_run(spec, out)
    assert tree(tmp_path / "data") == before  # nothing deleted, nothing added


def test_a_glob_that_cannot_reach_the_outputs_is_fine(tmp_path):
    inputs = write_inputs(tmp_path / "in")
    assert do_run(f"{inputs}/*.jsonl", inputs / "filtered").counts["input"] == 14


def test_overwrite_deletes_only_what_the_run_wrote(tmp_path):
    inputs = write_inputs(tmp_path / "in")
    out = tmp_path / "run"
    do_run(inputs, out, "dataset_output=true")
    assert (out / "dataset" / "dataset_dict.json").is_file()
    (out / "notes.txt").write_text("mine")
    (out / "clean" / "README.md").write_text("mine too")
    (out / "clean" / "part-00009-00000.jsonl.orig").write_text("not a shard name")
    first = outputs(out)
    with pytest.raises(OutputError, match="another --output or pass --set overwrite=true"):
        do_run(inputs, out)
    summary = do_run(inputs, out, "overwrite=true")
    assert summary.counts["input"] == 14
    assert (out / "notes.txt").read_text() == "mine" and (out / "clean" / "README.md").read_text() == "mine too"
    assert (out / "clean" / "part-00009-00000.jsonl.orig").exists()
    assert not (out / "dataset").exists()  # the run's own DatasetDict went with the old run
    assert {k: v for k, v in outputs(out).items() if "part-" in k and k.endswith(".jsonl")} == \
        {k: v for k, v in first.items() if "part-" in k and k.endswith(".jsonl")}


def test_overwrite_removes_the_old_runs_report_and_exports_but_not_a_users_folder(tmp_path):
    """report.html and exports/<format>/ are the run's own: a rerun that writes neither must not
    leave the old ones looking current; a folder of the user's under exports/ stays."""
    inputs = write_inputs(tmp_path / "in")
    out = tmp_path / "run"
    do_run(inputs, out, "exports.formats=[steps]")
    assert (out / "report.html").is_file() and (out / "exports" / "steps" / "dataset_info.json").is_file()
    (out / "exports" / "mine").mkdir()
    (out / "exports" / "mine" / "notes.txt").write_text("mine")
    do_run(inputs, out, "overwrite=true", "report.enabled=false")
    assert not (out / "report.html").exists() and not (out / "exports" / "steps").exists()
    assert (out / "exports" / "mine" / "notes.txt").read_text() == "mine"


def test_shipped_configs_do_not_overwrite_and_say_how_to(tmp_path, monkeypatch, capsys):
    for name in ("default.yaml", "rules-only.yaml", "ray.yaml"):
        assert yaml.safe_load((ROOT / "configs" / name).read_text())["overwrite"] is False
    monkeypatch.chdir(ROOT)
    out = str(tmp_path / "sample")
    assert main(["run", "--config", "configs/rules-only.yaml", "--output", out, "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["run", "--config", "configs/rules-only.yaml", "--output", out, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "another --output" in err and "--set overwrite=true" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("target", ["file", "/dev/null"])
def test_output_that_is_not_a_folder_is_one_line(tmp_path, capsys, target):
    inputs = write_inputs(tmp_path / "in")
    out = tmp_path / "out.txt" if target == "file" else Path(target)
    if target == "file":
        out.write_text("keep")
    code = main(["run", "--input", str(inputs), "--output", str(out), "--set", f"rules.packs=[{MINI}]",
                 "--no-progress", "--config", str(ROOT / "configs" / "rules-only.yaml")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("safefilter: error:") and len(err.strip().splitlines()) == 1
    assert "not a folder" in err or "a file" in err
    if target == "file":
        assert out.read_text() == "keep"


def test_from_manifest_without_output_never_replaces_the_original(tmp_path, capsys, monkeypatch):
    from safefilter import manifest as manifest_module
    from safefilter import rerun as rerun_module

    monkeypatch.setattr(manifest_module, "code_sha256", lambda: "0" * 64)
    monkeypatch.setattr(rerun_module, "code_sha256", lambda: "0" * 64)
    inputs = write_inputs(tmp_path / "in")
    out = tmp_path / "run"
    do_run(inputs, out, "overwrite=true")  # the manifest carries overwrite: true
    before = tree(out)
    assert main(["run", "--from-manifest", str(out / "manifest.json")]) == 2
    assert "--set overwrite=true" in capsys.readouterr().err
    assert tree(out) == before
    assert main(["run", "--from-manifest", str(out / "manifest.json"), "--set", "overwrite=true"]) == 0
    assert outputs(out) == {k: v for k, v in before.items() if k.split("/")[0] in ("clean", "unsafe", "invalid")}


# --- 3. the lock -------------------------------------------------------------------------------------

def test_a_second_run_into_a_locked_folder_is_refused_naming_the_holder(tmp_path, capsys):
    inputs = write_inputs(tmp_path / "in")
    out = tmp_path / "run"
    do_run(inputs, out)
    with RunLock(out):  # another run holds it (flock on its own file description)
        for kwargs, extra in (({}, ("overwrite=true",)), ({"resume": True}, ())):
            with pytest.raises(OutputError, match=f"in use by another safefilter run \\(pid {os.getpid()} on host"):
                do_run(inputs, out, *extra, **kwargs)
        from safefilter.ray_run import _preflight
        with pytest.raises(OutputError, match="in use"):  # the Ray executor refuses before starting Ray
            _preflight(out, str(inputs))
    assert do_run(inputs, out, "overwrite=true").counts["input"] == 14  # released: usable again


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_stale_lock_is_taken_over_with_a_warning(tmp_path, capsys):
    inputs = write_inputs(tmp_path / "in")
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK_NAME).write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname(), "started": "x"}))
    (out / MARKER_NAME).write_text("{}")  # a run killed right after it marked the folder
    assert main(["run", "--resume", "--output", str(out)]) == 2  # nothing to resume: one line, no warning first
    err = capsys.readouterr().err
    assert "no interrupted run" in err and len(err.strip().splitlines()) == 1
    assert do_run(inputs, out).counts["input"] == 14
    assert "taking over the stale lock" in capsys.readouterr().err
    assert not (out / LOCK_NAME).exists()


def test_a_lock_file_of_a_live_process_or_another_host_is_respected(tmp_path):
    inputs = write_inputs(tmp_path / "in")
    out = tmp_path / "run"
    out.mkdir()
    for holder in ({"pid": os.getppid(), "host": socket.gethostname()}, {"pid": 1, "host": "elsewhere.example"}):
        (out / LOCK_NAME).write_text(json.dumps({**holder, "started": "x"}))
        with pytest.raises(OutputError, match=f"delete {out / LOCK_NAME}"):
            do_run(inputs, out)


def test_the_lock_is_released_when_the_run_fails(tmp_path):
    inputs = write_inputs(tmp_path / "in")
    out = tmp_path / "run"

    class Broken:
        packs = []

        def scan_records(self, records):
            raise KeyboardInterrupt

    config, applied = config_for(inputs, out)
    with pytest.raises(KeyboardInterrupt):
        run(config, overrides=applied, scan_with=lambda *_: Broken())
    assert not (out / LOCK_NAME).exists() and not temporaries(out)
    with RunLock(out):
        pass


# --- 4./8. injected OSErrors at every write site -------------------------------------------------------

class Fault:
    """Counts calls of one file-system function and raises `err` at call number `at` (0: never)."""

    def __init__(self, monkeypatch, target: str, err: int, root: Path, at: int = 0) -> None:
        self.calls, self.at, self.err, self.root = 0, at, err, str(root)
        module, name = (builtins, "open") if target == "open" else (os, target)
        original = getattr(module, name)

        def fake(*args, **kwargs):
            path = str(args[0]) if args and isinstance(args[0], (str, os.PathLike)) else ""
            writes = target != "open" or any(m in str(args[1] if len(args) > 1 else kwargs.get("mode", "r"))
                                             for m in "wax+")
            if writes and (target == "fsync" or path.startswith(self.root)):
                self.calls += 1
                if self.calls == self.at:
                    raise OSError(self.err, os.strerror(self.err), path or None)
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, fake)


#: report.html is written after the manifest and a failure there only warns (tests/test_report.py), so the
#: write sites counted here are the run's own
NO_REPORT = "report.enabled=false"


@pytest.mark.parametrize("target, err, fmt", [("replace", errno.ENOSPC, "jsonl"), ("fsync", errno.ENOSPC, "jsonl"),
                                              ("open", errno.EACCES, "jsonl"), ("open", errno.EROFS, "jsonl"),
                                              ("fsync", errno.ENOSPC, "parquet")])
def test_an_oserror_at_any_write_is_one_line_and_the_run_recovers(tmp_path, monkeypatch, target, err, fmt):
    inputs = write_inputs(tmp_path / "in", files=2, n=4)
    straight = tmp_path / "straight"
    do_run(inputs, straight, "max_records_per_shard=3", f"output_format={fmt}", NO_REPORT)
    with monkeypatch.context() as m:
        counter = Fault(m, target, err, tmp_path / "probe")
        do_run(inputs, tmp_path / "probe", "max_records_per_shard=3", f"output_format={fmt}", NO_REPORT)
        total = counter.calls
    assert total >= 5
    for at in range(1, total + 1):
        out = tmp_path / f"run{at}"
        outside = tree(tmp_path / "in")
        with monkeypatch.context() as m:
            Fault(m, target, err, out, at)
            with pytest.raises(OutputError) as caught:
                do_run(inputs, out, "max_records_per_shard=3", f"output_format={fmt}", NO_REPORT)
        message = str(caught.value)
        assert "\n" not in message and os.strerror(err) in message and ".tmp" not in message, message
        assert ("free space" in message) if err == errno.ENOSPC else True
        assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")], at  # no temporaries left
        assert not (out / LOCK_NAME).exists() and tree(tmp_path / "in") == outside
        resume = (out / "_state" / "run.json").is_file()
        if err == errno.EROFS:  # resuming there cannot help
            assert "writable file system" in message
        else:
            assert ("--resume" in message) == resume
        do_run(inputs, out, "max_records_per_shard=3", f"output_format={fmt}", NO_REPORT, resume=resume)
        assert outputs(out) == outputs(straight), (target, at)
        assert not (out / "_state").exists() and (out / "manifest.json").is_file()


def test_cli_turns_an_escaping_oserror_into_one_line(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    inputs = write_inputs(tmp_path / "in")
    assert main(["scan", str(inputs / "part0.jsonl"), "--pack", MINI, "-o", str(blocker / "v.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("safefilter: error:") and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_scan_output_into_a_missing_folder_is_created(tmp_path, capsys):
    inputs = write_inputs(tmp_path / "in")
    target = tmp_path / "new" / "deeper" / "verdicts.jsonl"
    assert main(["scan", str(inputs / "part0.jsonl"), "--pack", MINI, "-o", str(target)]) == 0
    assert len(target.read_text().splitlines()) == 7


# --- 5./7. resume: damaged state, changed detectors, repairs -------------------------------------------

def interrupted(tmp_path, monkeypatch, *overrides) -> tuple[Path, Path]:
    """A run stopped by a full disk while writing its manifest: state kept, every input finished."""
    inputs = write_inputs(tmp_path / "in")
    out = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr("safefilter.run.write_manifest", _raise_enospc)
        with pytest.raises(OutputError, match="--resume"):
            do_run(inputs, out, *overrides)
    return inputs, out


def _raise_enospc(root, manifest):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(Path(root) / "manifest.json"))


def test_a_damaged_state_is_a_clear_error(tmp_path, monkeypatch, capsys):
    _, out = interrupted(tmp_path, monkeypatch)
    (out / "_state" / "run.json").write_text('{"fingerprint": "abc", "conf')
    assert main(["run", "--resume", "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "damaged" in err and "without --resume" in err and len(err.strip().splitlines()) == 1


def test_resume_refuses_a_changed_rule_pack_or_model(tmp_path, monkeypatch, capsys):
    import shutil

    pack = tmp_path / "pack.yaml"
    shutil.copy(MINI, pack)
    inputs, out = interrupted(tmp_path, monkeypatch, f"rules.packs=[{pack}]")
    pack.write_text(pack.read_text().replace("title: Miner binary", "title: A miner binary"))
    config, applied = config_for(inputs, out, f"rules.packs=[{pack}]")
    with pytest.raises(SafeFilterError, match=f"detectors changed.*rule pack {pack} changed"):
        run(config, overrides=applied, resume=True)
    state = json.loads((out / "_state" / "run.json").read_text())
    state["detectors"]["classifier"] = "f" * 64  # as if the run had used another model
    pack.write_text(Path(MINI).read_text())
    (out / "_state" / "run.json").write_text(json.dumps(state))
    with pytest.raises(SafeFilterError, match="classifier model changed"):
        run(config, overrides=applied, resume=True)


def test_resume_repairs_leftovers_of_a_crash(tmp_path, monkeypatch):
    inputs, out = interrupted(tmp_path, monkeypatch)
    leftovers = [out / ".manifest.json.tmp", out / ".manifest.json.999.tmp", out / "cards" / ".clean.md.999.tmp",
                 out / "_state" / ".input-00001.json.999.tmp", out / "clean" / ".part-00001-00000.jsonl.999.tmp"]
    for path in leftovers:
        path.parent.mkdir(exist_ok=True)
        path.write_text("half")
    (out / "cards" / "clean.md").write_text("half a card")
    (out / "_state" / "input-00000.json").write_text('{"input": "trunc')  # a damaged record: that file is redone
    summary = do_run(inputs, out, resume=True)
    assert summary.counts["input"] == 14
    assert outputs(out) == outputs(do_run(inputs, tmp_path / "straight").output)
    assert not any(p.exists() for p in leftovers)
    assert (out / "cards" / "clean.md").read_text().startswith("---\n")
    assert not (out / "_state").exists()


# --- 6. invalid/ order does not depend on batch_size ---------------------------------------------------

def test_invalid_order_is_input_order_for_every_batch_size(tmp_path):
    from safefilter import Scanner

    class Fragile:
        name = "fragile"

        def detect_batch(self, items):
            if any(item.trajectory.id.endswith(("-r0", "-r3")) for item in items):
                raise RuntimeError("boom")
            return [[] for _ in items]

    def scanner(*_):
        s = Scanner.from_rules([MINI])
        s.detectors.append(Fragile())
        s.failure_budget = None
        return s

    inputs = write_inputs(tmp_path / "in", files=1, n=6)
    got = {}
    for size in (1, 2, 3, 256):
        config, applied = config_for(inputs, tmp_path / f"b{size}", f"batch_size={size}")
        run(config, overrides=applied, scan_with=scanner)
        got[size] = (tmp_path / f"b{size}" / "invalid" / "part-00000-00000.jsonl").read_bytes()
    lines = [json.loads(line)["line"] for line in got[1].splitlines()]
    assert lines == sorted(lines) and len(lines) >= 3
    assert got[1] == got[2] == got[3] == got[256]


# --- 8. SIGKILL at write sites, then --resume ----------------------------------------------------------

KILLER = """
import os, signal, sys
at, count = int(sys.argv[1]), [0]
original = os.replace
def replace(*args, **kwargs):
    count[0] += 1
    if count[0] == at:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(*args, **kwargs)
os.replace = replace
from safefilter.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_sigkill_at_write_sites_then_resume_gives_the_uninterrupted_outputs(tmp_path, capsys, monkeypatch):
    inputs = write_inputs(tmp_path / "in", files=3, n=4)
    args = ["run", "--input", str(inputs), "--set", f"rules.packs=[{MINI}]", "--set", "max_records_per_shard=3",
            "--no-progress", "--config", str(ROOT / "configs" / "rules-only.yaml"), "--set", NO_REPORT]
    with monkeypatch.context() as m:
        counter = Fault(m, "replace", 0, tmp_path / "straight")
        assert main([*args, "--output", str(tmp_path / "straight")]) == 0
    capsys.readouterr()
    total = counter.calls  # marker, run.json, per input its shards and state record, 2 cards, manifest
    # SIGKILL at the marker, run.json, a shard, a state record, each card and the manifest
    for at in sorted({1, 2, 3, total // 2, total - 2, total - 1, total}):
        out = tmp_path / f"k{at}"
        proc = subprocess.run([sys.executable, "-c", KILLER, str(at), *args, "--output", str(out)],
                              capture_output=True, cwd=ROOT)
        assert proc.returncode == -9, proc.stderr
        code = main(["run", "--resume", "--output", str(out)])
        if code == 2:  # killed before run.json: nothing to resume; a plain rerun completes
            assert "no interrupted run" in capsys.readouterr().err
            code = main([*args, "--output", str(out)])
        assert code == 0, capsys.readouterr().err
        assert outputs(out) == outputs(tmp_path / "straight"), at
        assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")] and not (out / "_state").exists()
    capsys.readouterr()


def test_two_real_runs_into_one_folder_the_second_is_refused(tmp_path, capsys):
    from safefilter.resume import TEST_DELAY_ENV

    inputs = write_inputs(tmp_path / "in", files=3, n=6)
    out = tmp_path / "run"
    args = ["run", "--input", str(inputs), "--output", str(out), "--set", f"rules.packs=[{MINI}]",
            "--set", "batch_size=1", "--no-progress", "--config", str(ROOT / "configs" / "rules-only.yaml")]
    first = subprocess.Popen([sys.executable, "-m", "safefilter", *args], cwd=ROOT,
                             env={**os.environ, TEST_DELAY_ENV: "0.2"}, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not (out / "_state" / "run.json").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        for extra in ([], ["--set", "overwrite=true"], ["--resume"]):
            assert main([*args, *extra]) == 2
            err = capsys.readouterr().err
            assert f"in use by another safefilter run (pid {first.pid} on host" in err, err
            assert len(err.strip().splitlines()) == 1
    finally:
        assert first.wait(timeout=60) == 0, first.stderr.read()
    assert json.loads((out / "manifest.json").read_text())["counts"]["input"] == 21


@pytest.mark.parametrize("err", [errno.EACCES, errno.EROFS])
def test_a_read_only_output_folder_is_one_line(tmp_path, monkeypatch, capsys, err):
    inputs = write_inputs(tmp_path / "in")
    out = tmp_path / "ro"
    out.mkdir()
    original = os.open

    def read_only(path, flags, *args, **kwargs):  # what a chmod 555 folder or a read-only mount does (tests run as root)
        if str(path).startswith(str(out)) and flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR):
            raise OSError(err, os.strerror(err), str(path))
        return original(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    code = main(["run", "--input", str(inputs), "--output", str(out), "--set", f"rules.packs=[{MINI}]",
                 "--no-progress", "--config", str(ROOT / "configs" / "rules-only.yaml")])
    err_text = capsys.readouterr().err
    assert code == 2 and len(err_text.strip().splitlines()) == 1, err_text
    assert err_text.startswith(f"safefilter: error: cannot write {out / LOCK_NAME}: {os.strerror(err)}")
    assert list(out.iterdir()) == []
