"""Score safefilter on the contrast set, per phenomenon: positives, negatives, recall, false-positive rate.

Why: the overall numbers of a mixed set hide which phenomenon a change helps or hurts (text read as
action, indirect actions, requested twins, ...). This scans contrast/ in-process with the scanner a
config builds (the same `build_scanner` as `safefilter run`) and prints one row per phenomenon.

    python scripts/eval_contrast.py                          # rules only (configs/rules-only.yaml)
    python scripts/eval_contrast.py --show-errors            # also list misclassified ids and the rules that fired
    python scripts/eval_contrast.py --json                   # the table as JSON
    python scripts/eval_contrast.py --phenomenon docs_edit --limit 10
    python scripts/eval_contrast.py --json > before.json; ...change...; python scripts/eval_contrast.py --compare before.json

`located`: of the caught positives, the share whose first unsafe message is one the label names (a
detector that fires on a data step before the real action is right for the wrong reason).
"""
from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "configs" / "rules-only.yaml"
CONTRAST = ROOT / "contrast"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def select(labels: Sequence[dict[str, Any]], phenomena: Iterable[str] = (), limit: int | None = None) -> list[dict[str, Any]]:
    """Labels of the chosen phenomena (all when none), at most `limit` per phenomenon and class."""
    wanted = set(phenomena)
    seen: dict[tuple[str, bool], int] = defaultdict(int)
    out = []
    for lab in labels:
        key = (lab["phenomenon"], bool(lab["unsafe"]))
        if wanted and key[0] not in wanted:
            continue
        if limit is not None and seen[key] >= limit:
            continue
        seen[key] += 1
        out.append(lab)
    return out


@functools.lru_cache(maxsize=4)
def build(config_path: Path | None) -> Any:
    """The scanner `safefilter run --config config_path` would build (input/output are not used here); cached per config."""
    from safefilter.config import load_config
    from safefilter.run import build_scanner

    config, _ = load_config(config_path, ["input=contrast/trajectories.jsonl", "output=runs/contrast-unused"])
    return build_scanner(config)


def scan(scanner: Any, records: Sequence[dict[str, Any]], batch: int = 32) -> dict[str, dict[str, Any]]:
    """id -> {"unsafe", "categories", "rules", "first"} as the run would judge each record; unreadable records count as unsafe."""
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(records), batch):
        chunk = records[i:i + batch]
        for result in scanner.scan_records([(r, r["id"]) for r in chunk]):
            if result.verdict is None:
                out[result.record_id] = {"unsafe": True, "categories": [], "rules": [f"error: {result.error}"], "first": None}
                continue
            v = result.verdict
            fired = sorted({f.rule_id or f.detector for f in v.findings if not f.requested})
            out[result.record_id] = {"unsafe": bool(v.unsafe), "categories": list(v.categories), "rules": fired,
                                     "first": v.first_unsafe_message}
    return out


