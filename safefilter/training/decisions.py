"""Reviewed detections as classifier training rows: what a reviewer confirmed, and what they called a false alarm.

The synthetic generator teaches the classifier from templates; reviewers see the agent's real
actions. A decisions file (`safefilter review`) over a finished run gives, per flagged action:

- a confirmed finding: a positive row for its category (label 1), unless the task asked for it
  (`requested`: the labeling policy calls that benign, so it stays 0);
- only false alarms on the action: a hard negative (all labels 0) for exactly that action.

One row per flagged action, in the columns of the synthetic set (`training.data.COLUMNS`), the
text built as the detector builds it at inference (`format_input` of the task as the detector keeps
it, the previous action, the kind and the action), so the rows join a training run unchanged
(docs/review.md). An action with a finding nobody decided is left out: its label is not known.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .data import COLUMNS, LABELS, format_input

__all__ = ["ReviewedRows", "decision_rows", "write_decision_data", "ACTION_KINDS"]

ACTION_KINDS = ("shell", "code", "file", "args")  # segments the classifier reads (classifier.detector)
_TASK_CHARS = 150  # the detector keeps the task's last 150 characters (task_view "tail")


@dataclass
class ReviewedRows:
    """The rows and what was left out, for the data card."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    records: int = 0


def _norm(evidence: str) -> str:
    return " ".join(evidence.split())


def _per_record(decisions: Iterable[Any]) -> dict[str, dict[tuple[str, str], str]]:
    """id -> {(rule_id, evidence): decision}; a later decision on the same finding wins."""
    out: dict[str, dict[tuple[str, str], str]] = {}
    for d in decisions:
        for rule_id, evidence, _ in d.findings:
            out.setdefault(d.id, {})[(rule_id, _norm(evidence))] = d.decision
    return out


def _action_text(seg: Any) -> str:
    """The action as the classifier reads it: a written file is `<path>\\n<content>`."""
    return f"{seg.path}\n{seg.text}" if seg.kind == "file" and seg.path else seg.text


def _segment_of(action: Any, findings: list[dict[str, Any]]) -> Any | None:
    """The action segment a finding points at (else the action's first segment the classifier reads)."""
    readable = [s for s in action.segments if s.kind in ACTION_KINDS]
    for f in findings:
        for seg in readable:
            if (seg.message_index, seg.field) == (f.get("message_index"), f.get("field")):
                return seg
    return readable[0] if readable else None


def _task_view(task: str) -> str:
    return task[-_TASK_CHARS:] if len(task) > _TASK_CHARS else task


def _rows_of(item: Any, decided: dict[tuple[str, str], str], out: ReviewedRows) -> Iterator[dict[str, Any]]:
    from ..export.actions import actions_of

    previous = ""
    for action in actions_of(item):
        seg = _segment_of(action, action.findings)
        text = _action_text(seg) if seg is not None else ""
        if action.findings:
            said = [decided.get((str(f.get("rule_id")), _norm(str(f.get("evidence", ""))))) for f in action.findings]
            if None in said:
                out.skipped["a finding on the action has no decision"] += 1
            elif seg is None:
                out.skipped["the action has no text the classifier reads"] += 1
            else:
                labels = [0] * len(LABELS)
                confirmed = [f for f, d in zip(action.findings, said) if d == "correct"]
                for f in confirmed:
                    if f.get("category") in LABELS and not f.get("requested"):
                        labels[LABELS.index(f["category"])] = 1
                family = "review_confirmed" if any(labels) else \
                    "review_requested" if confirmed else "review_false_alarm"
                decoded = next((str(f["decoded_from"]) for f in action.findings if f.get("decoded_from")), "none")
                task = _task_view(item.trajectory.task or "")
                yield {"text": format_input(task, previous, seg.kind, text), "action": text, "kind": seg.kind,
                       "task": task, "previous": previous, "labels": labels, "family": family,
                       "disguise": decoded, "source": "review"}
        readable = [s for s in action.segments if s.kind in ACTION_KINDS]
        if readable:  # what the detector calls `previous`: the last action segment of the step before
            previous = _action_text(readable[-1])


