"""One sink per work unit: read the unit, scan it in batches, write its shards, record its completion.

Every executor calls `process_unit` and nothing else, in whatever process or node runs the unit,
so the bytes written do not depend on the executor. Shards are written under temporary names and
renamed into place when closed (`io.ShardWriter`); only after every shard of the unit is renamed
(and the renames made durable) is the completion record `_state/input-<unit>.json` written,
atomically. A record on disk therefore means the unit is finished: a worker killed before that
leaves temporaries only, which `--resume` (or a retry) removes and redoes. The manifest is the
merge of these records (see run.py).
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from ..atomic import fsync_dir
from ..io import OUTPUT_KINDS, InputRecord, ShardWriter, invalid_row
from ..resume import STATE_DIR, pause_for_tests, write_completion
from ..scanner import Scanner, record_id
from ..scorehist import score_histogram
from .planner import WorkUnit, cut_batches, read_unit

__all__ = ["process_unit", "UnitOptions"]


@dataclasses.dataclass(frozen=True, slots=True)
class UnitOptions:
    """What a sink needs from the run config (small: it is shipped with every unit)."""

    root: str
    output_format: str = "jsonl"
    batch_size: int = 256
    max_records_per_shard: int = 100_000

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "UnitOptions":
        # absolute: a worker's working directory is not the driver's (other nodes, `ray job submit`)
        return cls(str(Path(config["output"]).resolve()), config["output_format"], config["batch_size"],
                   config["max_records_per_shard"])


class _Outputs:
    """The three output kinds of one shard part of one unit."""

    def __init__(self, root: Path, fmt: str, shard: str) -> None:
        # invalid/ rows are always JSONL (their `raw` is whatever could be read), named as such
        self.writers = {kind: ShardWriter(root / kind / f"part-{shard}.{_suffix(fmt, kind)}",
                                          fmt if kind != "invalid" else "jsonl") for kind in OUTPUT_KINDS}

    def close(self) -> None:
        for w in self.writers.values():
            w.close()

    def abort(self) -> None:
        for w in self.writers.values():
            w.abort()


def _suffix(fmt: str, kind: str) -> str:
    return "parquet" if fmt == "parquet" and kind != "invalid" else "jsonl"


class _Tally:
    """Counts of one unit: per output, per category, per rule, and the detector failures."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.categories: Counter[str] = Counter()
        self.rules: Counter[str] = Counter()
        self.scanned = 0
        self.failures = 0
        self.last_error = ""

    def as_record(self) -> dict[str, Any]:
        return {**dict(sorted((+self.counts).items())), "categories": dict(sorted((+self.categories).items())),
                "rules": dict(sorted((+self.rules).items()))}


