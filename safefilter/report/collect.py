"""What the report shows, gathered from a run directory in two streaming passes.

The first pass keeps the summary rows the page can show (the table's first `table_cap` and, per
category, the first `per_category` candidates for the sample, most severe first), the verdicts of
labeled ids only, and fixed-size counts; the second fetches only the records whose conversations
are shown (a sample per category, plus those the labels say were misjudged). So memory and the
page stay bounded however large the run: what grows is the time of the streaming passes.
"""
from __future__ import annotations

import bisect
import itertools
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
    rows: list[dict[str, Any]] = field(default_factory=list)  # the table's: the first `table_cap` unsafe records
    unsafe_total: int = 0
    detectors: Counter[str] = field(default_factory=Counter)
    scores: list[float] = field(default_factory=list)  # classifier scores of stored findings (old runs, capped)
    score_histogram: dict[str, Any] | None = None  # merged from the shards: every scored trajectory
    predicted: dict[str, list[str] | None] = field(default_factory=dict)  # labeled id -> categories (None: clean)
    shown: dict[str, RunRecord] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _summary(item: RunRecord) -> dict[str, Any]:
    safety = item.safety or {}
    findings = [f for f in safety.get("findings") or () if isinstance(f, dict)]
    return {"id": item.id, "severity": safety.get("severity") or "", "categories": list(safety.get("categories") or []),
            "rules": sorted({str(f.get("rule_id")) for f in findings}), "findings": len(findings),
            "requested": sum(bool(f.get("requested")) for f in findings),
            "incomplete": bool(safety.get("analysis_incomplete")), "first": safety.get("first_unsafe_message")}


SCORES_CAP = 100_000  # stored-finding scores kept for a run without a histogram


def _order(row: dict[str, Any]) -> tuple[int, str]:
    """The page's order: most severe first, ties by id (stable across reruns)."""
    return -SEVERITY_ORDER.get(row["severity"], 0), row["id"]


class _First:
    """The first `k` rows in page order seen so far: memory stays at `k` rows whatever streams past."""

    def __init__(self, k: int) -> None:
        self.k, self.keys, self.rows = k, [], []
        self._seq = itertools.count()

    def add(self, row: dict[str, Any]) -> None:
        key = (*_order(row), next(self._seq))
        if self.k <= 0 or (len(self.keys) >= self.k and key >= self.keys[-1]):
            return
        at = bisect.bisect(self.keys, key)
        self.keys.insert(at, key)
        self.rows.insert(at, row)
        if len(self.keys) > self.k:
            self.keys.pop()
            self.rows.pop()


def _sample(rows: list[dict[str, Any]], per_category: int) -> set[str]:
    """At most `per_category` records per category, most severe first (ties by id: stable).

    A record is taken for a category only while fewer than `per_category` earlier records of that
    category were, i.e. it is among the category's first `per_category`: so the first
    `per_category` rows of each category (`_First`) are all the candidates this needs.
    """
    taken: Counter[str] = Counter()
    chosen: set[str] = set()
    for row in sorted(rows, key=_order):
        cats = row["categories"] or ["(analysis cut short)"]
        if any(taken[c] < per_category for c in cats):
            chosen.add(row["id"])
            for c in cats:
                taken[c] += 1
    return chosen


def collect(run_dir: str | Path, *, per_category: int, extra_ids: set[str] | None = None,
            labels: dict[str, dict[str, Any]] | None = None, table_cap: int = 2000) -> RunView:
    """The table's summary rows, the sample's candidates, and the records to show in full."""
    view = RunView(read_manifest_of(run_dir))
    view.score_histogram = merge_histograms(s.get("classifier_scores") for s in view.manifest.get("shards") or ())
    outputs = ("unsafe", "clean") if labels else ("unsafe",)
    table = _First(table_cap)
    candidates: dict[str, _First] = {}
    for item in read_run(run_dir, outputs=outputs, warnings=view.warnings):
        if item.output == "clean":
            if labels is not None and item.id in labels:
                view.predicted[item.id] = None
            continue
        row = _summary(item)
        view.unsafe_total += 1
        table.add(row)
        for c in row["categories"] or ["(analysis cut short)"]:
            candidates.setdefault(c, _First(per_category)).add(row)
        if labels is not None and item.id in labels:
            view.predicted[item.id] = row["categories"]
        for f in (item.safety or {}).get("findings") or ():
            if isinstance(f, dict):
                view.detectors[str(f.get("detector", "?"))] += 1
                if (view.score_histogram is None and f.get("detector") == "classifier"
                        and isinstance(f.get("score"), (int, float)) and len(view.scores) < SCORES_CAP):
                    view.scores.append(float(f["score"]))
    view.rows = table.rows
    pool = {id(r): r for first in candidates.values() for r in first.rows}
    wanted = _sample(list(pool.values()), per_category) | (extra_ids or set())
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
