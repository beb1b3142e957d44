"""`safefilter eval`: how well each detector does alone and combined, against labeled trajectories.

One scan serves every view. The classifier runs on every trajectory (gate ``all``) with its
thresholds lowered to zero, so each trajectory gets a score per category (the highest over its
actions, leaving out what the task asked for); its real thresholds are applied afterwards. The
same findings are then judged under each combination mode (`policy.COMBINE_MODES`: rules,
classifier, either, rules_then_classifier) by the run's own `Policy`, with the configured
classifier gate replayed (``undecided``: no classifier findings on a trajectory the rules already
flag), so the numbers here are what `safefilter run` would produce with that mode.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .errors import SafeFilterError
from .io import read_file
from .policy import COMBINE_MODES, Policy
from .scanner import Scanner, record_id
from .types import CATEGORIES, Finding, Incomplete

__all__ = ["evaluate", "read_labels", "scores", "write_report"]


def read_labels(path: str | Path) -> dict[str, dict[str, Any]]:
    """id -> {"unsafe": bool, "categories": [...]} from a JSONL labels file."""
    labels: dict[str, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                labels[str(row["id"])] = {"unsafe": bool(row["unsafe"]), "categories": list(row.get("categories", []))}
            except (ValueError, KeyError, TypeError) as exc:
                raise SafeFilterError(f"{path}:{n}: not a label line with id and unsafe ({exc})") from None
    return labels


def scores(tp: int, fp: int, fn: int, tn: int | None = None) -> dict[str, float | int]:
    """Precision, recall, F1 (and false-positive rate when true negatives are known)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    out: dict[str, float | int] = {"precision": round(p, 4), "recall": round(r, 4),
                                   "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
                                   "tp": tp, "fp": fp, "fn": fn}
    if tn is not None:
        out["false_positive_rate"] = round(fp / (fp + tn), 4) if fp + tn else 0.0
        out["tn"] = tn
    return out


def _judge(findings: Sequence[Finding], policy: Policy,
           incomplete: Sequence[Incomplete] = ()) -> tuple[bool, set[str]]:
    """The verdict a run would give: analysis cut short by a limit counts as in `safefilter run`."""
    verdict = policy.decide(findings, incomplete=tuple(incomplete))
    return verdict.unsafe, set(verdict.categories)