def process_unit(unit: WorkUnit, scanner: Scanner, options: UnitOptions, *,
                 worker: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read, scan and write one work unit; returns its completion record (also written to `_state/`).

    `worker` (which node and process ran the unit) is kept in the record, for the manifest.

    Raises what the scanner raises for a broken system (DetectorError, also when the unit's detector
    failures pass `limits.max_detector_failure_share`); the unit's temporaries are removed first.
    """
    started = time.time()
    root = Path(options.root)
    stat = Path(unit.path).stat()
    budget = scanner_budget(scanner)
    _clear_unit(root, unit)  # what an attempt killed part-way wrote: this attempt writes it all again
    scores = score_histogram(scanner)  # the classifier's top score per trajectory, clean ones too (report)
    if scores is not None:
        scores.take()  # what an earlier unit or attempt in this process left
    tally = _Tally()
    parts: list[_Outputs] = []
    try:
        for part, batch in cut_batches(read_unit(unit), batch_size=options.batch_size,
                                       per_shard=options.max_records_per_shard):
            while len(parts) <= part:
                if parts:
                    parts[-1].close()
                parts.append(_Outputs(root, options.output_format, f"{unit.name}-{len(parts):05d}"))
            _write_batch(scanner, batch, unit.label, parts[-1], tally, budget)
        if parts:
            parts[-1].close()
    except BaseException:
        for outputs in parts:
            outputs.abort()
        raise
    for kind in OUTPUT_KINDS:  # the shards' renames are durable before the record says they are done
        if (root / kind).is_dir():
            fsync_dir(root / kind)
    outputs = {kind: [str(p.relative_to(root)) for o in parts for p in o.writers[kind].paths] for kind in OUTPUT_KINDS}
    shard = {"input": unit.path, "label": unit.label, "unit": unit.to_dict(), "outputs": outputs,
             "sha256": {rel: _sha256(root / rel) for paths in outputs.values() for rel in paths},
             "counts": tally.as_record(), "seconds": round(time.time() - started, 3),
             "worker": worker or {"pid": os.getpid()}}
    if scores is not None:
        shard["classifier_scores"] = scores.take()
    record = {"input": unit.path, "stat": {"bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}, "shard": shard,
              "warnings": [w for o in parts for writer in o.writers.values() for w in writer.warnings],
              "detector_failures": {"scanned": tally.scanned, "failed": tally.failures,
                                    "last_error": tally.last_error[:300]}}
    write_completion(root / STATE_DIR, unit.index, record)
    return record


def _clear_unit(root: Path, unit: WorkUnit) -> None:
    """Delete the unit's shards and temporaries left by an earlier attempt (a killed worker, a crash)."""
    prefixes = (f"part-{unit.name}-", f".part-{unit.name}-")
    for kind in OUTPUT_KINDS:
        try:
            names = os.listdir(root / kind)
        except FileNotFoundError:
            continue
        for name in names:
            if name.startswith(prefixes):
                (root / kind / name).unlink(missing_ok=True)


def scanner_budget(scanner: Any) -> Any:
    """A fresh copy of the scanner's failure budget for one unit (None: failures never stop the run)."""
    budget = getattr(scanner, "failure_budget", None)
    return None if budget is None else dataclasses.replace(budget, scanned=0, failures=0, last_error="")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_batch(scanner: Scanner, batch: list[InputRecord], label: str, outputs: _Outputs, tally: _Tally,
                 budget: Any) -> None:
    """Scan the readable records of `batch` and write every record of it, in order, where it belongs."""
    counts = tally.counts
    counts["input"] += len(batch)
    valid = [item for item in batch if item.error is None]  # read errors are written in their place below
    results = []
    if valid:
        pause_for_tests()
        results = scanner.scan_records([(item.record, record_id(item.record, label, item.line)) for item in valid])
    scanned = sum(r.verdict is not None or r.failed_detector is not None for r in results)
    errors = [r.error or "" for r in results if r.failed_detector]
    tally.scanned += scanned
    tally.failures += len(errors)
    tally.last_error = errors[-1] if errors else tally.last_error
    if budget is not None:  # too many detector failures: a broken detector, stop the run
        budget.add(scanned, errors)
    in_order = iter(results)
    for item in batch:
        if item.error is not None:  # unreadable: written where it was read, whatever the batch size
            outputs.writers["invalid"].write_row(invalid_row(item))
            counts["invalid"] += 1
            continue
        result = next(in_order)
        if result.error is not None:
            outputs.writers["invalid"].write_row(invalid_row(item, result.error))
            counts["invalid"] += 1
            continue
        verdict = result.verdict
        counts["requested_findings"] += sum(f.requested for f in verdict.findings)
        counts["analysis_incomplete"] += bool(verdict.analysis_incomplete)
        if verdict.unsafe:
            outputs.writers["unsafe"].write_unsafe(item, verdict.safety_object(), result.record_id)
            counts["unsafe"] += 1
            tally.categories.update(verdict.categories)
            tally.rules.update({f.rule_id for f in verdict.findings})
        else:
            writer = outputs.writers["clean"]
            if writer.fmt == "jsonl":
                writer.write_bytes(item.raw if not item.whole_file else orjson.dumps(item.record), None)
            else:
                writer.write_bytes(item.raw, item.record)
            counts["clean"] += 1
