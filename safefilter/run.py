"""The config-driven run: read inputs, scan in batches, write clean / unsafe / invalid, account.

Streaming and bounded: records move through in batches of `batch_size`, one output shard per
input file (split every `max_records_per_shard` records), so memory does not grow with input.
The run checks its own books before it writes the manifest: input = clean + unsafe + invalid.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import orjson

from .cards import write_cards
from .errors import SafeFilterError
from .io import OUTPUT_KINDS, InputRecord, ShardWriter, expand_inputs, invalid_row, read_file, unsafe_bytes
from .manifest import build_manifest, write_manifest
from .normalize import Limits
from .policy import Policy
from .resume import RunState, add_file_counts, file_counts, pause_for_tests
from .scanner import Scanner, record_id
from .types import Severity

__all__ = ["RunSummary", "build_scanner", "build_classifier", "run"]


@dataclass
class RunSummary:
    output: Path
    counts: dict[str, Any] = field(default_factory=dict)
    manifest_path: Path | None = None


def build_scanner(config: dict[str, Any]) -> Scanner:
    """The scanner a config describes; every runtime builds it through here."""
    policy_cfg, allow = config["policy"], config["allowlist"]
    policy = Policy(
        requested_is_unsafe=policy_cfg["requested_is_unsafe"],
        min_severity=Severity.parse(policy_cfg["min_severity"]),
        disabled_rules=frozenset(policy_cfg["disabled_rules"]),
        allow_hosts=tuple(allow["hosts"]),
        allow_commands=tuple(allow["commands"]),
        combine=policy_cfg["combine"],
    )
    norm = config["normalize"]
    limits = Limits(max_depth=norm["max_decode_depth"], max_derived=norm["max_derived_per_segment"],
                    max_text=norm["max_text_chars"])
    scanner = Scanner.from_rules(config["rules"]["packs"], policy=policy, limits=limits,
                                 include_experimental=config["rules"]["include_experimental"])
    if config["classifier"]["enabled"]:
        scanner.detectors.append(build_classifier(config["classifier"]))
    return scanner


def build_classifier(cfg: dict[str, Any]) -> Any:
    """The classifier detector a config's `classifier` section describes; fails early if the model is missing."""
    from .classifier import ClassifierDetector, resolve_model

    return ClassifierDetector(
        resolve_model(cfg["model"]), gate=cfg["gate"], device=cfg["device"], batch_size=cfg["batch_size"],
        max_length=cfg["max_length"], cache_size=cfg["cache_size"], include_decoded=cfg["include_decoded"],
        thresholds=cfg["thresholds"], severity=Severity.parse(cfg["severity"]))


class _Outputs:
    """The three output kinds of one shard of one input file."""

    def __init__(self, root: Path, fmt: str, shard: str) -> None:
        suffix = "parquet" if fmt == "parquet" else "jsonl"
        self.writers = {kind: ShardWriter(root / kind / f"part-{shard}.{suffix}",
                                          fmt if kind != "invalid" else "jsonl") for kind in OUTPUT_KINDS}

    def close(self) -> None:
        for w in self.writers.values():
            w.close()

    def abort(self) -> None:
        for w in self.writers.values():
            w.abort()


def _prepare_output(root: Path, overwrite: bool) -> None:
    existing = [root / k for k in (*OUTPUT_KINDS, "dataset", "cards") if (root / k).exists()] + \
        [p for p in (root / "manifest.json",) if p.exists()]
    if existing and not overwrite:
        raise SafeFilterError(
            f"output directory {root} already holds a run ({', '.join(p.name for p in existing)}); "
            "choose another --output or pass --set overwrite=true to replace it")
    for path in existing:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    root.mkdir(parents=True, exist_ok=True)


def _progress(config: dict[str, Any], total_bytes: int):
    from tqdm.auto import tqdm

    enabled = config["progress"]
    disable = (not sys.stderr.isatty()) if enabled == "auto" else not enabled
    return tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024, desc="scanning",
                disable=disable, dynamic_ncols=True)


