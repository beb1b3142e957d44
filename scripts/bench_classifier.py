#!/usr/bin/env python3
"""Classifier cost in the pipeline: rules alone vs rules + classifier, with and without cache and gate.

All variants scan the same synthetic ~30-step trajectories (scripts/corpus.py: coding-agent
rollouts that repeat `ls`, `cat`, `pytest` like real ones) in one process on one CPU thread, so
the figures are per core and comparable within the run. Reported: trajectories/s, classifier
inputs/s (actions sent to the classifier, before deduplication), model forward passes, and each
variant's speed as a ratio of the rules-only baseline.

    python scripts/bench_classifier.py [--trajectories 400] [--model builtin] [--batch 256]

Target (issue 3): rules + classifier at >= 50 typical 30-step trajectories/s per core.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402

from safefilter.config import resolve_config  # noqa: E402
from safefilter.io import read_file  # noqa: E402
from safefilter.run import build_scanner  # noqa: E402


def _records(n: int, seed: int) -> list[tuple[dict, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        corpus.generate(path, mb=max(0.5, n * 0.08), seed=seed)
        out = []
        for item in read_file(path):
            if item.error is None:
                out.append((item.record, f"b{len(out)}"))
            if len(out) >= n:
                break
    return out


def _variant(model: str, *, classifier: bool, gate: str = "undecided", cache: int = 100_000,
             max_length: int = 96) -> dict:
    cfg = {"input": "x", "output": "y",
           "classifier": {"enabled": classifier, "model": model, "gate": gate, "cache_size": cache, "device": "cpu",
                          "max_length": max_length}}
    return resolve_config(cfg)[0]


def _measure(config: dict, records: list[tuple[dict, str]], batch: int) -> dict:
    scanner = build_scanner(config)
    clf = next((d for d in scanner.detectors if d.name == "classifier"), None)
    for s in range(0, len(records), batch):  # warm pass: load the model, let RE2 build its lazy DFAs
        scanner.scan_records(records[s:s + batch])
    if clf is not None:
        clf.classifier.clear_cache()
    sent = 0
    if clf is not None:  # count what the classifier is asked, before dedup and cache
        inner = clf.classifier.predict

        def counting(texts, **kw):
            nonlocal sent
            sent += len(texts)
            return inner(texts, **kw)
        clf.classifier.predict = counting
    unsafe = 0
    t0 = time.perf_counter()
    for s in range(0, len(records), batch):
        for r in scanner.scan_records(records[s:s + batch]):
            unsafe += bool(r.verdict and r.verdict.unsafe)
    seconds = time.perf_counter() - t0
    out = {"trajectories_per_s": round(len(records) / seconds, 1), "seconds": round(seconds, 2), "unsafe": unsafe}
    if clf is not None:
        c = clf.classifier
        out.update(classifier_inputs=sent, inputs_per_s=round(sent / seconds, 1), forward_passes=c.cache_misses,
                   served_without_model=c.cache_hits)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trajectories", type=int, default=400)
    ap.add_argument("--model", default="builtin", help="model directory or 'builtin'")
    ap.add_argument("--batch", type=int, default=256, help="records per scan batch (the run's batch_size)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-length", type=int, default=96, help="classifier tokens per action (as classifier.max_length)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)  # per-core figures
    records = _records(args.trajectories, args.seed)
    steps = sum(sum(1 for m in r["messages"] if m.get("role") == "assistant") for r, _ in records) / len(records)
    variants = {
        "rules only (baseline)": _variant(args.model, classifier=False),
        "rules + classifier, gate all, no cache": _variant(args.model, classifier=True, gate="all", cache=0, max_length=args.max_length),
        "rules + classifier, gate all, cache": _variant(args.model, classifier=True, gate="all", max_length=args.max_length),
        "rules + classifier, gate undecided, cache": _variant(args.model, classifier=True, gate="undecided",
                                                                  max_length=args.max_length),
    }
    results = {name: _measure(cfg, records, args.batch) for name, cfg in variants.items()}
    base = results["rules only (baseline)"]["trajectories_per_s"]
    for r in results.values():
        r["ratio_to_rules_only"] = round(r["trajectories_per_s"] / base, 3)
    nocache = results["rules + classifier, gate all, no cache"]["trajectories_per_s"]
    summary = {"trajectories": len(records), "mean_assistant_steps": round(steps, 1), "threads": 1,
               "results": results,
               "cache_speedup": round(results["rules + classifier, gate all, cache"]["trajectories_per_s"] / nocache, 2),
               "cache_and_gate_speedup": round(
                   results["rules + classifier, gate undecided, cache"]["trajectories_per_s"] / nocache, 2)}
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{len(records)} trajectories, {steps:.1f} assistant steps each on average, 1 CPU thread\n")
    print(f"{'variant':44s} {'traj/s':>8s} {'x rules':>8s} {'inputs/s':>9s} {'forwards':>9s} {'cached':>8s}")
    for name, r in results.items():
        print(f"{name:44s} {r['trajectories_per_s']:8.1f} {r['ratio_to_rules_only']:8.3f} "
              f"{r.get('inputs_per_s', 0):9.1f} {r.get('forward_passes', 0):9d} {r.get('served_without_model', 0):8d}")
    print(f"\ncache: {summary['cache_speedup']}x over no cache; cache + gate: {summary['cache_and_gate_speedup']}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
