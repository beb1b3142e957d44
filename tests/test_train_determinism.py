"""Training reproduces bit for bit: same data + recipe + platform -> same weight bytes and thresholds.

Each run is a separate interpreter with a different PYTHONHASHSEED, so nothing may depend on the
iteration order of string sets or dicts, on generator state left by imports, or on the
working machine's paths (training_config.json must record none).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from safefilter.classifier import tiny_model_dir  # noqa: E402
from safefilter.classifier.benign_calibration import benign_rates, fit_benign_fpr  # noqa: E402
from safefilter.classifier.reproduce import mixed_precision, portable_path  # noqa: E402
from safefilter.training.data import LABELS, build_dataset, save_dataset  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

_RUN = """
import hashlib, json, sys
from safefilter.classifier.train import train
data, base, out, benign = sys.argv[1:5]
summary = train(data, base, out, max_steps=10, batch_size=16, lr=1e-3, max_length=32, progress=False,
                calibration="precision", min_precision=0.9, save_dtype="float16", threads=2,
                student={"layers": 1, "hidden": 16, "heads": 2, "intermediate": 32},
                benign={"source": benign, "max_benign_fpr": 0.0, "level": "trajectory"})
weights = hashlib.sha256(open(out + "/model.safetensors", "rb").read()).hexdigest()
print(json.dumps({"weights": weights, "thresholds": summary["thresholds"]}))
"""


def _benign_rollouts(path: Path) -> Path:
    rows = []
    for i, cmd in enumerate(["ls -la", "pytest -q tests", "git status", "pip install requests", "cat setup.py"]):
        rows.append({"id": f"b{i}", "messages": [
            {"role": "user", "content": "Fix the failing test in src/util.py"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function", "function": {
                "name": "bash", "arguments": json.dumps({"command": cmd})}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"}]})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("det")
    save_dataset(build_dataset(240, seed=3), root / "data")
    base = tiny_model_dir(root / "base")
    return root, base, _benign_rollouts(root / "benign.jsonl")


def _train_in_subprocess(setup, name: str, hash_seed: str) -> dict:
    root, base, benign = setup
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", _RUN, str(root / "data"), str(base), str(root / name), str(benign)],
                          capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_processes_train_identical_weights_and_thresholds(setup):
    a = _train_in_subprocess(setup, "m1", "1")
    b = _train_in_subprocess(setup, "m2", "4242")
    assert a == b
    root = setup[0]
    cfg_a = json.loads((root / "m1" / "training_config.json").read_text())
    cfg_b = json.loads((root / "m2" / "training_config.json").read_text())
    assert cfg_a["data"]["content_sha256"] == cfg_b["data"]["content_sha256"]
    assert cfg_a["reproducibility"]["threads"] == 2 and cfg_a["reproducibility"]["deterministic_algorithms"]
    assert cfg_a["calibration_result"]["benign"]["set"]["trajectories"] == 5


def test_training_config_records_no_machine_paths(setup):
    root = setup[0]
    if not (root / "m1" / "training_config.json").is_file():
        _train_in_subprocess(setup, "m1", "1")
    text = (root / "m1" / "training_config.json").read_text()
    assert str(root) not in text and "/tmp/" not in text
    cfg = json.loads(text)
    assert cfg["base_model"] == "base" and cfg["data"]["data_dir"] == "data"
    card = (root / "m1" / "model_card.md").read_text()
    assert "Validation-to-development gap" in card and "realistic benign" in card


def test_portable_path_is_relative_under_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert portable_path(tmp_path / "data" / "training") == "data/training"
    assert portable_path("/elsewhere/models/minilm") == "minilm"
    assert portable_path("data/training") == "data/training"


def test_mixed_precision_stays_off_on_cpu():
    import torch

    assert mixed_precision(torch.device("cpu"), "auto") is None
    assert mixed_precision(torch.device("cpu"), "fp16") is None
    assert mixed_precision(torch.device("cpu"), "off") is None


def test_benign_calibration_raises_only_the_categories_that_false_alarm():
    # 10 benign trajectories of 3 actions each: two reach 0.97 / 0.9 in tunneling, one 0.85 in probing
    scores = np.full((30, 4), 0.1, dtype=np.float32)
    scores[0, 0], scores[4, 0], scores[7, 2] = 0.97, 0.9, 0.85
    groups = np.repeat(np.arange(10), 3)
    start = {c: 0.8 for c in LABELS}
    assert benign_rates(scores, groups, start)["trajectory_fpr"] == 0.3
    th, rep = fit_benign_fpr(scores, groups, start, max_fpr=0.1)
    # one false-alarming trajectory of ten allowed: the two lowest offenders are cut away, the top one stays
    assert rep["trajectory_fpr"] <= 0.1 and rep["target_met"]
    assert th["cryptomining"] == 0.8 and th["resource_acquisition"] == 0.8
    assert 0.85 < th["network_probing"] <= 0.9 and 0.9 < th["tunneling"] <= 0.97
    strict, rep0 = fit_benign_fpr(scores, groups, start, max_fpr=0.0)
    assert rep0["trajectory_fpr"] == 0.0 and strict["tunneling"] > 0.97 and strict["network_probing"] > 0.85
    # action level counts actions, not trajectories
    _, rep_a = fit_benign_fpr(scores, groups, start, max_fpr=0.0, level="action")
    assert rep_a["action_fpr"] == 0.0


def test_benign_scores_at_one_cannot_be_cut_and_say_so():
    scores = np.zeros((4, 4), dtype=np.float32)
    scores[0, 1] = 1.0
    th, rep = fit_benign_fpr(scores, np.arange(4), {c: 0.8 for c in LABELS}, max_fpr=0.0)
    assert not rep["target_met"] and th["cryptomining"] <= 1.0


def test_recipe_makes_realistic_benign_rollouts_and_calibrates_on_them(tmp_path):
    from safefilter.classifier.recipe import load_recipe, train_from_recipe

    benign = tmp_path / "benign.jsonl"
    recipe = load_recipe(None, [f"data.dir={tmp_path / 'data'}", "data.examples=200", f"output={tmp_path / 'm'}",
                                "student={layers: 1, hidden: 16, heads: 2, intermediate: 32}",
                                "training.max_steps=4", "training.batch_size=16", "training.min_threshold=0.3",
                                f"calibration.benign={benign}", "calibration.generate={mb: 0.2, seed: 3}",
                                "calibration.max_benign_fpr=0.0"])
    summary = train_from_recipe(recipe, progress=False, log=lambda m: None)
    assert benign.is_file()
    report = summary["benign_calibration"]
    assert report["set"]["trajectories"] >= 2 and report["at_shipped_thresholds"]["max_benign_fpr"] == 0.0
    if report["at_shipped_thresholds"]["target_met"]:
        assert report["at_shipped_thresholds"]["trajectory_fpr"] == 0.0
    cfg = json.loads((tmp_path / "m" / "training_config.json").read_text())
    assert cfg["calibration_result"]["thresholds"] == summary["thresholds"]
    assert all(cfg["calibration_result"]["thresholds"][c] >= cfg["calibration_result"]["synthetic_thresholds"][c]
               for c in LABELS)
    assert cfg["base_model"] == "minilm" and cfg["base_model_version"]


@pytest.mark.slow
def test_shipped_recipe_rebuilds_the_shipped_weights(tmp_path):
    """Retrain configs/train.yaml (minutes) and compare the weight bytes with the shipped model's."""
    shipped = ROOT / "safefilter" / "models" / "action-classifier"
    out = tmp_path / "rebuilt"
    done = subprocess.run([sys.executable, "-m", "safefilter", "train", "--config", "configs/train.yaml",
                           "--output", str(out), "--no-progress"], cwd=str(ROOT), capture_output=True, text=True,
                          timeout=3600)
    assert done.returncode == 0, done.stderr[-3000:]

    def sha(p: Path) -> str:
        return hashlib.sha256(p.read_bytes()).hexdigest()

    assert sha(out / "model.safetensors") == sha(shipped / "model.safetensors")
    assert json.loads((out / "thresholds.json").read_text()) == json.loads((shipped / "thresholds.json").read_text())


