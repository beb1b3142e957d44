"""Running on Ray by name: `run_ray` is `run` with `executor: ray` (see executors/ray.py for how).

Kept as the entry point for code that embeds safefilter on a cluster (`run_ray(config)`), and for
the pre-start check of a busy run directory. It imports `run`; `run` never imports this module.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from .executors.ray import ray_session, wants_ray as _wants_ray
from .io import expand_inputs
from .run import RunSummary, run
from .scanner import Scanner

__all__ = ["run_ray", "wants_ray", "ray_session"]


def wants_ray(config: dict[str, Any]) -> bool:
    """Whether `executor` (auto: inputs of at least `ray.min_bytes` in total) selects Ray."""
    total = sum(p.stat().st_size for p in expand_inputs(config["input"])) if config["executor"] == "auto" else 0
    return _wants_ray(config, total)


def run_ray(config: dict[str, Any], *, overrides: Sequence[str] = (), command: Sequence[str] = (),
            config_file: str | Path | None = None, resume: bool = False,
            from_manifest: dict[str, Any] | None = None, worker_scanner: Scanner | None = None) -> RunSummary:
    """Execute one run on Ray; outputs and manifest are those of a local run.

    `worker_scanner` (embedding, tests) is pickled to each worker instead of every worker building
    the scanner from the config.
    """
    _preflight(Path(config["output"]), config["input"])
    return run({**config, "executor": "ray"}, overrides=overrides, command=command, config_file=config_file,
               resume=resume, from_manifest=from_manifest, worker_scanner=worker_scanner)


def _preflight(root: Path, input_spec: Any) -> None:
    """Refuse an unusable or busy run directory before starting Ray; run() checks again, locked."""
    from .rundir import check_output, refuse_foreign
    from .runlock import RunLock

    check_output(root, input_spec, ())
    refuse_foreign(root)
    if root.is_dir():
        with RunLock(root):  # held by another run: refused here, not after Ray has started
            pass