def run(config: dict[str, Any], *, overrides: Sequence[str] = (), command: Sequence[str] = (),
        config_file: str | Path | None = None, resume: bool = False,
        from_manifest: dict[str, Any] | None = None, scan_with: Any = None) -> RunSummary:
    """Execute one run as configured; returns counts and where the manifest is.

    `resume=True` continues an interrupted run in the same output directory (see resume.py);
    `config_file` and `from_manifest` are only recorded in the manifest.
    """
    if scan_with is None and config["executor"] != "local":
        from .ray_run import run_ray, wants_ray

        if wants_ray(config):  # the same run, with scanning on Ray (it calls back here with scan_with)
            return run_ray(config, overrides=overrides, command=command, config_file=config_file,
                           resume=resume, from_manifest=from_manifest)
    started = time.time()
    root = Path(config["output"])
    state = RunState(root)
    files, finished = state.resume(config) if resume else (expand_inputs(config["input"]), {})
    if scan_with is None:
        scanner = build_scanner(config)
    else:  # scan_with(config, files, indexes of finished files) -> has Scanner's scan_records and packs
        scanner = scan_with(config, files, set(finished))
    if not resume:
        _prepare_output(root, config["overwrite"])
        state.begin(config, files, overrides=overrides, command=command)
    fmt = config["output_format"]
    counts: Counter[str] = Counter()
    per_category: Counter[str] = Counter()
    per_rule: Counter[str] = Counter()
    shards: list[dict[str, Any]] = []
    warnings: list[str] = []
    total_bytes = sum(p.stat().st_size for p in files)
    labels = source_labels(files)
    batch_size, per_shard = config["batch_size"], config["max_records_per_shard"]
    with _progress(config, total_bytes) as bar:
        for file_index, path in enumerate(files):
            if file_index in finished:  # resumed: this file's shards are complete
                add_file_counts(finished[file_index]["shard"]["counts"], counts, per_category, per_rule)
                shards.append(finished[file_index]["shard"])
                warnings.extend(finished[file_index]["warnings"])
                bar.update(path.stat().st_size)
                continue
            file_started, before = time.time(), (counts.copy(), per_category.copy(), per_rule.copy())
            part, in_part = 0, 0
            outputs = _Outputs(root, fmt, f"{file_index:05d}-{part:05d}")
            shard_files = [outputs]
            batch: list[InputRecord] = []
            file_size, seen_bytes = path.stat().st_size, 0
            plain = path.name.endswith((".jsonl", ".ndjson"))
            try:
                for item in read_file(path):
                    counts["input"] += 1
                    if plain:
                        seen_bytes += len(item.raw) + 1
                        if seen_bytes > (1 << 22):  # report every ~4 MB
                            bar.update(min(seen_bytes, file_size))
                            file_size -= min(seen_bytes, file_size)
                            seen_bytes = 0
                    if in_part >= per_shard:
                        _flush(scanner, batch, labels[file_index], outputs, counts, per_category, per_rule)
                        batch = []
                        outputs.close()
                        part, in_part = part + 1, 0
                        outputs = _Outputs(root, fmt, f"{file_index:05d}-{part:05d}")
                        shard_files.append(outputs)
                    in_part += 1
                    if item.error is not None:
                        outputs.writers["invalid"].write_row(invalid_row(item))
                        counts["invalid"] += 1
                        continue
                    batch.append(item)
                    if len(batch) >= batch_size:
                        _flush(scanner, batch, labels[file_index], outputs, counts, per_category, per_rule)
                        batch = []
                _flush(scanner, batch, labels[file_index], outputs, counts, per_category, per_rule)
                outputs.close()
            except BaseException:
                for o in shard_files:
                    o.abort()
                raise
            bar.update(file_size)
            file_warnings = [w for o in shard_files for writer in o.writers.values() for w in writer.warnings]
            warnings.extend(file_warnings)
            shards.append({"input": str(path), "label": labels[file_index], "outputs": {
                kind: [str(o.writers[kind].path.relative_to(root)) for o in shard_files if o.writers[kind].count]
                for kind in OUTPUT_KINDS}})
            shards[-1]["counts"] = file_counts(before, (counts, per_category, per_rule))
            shards[-1]["seconds"] = round(time.time() - file_started, 3)
            state.finish_file(file_index, path, shard=shards[-1], warnings=file_warnings)
    counts_out = {k: counts[k] for k in ("input", *OUTPUT_KINDS)}
    counts_out["requested_findings"] = counts["requested_findings"]
    counts_out["categories"] = {c: per_category[c] for c in sorted(per_category)}
    counts_out["rules"] = dict(sorted(per_rule.items()))
    if counts_out["input"] != counts_out["clean"] + counts_out["unsafe"] + counts_out["invalid"]:
        raise SafeFilterError(f"counts do not add up: {counts_out}; this is a bug, please report it")
    if config["dataset_output"]:  # RUN_DIR/dataset/: the shards again, as a Hugging Face DatasetDict
        from .hf import save_run_dataset
        save_run_dataset(root)
    manifest = build_manifest(config=config, overrides=overrides, command=command, files=files,
                              packs=scanner.packs, counts=counts_out, shards=shards, warnings=warnings,
                              started=started, finished=time.time(), config_file=config_file,
                              from_manifest=from_manifest, resumed=resume)
    manifest_path = write_manifest(root, manifest)
    write_cards(root, manifest)
    state.clear()
    return RunSummary(root, counts_out, manifest_path)


def source_labels(files: Sequence[Path]) -> list[str]:
    """Input file names relative to their common folder: stable across machines, used for ids."""
    if len(files) == 1:
        return [files[0].name]
    root = Path(os.path.commonpath([str(p.parent) for p in files]))
    return [str(p.relative_to(root)) for p in files]


def _flush(scanner: Scanner, batch: list[InputRecord], label: str, outputs: _Outputs, counts: Counter[str],
           per_category: Counter[str], per_rule: Counter[str]) -> None:
    if not batch:
        return
    pause_for_tests()
    ids = [record_id(item.record, label, item.line) for item in batch]
    results = scanner.scan_records([(item.record, rid) for item, rid in zip(batch, ids)])
    for item, result in zip(batch, results):
        if result.error is not None:
            outputs.writers["invalid"].write_row(invalid_row(item, result.error))
            counts["invalid"] += 1
            continue
        verdict = result.verdict
        counts["requested_findings"] += sum(f.requested for f in verdict.findings)
        if verdict.unsafe:
            safety = verdict.safety_object()
            if outputs.writers["unsafe"].fmt == "jsonl":
                outputs.writers["unsafe"].write_bytes(unsafe_bytes(item, safety, result.record_id))
            else:
                row = dict(item.record)
                row.setdefault("id", result.record_id)
                row["safety"] = safety
                outputs.writers["unsafe"].write_row(row)
            counts["unsafe"] += 1
            per_category.update(verdict.categories)
            per_rule.update({f.rule_id for f in verdict.findings})
        else:
            writer = outputs.writers["clean"]
            if writer.fmt == "jsonl":
                writer.write_bytes(item.raw if not item.whole_file else orjson.dumps(item.record), None)
            else:
                writer.write_bytes(item.raw, item.record)
            counts["clean"] += 1

