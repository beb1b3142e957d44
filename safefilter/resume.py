"""Resuming an interrupted run: RUN_DIR/_state/ records what is finished.

Work is done one input file at a time; its output shards (`part-<file>-<part>.*`) are renamed
into place when closed. Only after every shard of an input file is closed does the run write
`_state/input-<file>.json` (atomically) with that file's outputs, counts and warnings, so a
record on disk means the file is finished. `_state/run.json`, written first, holds the resolved
config and the input list. `--resume` checks the config is the same, keeps the finished files,
deletes every other shard and temporary file, and redoes the rest. The final manifest sums the
per-file counts, and `_state/` is removed once manifest.json is written.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from .errors import SafeFilterError
from .io import OUTPUT_KINDS

__all__ = ["RunState", "run_fingerprint", "EXECUTION_KEYS", "file_counts", "add_file_counts", "pause_for_tests",
           "TEST_DELAY_ENV"]

STATE_DIR = "_state"
# Not a feature: tests set this to slow each batch down so they can kill a run partway.
TEST_DELAY_ENV = "SAFEFILTER_TEST_BATCH_DELAY"
# Settings that change where and how a run executes but not its outputs (the state lives in `output`).
EXECUTION_KEYS = ("output", "progress", "overwrite", "executor", "ray")


def run_fingerprint(config: dict[str, Any]) -> str:
    """Hash of every config setting that can change the outputs (all but EXECUTION_KEYS)."""
    kept = {k: v for k, v in config.items() if k not in EXECUTION_KEYS}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _stat_key(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def file_counts(before: Sequence[Counter[str]], after: Sequence[Counter[str]]) -> dict[str, Any]:
    """Counts one input file added, from snapshots of (counts, per_category, per_rule) around it."""
    counts, categories, rules = (dict(sorted((a - b).items())) for a, b in zip(after, before))
    return {**counts, "categories": categories, "rules": rules}


def add_file_counts(record: dict[str, Any], counts: Counter[str], per_category: Counter[str],
                    per_rule: Counter[str]) -> None:
    """Add a finished file's persisted counts back into the run's totals."""
    per_category.update(record["categories"])
    per_rule.update(record["rules"])
    counts.update({k: v for k, v in record.items() if k not in ("categories", "rules")})


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
              command: Sequence[str]) -> None:
        """Record a new run before any output is written (forgetting any earlier state here)."""
        self.clear()
        self.dir.mkdir(parents=True, exist_ok=True)
        _write_json_atomic(self.dir / "run.json", {
            "fingerprint": run_fingerprint(config), "config": config, "overrides": list(overrides),
            "command": list(command), "inputs": [str(p) for p in files]})

    def saved_run(self) -> dict[str, Any]:
        """What `begin` wrote, or an error that says why this directory cannot be resumed."""
        path = self.dir / "run.json"
        if not path.exists():
            if (self.root / "manifest.json").exists():
                raise SafeFilterError(f"the run in {self.root} is already complete (manifest.json exists); "
                                      "nothing to resume")
            raise SafeFilterError(f"{self.root} holds no interrupted run to resume (no {STATE_DIR}/run.json); "
                                  "start it without --resume")
        return json.loads(path.read_text(encoding="utf-8"))

    def resume(self, config: dict[str, Any]) -> tuple[list[Path], dict[int, dict[str, Any]]]:
        """Check `config` is the interrupted run's, clean up unfinished work; return its inputs and finished files."""
        saved = self.saved_run()
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
        for index, path in enumerate(files):
            record = self._finished(index, path)
            if record is not None:
                done[index] = record
        self._remove_unfinished(done)
        return files, done

    def _finished(self, index: int, path: Path) -> dict[str, Any] | None:
        state_file = self.dir / f"input-{index:05d}.json"
        if not state_file.exists():
            return None
        record = json.loads(state_file.read_text(encoding="utf-8"))
        outputs = [self.root / p for paths in record["shard"]["outputs"].values() for p in paths]
        if record["input"] != str(path) or record["stat"] != _stat_key(path) or not all(p.exists() for p in outputs):
            state_file.unlink()  # the input changed or an output is gone: redo this file
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

    def finish_file(self, index: int, path: Path, *, shard: dict[str, Any], warnings: list[str]) -> None:
        """Record that every output shard of input `index` is closed; call only after closing them."""
        _write_json_atomic(self.dir / f"input-{index:05d}.json", {
            "input": str(path), "stat": _stat_key(path), "shard": shard, "warnings": warnings})

    def clear(self) -> None:
        """Forget the state once the manifest is written: the run is complete."""
        shutil.rmtree(self.dir, ignore_errors=True)
