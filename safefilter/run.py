"""The config-driven run: plan work units, have an executor process them, merge the books, write the manifest.

This module is the driver and only the driver: it claims and locks the run directory, plans the
work units (executors/planner.py), hands them to an executor (executors/local.py in this process,
executors/ray.py on a Ray cluster), collects each unit's completion record (written by the unit's
sink, executors/sink.py) and merges them into manifest.json. It never reads or writes a record
itself, so the local and Ray executors write the same bytes.

The run directory is claimed and locked first (rundir.py, runlock.py): a folder that is not a run
directory, or that overlaps the inputs, is refused before anything is written; a second run into
a locked folder is refused. Any OSError while writing (disk full, permissions) removes the run's
temporaries and becomes one OutputError line that says what to do. The run checks its own books
before it writes the manifest: input = clean + unsafe + invalid.
"""
from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from .atomic import describe_os_error
from .cards import write_cards
from .errors import OutputError, SafeFilterError
from .executors.planner import RangeCounter, WorkUnit, count_here, plan_units, source_labels
from .executors.scanners import build_classifier, build_scanner, scanner_key
from .executors.sink import UnitOptions
from .faults import FailureBudget
from .io import OUTPUT_KINDS, expand_inputs
from .manifest import build_manifest, detector_hashes, read_manifest, write_manifest
from .resume import STATE_DIR, RunState, add_file_counts
from .rundir import check_output, claim, refuse_foreign, remove_temporaries
from .runlock import RunLock
from .scanner import Scanner

__all__ = ["RunSummary", "build_scanner", "build_classifier", "run", "finish_run", "source_labels"]


@dataclass
class RunSummary:
    output: Path
    counts: dict[str, Any] = field(default_factory=dict)
    manifest_path: Path | None = None
    already_complete: bool = False  # --resume of a finished run: nothing was done
    warnings: list[str] = field(default_factory=list)  # as in manifest.json: skipped inputs, roll-overs, ...


def _progress(config: dict[str, Any], total_bytes: int):
    from tqdm.auto import tqdm

    enabled = config["progress"]
    disable = (not sys.stderr.isatty()) if enabled == "auto" else not enabled
    return tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024, desc="scanning",
                disable=disable, dynamic_ncols=True)


def run(config: dict[str, Any], *, overrides: Sequence[str] = (), command: Sequence[str] = (),
        config_file: str | Path | None = None, resume: bool = False,
        from_manifest: dict[str, Any] | None = None, scan_with: Callable[..., Any] | None = None,
        worker_scanner: Scanner | None = None) -> RunSummary:
    """Execute one run as configured; returns counts and where the manifest is.

    `resume=True` continues an interrupted run in the same output directory (see resume.py);
    `config_file` and `from_manifest` are only recorded in the manifest. `scan_with(config, files,
    finished)` supplies the scanner of an in-process run (tests, embedding); `worker_scanner` is
    pickled to every Ray worker instead of each building the scanner from the config.
    """
    check_output(Path(config["output"]), config["input"], ())
    root = Path(config["output"])
    if config_file is not None:  # now: under `ray job submit` the working directory can vanish mid-run
        config_file = Path(config_file).resolve()
    refuse_foreign(root)  # before anything is written into a folder that is not a run directory
    if resume and not RunState(root).complete() and not (root / STATE_DIR / "run.json").exists():
        RunState(root).saved_run()  # raises: nothing to resume here, said before taking any lock
    notes: list[str] = []  # a stale lock taken over: said once the run is under way, not before an error
    try:
        root.mkdir(parents=True, exist_ok=True)
        with RunLock(root, warn=notes.append):
            try:
                return _run_locked(root, config, overrides=overrides, command=command, config_file=config_file,
                                   resume=resume, from_manifest=from_manifest, scan_with=scan_with,
                                   worker_scanner=worker_scanner, notes=notes)
            except BaseException:
                remove_temporaries(root)
                raise
    except OutputError:
        raise
    except OSError as exc:  # disk full, permissions, read-only: one line, what to do
        resumable = (root / STATE_DIR / "run.json").is_file()
        raise OutputError(describe_os_error(exc, root, resumable=resumable)) from exc


def _uses_ray(config: dict[str, Any], files: Sequence[Path], scan_with: Any) -> bool:
    if scan_with is not None or config["executor"] == "local":
        return False
    from .executors.ray import wants_ray

    total = sum(p.stat().st_size for p in files) if config["executor"] == "auto" else 0
    return wants_ray(config, total)


def _run_locked(root: Path, config: dict[str, Any], *, overrides: Sequence[str], command: Sequence[str],
                config_file: str | Path | None, resume: bool, from_manifest: dict[str, Any] | None,
                scan_with: Any, worker_scanner: Scanner | None, notes: Sequence[str] = ()) -> RunSummary:
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
    on_ray = _uses_ray(config, files, scan_with)
    with contextlib.ExitStack() as stack:
        if on_ray:
            from .executors.ray import ray_session

            stack.enter_context(ray_session(config["ray"]))
        return _plan_and_execute(root, config, state, files, input_warnings, on_ray, started=started,
                                 overrides=overrides, command=command, config_file=config_file,
                                 from_manifest=from_manifest, resume=resume, scan_with=scan_with,
                                 worker_scanner=worker_scanner, notes=notes)