def _table(pred: Sequence[tuple[bool, set[str]]], truth: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Confusion counts and scores overall (per trajectory) and per category (per trajectory and category)."""
    tp = sum(p and t["unsafe"] for (p, _), t in zip(pred, truth))
    fp = sum(p and not t["unsafe"] for (p, _), t in zip(pred, truth))
    fn = sum(not p and t["unsafe"] for (p, _), t in zip(pred, truth))
    tn = sum(not p and not t["unsafe"] for (p, _), t in zip(pred, truth))
    out: dict[str, Any] = {"overall": scores(tp, fp, fn, tn), "per_category": {}}
    for c in CATEGORIES:
        hits = [(c in cats, c in t["categories"]) for (_, cats), t in zip(pred, truth)]
        out["per_category"][c] = scores(sum(p and t for p, t in hits), sum(p and not t for p, t in hits),
                                        sum(not p and t for p, t in hits), sum(not p and not t for p, t in hits))
    return out


def _pr_curve(score: np.ndarray, truth: np.ndarray) -> dict[str, list[float]]:
    """Precision and recall at every distinct score, highest first."""
    order = np.argsort(-score, kind="stable")
    s, t = score[order], truth[order]
    tp = np.cumsum(t)
    k = np.arange(1, len(s) + 1)
    last = np.r_[s[1:] != s[:-1], True] if len(s) else np.array([], dtype=bool)
    pos = max(int(t.sum()), 1)
    return {"threshold": [round(float(x), 5) for x in s[last]],
            "precision": [round(float(x), 4) for x in (tp / k)[last]],
            "recall": [round(float(x), 4) for x in (tp / pos)[last]]}


def evaluate(scanner: Scanner, records: Iterable[tuple[dict[str, Any], str]], labels: Mapping[str, Mapping[str, Any]],
             *, batch_size: int = 64) -> dict[str, Any]:
    """Metrics per detector alone and combined, PR curves of the classifier, and the rules' misses.

    `scanner` must carry a classifier detector; its thresholds are set to zero for the scan and
    restored afterwards.
    """
    clf = next((d for d in scanner.detectors if d.name == "classifier"), None)
    if clf is None:
        raise SafeFilterError("eval needs the classifier: enable it (classifier.enabled: true) in the config")
    thresholds = clf.thresholds()
    saved = (clf.threshold_override, clf.gate)
    clf.threshold_override, clf.gate = {c: 0.0 for c in thresholds}, "all"
    policy = scanner.policy
    # every finding of both detectors: a verdict under rules_then_classifier would already have
    # dropped the classifier's on rule-judged actions, which the other modes' rows need
    scanner.policy = dataclasses.replace(policy, combine="either")
    ids: list[str] = []
    found: list[list[Finding]] = []
    cut_short: list[tuple[Incomplete, ...]] = []
    errors: dict[str, str] = {}
    try:
        batch: list[tuple[dict[str, Any], str]] = []
        for item in [*records, None]:
            if item is not None:
                batch.append(item)
            if batch and (item is None or len(batch) >= batch_size):
                for result in scanner.scan_records(batch):
                    if result.error is not None:
                        errors[result.record_id] = result.error
                    else:
                        ids.append(result.record_id)
                        found.append(list(result.verdict.findings))
                        cut_short.append(result.verdict.analysis_incomplete)
                batch = []
    finally:
        clf.threshold_override, clf.gate = saved
        scanner.policy = policy
    missing = sorted(set(labels) - set(ids) - set(errors))
    unlabeled = [i for i in ids if i not in labels]
    keep = [j for j, i in enumerate(ids) if i in labels]
    truth = [labels[ids[j]] for j in keep]

    per_traj_scores = np.zeros((len(keep), len(CATEGORIES)), dtype=np.float64)
    judged: dict[str, list[tuple[bool, set[str]]]] = {m: [] for m in COMBINE_MODES}
    per_mode = {m: dataclasses.replace(policy, combine=m) for m in COMBINE_MODES}  # allowlists compiled once
    gated = 0
    for row, j in enumerate(keep):
        rule_f = [f for f in found[j] if f.detector != "classifier"]
        clf_all = [f for f in found[j] if f.detector == "classifier"]
        for f in clf_all:
            if not f.requested and not policy.allowed(f):
                c = CATEGORIES.index(f.category)
                per_traj_scores[row, c] = max(per_traj_scores[row, c], f.score or 0.0)
        clf_f = [f for f in clf_all if (f.score or 0.0) >= thresholds.get(f.category, 0.5)]
        # the run's gate, replayed: `undecided` does not classify what the rules alone already flag
        skipped = saved[1] == "undecided" and bool(rule_f) and _judge(rule_f, per_mode["rules"])[0]
        gated += skipped
        for mode in COMBINE_MODES:
            clf_seen = [] if skipped and mode != "classifier" else clf_f
            judged[mode].append(_judge(rule_f + clf_seen, per_mode[mode], cut_short[j]))

    modes = {m: _table(judged[m], truth) for m in COMBINE_MODES}
    combined = policy.combine if policy.combine not in ("rules", "classifier") else "either"
    report: dict[str, Any] = {
        "records": len(ids) + len(errors), "labeled": len(keep), "unreadable": errors,
        "labels_without_record": missing, "records_without_label": unlabeled,
        "thresholds": thresholds, "gate": saved[1], "classified_share": round(1 - gated / len(keep), 4) if keep else 0.0,
        "configured_mode": policy.combine, "combined_mode": combined,
        "modes": modes,
        # the three views of earlier reports; "combined" is the configured mode, or `either`
        # when the config names a single detector
        "detectors": {"rules": modes["rules"], "classifier": modes["classifier"], "combined": modes[combined]},
    }
    rule_missed = [r for r, (p, _) in enumerate(judged["rules"]) if truth[r]["unsafe"] and not p]
    caught = [r for r in rule_missed if judged["classifier"][r][0]]
    report["rule_misses"] = {"unsafe_missed_by_rules": len(rule_missed), "caught_by_classifier": len(caught),
                             "ids_missed": [ids[keep[r]] for r in rule_missed],
                             "ids_caught": [ids[keep[r]] for r in caught]}
    report["pr_curves"] = {}
    for c_i, c in enumerate(CATEGORIES):
        y = np.array([c in t["categories"] for t in truth], dtype=np.int64)
        report["pr_curves"][c] = _pr_curve(per_traj_scores[:, c_i], y)
    return report


def records_of(path: str | Path) -> Iterable[tuple[dict[str, Any], str]]:
    """(record, id) pairs of one input file, ids as `safefilter run` gives them."""
    path = Path(path)
    for item in read_file(path):
        if item.error is None:
            yield item.record, record_id(item.record, path.name, item.line)


def write_report(report: Mapping[str, Any], out_dir: str | Path) -> list[Path]:
    """metrics.json plus one precision-recall PNG per category; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "metrics.json"]
    written[0].write_text(json.dumps(report, indent=2) + "\n")
    for c, curve in report["pr_curves"].items():
        fig, ax = plt.subplots(figsize=(5, 4), dpi=100)
        ax.plot(curve["recall"], curve["precision"], drawstyle="steps-post", label="classifier (score sweep)")
        for mode, marker in zip(report["modes"], "os^Dv<>"):
            m = report["modes"][mode]["per_category"][c]
            ax.scatter([m["recall"]], [m["precision"]], marker=marker, label=f"{mode} (as configured)", zorder=3)
        ax.set(xlim=(0, 1.02), ylim=(0, 1.02), xlabel="recall", ylabel="precision", title=f"{c}")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
        fig.tight_layout()
        path = out / f"pr_{c}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written


_COLUMNS = ("tp", "fp", "fn", "tn", "precision", "recall", "false_positive_rate", "f1")


def _row(name: str, m: Mapping[str, Any]) -> str:
    return (f"{name:22s} " + " ".join(f"{m[k]:5d}" for k in _COLUMNS[:4]) + " "
            + " ".join(f"{m[k]:9.3f}" for k in _COLUMNS[4:]))


def format_table(report: Mapping[str, Any]) -> str:
    """The report as one plain-text table for the terminal: each mode overall, then per category."""
    head = (f"{'':22s} " + " ".join(f"{k:>5s}" for k in _COLUMNS[:4]) + " "
            + " ".join(f"{k:>9s}" for k in ("precision", "recall", "FPR", "F1")))
    modes = report["modes"]
    lines = [f"mode (overall)         gate {report['gate']}, classifier ran on "
             f"{report['classified_share']:.1%} of trajectories; configured: {report['configured_mode']}", head]
    lines += [_row(mode, t["overall"]) for mode, t in modes.items()]
    for c in CATEGORIES:
        lines += ["", f"{c}", head]
        lines += [_row(mode, t["per_category"][c]) for mode, t in modes.items()]
    m = report["rule_misses"]
    lines += ["", f"unsafe trajectories the rules miss: {m['unsafe_missed_by_rules']}, "
                  f"caught by the classifier: {m['caught_by_classifier']}"]
    return "\n".join(lines)
