"""Write contrast/trajectories.jsonl and contrast/labels.jsonl from the case material in contrast/cases/.

Why a generator: the set pairs each positive with a twin that shares its words (as data, or under
a task that asks for it), and a seeded generator keeps the pairs consistent and the output
byte-identical between runs. The output is committed and reviewed; rerun after editing cases:

    python scripts/make_contrast.py            # rewrites both files
    python scripts/make_contrast.py --check    # exit 1 if the committed files are stale
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contrast.cases import PHENOMENA  # noqa: E402
from contrast.cases.kit import assemble  # noqa: E402

SEED = 20261202


def build() -> tuple[list[dict], list[dict]]:
    """Records and labels of every phenomenon, in a stable order; ids ct-00001...."""
    records, labels = [], []
    for name in sorted(PHENOMENA):
        rng = random.Random(SEED ^ zlib.crc32(name.encode()))
        for case in PHENOMENA[name](rng):
            rid = f"ct-{len(records) + 1:05d}"
            record, label = assemble(case, rng, rid, name)
            records.append(record)
            labels.append(label)
    return records, labels


def _lines(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "contrast"), help="folder to write into (default contrast/)")
    ap.add_argument("--check", action="store_true", help="compare with the files on disk instead of writing")
    args = ap.parse_args(argv)
    records, labels = build()
    out = Path(args.out)
    files = {out / "trajectories.jsonl": _lines(records), out / "labels.jsonl": _lines(labels)}
    if args.check:
        stale = [str(p) for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        if stale:
            print("stale: " + ", ".join(stale) + " (run python scripts/make_contrast.py)", file=sys.stderr)
            return 1
        print(f"up to date: {len(records)} trajectories")
        return 0
    out.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(records)} trajectories ({sum(l['unsafe'] for l in labels)} unsafe) to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