def table(labels: Sequence[dict[str, Any]], pred: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per phenomenon and overall: pos, neg, tp, fp, recall, fpr, the misclassified ids, and `located`:
    the share of caught positives whose first unsafe message is one the label names (not a data step before it)."""
    rows: dict[str, dict[str, Any]] = {}
    for lab in labels:
        row = rows.setdefault(lab["phenomenon"], {"pos": 0, "neg": 0, "tp": 0, "fp": 0, "at": 0, "errors": []})
        got = pred[lab["id"]]
        if lab["unsafe"]:
            row["pos"] += 1
            row["tp"] += got["unsafe"]
            row["at"] += bool(got["unsafe"] and got.get("first") in lab["unsafe_message_indices"])
        else:
            row["neg"] += 1
            row["fp"] += got["unsafe"]
        if got["unsafe"] != lab["unsafe"]:
            row["errors"].append({"id": lab["id"], "truth": lab["unsafe"], "categories": lab["categories"],
                                  "notes": lab.get("notes", ""), "fired": got["rules"]})
    total = {"pos": 0, "neg": 0, "tp": 0, "fp": 0, "at": 0, "errors": []}
    for row in rows.values():
        for k in ("pos", "neg", "tp", "fp", "at"):
            total[k] += row[k]
    for row in [*rows.values(), total]:
        row["recall"] = round(row["tp"] / row["pos"], 4) if row["pos"] else None
        row["fpr"] = round(row["fp"] / row["neg"], 4) if row["neg"] else None
        row["located"] = round(row.pop("at") / row["tp"], 4) if row["tp"] else None
    return {"phenomena": dict(sorted(rows.items())), "overall": total}


def _fmt(x: float | None) -> str:
    return "   -  " if x is None else f"{x:6.3f}"


def _short(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def render(result: dict[str, Any], show_errors: bool) -> str:
    lines = [f"{'phenomenon':<22} {'pos':>4} {'neg':>4} {'recall':>7} {'fpr':>7} {'located':>8}  (tp fp)"]
    for name, row in [*result["phenomena"].items(), ("OVERALL", result["overall"])]:
        lines.append(f"{name:<22} {row['pos']:>4} {row['neg']:>4} {_fmt(row['recall']):>7} {_fmt(row['fpr']):>7}"
                     f" {_fmt(row['located']):>8}  ({row['tp']} {row['fp']})")
    if show_errors:
        for name, row in result["phenomena"].items():
            for e in row["errors"]:
                kind = "MISS" if e["truth"] else "FALSE ALARM"
                lines.append(f"{name:<22} {e['id']} {kind:<11} fired={','.join(e['fired']) or '-'}  # {e['notes']}")
    return "\n".join(lines)


def compare(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Per phenomenon: recall and FPR before -> after, and the ids that became wrong or right."""
    lines = [f"{'phenomenon':<22} {'recall':^16} {'fpr':^16}  +newly wrong -fixed"]
    names = sorted(set(before["phenomena"]) | set(after["phenomena"]))
    for name in [*names, "OVERALL"]:
        b = before["overall"] if name == "OVERALL" else before["phenomena"].get(name)
        a = after["overall"] if name == "OVERALL" else after["phenomena"].get(name)
        if a is None or b is None:
            lines.append(f"{name:<22} (only in {'before' if a is None else 'after'})")
            continue
        if name == "OVERALL":
            was = {e["id"] for r in before["phenomena"].values() for e in r["errors"]}
            now = {e["id"] for r in after["phenomena"].values() for e in r["errors"]}
        else:
            was, now = {e["id"] for e in b["errors"]}, {e["id"] for e in a["errors"]}
        worse, fixed = sorted(now - was), sorted(was - now)
        shown = " ".join(worse[:6]) + (" ..." if len(worse) > 6 else "")
        lines.append(f"{name:<22} {_short(b['recall']):>6} -> {_short(a['recall']):<6} {_short(b['fpr']):>6} -> {_short(a['fpr']):<6}"
                     f"  +{len(worse)} -{len(fixed)} {shown}".rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(DEFAULT_CONFIG), help="safefilter config (default configs/rules-only.yaml)")
    ap.add_argument("--trajectories", default=str(CONTRAST / "trajectories.jsonl"))
    ap.add_argument("--labels", default=str(CONTRAST / "labels.jsonl"))
    ap.add_argument("--phenomenon", action="append", default=[], help="only this phenomenon (repeatable)")
    ap.add_argument("--limit", type=int, default=None, help="at most N positives and N negatives per phenomenon")
    ap.add_argument("--json", action="store_true", help="print the table as JSON")
    ap.add_argument("--show-errors", action="store_true", help="list misclassified ids with the rules that fired")
    ap.add_argument("--compare", metavar="BEFORE_JSON", help="an earlier --json output: print what changed since then")
    args = ap.parse_args(argv)
    try:
        labels = select(read_jsonl(Path(args.labels)), args.phenomenon, args.limit)
        by_id = {r["id"]: r for r in read_jsonl(Path(args.trajectories))}
        missing = [lab["id"] for lab in labels if lab["id"] not in by_id]
        if missing:
            print(f"error: {len(missing)} labeled ids have no trajectory (first: {missing[0]})", file=sys.stderr)
            return 2
        if not labels:
            print("error: no labels selected", file=sys.stderr)
            return 2
        started = time.perf_counter()
        scanner = build(Path(args.config) if args.config else None)
        pred = scan(scanner, [by_id[lab["id"]] for lab in labels])
        result = table(labels, pred)
        result["seconds"] = round(time.perf_counter() - started, 2)
        result["config"] = args.config
    except Exception as exc:  # noqa: BLE001 - a one-line message, never a traceback
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=1))
    elif args.compare:
        try:
            before = json.loads(Path(args.compare).read_text(encoding="utf-8"))
            print(compare(before, result))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"error: cannot compare with {args.compare}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
    else:
        print(render(result, args.show_errors))
        print(f"({len(labels)} trajectories, {result['seconds']}s, config {args.config})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
