"""Ray executor: `ray job submit` on a real loopback head, byte-identical to local, failures bounded.

One head (with the job server) serves the whole module; the in-process tests join it too. The
two-node test (a second `ray start --address` node) is marked slow: `pytest -m slow tests/test_ray.py`.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from safefilter.config import load_config
from safefilter.errors import SafeFilterError
from safefilter.run import build_scanner, run

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray")

REPO = Path(__file__).resolve().parents[1]
SAMPLE = [REPO / "examples" / "trajectories", REPO / "examples" / "broken"]
HEAD_ENV = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


@dataclass
class Head:
    address: str
    dashboard: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop_session(head: subprocess.Popen) -> None:
    """Stop the head we started and everything it spawned (its session), by process id only."""
    import psutil

    os.killpg(head.pid, signal.SIGTERM)
    try:
        head.wait(timeout=2)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.time() + 10
    while time.time() < deadline:
        left = [p for p in psutil.process_iter(["status"])
                if p.info["status"] != psutil.STATUS_ZOMBIE and _session_of(p) == head.pid]
        if not left:
            return
        for p in left:
            try:
                p.kill()
            except psutil.Error:
                pass
        time.sleep(0.2)


def _session_of(proc) -> int | None:
    try:
        return os.getsid(proc.pid)
    except OSError:
        return None


@pytest.fixture(scope="module")
def head():
    temp = tempfile.mkdtemp(prefix="sfray", dir="/tmp")  # short: Ray's sockets live under it
    port, dashboard_port = _free_port(), _free_port()
    log = open(Path(temp) / "head.log", "wb")
    proc = subprocess.Popen(
        ["ray", "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
         "--dashboard-host=127.0.0.1", f"--dashboard-port={dashboard_port}", "--include-dashboard=true",
         "--num-cpus=2", "--disable-usage-stats", f"--temp-dir={temp}"],
        env=HEAD_ENV, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    dashboard = f"http://127.0.0.1:{dashboard_port}"
    try:
        deadline = time.time() + 90
        while True:
            assert proc.poll() is None, (Path(temp) / "head.log").read_text()[-2000:]
            assert time.time() < deadline, "the Ray head did not come up within 90 s"
            try:
                urllib.request.urlopen(dashboard + "/api/version", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        ray.init(address=f"127.0.0.1:{port}", log_to_driver=False, logging_level="WARNING")
        yield Head(f"127.0.0.1:{port}", dashboard)
    finally:
        ray.shutdown()
        _stop_session(proc)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def _config(out: Path, *overrides: str) -> dict:
    config, _ = load_config(REPO / "configs" / "ray.yaml", [
        f"input=[{SAMPLE[0]}, {SAMPLE[1]}]", f"output={out}", "progress=false", *overrides])
    return config


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for kind in ("clean", "unsafe", "invalid")
            for p in sorted((out / kind).glob("*")) if p.is_file()}


def _manifest(out: Path) -> dict:
    import json

    return json.loads((out / "manifest.json").read_text())


def test_ray_job_submit_runs_safefilter_on_the_sample(head, tmp_path):
    out = tmp_path / "job"
    cmd = ["ray", "job", "submit", "--address", head.dashboard, "--working-dir", str(REPO), "--",
           "safefilter", "run", "--config", "configs/ray.yaml", "--output", str(out), "--no-progress",
           "--input", str(SAMPLE[0]), "--input", str(SAMPLE[1]), "--set", "ray.max_retries=1"]
    done = subprocess.run(cmd, env=HEAD_ENV, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    counts = _manifest(out)["counts"]
    assert counts["input"] == counts["clean"] + counts["unsafe"] + counts["invalid"] > 0
    checked = 0
    for shard in _manifest(out)["shards"]:
        if shard["input"].endswith(".jsonl"):  # clean records of JSONL inputs are the input lines, byte for byte
            input_lines = set(Path(shard["input"]).read_bytes().splitlines())
            for name in shard["outputs"]["clean"]:
                lines = (out / name).read_bytes().splitlines()
                assert lines and set(lines) <= input_lines
                checked += len(lines)
    assert checked > 20
    local = tmp_path / "local"
    run(_config(local, "executor=local"))
    assert _files(out) == _files(local)
    assert _manifest(local)["counts"] == counts


class Fragile:
    """A detector that raises on one record and hard-kills its worker process on another."""

    name = "fragile"

    def __init__(self, raise_on: str, kill_on: str, kill_marker: Path | None, always: bool = False) -> None:
        self.raise_on, self.kill_on, self.kill_marker, self.always = raise_on, kill_on, kill_marker, always

    def detect_batch(self, items):
        ids = {item.trajectory.id for item in items}
        if self.kill_marker is not None and self.kill_on in ids:
            if self.always or not self.kill_marker.exists():
                self.kill_marker.touch()
                os._exit(1)  # what a segfault in native code looks like to Ray
        if self.raise_on in ids:
            raise RuntimeError("boom")
        return [[] for _ in items]


def _fragile_scanner(config: dict, fragile: Fragile):
    scanner = build_scanner(config)
    scanner.detectors.append(fragile)
    return scanner


@pytest.fixture
def by_value():
    """Ship this module's Fragile detector to the workers by value (they cannot import tests/)."""
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_ray_writes_the_bytes_local_writes_despite_a_raising_detector_and_a_killed_worker(head, tmp_path, by_value):
    from safefilter.ray_run import run_ray

    # small batches and shards, so batches are cut at shard ends and around invalid lines
    cuts = ("batch_size=3", "max_records_per_shard=7")
    config = _config(tmp_path / "ray", *cuts)
    worker = _fragile_scanner(config, Fragile("devops-00104", "swe-00121", tmp_path / "killed"))
    summary = run_ray(config, worker_scanner=worker)
    assert (tmp_path / "killed").exists()  # a worker did die, and its task was rerun
    local_config = _config(tmp_path / "local", *cuts, "executor=local")
    in_process = _fragile_scanner(local_config, Fragile("devops-00104", "swe-00121", None))
    local = run(local_config, scan_with=lambda *_: in_process)
    assert summary.counts == local.counts
    ray_files = _files(tmp_path / "ray")
    assert len(ray_files) > 6 and ray_files == _files(tmp_path / "local")
    invalid = b"".join(v for k, v in ray_files.items() if k.startswith("invalid"))
    assert invalid.count(b"detector failed on this record: RuntimeError: boom") == 1
    shards = [[(s["label"], s["outputs"], s["counts"]) for s in _manifest(tmp_path / kind)["shards"]]
              for kind in ("ray", "local")]
    assert shards[0] == shards[1]


