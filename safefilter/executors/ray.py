"""The Ray executor: each work unit is a Ray task (or actor call) that reads, scans and writes its own shards.

The driver only plans units, submits them, collects their completion records (a few hundred bytes
each) and merges the manifest: no record crosses the driver, and throughput grows with workers.
Every worker process builds its scanner once (`executors.scanners.cached_scanner`, the cache the
`datasets` adapter uses too); with the classifier on, units go to a pool of actors so each loads
the model once. At most `ray.num_workers` units run at a time.

RUN_DIR must be a path every node can reach (a shared filesystem): workers write their shards there.

Faults: a worker process that dies mid-unit leaves only temporaries (shards are renamed into place
when complete, the completion record comes last); Ray reruns the unit (`ray.max_retries`) and the
rerun writes the same bytes. A unit that keeps killing its worker ends the run with one error line,
and a unit whose detectors fail (DetectorError) stops the run at once, as in a local run.
"""
from __future__ import annotations

import contextlib
import logging
import os
from collections import deque
from typing import Any, Iterator, Sequence

from ..errors import SafeFilterError
from ..io import count_newlines
from .planner import WorkUnit
from .scanners import cached_scanner
from .sink import UnitOptions, process_unit

__all__ = ["ray_session", "run_on_ray", "count_on_ray", "wants_ray", "worker_count"]


def wants_ray(config: dict[str, Any], total_bytes: int) -> bool:
    """Whether `executor` (auto: inputs of at least `ray.min_bytes` in total) selects Ray."""
    executor = config.get("executor", "local")
    if executor != "auto":
        return executor == "ray"
    return total_bytes >= config["ray"]["min_bytes"]


