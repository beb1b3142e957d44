"""The classifier shipped inside the package: complete, reproducible on paper, and sensible on
contrastive trajectories it never saw (a seed and held-out families its training data did not use)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("torch")

from safefilter.classifier import builtin_model_dir, load_classifier  # noqa: E402
from safefilter.training.data import LABELS  # noqa: E402
from safefilter.training.examples import rows_from_trajectories  # noqa: E402
from safefilter.training.scenarios import make_trajectories  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shipped():
    return load_classifier(builtin_model_dir(), device="cpu")


@pytest.fixture(scope="module")
def config():
    return json.loads((builtin_model_dir() / "training_config.json").read_text())


def test_shipped_model_records_the_recipe_that_made_it(shipped, config):
    recipe = yaml.safe_load((ROOT / "configs" / "train.yaml").read_text())
    for key in ("trajectories", "heldout", "seed", "validation_share"):
        assert config["recipe"]["data"][key] == recipe["data"][key], key
    assert config["recipe"]["student"] == recipe["student"]
    assert config["input_context"] == recipe["training"]["context"] == "events"
    assert config["inputs"] == recipe["training"]["inputs"]
    assert config["max_length"] == recipe["training"]["max_length"]
    assert set(config["data"]["file_sha256"]) == {"train.parquet", "validation.parquet"}
    recorded = json.dumps(config)
    assert str(ROOT) not in recorded and "site-packages" not in recorded  # relative paths only
    assert shipped.labels == LABELS and set(shipped.thresholds) == set(LABELS)
    size = sum(p.stat().st_size for p in builtin_model_dir().iterdir())
    assert size < 40 * 2**20  # two pretrained layers at full width, float16


def test_shipped_model_separates_unseen_contrastive_trajectories(shipped, config):
    """Held-out tool and evasion families with their benign look-alikes, at a seed training never used."""
    rows = rows_from_trajectories(make_trajectories(120, seed=987, split="heldout"))
    y = np.array([any(r["labels"]) for r in rows])
    scored = np.array([r["notable"] or config["inputs"] != "notable" for r in rows])
    flagged = np.zeros(len(rows), dtype=bool)
    probs = shipped.predict([r["text"] for r, s in zip(rows, scored) if s], max_length=config["max_length"])
    flagged[scored] = shipped.decide(probs).any(axis=1)
    recall, fpr = flagged[y].mean(), flagged[~y].mean()
    assert recall >= 0.45 and fpr <= 0.02, (recall, fpr)  # measured 0.57 and 0.0 (0.49 and 0.0004 on the whole split)
