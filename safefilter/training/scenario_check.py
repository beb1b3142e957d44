"""How the rule scanner sees generated scenarios: recall per unsafe family, false alarms per safe family.

Why: a report, not a gate. Rules catching a family tells how much the classifier must add there;
a safe trajectory the rules flag points at a mislabel in the generator or a rule bug, so the
report lists examples of those.

    python -m safefilter.training.scenario_check --n 1500 --split train --examples 5
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from typing import Any, Sequence

from .scenarios import make_trajectories


def _located(index: int, t) -> bool:  # noqa: ANN001
    """A finding sits on the action: a labeled message, its output, or a write it runs (LABELING.md 1-2)."""
    return index in t.labels or index - 1 in t.labels or index in t.written_then_run


def rule_report(n: int, *, seed: int = 0, split: str = "train", examples: int = 5) -> dict[str, Any]:
    """Per family: unsafe trajectories caught (and caught at a labeled message), safe ones flagged, flagged examples."""
    from safefilter import Scanner

    rows = make_trajectories(n, seed=seed, split=split)
    scanner = Scanner.from_rules()
    verdicts = [r.verdict for r in scanner.scan_records([(t.record, t.record["id"]) for t in rows])]
    fams: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    flagged: list[dict[str, Any]] = []
    for t, v in zip(rows, verdicts):
        key = f"{t.family} [{'unsafe' if t.labels else 'safe'}]"
        f = fams[key]
        f["n"] += 1
        caught = bool(v is not None and v.unsafe)
        f["flagged"] += caught
        if t.labels and caught:
            f["located"] += any(_located(x.message_index, t) and not x.requested for x in v.findings)
        if t.transforms:
            f["transformed"] += 1
            f["transformed_flagged"] += caught
        if not t.labels and caught and len(flagged) < examples * 8:
            first = next(x for x in v.findings if not x.requested)
            flagged.append({"id": t.record["id"], "family": t.family, "rule": first.rule_id,
                            "message": first.message_index, "evidence": first.evidence[:160]})
    by_family: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ex in flagged:
        by_family[ex["family"]].append(ex)
    shown = [ex for exs in by_family.values() for ex in exs[:examples]]
    return {"split": split, "n": n, "families": {k: dict(v) for k, v in sorted(fams.items())}, "flagged_safe": shown}


def _print(report: dict[str, Any]) -> None:
    print(f"split={report['split']} n={report['n']}")
    print(f"{'family':48s} {'n':>5s} {'flag%':>6s} {'located%':>8s} {'xf n':>5s} {'xf flag%':>8s}")
    for fam, c in report["families"].items():
        n, fl = c["n"], c.get("flagged", 0)
        loc = f"{100 * c.get('located', 0) / fl:.0f}" if fl and "[unsafe]" in fam else "-"
        xf = c.get("transformed", 0)
        xff = f"{100 * c.get('transformed_flagged', 0) / xf:.0f}" if xf else "-"
        print(f"{fam:48s} {n:5d} {100 * fl / n:6.0f} {loc:>8s} {xf:5d} {xff:>8s}")
    for ex in report["flagged_safe"]:
        print("flagged safe:", json.dumps(ex, ensure_ascii=False))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", default="train", choices=("train", "heldout"))
    ap.add_argument("--examples", type=int, default=3, help="flagged safe examples shown per family")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    report = rule_report(args.n, seed=args.seed, split=args.split, examples=args.examples)
    print(json.dumps(report, indent=1)) if args.json else _print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
