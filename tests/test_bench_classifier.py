"""scripts/bench_classifier.py reports what it promises (no timing is asserted: numbers vary by machine)."""
from __future__ import annotations

import json
import sys

import pytest

from conftest import ROOT

pytest.importorskip("torch")
sys.path.insert(0, str(ROOT / "scripts"))

import bench_classifier  # noqa: E402


def test_bench_reports_gate_share_cache_and_ratio(tmp_path, capsys):
    from safefilter.classifier import tiny_model_dir

    model = tiny_model_dir(tmp_path / "model")
    import yaml

    raw = yaml.safe_load((ROOT / "configs" / "default.yaml").read_text())  # the shipped settings, a tiny model
    raw["classifier"]["model"] = str(model)
    raw["classifier"]["thresholds"] = {}
    config = tmp_path / "bench.yaml"
    config.write_text(yaml.safe_dump(raw))
    assert bench_classifier.main(["--trajectories", "12", "--batch", "4", "--repeat", "1", "--config", str(config),
                                  "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    results = summary["results"]
    assert list(results) == list(bench_classifier.VARIANTS) and summary["trajectories"] == 12
    assert 25 <= summary["mean_assistant_steps"] <= 40
    assert results["rules only (baseline)"]["ratio_to_rules_only"] == 1.0
    shipped = results["rules + classifier, shipped"]
    assert shipped["gate"] == raw["classifier"]["gate"]
    assert shipped["max_length"] == (raw["classifier"]["max_length"] or 128)  # null: as trained (tiny model: 128)
    assert 0.0 < shipped["classified_share"] <= 1.0 and results["rules + classifier, gate all"]["classified_share"] == 1.0
    # 3 batches of repetitive rollouts: later batches reuse scores; without a cache, none do
    assert results["rules + classifier, gate all"]["cache_hit_rate"] > 0
    no_cache = results["rules + classifier, gate all, no cache"]
    assert no_cache["cache_hit_rate"] == 0.0 and no_cache["forward_passes"] >= results[
        "rules + classifier, gate all"]["forward_passes"]
    # the gate and the cache change the cost, never the verdicts
    assert len({r["unsafe"] for name, r in results.items() if "gate" in r}) == 1