def test_a_crash_loop_ends_the_run_with_an_error(head, tmp_path, by_value):
    from safefilter.ray_run import run_ray

    config = _config(tmp_path / "ray", "ray.max_retries=1")
    worker = _fragile_scanner(config, Fragile("none", "swe-00121", tmp_path / "killed", always=True))
    with pytest.raises(SafeFilterError, match="Ray scan failed after 1 retries"):
        run_ray(config, worker_scanner=worker)
    assert not list((tmp_path / "ray").rglob("*.tmp"))  # unfinished shards were removed


def test_auto_executor_picks_ray_only_from_min_bytes_of_input(tmp_path):
    from safefilter.ray_run import wants_ray

    size = sum(p.stat().st_size for folder in SAMPLE for p in folder.iterdir())
    for executor, min_bytes, expected in [("auto", size, True), ("auto", size + 1, False),
                                          ("local", 0, False), ("ray", size + 1, True)]:
        config = _config(tmp_path, f"executor={executor}", f"ray.min_bytes={min_bytes}")
        assert wants_ray(config) is expected, (executor, min_bytes)


def _big_input(folder: Path, n: int = 240) -> Path:
    """One JSONL file with clean, unsafe, id-less and broken lines, large enough to split into ranges."""
    import json

    sample = [line for line in (SAMPLE[0] / "chat.jsonl").read_bytes().splitlines() if line.strip()]
    lines = []
    for i in range(n):
        if i % 29 == 4:
            lines.append(b'{"broken": ')
        else:
            record = json.loads(sample[i % len(sample)])
            record["id"] = f"{record.get('id', 'r')}-{i}"
            if i % 13 == 0:
                record.pop("id")
            lines.append(json.dumps(record).encode())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "big.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_ranges_of_one_large_file_are_read_by_workers_and_match_local(head, tmp_path, monkeypatch, fmt):
    from safefilter.executors import planner

    path = _big_input(tmp_path / "in")
    monkeypatch.setattr(planner, "UNIT_BYTES", -(-path.stat().st_size // 4))  # the driver plans four ranges
    outs = {}
    for executor in ("ray", "local"):
        config, _ = load_config(REPO / "configs" / "ray.yaml", [
            f"input={path}", f"output={tmp_path / executor}", "progress=false", f"executor={executor}",
            f"output_format={fmt}", "batch_size=7", "max_records_per_shard=25"])
        outs[executor] = run(config)
    assert outs["ray"].counts == outs["local"].counts and outs["local"].counts["invalid"] > 0
    assert _files(tmp_path / "ray") == _files(tmp_path / "local")
    shards = _manifest(tmp_path / "ray")["shards"]
    assert [s["unit"]["start"] is not None for s in shards] == [True] * 4
    assert len({s["worker"]["pid"] for s in shards}) >= 1 and all("node" in s["worker"] for s in shards)


class FakeClassifier:
    """Stands in for the classifier (by name), so the units go to an actor pool; flags nothing."""

    name = "classifier"
    gate = "all"

    def detect_batch(self, items, skip=None):
        return [[] for _ in items]


def test_with_a_classifier_units_run_on_actors_and_match_local(head, tmp_path, by_value):
    from safefilter.ray_run import run_ray

    config = _config(tmp_path / "ray", "batch_size=5")
    worker = build_scanner(config)
    worker.detectors.append(FakeClassifier())
    assert worker.uses_classifier
    summary = run_ray(config, worker_scanner=worker)
    local_config = _config(tmp_path / "local", "batch_size=5", "executor=local")
    local = run(local_config)
    assert summary.counts == local.counts and _files(tmp_path / "ray") == _files(tmp_path / "local")


def _ray_node(args: list[str], temp: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(["ray", "start", "--block", "--disable-usage-stats", *args], env=HEAD_ENV,
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)


@pytest.mark.slow
def test_two_nodes_write_shards_of_one_job_identical_to_local():
    """`ray start --head` and a second node (`ray start --address`), one CPU each; `ray job submit`."""
    temp = tempfile.mkdtemp(prefix="sf2n", dir="/tmp")
    # not pytest's tmp_path: other pytest sessions on a shared machine prune old ones while this runs
    tmp_path = Path(tempfile.mkdtemp(prefix="sf2n-data", dir="/tmp"))
    port, dash = _free_port(), _free_port()
    nodes = [_ray_node(["--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--dashboard-host=127.0.0.1",
                        f"--dashboard-port={dash}", "--include-dashboard=true", "--num-cpus=1",
                        f"--temp-dir={temp}"], temp, tmp_path / "head.log")]
    try:
        dashboard = f"http://127.0.0.1:{dash}"
        deadline = time.time() + 120
        while True:
            assert time.time() < deadline, (tmp_path / "head.log").read_text()[-2000:]
            try:
                urllib.request.urlopen(dashboard + "/api/version", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        nodes.append(_ray_node([f"--address=127.0.0.1:{port}", "--num-cpus=1", "--node-ip-address=127.0.0.1"],
                               temp, tmp_path / "worker.log"))
        big = _big_input(tmp_path / "in", 400)
        out = tmp_path / "job"
        # ranges small enough for several units: the job's driver plans them (UNIT_BYTES set in its process)
        code = ("import sys, safefilter.executors.planner as p; p.UNIT_BYTES = %d; from safefilter.cli import main; "
                "sys.exit(main(sys.argv[1:]))" % -(-big.stat().st_size // 6))
        cmd = ["ray", "job", "submit", "--address", dashboard, "--",
               sys.executable, "-c", code, "run", "--config", str(REPO / "configs" / "ray.yaml"), "--input", str(big),
               "--output", str(out), "--no-progress", "--set", "ray.num_workers=2"]
        deadline = time.time() + 60
        while True:  # both nodes registered
            alive = subprocess.run(["ray", "status", "--address", f"127.0.0.1:{port}"], env=HEAD_ENV,
                                   capture_output=True, text=True).stdout
            if alive.count("node_") >= 2 or time.time() > deadline:
                break
            time.sleep(1)
        done = subprocess.run(cmd, env=HEAD_ENV, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        shards = _manifest(out)["shards"]
        assert len(shards) == 6 and len({s["worker"]["node"] for s in shards}) == 2  # both nodes wrote shards
        config, _ = load_config(REPO / "configs" / "ray.yaml", [f"input={big}", f"output={tmp_path / 'local'}",
                                                                "progress=false", "executor=local"])
        import safefilter.executors.planner as planner

        old, planner.UNIT_BYTES = planner.UNIT_BYTES, -(-big.stat().st_size // 6)
        try:
            run(config)
        finally:
            planner.UNIT_BYTES = old
        assert _files(out) == _files(tmp_path / "local")
    finally:
        for node in reversed(nodes):
            _stop_session(node)
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(tmp_path, ignore_errors=True)


class AlwaysRaising:
    """A detector broken for every record: the unit's failure budget stops the run from the worker."""

    name = "always"

    def detect_batch(self, items):
        raise ValueError("broken detector")


def test_a_detector_failing_on_every_record_stops_the_run_with_the_workers_error(head, tmp_path, by_value):
    from safefilter.errors import DetectorError
    from safefilter.ray_run import run_ray

    config = _config(tmp_path / "ray", "batch_size=4", "limits.min_detector_failures=3")
    worker = build_scanner(config)
    worker.detectors.append(AlwaysRaising())
    with pytest.raises(DetectorError, match="detectors failed on .*broken detector"):  # itself, not a Ray wrapper
        run_ray(config, worker_scanner=worker)
    assert not (tmp_path / "ray" / "manifest.json").exists() and not list((tmp_path / "ray").rglob("*.tmp"))
