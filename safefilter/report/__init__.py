"""The run report: one self-contained HTML page of what a run caught and why.

    write_report("runs/r7")                      # -> runs/r7/report.html
    write_report("runs/r7", labels="labels.jsonl")   # adds precision/recall and the misjudged records
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..atomic import atomic_write
from .collect import collect, read_labels
from .metrics import score_run
from .page import render_page
from .plots import bar_chart, binned_histograms, histogram

__all__ = ["write_report", "render_report", "DEFAULT_PER_CATEGORY"]

DEFAULT_PER_CATEGORY = 25
TABLE_CAP = 2000   # rows of the unsafe table; past this the page would stop being "a few MB"
MISJUDGED_CAP = 100


def _score_plot(view: Any) -> str | None:
    """Every scored trajectory's top score per category (the run's histogram), or, for a run made
    before it kept one, the scores of stored findings; None without a classifier."""
    if view.score_histogram is not None:
        return binned_histograms(view.score_histogram["categories"], "classifier: top score per trajectory")
    if view.manifest.get("classifier"):
        return histogram(view.scores, "classifier scores of stored findings")
    return None


def render_report(run_dir: str | Path, *, labels: str | Path | None = None,
                  max_per_category: int | None = None) -> str:
    """The report of `run_dir` as an HTML string."""
    from ..export.runrecords import read_manifest_of

    manifest = read_manifest_of(run_dir)
    per_category = max_per_category if max_per_category is not None else \
        int(((manifest.get("config") or {}).get("report") or {}).get("max_per_category", DEFAULT_PER_CATEGORY))
    label_rows = read_labels(labels) if labels else None
    extra: set[str] = set()
    if label_rows:
        # first pass only to learn which labeled records were misjudged, so they can be shown
        pre = collect(run_dir, per_category=0, labels=label_rows, table_cap=0)
        s = score_run(pre.predicted, label_rows)
        extra = set((s["false_alarms"] + s["missed"] + s["wrong_category"])[:MISJUDGED_CAP])
    view = collect(run_dir, per_category=per_category, extra_ids=extra, labels=label_rows, table_cap=TABLE_CAP)
    scored = score_run(view.predicted, label_rows) if label_rows else None
    cats = view.manifest.get("counts", {}).get("categories", {})
    rules = sorted((view.manifest.get("counts", {}).get("rules") or {}).items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    plots = {"categories": bar_chart(list(cats), list(cats.values()), "unsafe records per category"),
             "rules": bar_chart([k for k, _ in rules], [v for _, v in rules], "records per rule (top 15)"),
             "scores": _score_plot(view)}
    return render_page(view, plots=plots, scored=scored, per_category=per_category, table_cap=TABLE_CAP)


def write_report(run_dir: str | Path, *, output: str | Path | None = None, labels: str | Path | None = None,
                 max_per_category: int | None = None) -> Path:
    """Write the report (default RUN_DIR/report.html) atomically and return its path."""
    path = Path(output) if output else Path(run_dir) / "report.html"
    html = render_report(run_dir, labels=labels, max_per_category=max_per_category)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a report write that was killed
        stale.unlink(missing_ok=True)
    atomic_write(path, html)
    return path
