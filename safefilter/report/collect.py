"""What the report shows, gathered from a run directory in two streaming passes.

The first pass keeps one summary row per unsafe record and the numbers behind the plots; the
second fetches only the records whose conversations are shown (a sample per category, plus those
the labels say were misjudged), so memory stays flat in the size of the run.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..export.runrecords import RunRecord, read_manifest_of, read_run
from ..scorehist import merge_histograms
from ..types import CATEGORIES

__all__ = ["RunView", "collect", "SEVERITY_ORDER"]

SEVERITY_ORDER = {"critical": 4, "high": 3, "medium": 2, "low": 1}


@dataclass
class RunView:
    manifest: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per unsafe record
    detectors: Counter[str] = field(default_factory=Counter)
    scores: list[float] = field(default_factory=list)  # classifier scores of stored findings
    score_histogram: dict[str, Any] | None = None  # merged from the shards: every scored trajectory
    predicted: dict[str, list[str] | None] = field(default_factory=dict)  # id -> categories (None: clean)
    shown: dict[str, RunRecord] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _summary(item: RunRecord) -> dict[str, Any]:
    safety = item.safety or {}
    findings = [f for f in safety.get("findings") or () if isinstance(f, dict)]
    return {"id": item.id, "severity": safety.get("severity") or "", "categories": list(safety.get("categories") or []),
            "rules": sorted({str(f.get("rule_id")) for f in findings}), "findings": len(findings),
            "requested": sum(bool(f.get("requested")) for f in findings),
            "incomplete": bool(safety.get("analysis_incomplete")), "first": safety.get("first_unsafe_message")}


def _sample(rows: list[dict[str, Any]], per_category: int) -> set[str]:
    """At most `per_category` records per category, most severe first (ties by id: stable)."""
    taken: Counter[str] = Counter()
    chosen: set[str] = set()
    for row in sorted(rows, key=lambda r: (-SEVERITY_ORDER.get(r["severity"], 0), r["id"])):
        cats = row["categories"] or ["(analysis cut short)"]
        if any(taken[c] < per_category for c in cats):
            chosen.add(row["id"])
            for c in cats:
                taken[c] += 1
    return chosen


def collect(run_dir: str | Path, *, per_category: int, extra_ids: set[str] | None = None,
            labels: dict[str, dict[str, Any]] | None = None) -> RunView:
    """Summaries of every unsafe record, and the records to show in full."""
    view = RunView(read_manifest_of(run_dir))
    view.score_histogram = merge_histograms(s.get("classifier_scores") for s in view.manifest.get("shards") or ())
    outputs = ("unsafe", "clean") if labels else ("unsafe",)
    for item in read_run(run_dir, outputs=outputs, warnings=view.warnings):
        if item.output == "clean":
            view.predicted[item.id] = None
            continue
        row = _summary(item)
        view.rows.append(row)
        view.predicted[item.id] = row["categories"]
        for f in (item.safety or {}).get("findings") or ():
            if isinstance(f, dict):
                view.detectors[str(f.get("detector", "?"))] += 1
                if f.get("detector") == "classifier" and isinstance(f.get("score"), (int, float)):
                    view.scores.append(float(f["score"]))
    wanted = _sample(view.rows, per_category) | (extra_ids or set())
    if wanted:
        for item in read_run(run_dir, outputs=outputs):
            if item.id in wanted:
                view.shown[item.id] = item
    return view


def read_labels(path: str | Path) -> dict[str, dict[str, Any]]:
    """`{"id", "unsafe", "categories"}` per line, keyed by id; a bad line is one clear error."""
    from ..errors import InputError

    out = {}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out[str(row["id"])] = {"unsafe": bool(row.get("unsafe")),
                                   "categories": [c for c in row.get("categories") or () if c in CATEGORIES]}
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{n}: not a label line ({exc}); expected {{\"id\", \"unsafe\", \"categories\"}}") from None
    return out
