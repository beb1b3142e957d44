"""The trajectory-based training set: splits by trajectory, held-out families apart, recipe wiring."""
from __future__ import annotations

import json

import pytest

from safefilter.classifier.recipe import _data_is_current, load_recipe, make_training_data
from safefilter.training.scenario_tools import HELDOUT_TOOL_FAMILIES
from safefilter.training.trajectory_data import build_trajectory_dataset


@pytest.fixture(scope="module")
def small():
    return build_trajectory_dataset(160, seed=3, validation_share=0.2, heldout=60)


def test_one_trajectory_feeds_one_split_and_validation_texts_are_unseen(small) -> None:
    dsd, _ = small
    train_ids, val_ids = set(dsd["train"]["record_id"]), set(dsd["validation"]["record_id"])
    assert train_ids and val_ids
    assert not train_ids & val_ids
    assert not set(dsd["train"]["text"]) & set(dsd["validation"]["text"])
    assert not set(dsd["train"]["text"]) & set(dsd["heldout"]["text"])


def test_heldout_split_holds_the_unseen_families_and_says_what_rules_caught(small) -> None:
    dsd, summary = small
    held = dsd["heldout"]
    assert not set(dsd["train"]["tool_family"]) & HELDOUT_TOOL_FAMILIES
    unsafe = [i for i, labels in enumerate(held["labels"]) if any(labels)]
    assert unsafe and len(unsafe) < len(held)  # look-alikes too, so a false-alarm rate can be measured
    assert set(held["rules_caught"]) <= {True, False}
    assert summary["heldout"]["trajectories"] == 60
    assert 0 < summary["heldout"]["trajectories_rules_flag"] <= 60


def test_same_settings_same_rows(small) -> None:
    again, _ = build_trajectory_dataset(160, seed=3, validation_share=0.2, heldout=60)
    for split in ("train", "validation", "heldout"):
        assert again[split]["text"] == small[0][split]["text"]
        assert again[split]["labels"] == small[0][split]["labels"]


def test_recipe_makes_trajectory_data_and_knows_when_it_is_current(tmp_path) -> None:
    recipe = load_recipe(None, [f"data.dir={tmp_path / 'd'}", "data.trajectories=40", "data.heldout=10"])
    data = recipe["data"]
    make_training_data(data["dir"], examples=data["examples"], seed=data["seed"],
                       validation_share=data["validation_share"], trajectories=data["trajectories"],
                       heldout=data["heldout"], log=lambda _m: None)
    d = tmp_path / "d"
    assert {"train.parquet", "validation.parquet", "heldout.parquet", "summary.json"} <= {p.name for p in d.iterdir()}
    assert _data_is_current(d, data)
    assert not _data_is_current(d, {**data, "trajectories": 41})
    assert json.loads((d / "settings.json").read_text())["trajectories"] == 40


def test_extra_rows_such_as_reviewed_detections_join_train_only(tmp_path) -> None:
    import datasets

    reviewed = tmp_path / "reviewed"
    reviewed.mkdir()
    text = "[task] tidy the repo [facts] run frobnicate; connect external 203.0.113.9:4444 [shell] frobnicate -x"
    datasets.Dataset.from_dict({
        "text": [text], "action": ["frobnicate -x"], "kind": ["shell"], "task": ["tidy the repo"], "previous": [""],
        "labels": [[1, 0, 0, 0]], "family": ["review_confirmed"], "disguise": ["none"], "source": ["review"],
    }).to_parquet(str(reviewed / "train.parquet"))
    dsd, summary = build_trajectory_dataset(30, seed=4, validation_share=0.2, extra=[reviewed])
    rows = [r for r in dsd["train"] if r["text"] == text]
    assert len(rows) == 1 and rows[0]["labels"] == [1, 0, 0, 0] and rows[0]["source"] == "review"
    assert text not in dsd["validation"]["text"] and summary["extra_rows"] == 1
