"""`safefilter eval` judges one scan under every combination mode, as `safefilter run` would."""
from __future__ import annotations

import json

import pytest

from safefilter import Policy, Scanner
from safefilter.evaluate import _table, evaluate, format_table
from safefilter.policy import COMBINE_MODES
from safefilter.types import CATEGORIES

from conftest import bash, traj
from keyword_classifier import KeywordClassifier

#: a: a tunnel the rules catch, which the classifier calls resource acquisition (wrong category);
#: b: a probe only the classifier catches; c: benign, scored below threshold; d: benign, no score.
RECORDS = [(traj(bash("ssh -N -R 9000:localhost:22 op@203.0.113.7"), rid="a"), "a"),
           (traj(bash("python3 sweep_subnet.py 10.0.0.0/24"), rid="b"), "b"),
           (traj(bash("pytest -q tests/"), rid="c"), "c"),
           (traj(bash("ls -la"), rid="d"), "d")]
LABELS = {"a": {"unsafe": True, "categories": ["tunneling"]},
          "b": {"unsafe": True, "categories": ["network_probing"]},
          "c": {"unsafe": False, "categories": []}, "d": {"unsafe": False, "categories": []}}
KEYWORDS = {"ssh -N -R": ("resource_acquisition", 0.9), "sweep_subnet": ("network_probing", 0.8),
            "pytest": ("cryptomining", 0.3)}


@pytest.fixture(scope="module")
def rules(scanner):
    return scanner.detectors


def _report(rules, gate: str, mode: str = "either") -> dict:
    return evaluate(Scanner([*rules, KeywordClassifier(KEYWORDS, gate=gate)], Policy(combine=mode)), RECORDS, LABELS)


@pytest.mark.parametrize("gate", ["all", "undecided"])
def test_each_mode_scores_what_a_run_in_that_mode_gives(rules, gate):
    report = _report(rules, gate)
    assert list(report["modes"]) == list(COMBINE_MODES)
    truth = [LABELS[rid] for _, rid in RECORDS]
    for mode in COMBINE_MODES:
        scanner = Scanner([*rules, KeywordClassifier(KEYWORDS, gate=gate)], Policy(combine=mode))
        verdicts = [r.verdict for r in scanner.scan_records(RECORDS)]
        run_table = _table([(v.unsafe, set(v.categories)) for v in verdicts], truth)
        assert report["modes"][mode] == run_table, mode


@pytest.mark.parametrize("configured", COMBINE_MODES)
def test_the_configured_mode_changes_no_row(rules, configured):
    """Each row judges every finding of the one scan, whatever mode the config names."""
    assert _report(rules, "all", mode=configured)["modes"] == _report(rules, "all")["modes"]


def test_the_modes_differ_where_they_should(rules):
    modes = _report(rules, "all")["modes"]
    assert [modes[m]["overall"]["tp"] for m in COMBINE_MODES] == [1, 2, 2, 2]
    assert all(modes[m]["overall"]["fp"] == 0 and modes[m]["overall"]["tn"] == 2 for m in COMBINE_MODES)
    # the classifier's wrong category on the rule-judged tunnel: a false alarm in `either` only
    ra = {m: modes[m]["per_category"]["resource_acquisition"] for m in COMBINE_MODES}
    assert (ra["either"]["fp"], ra["rules_then_classifier"]["fp"]) == (1, 0)
    assert ra["either"]["false_positive_rate"] == 0.25 and ra["rules_then_classifier"]["tn"] == 4
    probe = modes["rules_then_classifier"]["per_category"]["network_probing"]
    assert (probe["tp"], probe["fn"], probe["recall"]) == (1, 0, 1.0)


def test_the_undecided_gate_is_replayed_and_its_share_reported(rules):
    report = _report(rules, "undecided")
    assert report["gate"] == "undecided" and report["classified_share"] == 0.75  # `a` is flagged by the rules
    assert report["modes"]["either"]["per_category"]["resource_acquisition"]["fp"] == 0
    assert report["modes"]["classifier"]["overall"]["tp"] == 2  # alone, the classifier is never gated


def test_thresholds_gate_and_policy_are_restored_and_scores_kept_for_curves(rules):
    clf = KeywordClassifier(KEYWORDS, gate="undecided")
    scanner = Scanner([*rules, clf], Policy(combine="rules_then_classifier"))
    report = evaluate(scanner, RECORDS, LABELS)
    assert clf.gate == "undecided" and clf.threshold_override == {}
    assert scanner.policy.combine == "rules_then_classifier"
    assert 0.3 in report["pr_curves"]["cryptomining"]["threshold"]  # below the cut, still on the curve


def test_combined_is_the_configured_mode_and_the_report_is_json(rules):
    report = _report(rules, "all", mode="rules_then_classifier")
    assert report["configured_mode"] == report["combined_mode"] == "rules_then_classifier"
    assert report["detectors"]["combined"] == report["modes"]["rules_then_classifier"]
    assert _report(rules, "all", mode="rules")["combined_mode"] == "either"
    assert json.loads(json.dumps(report))["modes"] == report["modes"]


def test_the_table_has_a_row_per_mode_overall_and_per_category(rules):
    text = format_table(_report(rules, "all"))
    lines = text.splitlines()
    for mode in COMBINE_MODES:
        assert sum(line.split()[0] == mode for line in lines if line.strip()) == 1 + len(CATEGORIES)
    assert all(c in lines for c in CATEGORIES)
    assert "FPR" in lines[1] and "tn" in lines[1].split()


def test_cli_json_keeps_every_mode(tmp_path, capsys):
    pytest.importorskip("torch")
    from safefilter.classifier import tiny_model_dir
    from safefilter.cli import main

    data, labels = tmp_path / "in.jsonl", tmp_path / "labels.jsonl"
    data.write_text("".join(json.dumps(record) + "\n" for record, _ in RECORDS))
    labels.write_text("".join(json.dumps({"id": rid, **label}) + "\n" for rid, label in LABELS.items()))
    model = tiny_model_dir(tmp_path / "model")
    assert main(["eval", "--input", str(data), "--labels", str(labels), "--output", str(tmp_path / "eval"),
                 "--set", f"classifier.model={json.dumps(str(model))}", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report["modes"]) == list(COMBINE_MODES) and report["labeled"] == 4
    assert report["modes"]["rules"]["per_category"]["tunneling"]["tp"] == 1
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["modes"] == report["modes"]
