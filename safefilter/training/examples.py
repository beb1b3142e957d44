"""Training rows from labeled trajectories, through the same preparation and inputs as a run.

Why: a context-aware classifier must be trained on exactly the texts it will read at inference.
So each synthetic trajectory goes through the scanner's `prepare` (normalization, decoded views,
the event stage with its data masks and data flow) and `safefilter.classifier.inputs.action_inputs`
(the detector's own input builder), and every action input becomes one row labeled with its
message's categories.

Rows with the same text are merged: the kept labels are the per-category majority (a tie counts
as unsafe), `duplicates` says how many rows were merged and `conflicts` how many of them disagreed
with the kept labels. A conflict is a data bug or a context that does not decide the label (the
same everyday `ls` inside an unsafe message, say); `summarize` counts them.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Mapping, Protocol, Sequence

from ..classifier.inputs import NEW_MODEL_CONTEXT, action_inputs
from .data import LABELS

__all__ = ["LabeledLike", "rows_from_trajectories", "summarize", "ROW_COLUMNS"]

ROW_COLUMNS = ("text", "kind", "action", "task", "facts", "output", "labels", "family", "tool_family",
               "transforms", "requested", "notable", "record_id", "duplicates", "conflicts")
#: Action text kept in a row (the model reads at most 400 characters of it).
_ACTION_CHARS = 4000
_SCANNER: Any = None


class LabeledLike(Protocol):
    """What a row needs of a `safefilter.training.scenario_kit.LabeledTrajectory`."""

    record: dict
    labels: Mapping[int, tuple[str, ...]]
    family: str
    tool_family: str
    transforms: tuple[str, ...]
    requested: bool


def _scanner() -> Any:
    """The run's scanner from the default config, rules on and classifier off; built once per process."""
    global _SCANNER
    if _SCANNER is None:
        from ..config import resolve_config
        from ..executors.scanners import build_scanner

        config, _ = resolve_config({"input": "-", "output": "-", "classifier": {"enabled": False}})
        _SCANNER = build_scanner(config)
    return _SCANNER


def _message_labels(t: LabeledLike, *, writes: bool) -> dict[int, tuple[str, ...]]:
    """Categories per message; with `writes`, a write that a labeled step later runs shares its labels
    (LABELING.md section 1: both the write and the run are the action)."""
    out = {int(k): tuple(v) for k, v in t.labels.items()}
    if writes:
        for k, v in (getattr(t, "written_then_run", None) or {}).items():
            out[int(k)] = tuple(dict.fromkeys(out.get(int(k), ()) + tuple(v)))
    return out


def _vector(categories: Sequence[str]) -> list[int]:
    unknown = set(categories) - set(LABELS)
    if unknown:
        raise ValueError(f"unknown label categories {sorted(unknown)}; expected {LABELS}")
    return [int(c in categories) for c in LABELS]


def _rows_of(t: LabeledLike, rid: str, context: str, writes: bool) -> list[dict[str, Any]]:
    from ..errors import RecordError

    try:
        prepared = _scanner().prepare(t.record, rid)
    except RecordError as exc:
        raise ValueError(f"labeled trajectory {rid} ({t.family}) is not a readable record: {exc}") from exc
    labels = _message_labels(t, writes=writes)
    rows = []
    for a in action_inputs(prepared, context=context):
        rows.append({
            "text": a.text, "kind": a.segment.kind, "action": a.action[:_ACTION_CHARS], "task": a.task,
            "facts": a.facts, "output": a.output, "labels": _vector(labels.get(a.segment.message_index, ())),
            "family": t.family, "tool_family": t.tool_family, "transforms": "+".join(t.transforms),
            "requested": bool(t.requested), "notable": a.notable, "record_id": rid,
        })
    return rows


def rows_from_trajectories(trajectories: Iterable[LabeledLike], *, context: str = NEW_MODEL_CONTEXT,
                           writes_share_labels: bool = True) -> list[dict[str, Any]]:
    """One row per distinct model text of the trajectories' action inputs (see the module docstring)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for i, t in enumerate(trajectories):
        rid = t.record.get("id") if isinstance(t.record.get("id"), str) and t.record.get("id") else f"labeled-{i}"
        for row in _rows_of(t, rid, context, writes_share_labels):
            groups.setdefault(row["text"], []).append(row)
    return [_merge(rows) for rows in groups.values()]


def _merge(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    kept = [int(2 * sum(r["labels"][c] for r in rows) >= n and any(r["labels"][c] for r in rows))
            for c in range(len(LABELS))]
    # the row whose labels were kept stands for the group (its family, task and record)
    first = next((r for r in rows if r["labels"] == kept), rows[0])
    return {**first, "labels": kept, "duplicates": n, "conflicts": sum(r["labels"] != kept for r in rows)}


def summarize(rows: Sequence[Mapping[str, Any]], *, examples: int = 5) -> dict[str, Any]:
    """Counts for a data card or a log: rows, unsafe share, notable share, conflicted texts."""
    conflicted = [r for r in rows if r.get("conflicts")]
    return {
        "rows": len(rows),
        "unsafe_rows": sum(any(r["labels"]) for r in rows),
        "notable_share": round(sum(bool(r["notable"]) for r in rows) / max(1, len(rows)), 4),
        "merged_duplicates": sum(r.get("duplicates", 1) - 1 for r in rows),
        "conflicted_texts": len(conflicted),
        "conflicting_rows": sum(r["conflicts"] for r in conflicted),
        "conflicts_by_family": dict(Counter(r["family"] for r in conflicted).most_common()),
        "conflict_examples": [r["text"][:200] for r in conflicted[:examples]],
    }