@contextlib.contextmanager
def ray_session(ray_config: dict[str, Any]) -> Iterator[None]:
    """Join `ray.address` / RAY_ADDRESS, or start a private local Ray; shut down what we started."""
    import ray

    if ray.is_initialized():  # the caller manages Ray (a notebook, a test fixture)
        yield
        return
    address = ray_config["address"] or os.environ.get("RAY_ADDRESS")
    try:
        if address:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        else:
            ray.init(num_cpus=ray_config["num_cpus"], include_dashboard=False, log_to_driver=False,
                     logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise SafeFilterError(f"could not start or join {where}: {exc}; check ray.address / RAY_ADDRESS, "
                              "or run with --executor local") from None
    try:
        yield
    finally:
        ray.shutdown()


def worker_count(ray_config: dict[str, Any]) -> int:
    """`ray.num_workers`, or as many as the cluster's CPUs allow at `num_cpus_per_worker` each."""
    import ray

    if ray_config["num_workers"]:
        return int(ray_config["num_workers"])
    per = max(float(ray_config["num_cpus_per_worker"]), 0.001)
    return max(1, int(ray.cluster_resources().get("CPU", 1) // per))


def _worker() -> dict[str, Any]:
    """Which node and process ran a unit (recorded in its completion record)."""
    import ray

    return {"node": ray.get_runtime_context().get_node_id(), "pid": os.getpid()}


def _run_unit(unit: dict[str, Any], options: UnitOptions, config: dict[str, Any], key: str,
              shipped: bytes | None) -> dict[str, Any]:
    """Task body: this process's scanner (built on first use), then the sink."""
    scanner = cached_scanner(config, key=key, shipped=shipped)
    return process_unit(WorkUnit.from_dict(unit), scanner, options, worker=_worker())


class UnitActor:
    """Holds one scanner (and its classifier model) for all the units it is given."""

    def __init__(self, config: dict[str, Any], key: str, shipped: bytes | None, threads: int) -> None:
        try:
            import torch

            # torch would start one thread per core of the node in every actor; keep to the CPUs reserved
            torch.set_num_threads(max(1, threads))
        except ImportError:
            pass
        self.config, self.key, self.shipped = config, key, shipped

    def run(self, unit: dict[str, Any], options: UnitOptions) -> dict[str, Any]:
        return _run_unit(unit, options, self.config, self.key, self.shipped)


def count_on_ray(ranges: Sequence[tuple[str, int, int]], ray_config: dict[str, Any]) -> list[int]:
    """The planner's newline counts of byte ranges, one small task per range on the workers (ints come back)."""
    if not ranges:
        return []
    import ray

    task = ray.remote(num_cpus=ray_config["num_cpus_per_worker"], max_retries=int(ray_config["max_retries"]))(
        count_newlines)
    refs = [task.remote(path, start, end) for path, start, end in ranges]
    try:
        return list(ray.get(refs))
    except ray.exceptions.RayError as exc:
        raise SafeFilterError(f"counting the lines of the input ranges failed on Ray: {_last_line(exc)}; the input "
                              "must be readable at the same path on every node (a shared filesystem)") from exc


def run_on_ray(units: Sequence[WorkUnit], options: UnitOptions, config: dict[str, Any], *, key: str,
               shipped: bytes | None = None, use_actors: bool = False) -> Iterator[dict[str, Any]]:
    """Completion records of `units` as the workers finish them (any order); call inside `ray_session`.

    `shipped` (a pickled scanner: tests, embedding) replaces building the scanner from `config`.
    """
    if not units:
        return
    import ray

    ray_cfg = config["ray"]
    retries = int(ray_cfg["max_retries"])
    resources: dict[str, Any] = {"num_cpus": ray_cfg["num_cpus_per_worker"]}
    if ray_cfg["num_gpus_per_worker"]:
        resources["num_gpus"] = ray_cfg["num_gpus_per_worker"]
    workers = min(worker_count(ray_cfg), len(units))
    todo = deque(units)
    pending: dict[Any, Any] = {}  # object ref -> actor (None for a task)
    config_ref = ray.put(config)
    shipped_ref = ray.put(shipped) if shipped is not None else None
    if use_actors:
        actor_cls = ray.remote(max_restarts=retries, max_task_retries=retries, **resources)(UnitActor)
        idle = deque(actor_cls.remote(config_ref, key, shipped_ref, int(ray_cfg["num_cpus_per_worker"] or 1))
                     for _ in range(workers))
    else:
        task = ray.remote(max_retries=retries, retry_exceptions=False, **resources)(_run_unit)
        idle = deque([None] * workers)
    try:
        while todo or pending:
            while todo and idle:
                unit, actor = todo.popleft(), idle.popleft()
                if actor is None:
                    ref = task.remote(unit.to_dict(), options, config_ref, key, shipped_ref)
                else:
                    ref = actor.run.remote(unit.to_dict(), options)
                pending[ref] = actor
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                idle.append(pending.pop(ref))
                yield _result(ref, retries)
    finally:
        for ref in pending:  # the run failed or was interrupted: stop what is still writing
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
        if use_actors:
            for actor in {a for a in pending.values() if a is not None} | {a for a in idle if a is not None}:
                with contextlib.suppress(Exception):
                    ray.kill(actor)


def _result(ref: Any, retries: int) -> dict[str, Any]:
    """A unit's completion record, or the run's error: a SafeFilterError raised in the worker as itself."""
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, SafeFilterError):
            raise cause from None
        raise SafeFilterError(f"a work unit failed on Ray: {_last_line(exc)}; this is a bug or a broken worker "
                              "environment (see the Ray logs)") from exc
    except ray.exceptions.RayError as exc:  # the worker process or its node died, more often than allowed
        raise SafeFilterError(
            f"the Ray scan failed after {retries} retries per task: {_last_line(exc)}; a worker that keeps "
            "crashing points at a bad record or a broken environment (see the Ray logs); raise ray.max_retries "
            "for flaky nodes") from exc


def _last_line(exc: BaseException) -> str:
    """Ray's errors end with the message that matters, after the remote traceback."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}"
