"""The classifier's training set made from labeled synthetic trajectories (issue 12).

Why trajectories and not actions: a context-aware model must learn from the texts it will read in
a run (task, event facts, output excerpt), so every row comes from a scenario trajectory
(`scenarios.make_trajectories`) put through the run's own preparation (`examples.rows_from_trajectories`).

Splits:
- ``train`` / ``validation``: trajectories of the training families, split by a stable hash of the
  record id (one trajectory never feeds both); validation rows whose text also occurs in train are
  dropped, so validation measures texts the model has not seen.
- ``heldout``: trajectories whose unsafe action uses a held-out tool family or evasion transform
  (never generated for train), with as many benign look-alikes. ``rules_caught`` says whether the
  rule packs flag the trajectory, so recall can be reported on what the rules miss, the number that
  says whether the classifier generalises.
- Optional ``extra`` directories (e.g. `safefilter data make-training --decisions`) join train only.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterable, Sequence

from .data import LABELS
from .examples import ROW_COLUMNS, rows_from_trajectories, summarize

__all__ = ["build_trajectory_dataset", "FEATURE_COLUMNS"]

FEATURE_COLUMNS = ROW_COLUMNS + ("rules_caught", "source")


def _in_validation(record_id: str, share: float) -> bool:
    digest = hashlib.sha256(record_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def _rules_flagged(trajectories: Sequence[Any]) -> dict[str, bool]:
    """Record id -> whether the built-in rules (event stage on, no classifier) call it unsafe."""
    from .examples import _scanner

    scanner = _scanner()
    return {t.record["id"]: bool(scanner.scan(t.record, t.record["id"]).unsafe) for t in trajectories}


def _features():
    import datasets

    string = datasets.Value("string")
    spec = {c: string for c in FEATURE_COLUMNS}
    spec.update({
        "labels": datasets.Sequence(datasets.Value("int8"), length=len(LABELS)),
        "requested": datasets.Value("bool"), "notable": datasets.Value("bool"), "rules_caught": datasets.Value("bool"),
        "duplicates": datasets.Value("int32"), "conflicts": datasets.Value("int32"),
    })
    return datasets.Features(spec)


def _to_dataset(rows: Sequence[dict[str, Any]]):
    import datasets

    features = _features()
    cols = {c: [r.get(c, False if features[c] == datasets.Value("bool") else "") for r in rows] for c in features}
    for c in ("duplicates", "conflicts"):
        cols[c] = [int(r.get(c, 1 if c == "duplicates" else 0)) for r in rows]
    return datasets.Dataset.from_dict(cols, features=features)


def _extra_rows(dirs: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Rows of other training sets (their train.parquet), e.g. reviewed detections."""
    import datasets

    out: list[dict[str, Any]] = []
    for d in dirs:
        ds = datasets.Dataset.from_parquet(str(Path(d) / "train.parquet"))
        for row in ds:
            out.append({**row, "source": str(row.get("source") or "extra"), "notable": bool(row.get("notable", True))})
    return out


def build_trajectory_dataset(trajectories: int, *, seed: int = 0, validation_share: float = 0.1,
                             heldout: int = 0, extra: Sequence[str | Path] = (), log=None):
    """A `datasets.DatasetDict` (train, validation[, heldout]) and a summary for the data card."""
    import datasets

    from .scenarios import make_trajectories

    say = log or (lambda _msg: None)
    trajs = make_trajectories(trajectories, seed=seed, split="train")
    val_t = [t for t in trajs if _in_validation(t.record["id"], validation_share)]
    train_t = [t for t in trajs if not _in_validation(t.record["id"], validation_share)]
    say(f"  {len(train_t)} train and {len(val_t)} validation trajectories -> rows (the run's prepare) ...")
    train_rows = rows_from_trajectories(train_t)
    for r in train_rows:
        r["source"] = "scenario"
    seen = {r["text"] for r in train_rows}
    extra_rows = [r for r in _extra_rows(extra) if r["text"] not in seen]
    train_rows += extra_rows
    seen.update(r["text"] for r in extra_rows)
    val_rows = [r | {"source": "scenario"} for r in rows_from_trajectories(val_t) if r["text"] not in seen]
    splits = {"train": _to_dataset(train_rows), "validation": _to_dataset(val_rows)}
    summary: dict[str, Any] = {"train": summarize(train_rows), "validation": summarize(val_rows),
                               "extra_rows": len(extra_rows)}
    if heldout:
        held_t = make_trajectories(heldout, seed=seed, split="heldout")
        say(f"  {len(held_t)} held-out trajectories -> rows, and the rules' verdict on each ...")
        flagged = _rules_flagged(held_t)
        held_rows = []
        for r in rows_from_trajectories(held_t):
            if r["text"] in seen:
                continue
            held_rows.append(r | {"source": "heldout", "rules_caught": flagged.get(r["record_id"], False)})
        splits["heldout"] = _to_dataset(held_rows)
        summary["heldout"] = summarize(held_rows) | {
            "trajectories_rules_flag": sum(flagged.values()), "trajectories": len(held_t)}
    return datasets.DatasetDict(splits), summary
