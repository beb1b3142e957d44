"""Resuming an interrupted run: RUN_DIR/_state/ records what is finished.

Work is done one work unit at a time (an input file, or a byte range of a large one: see
executors/planner.py), in whatever process or node runs it; its output shards (`part-<unit>-<part>.*`)
are renamed into place when closed. Only after every shard of a unit is closed does its sink write
`_state/input-<unit>.json` (atomically) with the unit's outputs, their hashes, counts and warnings,
so a record on disk means the unit is finished. `_state/run.json`, written first, holds the resolved
config, the input list, the plan of work units and the hashes of the rule packs and classifier model.
`--resume` checks that config, packs and model are the same, keeps the finished units, deletes every
other shard and temporary file, and redoes the rest. The final manifest merges the completion records,
and `_state/` is removed once manifest.json is written.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from .atomic import atomic_write
from .errors import OutputError, SafeFilterError
from .io import OUTPUT_KINDS
from .rundir import remove_temporaries

__all__ = ["RunState", "run_fingerprint", "EXECUTION_KEYS", "add_file_counts", "pause_for_tests",
           "TEST_DELAY_ENV", "detector_changes", "write_completion", "STATE_DIR"]

STATE_DIR = "_state"
# Not a feature: tests set this to slow each batch down so they can kill a run partway.
TEST_DELAY_ENV = "SAFEFILTER_TEST_BATCH_DELAY"
# Settings that change where and how a run executes but not its outputs (the state lives in `output`).
# `limits` only decides when a run stops: a run stopped by too many detector failures resumes with a
# raised limits.max_detector_failure_share.
EXECUTION_KEYS = ("output", "progress", "overwrite", "executor", "ray", "limits")


def run_fingerprint(config: dict[str, Any]) -> str:
    """Hash of every config setting that can change the outputs (all but EXECUTION_KEYS)."""
    kept = {k: v for k, v in config.items() if k not in EXECUTION_KEYS}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(data, indent=1))


def detector_changes(saved: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """What differs between two `detectors` records (rule pack and model hashes), in words."""
    if saved is None:
        return []
    changes = []
    old_packs, new_packs = saved.get("rule_packs", {}), current.get("rule_packs", {})
    for path in sorted(set(old_packs) | set(new_packs)):
        if path not in new_packs:
            changes.append(f"rule pack {path} is no longer loaded")
        elif path not in old_packs:
            changes.append(f"rule pack {path} is new")
        elif old_packs[path] != new_packs[path]:
            changes.append(f"rule pack {path} changed (sha256 {old_packs[path][:12]} -> {new_packs[path][:12]})")
    if saved.get("classifier") != current.get("classifier"):
        old, new = saved.get("classifier"), current.get("classifier")
        changes.append(f"classifier model changed (sha256 {str(old)[:12]} -> {str(new)[:12]})")
    old_review = (saved.get("review") or {}).get("decisions_sha256")
    new_review = (current.get("review") or {}).get("decisions_sha256")
    if old_review != new_review:
        changes.append(f"review decisions changed (sha256 {str(old_review)[:12]} -> {str(new_review)[:12]})")
    return changes


def _stat_key(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def add_file_counts(record: dict[str, Any], counts: Counter[str], per_category: Counter[str],
                    per_rule: Counter[str]) -> None:
    """Add a finished file's persisted counts back into the run's totals."""
    per_category.update(record["categories"])
    per_rule.update(record["rules"])
    counts.update({k: v for k, v in record.items() if k not in ("categories", "rules")})


def write_completion(state_dir: Path, index: int, record: dict[str, Any]) -> Path:
    """Write work unit `index`'s completion record; call only once every shard it lists is renamed into place."""
    path = Path(state_dir) / f"input-{index:05d}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_json_atomic(path, record)
    return path


def pause_for_tests() -> None:
    """Sleep after a batch when TEST_DELAY_ENV is set; lets a test kill a run in the middle."""
    delay = os.environ.get(TEST_DELAY_ENV)
    if delay:
        time.sleep(float(delay))


