"""The config-driven run: read inputs, scan in batches, write clean / unsafe / invalid, account.

Streaming and bounded: records move through in batches of `batch_size`, one output shard per
input file (split every `max_records_per_shard` records), so memory does not grow with input.
The run checks its own books before it writes the manifest: input = clean + unsafe + invalid.

The run directory is claimed and locked first (rundir.py, runlock.py): a folder that is not a run
directory, or that overlaps the inputs, is refused before anything is written; a second run into
a locked folder is refused. Any OSError while writing (disk full, permissions) removes the run's
temporaries and becomes one OutputError line that says what to do.
"""
from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import orjson

from .atomic import describe_os_error, fsync_dir
from .cards import write_cards
from .errors import OutputError, SafeFilterError
from .faults import FailureBudget
from .io import OUTPUT_KINDS, InputRecord, ShardWriter, expand_inputs, invalid_row, read_file
from .manifest import build_manifest, detector_hashes, read_manifest, write_manifest
from .normalize import Limits
from .policy import Policy
from .resume import STATE_DIR, RunState, add_file_counts, file_counts, pause_for_tests
from .rundir import check_output, claim, refuse_foreign, remove_temporaries
from .runlock import RunLock
from .scanner import Scanner, record_id
from .types import Severity

__all__ = ["RunSummary", "build_scanner", "build_classifier", "run"]


@dataclass
class RunSummary:
    output: Path
    counts: dict[str, Any] = field(default_factory=dict)
    manifest_path: Path | None = None
    already_complete: bool = False  # --resume of a finished run: nothing was done
    warnings: list[str] = field(default_factory=list)  # as in manifest.json: skipped inputs, roll-overs, ...


def build_scanner(config: dict[str, Any]) -> Scanner:
    """The scanner a config describes, ready: every runtime builds it through here, before its first record.

    `Scanner.ready()` loads the model, checks the device and that rules are loaded, so a broken
    system fails here with one DetectorError (or RuleError), not once per record.
    """
    policy_cfg, allow = config["policy"], config["allowlist"]
    policy = Policy(
        requested_is_unsafe=policy_cfg["requested_is_unsafe"],
        min_severity=Severity.parse(policy_cfg["min_severity"]),
        disabled_rules=frozenset(policy_cfg["disabled_rules"]),
        allow_hosts=tuple(allow["hosts"]),
        allow_commands=tuple(allow["commands"]),
        combine=policy_cfg["combine"],
        incomplete_is_unsafe=policy_cfg["incomplete_is_unsafe"],
    )
    norm = config["normalize"]
    limits = Limits(max_depth=norm["max_decode_depth"], max_derived=norm["max_derived_per_segment"],
                    max_text=norm["max_text_chars"], work_per_char=norm["work_per_char"])
    scanner = Scanner.from_rules(config["rules"]["packs"], policy=policy, limits=limits,
                                 include_experimental=config["rules"]["include_experimental"])
    if config["classifier"]["enabled"]:
        scanner.detectors.append(build_classifier(config["classifier"]))
    scanner.failure_budget = FailureBudget.from_config(config["limits"])
    return scanner.ready()


def build_classifier(cfg: dict[str, Any]) -> Any:
    """The classifier detector a config's `classifier` section describes; fails early if the model is missing.

    Not yet loaded: `Scanner.ready()` (called by `build_scanner`) loads and checks it.
    """
    from .classifier import ClassifierDetector, resolve_model

    return ClassifierDetector(
        resolve_model(cfg["model"]), gate=cfg["gate"], device=cfg["device"], batch_size=cfg["batch_size"],
        max_length=cfg["max_length"], cache_size=cfg["cache_size"], include_decoded=cfg["include_decoded"],
        thresholds=cfg["thresholds"], severity=Severity.parse(cfg["severity"]))


class _Outputs:
    """The three output kinds of one shard of one input file."""

    def __init__(self, root: Path, fmt: str, shard: str) -> None:
        # invalid/ rows are always JSONL (their `raw` is whatever could be read), named as such
        formats = {kind: fmt if kind != "invalid" else "jsonl" for kind in OUTPUT_KINDS}
        self.writers = {kind: ShardWriter(root / kind / f"part-{shard}.{'parquet' if formats[kind] == 'parquet' else 'jsonl'}",
                                          formats[kind]) for kind in OUTPUT_KINDS}

    def close(self) -> None:
        for w in self.writers.values():
            w.close()

    def abort(self) -> None:
        for w in self.writers.values():
            w.abort()


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
    check_output(Path(config["output"]), config["input"], ())
    if scan_with is None and config["executor"] != "local":
        from .ray_run import run_ray, wants_ray

        if wants_ray(config):  # the same run, with scanning on Ray (it calls back here with scan_with)
            return run_ray(config, overrides=overrides, command=command, config_file=config_file,
                           resume=resume, from_manifest=from_manifest)
    root = Path(config["output"])
    refuse_foreign(root)  # before anything is written into a folder that is not a run directory
    if resume and not RunState(root).complete() and not (root / STATE_DIR / "run.json").exists():
        RunState(root).saved_run()  # raises: nothing to resume here, said before taking any lock
    notes: list[str] = []  # a stale lock taken over: said once the run is under way, not before an error
    try:
        root.mkdir(parents=True, exist_ok=True)
        with RunLock(root, warn=notes.append):
            try:
                return _run_locked(root, config, overrides=overrides, command=command, config_file=config_file,
                                   resume=resume, from_manifest=from_manifest, scan_with=scan_with, notes=notes)
            except BaseException:
                remove_temporaries(root)
                raise
    except OutputError:
        raise
    except OSError as exc:  # disk full, permissions, read-only: one line, what to do
        resumable = (root / STATE_DIR / "run.json").is_file()
        raise OutputError(describe_os_error(exc, root, resumable=resumable)) from exc


