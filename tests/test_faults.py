"""System faults stop a run before its first record; record faults go to invalid/ and the run goes on.

A broken classifier (weights, labels, thresholds, device) or an empty rule set fails when the
scanner is built, with one line; a detector that raises on one record sets that record aside;
one that raises on many records stops the run (limits.max_detector_failure_share).
"""
from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")

import safefilter.run  # noqa: E402
from safefilter import cli  # noqa: E402
from safefilter.classifier import ClassifierDetector, ModelLoadError, load_classifier, tiny_model_dir  # noqa: E402
from safefilter.classifier import detector as detector_module  # noqa: E402
from safefilter.classifier.model import pick_device  # noqa: E402
from safefilter.config import resolve_config  # noqa: E402
from safefilter.errors import DetectorError, RuleError  # noqa: E402
from safefilter.faults import FailureBudget, is_system_fault  # noqa: E402
from safefilter.policy import Policy  # noqa: E402
from safefilter.rules.model import load_packs  # noqa: E402
from safefilter.scanner import RuleDetector, Scanner, ScanResult  # noqa: E402

from conftest import bash, tool, traj  # noqa: E402

ALWAYS = {c: 0.0 for c in ("tunneling", "cryptomining", "network_probing", "resource_acquisition")}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return tiny_model_dir(tmp_path_factory.mktemp("tiny") / "model")


def _cli_run(tmp_path: Path, args: list[str]) -> int:
    """`safefilter run` with an empty config file and `args`."""
    config = tmp_path / "run.yaml"
    config.write_text("progress: false\n")
    return cli.main(["run", "--config", str(config), *args])


def _damaged(tiny: Path, tmp_path: Path, name: str, content: str | bytes) -> Path:
    model = tmp_path / "model"
    shutil.copytree(tiny, model)
    target = model / name
    target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content)
    return model


def _config(tiny: Path | str, *, limits: dict | None = None, **classifier) -> dict:
    raw = {"input": "x", "output": "y", "classifier": {"enabled": True, "model": str(tiny), **classifier}}
    if limits:
        raw["limits"] = limits
    return resolve_config(raw)[0]


