"""Compare classifier architectures on the same data: which one earns its place, by measurement.

Trains, on one training-data directory (train/validation Parquet, plus heldout.parquet when the
generator made one: unsafe actions of held-out transformation/tool families and benign
look-alikes):

- ``student``: the 2-layer student of configs/train.yaml (MiniLM embeddings, 2 layers of 128);
- ``full``: all-MiniLM-L6 fine-tuned whole (no student section), bounded to ``--budget-minutes``
  on this machine by a measured per-step time (max_steps), ``--full-max-rows`` and
  ``--full-max-length``;
- ``distilled``: the same student trained against ``full``'s scores (the recipe's ``teacher``).

and reports for each: synthetic validation metrics, recall / FPR on the held-out split, recall /
FPR of the classifier alone on the development set (``safefilter eval``), inference speed on CPU
(actions/s at one and two threads) and training wall time, as a markdown table (also JSON).

    python scripts/compare_classifiers.py --data data/training --out runs/compare --budget-minutes 25
    python scripts/compare_classifiers.py --data data/training --out runs/probe --probe   # seconds per step only

Everything trains through `safefilter.classifier.train.train`, deterministically (same seed,
pinned threads), so a row of the table can be rebuilt alone.
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from safefilter.classifier.model import load_classifier  # noqa: E402
from safefilter.classifier.recipe import load_recipe, minilm_dir  # noqa: E402
from safefilter.classifier.train import _texts, _usable, train  # noqa: E402

STUDENT = {"layers": 2, "hidden": 128, "heads": 2, "intermediate": 512, "freeze_embeddings": True}


def _common(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    recipe = load_recipe(args.recipe)
    t = recipe["training"]
    return {"seed": t["seed"], "calibration": t["calibration"], "min_precision": t["min_precision"],
            "min_threshold": t["min_threshold"], "max_fpr": t["max_fpr"], "save_dtype": t["save_dtype"],
            "threads": args.threads, "progress": not args.quiet, "device": args.device, "context": t["context"],
            "benign": ({"source": args.benign, "max_benign_fpr": args.max_benign_fpr, "level": "trajectory"}
                       if args.benign else None)}, recipe


def _student_kwargs(args: argparse.Namespace, recipe: dict[str, Any]) -> dict[str, Any]:
    t = recipe["training"]
    return {"epochs": args.student_epochs or t["epochs"], "batch_size": t["batch_size"], "lr": t["lr"],
            "max_length": t["max_length"], "student": recipe["student"] or STUDENT,
            "max_steps": args.student_max_steps}


def _full_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"epochs": 1, "batch_size": args.full_batch, "lr": args.full_lr, "max_length": args.full_max_length,
            "max_train_rows": args.full_max_rows, "student": None}


def seconds_per_step(data: str, out: Path, steps: int, common: dict[str, Any], kwargs: dict[str, Any]) -> float:
    """Measured training seconds per step (the loop alone, after `steps` steps; model load excluded)."""
    probe = {**common, **kwargs, "max_steps": steps, "benign": None, "progress": False}
    s = train(data, minilm_dir(), out, base_model_name="minilm", **probe)
    return s["seconds"] / max(1, s["steps"])


def _heldout(model_dir: Path, data: Path, context: str, max_length: int) -> dict[str, Any] | None:
    """Recall and false-alarm rate on held-out families; a notable-only model scores 0 on ordinary rows."""
    f = data / "heldout.parquet"
    if not f.is_file():
        return None
    import datasets

    from safefilter.classifier.model import read_training_config

    ds = _usable(datasets.Dataset.from_parquet(str(f)), context)
    clf = load_classifier(model_dir, device="cpu", cache_size=0)
    texts = _texts(ds, context)
    y = np.asarray(ds["labels"], dtype=bool).reshape(len(texts), -1).any(axis=1)
    scored = np.ones(len(texts), dtype=bool)
    if read_training_config(model_dir).get("inputs") == "notable" and "notable" in ds.column_names:
        scored = np.asarray(ds["notable"], dtype=bool)
    flagged = np.zeros(len(texts), dtype=bool)
    if scored.any():
        probs = clf.predict([t for t, s in zip(texts, scored) if s], max_length=max_length, use_cache=False)
        flagged[scored] = clf.decide(probs).any(axis=1)
    out = {"unsafe": int(y.sum()), "benign": int((~y).sum()),
           "recall": round(float(flagged[y].mean()), 4) if y.any() else None,
           "fpr": round(float(flagged[~y].mean()), 4) if (~y).any() else None}
    if "rules_caught" in ds.column_names:  # recall on what the rules miss, when the split says which
        missed = y & ~np.asarray(ds["rules_caught"], dtype=bool)
        out["rule_misses"] = int(missed.sum())
        out["recall_on_rule_misses"] = round(float(flagged[missed].mean()), 4) if missed.any() else None
    return out


def _dev(model_dir: Path, out: Path, args: argparse.Namespace, max_length: int) -> dict[str, Any] | None:
    if not (Path(args.dev).is_file() and Path(args.dev_labels).is_file()):
        return None
    where = out / "eval"
    cmd = [sys.executable, "-m", "safefilter", "eval", "--input", args.dev, "--labels", args.dev_labels,
           "--output", str(where), "--set", "classifier.enabled=true", "--set", f"classifier.model={model_dir}",
           "--set", f"classifier.max_length={max_length}", "--set", "classifier.device=cpu"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT))
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    report = json.loads((where / "metrics.json").read_text())
    m = report["detectors"]["classifier"]
    m = m.get("overall", m)
    return {"recall": m.get("recall"), "fpr": m.get("false_positive_rate"), "precision": m.get("precision")}


def _speed(model_dir: Path, texts: list[str], max_length: int) -> dict[str, float]:
    """Actions per second on CPU, uncached, at one and at two threads."""
    import torch

    clf = load_classifier(model_dir, device="cpu", cache_size=0)
    was = torch.get_num_threads()
    out = {}
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            clf.predict(texts[:64], max_length=max_length, use_cache=False)  # warm-up
            t0 = time.perf_counter()
            clf.predict(texts, max_length=max_length, use_cache=False)
            out[f"threads_{n}"] = round(len(texts) / (time.perf_counter() - t0), 1)
    finally:
        torch.set_num_threads(was)
    return out


def _evaluate(name: str, summary: dict[str, Any], model_dir: Path, args: argparse.Namespace, max_length: int,
              context: str, speed_texts: list[str]) -> dict[str, Any]:
    val = (summary.get("validation") or {}).get("any_unsafe", {})
    return {"model": name, "train_seconds": summary["seconds"], "steps": summary["steps"],
            "seconds_per_step": round(summary["seconds"] / max(1, summary["steps"]), 4),
            "validation": {"precision": val.get("precision"), "recall": val.get("recall"),
                           "fpr": val.get("false_positive_rate")},
            "thresholds": summary["thresholds"], "heldout": _heldout(model_dir, Path(args.data), context, max_length),
            "dev": _dev(model_dir, model_dir.parent / f"{name}-eval", args, max_length) if not args.no_dev else None,
            "speed": _speed(model_dir, speed_texts, max_length),
            "benign_trajectory_fpr": ((summary.get("benign_calibration") or {}).get("at_shipped_thresholds") or {}
                                      ).get("trajectory_fpr")}


def _cell(d: dict[str, Any] | None, key: str) -> str:
    if not d or d.get(key) is None:
        return "-"
    return f"{d[key]}"


def markdown(rows: list[dict[str, Any]], probe: dict[str, float]) -> str:
    lines = ["| model | val P | val R | val FPR | heldout R | heldout FPR | dev R | dev FPR | benign traj FPR "
             "| actions/s 1 thr | actions/s 2 thr | train s | steps | s/step |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(" | ".join([
            f"| {r['model']}", _cell(r["validation"], "precision"), _cell(r["validation"], "recall"),
            _cell(r["validation"], "fpr"), _cell(r["heldout"], "recall"), _cell(r["heldout"], "fpr"),
            _cell(r["dev"], "recall"), _cell(r["dev"], "fpr"), _cell(r, "benign_trajectory_fpr"),
            _cell(r["speed"], "threads_1"), _cell(r["speed"], "threads_2"), f"{r['train_seconds']}",
            f"{r['steps']}", f"{r['seconds_per_step']} |"]))
    if probe:
        lines += ["", "Measured seconds per training step on this machine: "
                  + ", ".join(f"{k} {v:.3f}" for k, v in probe.items())]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="training-data directory (train/validation[/heldout].parquet)")
    ap.add_argument("--out", required=True, help="where the models, metrics.json and comparison.md go")
    ap.add_argument("--budget-minutes", type=float, default=25.0, help="wall-time budget for the full MiniLM run")
    ap.add_argument("--recipe", default=str(ROOT / "configs" / "train.yaml"), help="student and calibration settings")
    ap.add_argument("--models", default="student,full,distilled", help="comma list of student, full, distilled")
    ap.add_argument("--probe", action="store_true", help="only measure seconds per training step and stop")
    ap.add_argument("--probe-steps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--student-epochs", type=int, default=None)
    ap.add_argument("--student-max-steps", type=int, default=None)
    ap.add_argument("--full-batch", type=int, default=32)
    ap.add_argument("--full-lr", type=float, default=5e-5)
    ap.add_argument("--full-max-length", type=int, default=128)
    ap.add_argument("--full-max-rows", type=int, default=None, help="train the full model on this many rows at most")
    ap.add_argument("--benign", default=None, help="benign calibration set (.jsonl trajectories / .parquet rows)")
    ap.add_argument("--max-benign-fpr", type=float, default=0.005)
    ap.add_argument("--dev", default=str(ROOT.parent / "shared" / "eval" / "dev.jsonl"))
    ap.add_argument("--dev-labels", default=str(ROOT.parent / "shared" / "eval" / "dev_labels.jsonl"))
    ap.add_argument("--no-dev", action="store_true", help="skip the development-set eval")
    ap.add_argument("--speed-actions", type=int, default=512)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    common, recipe = _common(args)
    student_kw, full_kw = _student_kwargs(args, recipe), _full_kwargs(args)
    wanted = [m.strip() for m in args.models.split(",") if m.strip()]

    probe: dict[str, float] = {}
    if "student" in wanted or "distilled" in wanted or args.probe:
        probe["student"] = seconds_per_step(args.data, out / "probe-student", args.probe_steps, common, student_kw)
    if "full" in wanted or "distilled" in wanted or args.probe:
        probe[f"full (batch {args.full_batch}, max_length {args.full_max_length})"] = seconds_per_step(
            args.data, out / "probe-full", args.probe_steps, common, full_kw)
    if args.probe:
        print(json.dumps(probe, indent=2))
        return 0

    import datasets

    val = _usable(datasets.Dataset.from_parquet(str(Path(args.data) / "validation.parquet")), common["context"])
    speed_texts = _texts(val, common["context"])[:args.speed_actions]
    rows, ctx = [], common["context"]
    if "student" in wanted:
        s = train(args.data, minilm_dir(), out / "student", base_model_name="minilm", **common, **student_kw)
        rows.append(_evaluate("student", s, out / "student", args, student_kw["max_length"], ctx, speed_texts))
    if "full" in wanted or "distilled" in wanted:
        per_step = next(v for k, v in probe.items() if k.startswith("full"))
        budget_steps = max(1, math.floor(args.budget_minutes * 60 * 0.85 / per_step))  # 15% for load + calibration
        s = train(args.data, minilm_dir(), out / "full", base_model_name="minilm", **common,
                  **{**full_kw, "max_steps": budget_steps})
        rows.append(_evaluate("full", s, out / "full", args, full_kw["max_length"], ctx, speed_texts))
    if "distilled" in wanted:
        s = train(args.data, minilm_dir(), out / "distilled", base_model_name="minilm", teacher=out / "full",
                  distill_weight=recipe["training"]["distill_weight"], **common, **student_kw)
        rows.append(_evaluate("distilled", s, out / "distilled", args, student_kw["max_length"], ctx, speed_texts))
    (out / "comparison.json").write_text(json.dumps({"rows": rows, "seconds_per_step": probe}, indent=2) + "\n")
    table = markdown(rows, probe)
    (out / "comparison.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
