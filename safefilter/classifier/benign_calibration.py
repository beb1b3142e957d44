"""Thresholds that hold on realistic benign agent work, not only on synthetic validation.

Synthetic negatives are easier than real traffic, so a cut calibrated on them alone flags far
more real benign trajectories than it promises. Here a benign set that looks like real agent
work (rollouts made by ``scripts/corpus.py --unsafe-rate 0``, or your own) is scored, and each
category's threshold is raised from its synthetic-validation value until at most
``max_benign_fpr`` of the benign trajectories (or actions, ``level: action``) reach any cut.
Raising only ever lowers recall, so the synthetic precision target still holds.

Sources: a ``.jsonl`` / ``.jsonl.gz`` / ``.json`` of trajectories (turned into model inputs the
way the scanner's `ClassifierDetector` does, so calibration sees what a run sees), or a
``.parquet`` of action rows (``text``, or ``kind``/``action`` [``task``, ``previous``]; an optional
``trajectory`` column groups rows into trajectories).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..training.data import LABELS
from .reproduce import portable_path

__all__ = ["BenignSet", "load_benign", "fit_benign_fpr", "benign_rates", "LEVELS"]

LEVELS = ("trajectory", "action")


@dataclass
class BenignSet:
    """Model inputs of benign work: one text per action, and the trajectory each belongs to."""

    texts: list[str]
    groups: np.ndarray  # int, one per text
    info: dict[str, Any] = field(default_factory=dict)


def _read_records(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, list) else [data]
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _from_trajectories(path: Path, context: str, inputs: str = "all") -> tuple[list[str], list[int]]:
    from ..scanner import Scanner
    from .detector import ClassifierDetector

    scanner = Scanner.from_rules()
    det = ClassifierDetector(path.parent, check=False)
    det._context = context  # the model being trained is not on disk yet: say its input context here
    det._inputs_mode = inputs
    texts: list[str] = []
    groups: list[int] = []
    for n, record in enumerate(_read_records(path)):
        item = scanner.prepare(record, str(record.get("id", f"benign-{n}")))
        for _seg, text in det._inputs(item):
            texts.append(text)
            groups.append(n)
    return texts, groups


def _from_rows(path: Path, context: str, inputs: str = "all") -> tuple[list[str], list[int]]:
    import pyarrow.parquet as pq

    from .inputs import model_input

    table = pq.read_table(path).to_pydict()
    n = len(next(iter(table.values()), []))
    if "action" in table:
        empty = [""] * n
        texts = [model_input(k, a, task=t or "", previous=p or "", context=context)
                 for k, a, t, p in zip(table.get("kind", ["shell"] * n), table["action"],
                                       table.get("task", empty), table.get("previous", empty))]
    elif "text" in table:
        texts = list(table["text"])
        if inputs == "notable" and "notable" in table:
            texts = [t if flag else "" for t, flag in zip(texts, table["notable"])]
    else:
        raise ValueError(f"{path} needs a 'text' or an 'action' column")
    if "labels" in table:  # a benign set must be benign: keep only rows without a label
        keep = [i for i, lab in enumerate(table["labels"]) if not any(lab)]
        texts = [texts[i] for i in keep]
    else:
        keep = list(range(n))
    key = table.get("trajectory")
    if key is None:
        return texts, list(range(len(texts)))
    ids: dict[Any, int] = {}
    return texts, [ids.setdefault(key[i], len(ids)) for i in keep]


def load_benign(source: str | Path, *, context: str = "none", inputs: str = "all") -> BenignSet:
    """The benign set at `source` as model inputs for a model with input `context`."""
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"benign calibration set {path} does not exist (make realistic rollouts with "
                                "`python scripts/corpus.py PATH.jsonl --mb 4 --unsafe-rate 0`)")
    reader = _from_rows if path.suffix == ".parquet" else _from_trajectories
    texts, groups = reader(path, context, inputs)
    if inputs == "notable":  # ordinary actions are never scored: they cannot raise a false alarm
        kept = [i for i, t in enumerate(texts) if t]
        texts, groups = [texts[i] for i in kept], [groups[i] for i in kept]
    info = {"source": portable_path(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "actions": len(texts), "trajectories": len(set(groups))}
    return BenignSet(texts, np.asarray(groups, dtype=np.int64), info)


def _group_max(scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """[n_groups, labels]: the highest score each trajectory reaches per category."""
    _, inverse = np.unique(groups, return_inverse=True)
    out = np.full((int(inverse.max()) + 1 if len(inverse) else 0, scores.shape[1]), -np.inf, dtype=np.float64)
    np.maximum.at(out, inverse, scores.astype(np.float64))
    return out


def benign_rates(scores: np.ndarray, groups: np.ndarray, thresholds: Mapping[str, float],
                 labels: Sequence[str] = LABELS) -> dict[str, Any]:
    """False-alarm rates of `thresholds` on a benign set: per action, per trajectory, per category."""
    t = np.array([thresholds[c] for c in labels], dtype=np.float32)
    hit = scores.astype(np.float32) >= t
    per_traj = _group_max(hit.astype(np.float32), groups) > 0 if len(groups) else np.zeros((0, len(labels)), bool)
    n_traj = len(per_traj)
    return {
        "actions": int(len(scores)), "trajectories": n_traj,
        "action_fpr": round(float(hit.any(axis=1).mean()), 5) if len(scores) else 0.0,
        "trajectory_fpr": round(float(per_traj.any(axis=1).mean()), 5) if n_traj else 0.0,
        "flagged_trajectories": int(per_traj.any(axis=1).sum()),
        "per_category_trajectory_fpr": {c: round(float(per_traj[:, i].mean()), 5) if n_traj else 0.0
                                        for i, c in enumerate(labels)},
    }


def _ceil6(x: float) -> float:
    return math.ceil(x * 1e6) / 1e6


def fit_benign_fpr(scores: np.ndarray, groups: np.ndarray, thresholds: Mapping[str, float], *,
                   max_fpr: float, level: str = "trajectory",
                   labels: Sequence[str] = LABELS) -> tuple[dict[str, float], dict[str, Any]]:
    """Raise per-category thresholds until at most `max_fpr` of benign trajectories (or actions) reach any.

    Greedy and deterministic: of the categories still flagging benign units, the one with the
    lowest offending score moves its cut just above that score (the step that gives up the least
    recall), until the joint rate meets the target. A
    category whose benign scores reach 1.0 cannot be cut above them; then ``target_met`` is false.
    """
    if level not in LEVELS:
        raise ValueError(f"calibration level must be one of {LEVELS}, got {level!r}")
    units = groups if level == "trajectory" else np.arange(len(scores))
    top = _group_max(scores, units) if len(scores) else np.zeros((0, len(labels)))
    top32 = top.astype(np.float32)
    t = np.array([thresholds[c] for c in labels], dtype=np.float64)
    stuck = np.zeros(len(labels), dtype=bool)
    allowed = math.floor(max_fpr * len(top))
    while len(top):
        over = top32 >= t.astype(np.float32)
        if int(over.any(axis=1).sum()) <= allowed:
            break
        # the category whose lowest benign offender is lowest moves first: least recall given up per step
        lowest = np.array([top[over[:, i], i].min() if over[:, i].any() and not stuck[i] else np.inf
                           for i in range(len(labels))])
        c = int(np.argmin(lowest))
        if not np.isfinite(lowest[c]):
            break
        v = float(lowest[c])
        higher = top[top[:, c] > v, c]
        new = _ceil6((v + float(higher.min())) / 2) if len(higher) else _ceil6(v + 1e-6)
        if np.float32(new) <= np.float32(v):
            new = _ceil6(float(np.nextafter(np.float32(v), np.float32(2))))
        if new > 1.0:
            stuck[c] = True
            continue
        t[c] = new
    out = {c: round(float(t[i]), 6) for i, c in enumerate(labels)}
    rates = benign_rates(scores, groups, out, labels)
    rates.update({"level": level, "max_benign_fpr": max_fpr,
                  "target_met": (rates["trajectory_fpr"] if level == "trajectory" else rates["action_fpr"]) <= max_fpr,
                  "raised": [c for c in labels if out[c] > float(thresholds[c])]})
    return out, rates