def _plan_and_execute(root: Path, config: dict[str, Any], state: RunState, files: list[Path],
                      input_warnings: list[str], on_ray: bool, *, started: float, overrides: Sequence[str],
                      command: Sequence[str], config_file: str | Path | None, from_manifest: dict[str, Any] | None,
                      resume: bool, scan_with: Any, worker_scanner: Scanner | None,
                      notes: Sequence[str]) -> RunSummary:
    """Build or load the detectors, plan (or reload) the work units, have them processed, merge the books."""
    scanner: Any = None
    if on_ray:  # the workers build the scanner; the driver needs only the rule packs, for the books
        from .rules.model import load_packs

        packs = worker_scanner.packs if worker_scanner is not None else load_packs(config["rules"]["packs"])
    else:
        scanner = scan_with(config, files, set()) if scan_with is not None else build_scanner(config)
        packs = scanner.packs
    detectors = detector_hashes(packs, config)
    done: dict[int, dict[str, Any]] = {}
    if resume:
        files, done = state.resume(config, detectors)
        saved_units = state.saved_units()
        # a state from before work units were planned: its units were whole files
        units = ([WorkUnit.from_dict(u) for u in saved_units] if saved_units is not None
                 else plan_units(files, unit_bytes=sys.maxsize))
    else:  # only now, with a scanner built, is an earlier run here cleared (overwrite)
        claim(root, overwrite=config["overwrite"], resume=False, dataset_output=config["dataset_output"])
        units = plan_units(files, count=_counter(config, on_ray))
        state.begin(config, files, overrides=overrides, command=command, detectors=detectors,
                    input_warnings=input_warnings, units=[u.to_dict() for u in units])
    for note in notes:
        print(f"safefilter: warning: {note}", file=sys.stderr)
    todo = [u for u in units if u.index not in done]
    records = dict(done)
    options = UnitOptions.from_config(config)
    with _progress(config, sum(u.size for u in units)) as bar:
        bar.update(sum(u.size for u in units if u.index in done))
        sizes = {u.index: u.size for u in todo}
        with _executor(config, todo, options, scanner, on_ray, detectors, worker_scanner) as completions:
            for record in completions:
                index = record["shard"]["unit"]["index"]
                records[index] = record
                bar.update(sizes[index])
    return _finish(root, config, files, units, records, packs, input_warnings, started=started, overrides=overrides,
                   command=command, config_file=config_file, from_manifest=from_manifest, resumed=resume,
                   budget=FailureBudget.from_config(config["limits"]) if on_ray or getattr(
                       scanner, "failure_budget", None) is not None else None)


def _counter(config: dict[str, Any], on_ray: bool) -> RangeCounter:
    """Where the planner counts the newlines of byte ranges: on the Ray workers, or here."""
    if not on_ray:
        return count_here
    from .executors.ray import count_on_ray

    return lambda ranges: count_on_ray(ranges, config["ray"])


@contextlib.contextmanager
def _executor(config: dict[str, Any], units: Sequence[WorkUnit], options: UnitOptions, scanner: Any, on_ray: bool,
              detectors: dict[str, Any], worker_scanner: Scanner | None) -> Iterator[Iterator[dict[str, Any]]]:
    """The completion records of `units` from the executor the config selects (Ray: inside a Ray session)."""
    if not on_ray:
        from .executors.local import run_local

        yield run_local(units, scanner, options)
        return
    from .executors.ray import run_on_ray

    shipped = None
    if worker_scanner is not None:
        import ray.cloudpickle  # by value: a scanner with detectors from a script or test module reaches workers

        shipped = ray.cloudpickle.dumps(worker_scanner)
    key = scanner_key(config, detectors=detectors, shipped=shipped)
    use_actors = bool(config["classifier"]["enabled"]) if worker_scanner is None else worker_scanner.uses_classifier
    yield run_on_ray(units, options, config, key=key, shipped=shipped, use_actors=use_actors)


def _finish(root: Path, config: dict[str, Any], files: Sequence[Path], units: Sequence[WorkUnit],
            records: dict[int, dict[str, Any]], packs: Sequence[Any], input_warnings: Sequence[str], *,
            started: float, overrides: Sequence[str], command: Sequence[str], config_file: str | Path | None,
            from_manifest: dict[str, Any] | None, resumed: bool, budget: FailureBudget | None) -> RunSummary:
    """Merge the units' completion records (in unit order) into the run's counts and manifest."""
    counts: Counter[str] = Counter()
    per_category: Counter[str] = Counter()
    per_rule: Counter[str] = Counter()
    shards: list[dict[str, Any]] = []
    warnings: list[str] = list(input_warnings)
    scanned = failed = 0
    last_error = ""
    for unit in units:
        record = records[unit.index]
        add_file_counts(record["shard"]["counts"], counts, per_category, per_rule)
        shards.append(record["shard"])
        warnings.extend(record["warnings"])
        failures = record.get("detector_failures") or {}
        scanned += failures.get("scanned", 0)
        failed += failures.get("failed", 0)
        last_error = failures.get("last_error") or last_error
    if budget is not None and failed:  # the run as a whole, as a local run counts it
        budget.add(scanned, [last_error] * failed)
    remove_temporaries(root)  # every unit is done: nothing is being written
    counts_out: dict[str, Any] = {k: counts[k] for k in ("input", *OUTPUT_KINDS)}
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
                              packs=packs, counts=counts_out, shards=shards, warnings=warnings,
                              started=started, finished=time.time(), config_file=config_file,
                              from_manifest=from_manifest, resumed=resumed)
    finish_run(root, manifest)
    manifest_path = write_manifest(root, manifest)  # last: a manifest means a finished run
    RunState(root).clear()
    from .export.postrun import write_run_extras  # exports and report.html from the finished run; failures only warn
    write_run_extras(root, config)
    return RunSummary(root, counts_out, manifest_path, warnings=list(warnings))


def finish_run(root: Path, manifest: dict[str, Any]) -> None:
    """What is written from a finished run's manifest before the manifest itself (data cards, reports).

    The seam for end-of-run outputs: each reads `manifest` (counts, shards, config), none reads records
    again. A failure here leaves no manifest, so the run can be resumed.
    """
    write_cards(root, manifest)
