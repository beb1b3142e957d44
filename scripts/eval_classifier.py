"""Measure one trained classifier directory: held-out families, the development set, speed.

    python scripts/eval_classifier.py MODEL_DIR [--data data/training] [--out runs/eval-model]

Reports, as JSON and a short table: recall and action-level false-alarm rate on the held-out
split (`heldout.parquet`: tool and evasion families never trained on, and benign look-alikes),
recall on the held-out unsafe actions the rules miss, the development set through
`safefilter eval` (every combination mode: rules, classifier, either, rules_then_classifier), and
actions per second on CPU. The same functions as `compare_classifiers.py`, without training.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_classifiers import _dev, _heldout, _speed  # noqa: E402
from safefilter.classifier.model import read_training_config  # noqa: E402
from safefilter.classifier.train import _texts, _usable  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="model directory (training_config.json inside)")
    ap.add_argument("--data", default="data/training", help="training-data directory with heldout.parquet")
    ap.add_argument("--out", default="runs/eval-model", help="where the dev eval and metrics.json go")
    ap.add_argument("--dev", default=str(ROOT.parent / "shared" / "eval" / "dev.jsonl"))
    ap.add_argument("--dev-labels", default=str(ROOT.parent / "shared" / "eval" / "dev_labels.jsonl"))
    ap.add_argument("--no-dev", action="store_true")
    ap.add_argument("--speed-actions", type=int, default=512)
    args = ap.parse_args(argv)

    import datasets

    model = Path(args.model)
    cfg = read_training_config(model)
    context, max_length = str(cfg.get("input_context", "none")), int(cfg.get("max_length") or 128)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"model": str(model), "heldout": _heldout(model, Path(args.data), context, max_length)}
    if not args.no_dev:
        report["dev"] = _dev(model, out, args, max_length)
        metrics = out / "eval" / "metrics.json"
        if metrics.is_file():
            report["dev_modes"] = json.loads(metrics.read_text()).get("modes")
    val = _usable(datasets.Dataset.from_parquet(str(Path(args.data) / "validation.parquet")), context,
                  str(cfg.get("inputs", "all")))
    report["speed_actions_per_s"] = _speed(model, _texts(val, context)[:args.speed_actions], max_length)
    (out / "model_eval.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