def decision_rows(run_dir: str | Path, decisions: Iterable[Any]) -> ReviewedRows:
    """Rows for every flagged action of the decided records of `run_dir` (unsafe/ only: decisions are
    about flagged records); identical rows once, a text labeled both ways left out."""
    from ..export.runrecords import read_run

    decided = _per_record(decisions)
    out = ReviewedRows()
    by_text: dict[str, dict[str, Any]] = {}
    conflicting: set[str] = set()
    for item in read_run(run_dir, outputs=("unsafe",)):
        if item.id not in decided:
            continue
        out.records += 1
        for row in _rows_of(item, decided[item.id], out):
            seen = by_text.get(row["text"])
            if seen is None:
                by_text[row["text"]] = row
            elif seen["labels"] != row["labels"]:
                conflicting.add(row["text"])
            else:
                out.skipped["the same action text again (kept once)"] += 1
    for text in conflicting:
        del by_text[text]
    if conflicting:
        out.skipped["one action text confirmed in one record and a false alarm in another"] += len(conflicting)
    out.rows = sorted(by_text.values(), key=lambda r: r["text"])  # stable order: reruns write the same bytes
    return out


def _features():
    import datasets

    return datasets.Features({
        "text": datasets.Value("string"), "action": datasets.Value("string"), "kind": datasets.Value("string"),
        "task": datasets.Value("string"), "previous": datasets.Value("string"),
        "labels": datasets.Sequence(datasets.Value("int8"), length=len(LABELS)),
        "family": datasets.Value("string"), "disguise": datasets.Value("string"), "source": datasets.Value("string"),
    })


def _card(result: ReviewedRows, *, run_dir: Path, decisions: Path, digest: str) -> str:
    fams = Counter(r["family"] for r in result.rows)
    per_cat = {c: sum(r["labels"][i] for r in result.rows) for i, c in enumerate(LABELS)}
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    lines = ["# Reviewed training rows", "",
             "Classifier training rows made from reviewers' decisions on a safefilter run "
             "(`safefilter data make-training --decisions`). Same columns as the synthetic set "
             f"({', '.join(COLUMNS)}); `source` is `review`. See docs/review.md for how they join training.", "",
             f"- run: `{run_dir}` (fingerprint `{manifest.get('run_fingerprint', '?')}`)",
             f"- decisions: `{decisions}` (sha256 `{digest}`), {result.records} decided records", "",
             "| rows | confirmed (positive) | requested (0) | false alarm (0) |", "|---|---|---|---|",
             f"| {len(result.rows)} | {fams['review_confirmed']} | {fams['review_requested']} | "
             f"{fams['review_false_alarm']} |", "",
             "| category | positive rows |", "|---|---|", *[f"| {c} | {n} |" for c, n in per_cat.items()], ""]
    if result.skipped:
        lines += ["## Left out", "", *[f"- {n}: {why}" for why, n in sorted(result.skipped.items())], ""]
    return "\n".join(lines)


def write_decision_data(run_dir: str | Path, decisions_path: str | Path, out_dir: str | Path, *,
                        overwrite: bool = False) -> tuple[ReviewedRows, dict[str, str]]:
    """Write `out_dir/train.parquet`, `hashes.json` and a data card `README.md`; return the rows and hashes.

    Reviewed rows go to training only: the synthetic validation split keeps calibrating thresholds.
    """
    from ..errors import OutputError
    from ..export.runrecords import read_manifest_of
    from ..review import read_decisions

    read_manifest_of(run_dir)  # a finished run, or one clear error
    decisions = read_decisions(decisions_path)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise OutputError(f"{out} exists and is not empty; give another --output or --overwrite")
    result = decision_rows(run_dir, decisions)
    import datasets

    from .data import save_dataset

    features = _features()
    table = datasets.Dataset.from_dict({k: [r[k] for r in result.rows] for k in features}, features=features)
    for stale in ("train.parquet", "validation.parquet", "hashes.json", "README.md"):
        (out / stale).unlink(missing_ok=True)
    hashes = save_dataset({"train": table}, out)
    digest = hashlib.sha256(Path(decisions_path).read_bytes()).hexdigest()
    (out / "README.md").write_text(_card(result, run_dir=Path(run_dir), decisions=Path(decisions_path), digest=digest),
                                   encoding="utf-8")
    return result, hashes