def _run_locked(root: Path, config: dict[str, Any], *, overrides: Sequence[str], command: Sequence[str],
                config_file: str | Path | None, resume: bool, from_manifest: dict[str, Any] | None,
                scan_with: Any, notes: Sequence[str] = ()) -> RunSummary:
    """The run itself, with RUN_DIR's lock held; `notes` are warnings to print once it is under way."""
    started = time.time()
    state = RunState(root)
    input_warnings: list[str] = []  # e.g. paths the input spec skipped, with why
    if resume:
        claim(root, overwrite=False, resume=True)  # checks only: a run directory
        if state.complete():
            manifest_path = root / "manifest.json"
            return RunSummary(root, read_manifest(manifest_path)["counts"], manifest_path, already_complete=True)
        saved = state.saved_run()
        files = [Path(p) for p in saved["inputs"]]
        input_warnings = [str(w) for w in saved.get("input_warnings") or []]
    else:
        files = expand_inputs(config["input"], warnings=input_warnings)
    check_output(root, config["input"], files)
    if scan_with is None:
        scanner = build_scanner(config)
        packs = scanner.packs
    elif not resume:  # scan_with(config, files, indexes of finished files) -> has Scanner's scan_records and packs
        scanner = scan_with(config, files, set())
        packs = scanner.packs
    else:  # the Ray scanner needs to know the finished files, which resume() decides
        from .rules.model import load_packs

        scanner, packs = None, load_packs(config["rules"]["packs"])
    detectors = detector_hashes(packs, config)
    finished: dict[int, dict[str, Any]] = {}
    if resume:
        files, finished = state.resume(config, detectors)
    else:  # only now, with a scanner built, is an earlier run here cleared (overwrite)
        claim(root, overwrite=config["overwrite"], resume=False, dataset_output=config["dataset_output"])
        state.begin(config, files, overrides=overrides, command=command, detectors=detectors,
                    input_warnings=input_warnings)
    if scanner is None:
        scanner = scan_with(config, files, set(finished))
    for note in notes:
        print(f"safefilter: warning: {note}", file=sys.stderr)
    fmt = config["output_format"]
    counts: Counter[str] = Counter()
    per_category: Counter[str] = Counter()
    per_rule: Counter[str] = Counter()
    shards: list[dict[str, Any]] = []
    warnings: list[str] = list(input_warnings)
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
            batch: list[InputRecord] = []  # in input order: read errors too, so invalid/ keeps input order
            valid = 0  # records in `batch` to scan: batches are cut by these, as ray_run.cut_batches does
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
                        batch, valid = [], 0
                        outputs.close()
                        part, in_part = part + 1, 0
                        outputs = _Outputs(root, fmt, f"{file_index:05d}-{part:05d}")
                        shard_files.append(outputs)
                    in_part += 1
                    batch.append(item)
                    valid += item.error is None
                    if valid >= batch_size:
                        _flush(scanner, batch, labels[file_index], outputs, counts, per_category, per_rule)
                        batch, valid = [], 0
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
                kind: [str(out.relative_to(root)) for o in shard_files for out in o.writers[kind].paths]
                for kind in OUTPUT_KINDS}})
            shards[-1]["counts"] = file_counts(before, (counts, per_category, per_rule))
            shards[-1]["seconds"] = round(time.time() - file_started, 3)
            for kind in OUTPUT_KINDS:  # the shards' renames are durable before the record says so
                if (root / kind).is_dir():
                    fsync_dir(root / kind)
            state.finish_file(file_index, path, shard=shards[-1], warnings=file_warnings)
    counts_out = {k: counts[k] for k in ("input", *OUTPUT_KINDS)}
    counts_out["requested_findings"] = counts["requested_findings"]
    counts_out["analysis_incomplete"] = counts["analysis_incomplete"]  # records a limit cut short (any output)
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
    write_cards(root, manifest)
    manifest_path = write_manifest(root, manifest)  # last: a manifest means a finished run
    state.clear()
    return RunSummary(root, counts_out, manifest_path, warnings=list(warnings))


def source_labels(files: Sequence[Path]) -> list[str]:
    """Input file names relative to their common folder: stable across machines, used for ids."""
    if len(files) == 1:
        return [files[0].name]
    root = Path(os.path.commonpath([str(p.parent) for p in files]))
    return [str(p.relative_to(root)) for p in files]


def _flush(scanner: Scanner, batch: list[InputRecord], label: str, outputs: _Outputs, counts: Counter[str],
           per_category: Counter[str], per_rule: Counter[str]) -> None:
    valid = [item for item in batch if item.error is None]  # read errors are written in their place below
    if not valid:
        results = []
    else:
        pause_for_tests()
        ids = [record_id(item.record, label, item.line) for item in valid]
        results = scanner.scan_records([(item.record, rid) for item, rid in zip(valid, ids)])
    if scanner.failure_budget is not None:  # too many detector failures: a broken detector, stop the run
        scanned = sum(r.verdict is not None or r.failed_detector is not None for r in results)
        scanner.failure_budget.add(scanned, [r.error or "" for r in results if r.failed_detector])
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
            per_category.update(verdict.categories)
            per_rule.update({f.rule_id for f in verdict.findings})
        else:
            writer = outputs.writers["clean"]
            if writer.fmt == "jsonl":
                writer.write_bytes(item.raw if not item.whole_file else orjson.dumps(item.record), None)
            else:
                writer.write_bytes(item.raw, item.record)
            counts["clean"] += 1