class RunState:
    """The `_state/` folder of one run directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.dir = self.root / STATE_DIR

    def begin(self, config: dict[str, Any], files: Sequence[Path], *, overrides: Sequence[str],
              command: Sequence[str], detectors: dict[str, Any] | None = None,
              input_warnings: Sequence[str] = (), units: Sequence[dict[str, Any]] | None = None) -> None:
        """Record a new run before any output is written (forgetting any earlier state here).

        `detectors` holds the rule packs' and the model's hashes, which `--resume` compares;
        `input_warnings` (inputs the spec skipped, with why) reach the manifest of a resumed run too;
        `units` is the plan of work units, which a resumed run follows (re-planned when absent).
        """
        self.clear()
        self.dir.mkdir(parents=True, exist_ok=True)
        _write_json_atomic(self.dir / "run.json", {
            "fingerprint": run_fingerprint(config), "config": config, "overrides": list(overrides),
            "command": list(command), "inputs": [str(p) for p in files], "detectors": detectors,
            "input_warnings": list(input_warnings), "units": list(units) if units is not None else None})

    def complete(self) -> bool:
        """Whether the run here finished: manifest.json written and no state left to resume."""
        return (self.root / "manifest.json").is_file() and not (self.dir / "run.json").exists()

    def saved_run(self) -> dict[str, Any]:
        """What `begin` wrote, or an error that says why this directory cannot be resumed."""
        path = self.dir / "run.json"
        if not path.exists():
            if (self.root / "manifest.json").exists():
                raise SafeFilterError(f"the run in {self.root} is already complete (manifest.json exists); "
                                      "nothing to resume")
            raise SafeFilterError(f"{self.root} holds no interrupted run to resume (no {STATE_DIR}/run.json); "
                                  "start it without --resume")
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            if not (isinstance(saved, dict) and isinstance(saved["config"], dict) and isinstance(saved["inputs"], list)
                    and isinstance(saved["fingerprint"], str)):
                raise ValueError("not a state record")
        except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise OutputError(f"the saved state of the interrupted run in {self.root} is damaged ({path}: {exc}); "
                              "it cannot be resumed: start again without --resume, into a new --output or with "
                              "--set overwrite=true") from None
        return saved

    def resume(self, config: dict[str, Any], detectors: dict[str, Any] | None = None,
               ) -> tuple[list[Path], dict[int, dict[str, Any]]]:
        """Check `config` (and rule pack and model hashes) are the interrupted run's, clean up unfinished
        work; return its inputs and the completion records of finished units, by unit number.

        Call `unit_inputs()` after it for the input file of every unit of the saved plan."""
        saved = self.saved_run()
        changed = detector_changes(saved.get("detectors"), detectors) if detectors is not None else []
        if changed:
            raise SafeFilterError(
                f"cannot resume {self.root}: the detectors changed since the interrupted run "
                f"({'; '.join(changed)}); mixing two rule or model versions in one run is refused: restore them, "
                "or start again without --resume (a new --output or --set overwrite=true)")
        if saved["fingerprint"] != run_fingerprint(config):
            differing = sorted(k for k in set(config) | set(saved["config"])
                               if k not in EXECUTION_KEYS and config.get(k) != saved["config"].get(k))
            raise SafeFilterError(
                f"cannot resume {self.root}: the config differs from the interrupted run's "
                f"(keys: {', '.join(differing) or 'input files'}); resume with the same config and --set "
                "overrides, or give only --output to use the saved ones")
        files = [Path(p) for p in saved["inputs"]]
        missing = [str(p) for p in files if not p.is_file()]
        if missing:
            raise SafeFilterError(f"cannot resume {self.root}: input files are gone: {', '.join(missing)}")
        done = {}
        for index, path in enumerate(self.unit_inputs(files)):
            record = self._finished(index, path)
            if record is not None:
                done[index] = record
        self._remove_unfinished(done)
        return files, done

    def saved_units(self) -> list[dict[str, Any]] | None:
        """The plan of work units the interrupted run recorded (None: an older state without one)."""
        units = self.saved_run().get("units")
        return units if isinstance(units, list) else None

    def unit_inputs(self, files: Sequence[Path]) -> list[Path]:
        """The input file of each work unit of the saved plan (one unit per file when none was saved)."""
        units = self.saved_units()
        if units is None:
            return list(files)
        return [Path(u["path"]) for u in units]

    def _finished(self, index: int, path: Path) -> dict[str, Any] | None:
        """Work unit `index`'s completion record if it is usable: same input, unchanged, outputs all there."""
        state_file = self.dir / f"input-{index:05d}.json"
        if not state_file.exists():
            return None
        try:
            record = json.loads(state_file.read_text(encoding="utf-8"))
            outputs = [self.root / p for paths in record["shard"]["outputs"].values() for p in paths]
            usable = record["input"] == str(path) and record["stat"] == _stat_key(path)
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            usable = False  # a damaged record (it is written atomically, so only by hand): redo the unit
        if not usable or not all(p.exists() for p in outputs):
            state_file.unlink()  # the input changed, an output is gone or the record is damaged: redo this unit
            return None
        return record

    def _remove_unfinished(self, done: dict[int, dict[str, Any]]) -> None:
        keep = {self.root / p for record in done.values() for paths in record["shard"]["outputs"].values()
                for p in paths}
        for kind in OUTPUT_KINDS:
            for path in (self.root / kind).rglob("*"):
                if path.is_file() and path not in keep and (path.name.startswith("part-") or
                                                            path.name.endswith(".tmp")):
                    path.unlink()
        remove_temporaries(self.root)  # a half-written manifest, card or state record

    def clear(self) -> None:
        """Forget the state once the manifest is written: the run is complete.

        Only the state files a run writes are deleted, then the folder if it is empty.
        """
        if not self.dir.is_dir():
            return
        for path in self.dir.iterdir():
            if path.name == "run.json" or path.name.startswith("input-") and path.name.endswith(".json") \
                    or path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)
        try:
            self.dir.rmdir()
        except OSError:
            pass
