"""The classifier shipped inside the package: complete, reproducible on paper, and sensible on held-out synthetic actions."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("torch")

from safefilter.classifier import builtin_model_dir, load_classifier  # noqa: E402
from safefilter.classifier.inputs import model_input  # noqa: E402
from safefilter.training.data import LABELS, make_examples  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shipped():
    return load_classifier(builtin_model_dir(), device="cpu")


def test_shipped_model_records_the_recipe_that_made_it(shipped):
    cfg = json.loads((builtin_model_dir() / "training_config.json").read_text())
    recipe = yaml.safe_load((ROOT / "configs" / "train.yaml").read_text())
    assert cfg["recipe"]["data"]["examples"] == recipe["data"]["examples"]
    assert cfg["recipe"]["student"] == recipe["student"] and cfg["input_context"] == "none"
    assert set(cfg["data"]["file_sha256"]) == {"train.parquet", "validation.parquet"}
    assert shipped.labels == LABELS and set(shipped.thresholds) == set(LABELS)
    size = sum(p.stat().st_size for p in builtin_model_dir().iterdir())
    assert size < 15 * 2**20  # small enough to ship in the package


def test_shipped_model_separates_unseen_synthetic_actions(shipped):
    # A seed the training data did not use: new combinations of parts, same families.
    rows = [r for r in make_examples(600, seed=987) if "requested" not in r["family"]]
    texts = [model_input(r["kind"], r["action"]) for r in rows]
    y = np.array([r["labels"] for r in rows], dtype=bool)
    flagged = shipped.decide(shipped.predict(texts)).any(axis=1)
    unsafe = y.any(axis=1)
    recall = flagged[unsafe].mean()
    fpr = flagged[~unsafe].mean()
    assert recall >= 0.6 and fpr <= 0.03, (recall, fpr)
