"""Precision and recall of a run against a labels file, and the records it got wrong."""
from __future__ import annotations

from typing import Any

from ..types import CATEGORIES

__all__ = ["score_run"]


def _pr(tp: int, fp: int, fn: int) -> dict[str, Any]:
    return {"tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None}


def score_run(predicted: dict[str, list[str] | None], labels: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Overall (unsafe or not) and per-category counts over the labeled ids the run judged.

    `predicted` maps id -> categories of an unsafe record, or None for a clean one.
    """
    ids = sorted(i for i in labels if i in predicted)
    out: dict[str, Any] = {"judged": len(ids), "not_in_run": sorted(i for i in labels if i not in predicted)}
    tp = sum(1 for i in ids if labels[i]["unsafe"] and predicted[i] is not None)
    fp = sum(1 for i in ids if not labels[i]["unsafe"] and predicted[i] is not None)
    fn = sum(1 for i in ids if labels[i]["unsafe"] and predicted[i] is None)
    out["overall"] = _pr(tp, fp, fn)
    out["categories"] = {}
    for c in CATEGORIES:
        has = {i for i in ids if c in (predicted[i] or ())}
        truth = {i for i in ids if c in labels[i]["categories"]}
        out["categories"][c] = _pr(len(has & truth), len(has - truth), len(truth - has))
    out["false_alarms"] = [i for i in ids if not labels[i]["unsafe"] and predicted[i] is not None]
    out["missed"] = [i for i in ids if labels[i]["unsafe"] and predicted[i] is None]
    out["wrong_category"] = [i for i in ids if labels[i]["unsafe"] and predicted[i] is not None
                             and set(predicted[i]) != set(labels[i]["categories"])]
    return out