def test_comparison_table_has_one_row_per_model_and_shows_missing_numbers_as_dashes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("compare_classifiers", ROOT / "scripts" / "compare_classifiers.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    row = {"model": "student", "validation": {"precision": 0.99, "recall": 0.9, "fpr": 0.001}, "heldout": None,
           "dev": {"recall": 0.4, "fpr": 0.0}, "benign_trajectory_fpr": 0.0, "speed": {"threads_1": 900.0},
           "train_seconds": 12.0, "steps": 10, "seconds_per_step": 1.2}
    table = mod.markdown([row, {**row, "model": "full"}], {"student": 0.41})
    lines = [line for line in table.splitlines() if line.startswith("| student") or line.startswith("| full")]
    assert len(lines) == 2
    cells = [c.strip() for c in lines[0].strip("|").split("|")]
    assert cells[4] == "-" and cells[6] == "0.4" and cells[8] == "0.0" and cells[10] == "-"
    assert "student 0.410" in table


def test_truncated_student_keeps_evenly_spaced_pretrained_layers(tmp_path):
    """`student.init: base_layers`: the base model's own layers (first and last kept), full width."""
    import torch

    from safefilter.classifier.model import tiny_model_dir
    from safefilter.classifier.student import build_truncated
    from transformers import AutoModel

    base = tiny_model_dir(tmp_path / "base")  # 2 layers, hidden 32
    full = AutoModel.from_pretrained(str(base))
    model, _ = build_truncated(base, layers=1)
    assert model.config.num_hidden_layers == 1 and model.config.hidden_size == full.config.hidden_size
    kept = model.bert.encoder.layer[0].attention.self.query.weight
    assert torch.equal(kept, full.encoder.layer[0].attention.self.query.weight)
    with pytest.raises(ValueError):
        build_truncated(base, layers=3)
