"""Faults the hostile-tester suite found after the first round of fixes, each a minimal reproduction.

A .json list item nested deeply crashed the run (ijson's item builder needs memory quadratic in the
depth); a config that is not YAML printed the parser's caret diagram; `scan` of a missing file or a
folder exited 0; Parquet runs wrote invalid/ as JSONL under .parquet names, and a Parquet shard of a
deeply nested value could not be read back.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hostile_support import (assert_one_line_error, cached_rule_packs, cli, jsonl_records, output_lines,
                             write_config)
from test_fuzz import FUZZ, jsonl_file


@pytest.fixture(scope="module")
def fast_packs():
    with cached_rule_packs():
        yield


def _json_run(tmp_path, data: bytes) -> tuple[int, str, dict[str, int]]:
    src = tmp_path / "in.json"
    src.write_bytes(data)
    config = write_config(tmp_path / "c.yaml", str(src), tmp_path / "run")
    code, _, err = cli(["run", "--config", str(config)])
    counts = {k: len(output_lines(tmp_path / "run", k)) for k in ("clean", "unsafe", "invalid")}
    return code, err, counts


def _capped_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # a runaway reader fails here, not the machine


@pytest.mark.parametrize("depth", [2000, 100_000])
def test_a_deeply_nested_item_in_a_json_list_is_one_invalid_record(tmp_path, depth):
    """A .json list item of nested brackets crashed the run (RecursionError at 2000; at 100k, 200 KB of
    input exhausted memory). Run as a subprocess with 2 GB of address space so a failure stays contained."""
    ok = b'{"id": "ok", "messages": [{"role": "user", "content": "hi"}]}'
    deep = b'{"id": "deep", "messages": ' + b"[" * depth + b"]" * depth + b"}"
    src = tmp_path / "in.json"
    src.write_bytes(b"[" + ok + b", " + deep + b", " + ok.replace(b"ok", b"ok2") + b"]")
    config = write_config(tmp_path / "c.yaml", str(src), tmp_path / "run")
    proc = subprocess.run([sys.executable, "-m", "safefilter", "run", "--config", str(config)],
                          capture_output=True, text=True, preexec_fn=_capped_memory, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    counts = {k: len(output_lines(tmp_path / "run", k)) for k in ("clean", "unsafe", "invalid")}
    assert counts == {"clean": 2, "unsafe": 0, "invalid": 1}


@settings(max_examples=15, deadline=None, derandomize=True)
@given(items=st.lists(st.integers(0, 5000), min_size=1, max_size=4))
def test_any_json_list_is_conserved_without_a_traceback(tmp_path_factory, items):
    body = [b'{"id": "r%d", "messages": [{"role": "user", "content": "hi"}], "x": ' % i + b"[" * d + b"]" * d + b"}"
            for i, d in enumerate(items)]
    code, err, counts = _json_run(tmp_path_factory.mktemp("j"), b"[" + b", ".join(body) + b"]")
    assert code == 0 and "Traceback" not in err, err
    assert sum(counts.values()) == len(items)


# --- one line, and an error when there is nothing to read ---



def test_a_config_that_is_not_yaml_is_one_line(tmp_path):
    (tmp_path / "bad.yaml").write_text("input: [\n")
    code, _, err = cli(["run", "--config", str(tmp_path / "bad.yaml")])
    assert_one_line_error(code, err)  # today: four lines (the YAML parser's caret diagram)


@pytest.mark.parametrize("what", ["a missing file", "a folder"])
def test_scan_of_something_that_is_not_a_file_is_an_error(tmp_path, what):
    target = tmp_path / "missing.jsonl" if what == "a missing file" else tmp_path
    code, _, err = cli(["scan", str(target)])
    assert_one_line_error(code, err)  # today: exit 0 and one "invalid" verdict


# --- Parquet output of deeply nested values ---



@settings(FUZZ, max_examples=8, suppress_health_check=list(HealthCheck))
@given(data=jsonl_file())
def test_parquet_output_keeps_every_record(data, tmp_path_factory, fast_packs):
    """The same files with output_format=parquet: every record in exactly one output, no traceback."""
    import pyarrow.parquet as pq

    assume(jsonl_records(data))
    work = tmp_path_factory.mktemp("pq")
    src = work / "in.jsonl"
    src.write_bytes(data)
    config = write_config(work / "run.yaml", str(src), work / "run", batch_size=3, output_format="parquet")
    code, _, err = cli(["run", "--config", str(config)])
    assert code == 0 and "Traceback" not in err, err
    rows = {kind: sum(pq.ParquetFile(p).metadata.num_rows for p in (work / "run" / kind).glob("*.parquet"))
            for kind in ("clean", "unsafe")}
    invalid = len(output_lines(work / "run", "invalid")) + \
        sum(pq.ParquetFile(p).metadata.num_rows for p in (work / "run" / "invalid").glob("*.parquet"))
    manifest = json.loads((work / "run" / "manifest.json").read_text())["counts"]
    assert (rows["clean"], rows["unsafe"], invalid) == (manifest["clean"], manifest["unsafe"], manifest["invalid"])
    assert rows["clean"] + rows["unsafe"] + invalid == len(jsonl_records(data))




def test_parquet_runs_name_invalid_shards_by_their_format(tmp_path):
    """With output_format=parquet, invalid/ rows are JSONL written under part-*.parquet names: pyarrow cannot
    read them, and with dataset_output=true the run ends in a DatasetGenerationError traceback."""
    (tmp_path / "in.jsonl").write_bytes(b'{"id": "a", "messages": [{"role": "user", "content": "hi"}]}\n{"broken\n')
    config = write_config(tmp_path / "c.yaml", str(tmp_path / "in.jsonl"), tmp_path / "run", output_format="parquet",
                          dataset_output=True)
    code, _, err = cli(["run", "--config", str(config)])
    assert code == 0 and "Traceback" not in err, err[-500:]
    for shard in (tmp_path / "run" / "invalid").iterdir():
        head = shard.read_bytes()[:4]
        assert (shard.suffix == ".parquet") == (head == b"PAR1"), f"{shard.name} holds {head!r}"
