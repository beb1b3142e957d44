"""The Ray executor: the same run as `safefilter.run.run`, with the scanning spread over a Ray cluster.

How it stays identical to a local run: the driver executes the very same run loop (reading,
shards, writers, resume, manifest) and only hands the scanning to a `RayScanner`. Ray Data runs
read tasks that cut each file into exactly the batches the local loop will ask for (same
`batch_size`, same shard boundaries), a scan stage that runs the one `Scanner` code path over each
batch (tasks; an actor pool when the classifier is on, so each actor loads the model once), and
streams the results back in input order. `RayScanner.scan_records` hands the driver the next
batch's results and checks that they are for the same record ids.

Memory stays bounded: Ray Data streams batches with backpressure and the driver holds one batch.
A killed worker loses nothing: scanning is a pure function of the input, Ray reruns the task, and
only the driver writes. Retries are bounded (`ray.max_retries`), so a crash loop ends the run.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import warnings
from pathlib import Path
from typing import Any, Iterator, Sequence

import orjson

from .errors import SafeFilterError
from .io import expand_inputs, read_file
from .scanner import Scanner, ScanResult, record_id

__all__ = ["RayScanner", "run_ray", "wants_ray", "ray_session"]

# Files in these formats carry their record as JSON text: workers re-parse it instead of receiving
# the parsed object. Columnar rows (Parquet, Arrow) are shipped as parsed, to keep their types.
_TEXT_SUFFIXES = (".jsonl", ".ndjson", ".json", ".traj", ".gz")
_BLOCK_BYTES = 1 << 20  # Ray Data block size: about one batch, so that one large file feeds many workers
_INFLIGHT_BYTES_PER_WORKER = 64 << 20  # object store budget of the pipeline: reads run only this far ahead

log = logging.getLogger(__name__)


def wants_ray(config: dict[str, Any]) -> bool:
    """Whether `executor` (auto: inputs of at least `ray.min_bytes` in total) selects Ray."""
    executor = config.get("executor", "local")
    if executor != "auto":
        return executor == "ray"
    total = sum(p.stat().st_size for p in expand_inputs(config["input"]))
    return total >= config["ray"]["min_bytes"]


def run_ray(config: dict[str, Any], *, overrides: Sequence[str] = (), command: Sequence[str] = (),
            config_file: str | Path | None = None, resume: bool = False,
            from_manifest: dict[str, Any] | None = None, worker_scanner: Scanner | None = None):
    """Execute one run with scanning on Ray; outputs and manifest are those of a local run.

    `worker_scanner` (embedding, tests) is pickled to each worker instead of every worker building
    the scanner from the config.
    """
    from .run import run

    def scan_with(cfg: dict[str, Any], files: Sequence[Path], finished: set[int]) -> RayScanner:
        return RayScanner(cfg, files, finished, worker_scanner=worker_scanner)

    _preflight(Path(config["output"]), config["input"])
    with ray_session(config["ray"]):  # the driver (run, below) takes the run directory's lock
        return run(config, overrides=overrides, command=command, config_file=config_file, resume=resume,
                   from_manifest=from_manifest, scan_with=scan_with)


def _preflight(root: Path, input_spec: Any) -> None:
    """Refuse an unusable or busy run directory before starting Ray; run() checks again, locked."""
    from .rundir import check_output, refuse_foreign
    from .runlock import RunLock

    check_output(root, input_spec, ())
    refuse_foreign(root)
    if root.is_dir():
        with RunLock(root):  # held by another run: refused here, not after Ray has started
            pass


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


class RayScanner:
    """Stands in for the driver's `Scanner`: results come from the Ray pipeline, in order.

    Everything but `scan_records` (rule packs for the manifest, the detectors) is the scanner the
    config describes, built in the driver as a local run would.
    """

    def __init__(self, config: dict[str, Any], files: Sequence[Path], finished: set[int] = frozenset(), *,
                 worker_scanner: Scanner | None = None) -> None:
        from .run import build_scanner, source_labels

        self.local = build_scanner(config)
        todo = [(p, label) for i, (p, label) in enumerate(zip(files, source_labels(files))) if i not in finished]
        self._results = _stream_results(config, todo, worker_scanner, self.local)

    def __getattr__(self, name: str) -> Any:
        if name == "local":  # not built (yet): no recursion
            raise AttributeError(name)
        return getattr(self.local, name)

    def scan_records(self, records: Sequence[tuple[dict[str, Any], str]]) -> list[ScanResult]:
        try:
            results = next(self._results)
        except StopIteration:
            results = []
        expected = [rid for _, rid in records]
        got = [r.record_id for r in results]
        if got != expected:
            raise SafeFilterError(
                f"Ray returned results for {got[:3]}... ({len(got)}) where the run expected {expected[:3]}... "
                f"({len(expected)}); the input changed during the run, or this is a bug (please report it)")
        return results


def _stream_results(config: dict[str, Any], files: list[tuple[Path, str]], worker_scanner: Scanner | None,
                    local: Scanner) -> Iterator[list[ScanResult]]:
    """Per batch of valid records of `files` (path, id label), in input order, the results computed on Ray."""
    if not files:
        return
    import ray

    ray_cfg = config["ray"]
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.target_max_block_size = _BLOCK_BYTES
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    retries = ray_cfg["max_retries"]
    workers = ray_cfg["num_workers"] or max(1, int(ray.cluster_resources().get("CPU", 1)
                                                  // max(ray_cfg["num_cpus_per_worker"], 0.001)))
    ctx.execution_options.resource_limits = ray.data.ExecutionResources.for_limits(
        object_store_memory=(workers + 1) * _INFLIGHT_BYTES_PER_WORKER)
    ds = ray.data.from_items([{"path": str(p), "label": label} for p, label in files],
                             override_num_blocks=len(files))
    # cloudpickle: a scanner with detectors defined in a script or test module reaches the workers too
    stage = {"config": config,
             "scanner": ray.cloudpickle.dumps(worker_scanner) if worker_scanner is not None else None}
    stage["key"] = _scanner_key(stage, local)
    resources = {"num_cpus": ray_cfg["num_cpus_per_worker"], "batch_size": 1}
    if ray_cfg["num_gpus_per_worker"]:
        resources["num_gpus"] = ray_cfg["num_gpus_per_worker"]
    with warnings.catch_warnings():  # retry limits have no named parameter yet (Ray 2.60)
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
        # Reads are cheap next to scanning: they take no CPU slot, so they never hold back a scanner.
        ds = ds.map_batches(_read_batches, batch_size=1, num_cpus=0, max_retries=retries,
                            compute=ray.data.TaskPoolStrategy(size=min(len(files), max(1, workers // 4))),
                            fn_kwargs={"batch_size": config["batch_size"],
                                       "per_shard": config["max_records_per_shard"]})
        if getattr(local, "uses_classifier", False):
            ds = ds.map_batches(ScanActor, fn_constructor_kwargs={"stage": stage},
                                compute=ray.data.ActorPoolStrategy(size=workers),
                                max_restarts=retries, max_task_retries=retries, **resources)
        else:
            ds = ds.map_batches(_scan_batches, fn_kwargs={"stage": stage},
                                compute=ray.data.TaskPoolStrategy(size=workers), max_retries=retries, **resources)
    try:
        for row in ds.iter_rows():
            yield pickle.loads(row["results"])
    except SafeFilterError:
        raise
    except Exception as exc:  # Ray wraps worker failures in many types
        raise SafeFilterError(
            f"the Ray scan failed after {retries} retries per task: {_last_line(exc)}; a worker that keeps "
            "crashing points at a bad record or a broken environment (see the Ray logs); raise ray.max_retries "
            "for flaky nodes") from exc


def _last_line(exc: BaseException) -> str:
    """Ray's errors end with the message that matters, after the remote traceback."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}"


