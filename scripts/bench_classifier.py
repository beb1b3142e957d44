#!/usr/bin/env python3
"""What the classifier costs in the pipeline: rules + classifier as shipped, against rules alone, per CPU core.

Why: the issue's speed target (>= 50 typical 30-step trajectories per second per core with rules and
classifier on) is only meaningful next to the rules-only figure of the same machine at the same
moment, so every variant runs in this one process, on one CPU thread, over the same synthetic
coding-agent rollouts (scripts/corpus.py: ~30 tool calls each, repeating `ls`, `cat`, `pytest` as
real rollouts do; ~3% carry a planted unsafe action).

Variants (each built and warmed once, then timed in `--repeat` passes interleaved with the other
variants' so a change in the machine's load hits all alike; every pass starts from an empty cache):

- rules only: the baseline (`classifier.enabled=false`);
- shipped: `configs/default.yaml` as it is (its gate, thresholds, max length, decoded views);
- gate all: the same with the classifier on every trajectory (what `safefilter eval` does);
- gate all, no cache: what the score cache saves.

Reported per variant: trajectories/s (median of `--repeat` timed passes), the ratio to rules only,
and for the classifier: the share of trajectories it actually ran on (the gate), the action texts
it was asked to score, the share of them repeated within their batch (scored once per batch), and
the score-cache hit rate: of the texts left after that, the share served from the cache (scored in
an earlier batch) without a forward pass.

    python scripts/bench_classifier.py [--trajectories 400] [--config configs/default.yaml] [--json]

Never used for timed assertions in tests; numbers vary with the machine and its load.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402

from safefilter.config import load_config  # noqa: E402
from safefilter.run import build_scanner  # noqa: E402

#: name -> overrides of the shipped config
VARIANTS: dict[str, tuple[str, ...]] = {
    "rules only (baseline)": ("classifier.enabled=false",),
    "rules + classifier, shipped": (),
    "rules + classifier, gate all": ("classifier.gate=all",),
    "rules + classifier, gate all, no cache": ("classifier.gate=all", "classifier.cache_size=0"),
}
BASELINE = "rules only (baseline)"
TARGET = "rules + classifier, shipped"


def rollouts(n: int, seed: int) -> list[tuple[dict[str, Any], str]]:
    """`n` synthetic rollouts from the corpus generator, as (record, id) pairs."""
    gen = corpus.TrajectoryGenerator(seed)
    return [(gen.record(i)[0], f"b{i}") for i in range(n)]


class _Counting:
    """Wraps the classifier detector to count trajectories offered, trajectories classified and texts sent."""

    def __init__(self, detector: Any) -> None:
        self.offered = self.classified = self.texts = self.distinct = 0
        inner_batch, inner_predict = detector.detect_batch, detector.classifier.predict

        def detect_batch(items: Sequence[Any], *, skip: Any = None) -> Any:
            self.offered += len(items)
            gated = detector.gate == "undecided" and skip
            self.classified += len(items) - (len([j for j in skip if 0 <= j < len(items)]) if gated else 0)
            return inner_batch(items, skip=skip)

        def predict(texts: Sequence[str], **kw: Any) -> Any:
            self.texts += len(texts)
            self.distinct += len(set(texts))  # what is left after the batch's own duplicates
            return inner_predict(texts, **kw)

        detector.detect_batch = detect_batch
        detector.classifier.predict = predict


class Variant:
    """One configuration, built and warmed once (model loaded, the rules' lazy DFAs built), then timed
    pass by pass; each pass starts from an empty score cache."""

    def __init__(self, config: dict[str, Any], records: list[tuple[dict[str, Any], str]], batch: int) -> None:
        self.scanner = build_scanner(config).ready()
        self.records, self.batch = records, batch
        self.clf = next((d for d in self.scanner.detectors if d.name == "classifier"), None)
        self._scan()
        self.counting = _Counting(self.clf) if self.clf is not None else None
        self.passes: list[float] = []
        self.unsafe = 0

    def _scan(self) -> int:
        return sum(bool(r.verdict and r.verdict.unsafe) for s in range(0, len(self.records), self.batch)
                   for r in self.scanner.scan_records(self.records[s:s + self.batch]))

    def timed_pass(self) -> None:
        if self.clf is not None and self.counting is not None:
            self.clf.classifier.clear_cache()
            self.counting.offered = self.counting.classified = self.counting.texts = self.counting.distinct = 0
        t0 = time.perf_counter()
        self.unsafe = self._scan()
        self.passes.append(time.perf_counter() - t0)

    def result(self) -> dict[str, Any]:
        """The median pass; classifier counters are the last pass's (every pass does the same work)."""
        seconds = sorted(self.passes)[len(self.passes) // 2]
        out: dict[str, Any] = {"trajectories_per_s": round(len(self.records) / seconds, 1),
                               "seconds": round(seconds, 2), "passes_s": [round(p, 2) for p in self.passes],
                               "unsafe": self.unsafe}
        if self.clf is not None and self.counting is not None:
            c, n = self.clf.classifier, self.counting
            out.update(gate=self.clf.gate, max_length=self.clf.max_length,
                       classified_share=round(n.classified / n.offered, 4) if n.offered else 0.0,
                       texts_scored=n.texts, forward_passes=c.cache_misses,
                       batch_dedup_rate=round(1 - n.distinct / n.texts, 4) if n.texts else 0.0,
                       cache_hit_rate=round(1 - c.cache_misses / n.distinct, 4) if n.distinct else 0.0)
        return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trajectories", type=int, default=400)
    ap.add_argument("--config", default=str(ROOT / "configs" / "default.yaml"),
                    help="the shipped run config whose classifier settings are measured (default: %(default)s)")
    ap.add_argument("--batch", type=int, default=256, help="records per scan batch (the run's batch_size)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="timed passes per variant; the median is reported")
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS), metavar="NAME",
                    help="which variants to run (default: all); the baseline always runs")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)  # per-core figures
    records = rollouts(args.trajectories, args.seed)
    steps = sum(sum(1 for m in r["messages"] if m.get("role") == "assistant") for r, _ in records) / len(records)
    names = [BASELINE, *(v for v in args.variants if v != BASELINE)]
    variants = {name: Variant(load_config(args.config, ["input=x", "output=y", "classifier.device=cpu",
                                                        "progress=false", *VARIANTS[name]])[0], records, args.batch)
                for name in names}
    for _ in range(args.repeat):  # interleaved, so a change in the machine's load hits every variant alike
        for variant in variants.values():
            variant.timed_pass()
    results = {name: variant.result() for name, variant in variants.items()}
    base = results[BASELINE]["trajectories_per_s"]
    for r in results.values():
        r["ratio_to_rules_only"] = round(r["trajectories_per_s"] / base, 3)
    summary = {"trajectories": len(records), "mean_assistant_steps": round(steps, 1), "threads": 1,
               "config": str(Path(args.config).resolve().relative_to(ROOT)) if Path(args.config).resolve().is_relative_to(ROOT)
               else args.config, "target_trajectories_per_s": 50, "results": results}
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{len(records)} trajectories, {steps:.1f} assistant steps each on average, 1 CPU thread, "
          f"config {summary['config']}\n")
    print(f"{'variant':40s} {'traj/s':>7s} {'x rules':>7s} {'ran on':>7s} {'dedup':>6s} {'cache':>6s} "
          f"{'texts':>6s} {'forwards':>8s} {'max_len':>7s}")
    for name, r in results.items():
        print(f"{name:40s} {r['trajectories_per_s']:7.1f} {r['ratio_to_rules_only']:7.3f} "
              + (f"{r['classified_share']:7.1%} {r['batch_dedup_rate']:6.1%} {r['cache_hit_rate']:6.1%} "
                 f"{r['texts_scored']:6d} {r['forward_passes']:8d} {r['max_length']:7d}" if "gate" in r else ""))
    print("\nran on: trajectories the classifier scored (gate); dedup: action texts repeated within a batch; "
          "cache: of the rest, served from the score cache (earlier batches)")
    if TARGET in results:
        print(f"\nshipped: {results[TARGET]['trajectories_per_s']} trajectories/s per core "
              f"(target >= {summary['target_trajectories_per_s']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