# ---------------------------------------------------------------------- broken classifier: fail when built
DAMAGE = {
    "weights truncated": ("model.safetensors", b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage"),
    "labels not JSON": ("labels.json", '["tunneling", "cryptomining"'),
    "labels not the categories": ("labels.json", json.dumps(["a", "b", "c", "d"])),
    "labels repeat a category": ("labels.json", json.dumps(["tunneling"] * 4)),
    "threshold above 1": ("thresholds.json", json.dumps({"tunneling": 7})),
    "threshold not a number": ("thresholds.json", json.dumps({"tunneling": "high"})),
    "threshold of an unknown category": ("thresholds.json", json.dumps({"tunnels": 0.5})),
    "thresholds not a mapping": ("thresholds.json", json.dumps([0.5, 0.5])),
    "training config not JSON": ("training_config.json", "{"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_broken_model_fails_when_the_detector_is_readied(tiny, tmp_path, damage):
    """What build_scanner (through Scanner.ready) checks before the first record; the CLI tests cover the link."""
    name, content = DAMAGE[damage]
    model = _damaged(tiny, tmp_path, name, content)
    with pytest.raises(ModelLoadError, match=str(model)):
        ClassifierDetector(model, device="cpu").ready()


def test_weights_that_load_but_cannot_compute_fail_the_test_inference(tiny, tmp_path, monkeypatch):
    import torch

    clf = load_classifier(tiny, device="cpu")
    with torch.no_grad():
        for p in clf.model.parameters():
            p.fill_(float("nan"))
    with pytest.raises(ModelLoadError, match="test input"):
        clf.self_test()


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_cuda_requested_without_cuda_says_what_to_set(tiny, device):
    with pytest.raises(ModelLoadError, match="classifier.device=cpu or auto"):
        safefilter.run.build_scanner(_config(tiny, device=device))


def test_an_unknown_device_is_a_detector_error():
    with pytest.raises(DetectorError, match="device"):
        pick_device("tpu")
    assert pick_device("cpu").type == "cpu"


def test_a_failed_load_is_not_retried(tmp_path, tiny, monkeypatch, rules):
    model = _damaged(tiny, tmp_path, "labels.json", "[")
    loads = []
    real = detector_module.load_classifier
    monkeypatch.setattr(detector_module, "load_classifier", lambda *a, **k: loads.append(1) or real(*a, **k))
    det = ClassifierDetector(model, device="cpu")
    scanner = _scanner_with(rules, det)
    records = [(traj(bash(f"ls {i}"), rid=f"r{i}"), f"r{i}") for i in range(3)]
    for _ in range(3):  # every batch: the same error, raised out of the scan, never a per-record invalid
        with pytest.raises(ModelLoadError):
            scanner.scan_records(records)
    assert len(loads) == 1


def test_the_datasets_adapter_fails_when_built_with_a_broken_model(tiny, tmp_path):
    from safefilter.hf import SafetyColumns

    model = _damaged(tiny, tmp_path, "thresholds.json", json.dumps({"tunneling": -1}))
    with pytest.raises(ModelLoadError, match="thresholds.json"):
        SafetyColumns({"classifier": {"enabled": True, "model": str(model)}})


def test_cli_run_with_a_corrupt_model_exits_2_with_one_line_and_writes_nothing(tiny, tmp_path, capsys):
    model = _damaged(tiny, tmp_path, "model.safetensors", b"not safetensors at all")
    data = tmp_path / "in.jsonl"
    data.write_text("\n".join(json.dumps(traj(bash(f"ls {i}"), rid=f"r{i}")) for i in range(5)) + "\n")
    out = tmp_path / "run"
    code = _cli_run(tmp_path, ["--input", str(data), "--output", str(out), "--executor", "local",
                     "--set", "classifier.enabled=true", "--set", f"classifier.model={model}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("safefilter: error:") and str(model) in err[0]
    assert not out.exists() or not any(out.rglob("*"))  # nothing written


# ---------------------------------------------------------------------- rules: none loaded is an error
def test_a_pack_folder_without_packs_is_a_rule_error(tmp_path):
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "notes.txt").write_text("not a pack")
    with pytest.raises(RuleError, match="no rule packs") as info:
        load_packs([str(tmp_path / "packs")])
    assert str(tmp_path / "packs") in str(info.value)


def test_a_missing_pack_path_is_a_rule_error(tmp_path):
    with pytest.raises(RuleError, match="does not exist") as info:
        load_packs(["builtin", str(tmp_path / "mine.yaml")])
    assert str(tmp_path / "mine.yaml") in str(info.value)


def test_zero_rules_is_an_error_when_the_scanner_is_built():
    with pytest.raises(DetectorError, match="no rules"):
        Scanner([RuleDetector([])], Policy()).ready()


def test_cli_run_with_an_empty_pack_folder_exits_2(tmp_path, capsys):
    (tmp_path / "packs").mkdir()
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps(traj(bash("ssh -N -R 2222:localhost:22 u@203.0.113.5"))) + "\n")
    code = _cli_run(tmp_path, ["--input", str(data), "--output", str(tmp_path / "run"), "--executor", "local",
                     "--set", f"rules.packs=[{tmp_path / 'packs'}]"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "no rule packs" in err[0]
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").rglob("*"))


# ---------------------------------------------------------------------- a detector raising per record
class RaisingDetector:
    """Raises `exc` on the trajectories whose ids are in `bad` (all when `bad` is None)."""

    name = "raising"

    def __init__(self, exc: BaseException, bad: set[str] | None = None) -> None:
        self.exc = exc
        self.bad = bad

    def detect_batch(self, items):
        if any(self.bad is None or item.trajectory.id in self.bad for item in items):
            raise self.exc
        return [[] for _ in items]


@pytest.fixture(scope="module")
def rules() -> RuleDetector:
    """The built-in rules, compiled once for this module."""
    return Scanner.from_rules().detectors[0]


def _scanner_with(rules: RuleDetector, *detectors) -> Scanner:
    return Scanner([rules, *detectors], Policy())


def test_a_detector_raising_on_one_record_sets_only_that_record_aside(rules):
    scanner = _scanner_with(rules, RaisingDetector(ValueError("odd token"), {"r1"}))
    results = scanner.scan_records([(traj(bash(f"ls {i}"), rid=f"r{i}"), f"r{i}") for i in range(3)])
    assert [r.verdict is not None for r in results] == [True, False, True]
    assert results[1].failed_detector == "raising" and "odd token" in results[1].error


def test_an_unreadable_record_is_not_a_detector_failure(rules):
    [result] = _scanner_with(rules).scan_records([({"messages": "nope"}, "x")])
    assert result.error and result.failed_detector is None


@pytest.mark.parametrize("exc,says", [(MemoryError(), "out of memory"), (DetectorError("model gone"), "model gone"),
                                      (RuntimeError("CUDA error: device-side assert triggered"), "classifier.device=cpu")])
def test_system_faults_stop_the_scan_as_one_detector_error(exc, says, rules):
    scanner = _scanner_with(rules, RaisingDetector(exc, {"r1"}))
    with pytest.raises(DetectorError, match=says):
        scanner.scan_records([(traj(bash(f"ls {i}"), rid=f"r{i}"), f"r{i}") for i in range(3)])


def test_a_normalizer_bug_on_one_record_sets_it_aside(monkeypatch, rules):
    scanner = _scanner_with(rules)
    real = scanner.prepare

    def prepare(record, rid):
        if rid == "r1":
            raise TypeError("unexpected shape")
        return real(record, rid)

    monkeypatch.setattr(scanner, "prepare", prepare)
    results = scanner.scan_records([(traj(bash(f"ls {i}"), rid=f"r{i}"), f"r{i}") for i in range(3)])
    assert [r.verdict is not None for r in results] == [True, False, True]
    assert results[1].failed_detector == "normalize" and "unexpected shape" in results[1].error


def test_system_fault_classes():
    assert is_system_fault(MemoryError()) and is_system_fault(ModelLoadError("x"))
    assert not is_system_fault(ValueError("bad value")) and not is_system_fault(RecursionError())
    assert not is_system_fault(RuntimeError("shape mismatch in this record"))


def test_failure_budget_allows_a_few_then_stops():
    budget = FailureBudget(max_share=0.01, min_failures=10)
    budget.add(1000, ["boom"] * 9)  # under the floor
    budget.add(1000, ["boom"] * 1)  # 10 of 2000: 0.5%, under the share
    with pytest.raises(DetectorError, match="failed on 31 of 3000") as info:
        budget.add(1000, ["last one"] * 21)  # 31 of 3000 > 1%
    assert "last one" in str(info.value) and "limits.max_detector_failure_share" in str(info.value)
    FailureBudget(max_share=1.0, min_failures=1).add(5, ["x"] * 5)  # 1: never stops


def test_failed_detector_reaches_the_units_completion_record(rules, tmp_path):
    """A worker's sink counts the failure in the unit's record, which is all that crosses to the driver."""
    from safefilter.executors.planner import WorkUnit
    from safefilter.executors.sink import UnitOptions, process_unit

    scanner = _scanner_with(rules, RaisingDetector(ValueError("odd"), {"in.jsonl:2"}))
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(traj(bash("ls"), rid="")) + "\n" for _ in (1, 2)))
    record = process_unit(WorkUnit(0, 0, str(data), "in.jsonl"), scanner, UnitOptions(str(tmp_path / "run")))
    assert record["detector_failures"]["failed"] == 1 and "raising" in record["detector_failures"]["last_error"]
    assert record["shard"]["counts"]["invalid"] == 1 and pickle.loads(pickle.dumps(record)) == record


def _write_records(path: Path, n: int) -> None:
    lines = [json.dumps(traj(bash("ssh -N -R 2222:localhost:22 u@203.0.113.5") if i == 0 else bash(f"ls {i}"),
                             tool("ok"), rid=f"r{i}")) for i in range(n)]
    path.write_text("\n".join(lines) + "\n")


def _patch_build(monkeypatch, detector) -> None:
    real = safefilter.run.build_scanner

    def build(config):
        scanner = real(config)
        scanner.detectors.append(detector)
        return scanner

    monkeypatch.setattr(safefilter.run, "build_scanner", build)


def test_cli_run_with_a_detector_raising_on_one_record(tmp_path, monkeypatch, capsys):
    _patch_build(monkeypatch, RaisingDetector(ValueError("cannot tokenize r3"), {"r3"}))
    data, out = tmp_path / "in.jsonl", tmp_path / "run"
    _write_records(data, 30)
    code = _cli_run(tmp_path, ["--input", str(data), "--output", str(out), "--executor", "local",
                     "--set", "batch_size=8"])
    assert code == 0, capsys.readouterr().err
    invalid = [json.loads(line) for f in sorted((out / "invalid").glob("*.jsonl")) for line in f.read_text().splitlines()]
    assert [row["line"] for row in invalid] == [4]
    assert "cannot tokenize r3" in invalid[0]["error"] and "raising" in invalid[0]["error"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["unsafe"] == 1 and manifest["counts"]["clean"] == 28


@pytest.mark.parametrize("share", [None, 1])
def test_cli_run_with_a_detector_raising_on_every_record_stops(tmp_path, monkeypatch, capsys, share):
    """The default share stops the run with one line; limits.max_detector_failure_share=1 never stops it."""
    _patch_build(monkeypatch, RaisingDetector(ValueError("broken detector")))
    data, out = tmp_path / "in.jsonl", tmp_path / "run"
    _write_records(data, 30)
    extra = ["--set", f"limits.max_detector_failure_share={share}"] if share is not None else []
    code = _cli_run(tmp_path, ["--input", str(data), "--output", str(out), "--executor", "local",
                               "--set", "batch_size=8", *extra])
    err = capsys.readouterr().err.strip().splitlines()
    if share is None:
        assert code == 2 and len(err) == 1
        assert "detectors failed on" in err[0] and "broken detector" in err[0]
        assert not (out / "manifest.json").exists()
    else:
        assert code == 0, err
        assert json.loads((out / "manifest.json").read_text())["counts"]["invalid"] == 30


def test_a_run_stopped_by_detector_failures_resumes_with_a_raised_share(tmp_path, monkeypatch, capsys):
    _patch_build(monkeypatch, RaisingDetector(ValueError("broken detector")))
    data, out = tmp_path / "in.jsonl", tmp_path / "run"
    _write_records(data, 30)
    args = ["--input", str(data), "--output", str(out), "--executor", "local", "--set", "batch_size=8"]
    assert _cli_run(tmp_path, args) == 2
    capsys.readouterr()
    code = _cli_run(tmp_path, [*args, "--resume", "--set", "limits.max_detector_failure_share=1"])
    assert code == 0, capsys.readouterr().err
    counts = json.loads((out / "manifest.json").read_text())["counts"]
    assert counts["input"] == counts["invalid"] == 30


# ---------------------------------------------------------------------- duplicate ids: gate by position
def test_an_unsafe_record_sharing_an_id_with_a_flagged_one_is_still_classified(tiny):
    scanner = safefilter.run.build_scanner(_config(tiny, thresholds=ALWAYS, gate="undecided"))
    flagged = traj(bash("ssh -N -R 2222:localhost:22 u@203.0.113.5"), rid="dup")
    missed_by_rules = traj(bash("python3 fetch.py --quiet"), rid="dup")
    first, second = scanner.scan_records([(flagged, "dup"), (missed_by_rules, "dup")])
    assert first.verdict.unsafe and not any(f.detector == "classifier" for f in first.verdict.findings)
    assert second.verdict.unsafe and any(f.detector == "classifier" for f in second.verdict.findings)


def test_scan_results_default_to_no_failed_detector():
    assert ScanResult("x").failed_detector is None