def _read_batches(task: dict[str, Any], *, batch_size: int, per_shard: int) -> Iterator[dict[str, list[Any]]]:
    """Read task: one input file cut into the batches of valid records the local run loop scans."""
    for path, label in zip(task["path"], task["label"]):
        keep_parsed = not path.endswith(_TEXT_SUFFIXES)
        for batch in cut_batches(read_file(path), batch_size=batch_size, per_shard=per_shard):
            if not keep_parsed:
                for item in batch:
                    item.record = None  # re-parsed from item.raw by the worker
            yield {"label": [label], "items": [pickle.dumps(batch, protocol=5)]}


def cut_batches(items, *, batch_size: int, per_shard: int) -> Iterator[list[Any]]:
    """The batches `safefilter.run.run` flushes: `batch_size` valid records, cut at every shard end.

    Read errors take a place in a shard but are not scanned, so they are left out of the batches.
    """
    batch: list[Any] = []
    in_part = 0
    for item in items:
        if in_part >= per_shard:
            if batch:
                yield batch
            batch, in_part = [], 0
        in_part += 1
        if item.error is not None:
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


_WORKER_SCANNERS: dict[str, Scanner] = {}
_SCANNER_SECTIONS = ("rules", "policy", "allowlist", "normalize", "classifier")


def _scanner_key(stage: dict[str, Any], local: Scanner) -> str:
    """Same key, same scanner: what it is built from, including the rule packs' contents."""
    if stage["scanner"] is not None:
        return hashlib.sha256(stage["scanner"]).hexdigest()
    config = stage["config"]
    described = {k: config.get(k) for k in _SCANNER_SECTIONS}
    described["packs"] = [p.sha256 for p in local.packs]
    return hashlib.sha256(orjson.dumps(described, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _worker_scanner(stage: dict[str, Any]) -> Scanner:
    """The scanner of this run in this worker process, built (rules compiled, model loaded) once."""
    scanner = _WORKER_SCANNERS.get(stage["key"])
    if scanner is None:
        from .run import build_scanner

        scanner = pickle.loads(stage["scanner"]) if stage["scanner"] is not None else build_scanner(stage["config"])
        _WORKER_SCANNERS.clear()  # keep one: a worker process serves one run at a time
        _WORKER_SCANNERS[stage["key"]] = scanner
    return scanner


def _scan_batches(batch: dict[str, Any], *, stage: dict[str, Any]) -> dict[str, list[bytes]]:
    """Scan task: each row is one batch of records; returns the pickled results per row."""
    return _scan_with(_worker_scanner(stage), batch)


class ScanActor:
    """Scan stage on an actor pool: the scanner (and its classifier model) is built once per actor."""

    def __init__(self, stage: dict[str, Any]) -> None:
        import torch

        # torch would start one thread per core of the node in every actor; keep to the CPUs reserved
        torch.set_num_threads(max(1, int(stage["config"]["ray"]["num_cpus_per_worker"] or 1)))
        self.scanner = _worker_scanner(stage)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[bytes]]:
        return _scan_with(self.scanner, batch)


def _scan_with(scanner: Scanner, batch: dict[str, Any]) -> dict[str, list[bytes]]:
    out = []
    for label, payload in zip(batch["label"], batch["items"]):
        items = pickle.loads(payload)
        pairs = []
        for item in items:
            record = item.record if item.record is not None else orjson.loads(item.raw)
            pairs.append((record, record_id(record, label, item.line)))
        out.append(pickle.dumps(scanner.scan_records(pairs), protocol=5))
    return {"results": out}
