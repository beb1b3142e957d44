"""Generate the synthetic training set for the learned classifier.

    python scripts/make_training_data.py --n 20000 --seed 0 --out data/training

--n counts synthetic rows; the rule-pack rows (source "rule_examples", weak labels) come on top
unless --no-rule-examples is given.
"""
from __future__ import annotations

import argparse
import collections
import json

from safefilter.training.data import LABELS, build_dataset, save_dataset


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--validation-share", type=float, default=0.1)
    ap.add_argument("--out", default="data/training")
    ap.add_argument("--no-rule-examples", dest="rule_examples", action="store_false",
                    help="leave out the weakly labelled rows built from the rule packs' inline examples")
    args = ap.parse_args(argv)

    dsd = build_dataset(args.n, seed=args.seed, validation_share=args.validation_share,
                        rule_examples=args.rule_examples)
    hashes = save_dataset(dsd, args.out)
    rows = [r for split in dsd.values() for r in split]
    print(f"wrote {args.out}: " + ", ".join(f"{k}={len(v)}" for k, v in dsd.items()))
    safe = sum(1 for r in rows if not any(r["labels"]))
    print(f"safe share: {safe / len(rows):.3f} ({safe}/{len(rows)})")
    print("positives per category:")
    for i, name in enumerate(LABELS):
        print(f"  {name:22s} {sum(r['labels'][i] for r in rows)}")
    for field in ("source", "family", "disguise", "kind"):
        print(f"per {field}:")
        for k, v in sorted(collections.Counter(r[field] for r in rows).items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {k:28s} {v}")
    print("hashes:")
    print(json.dumps(hashes, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
