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


# --- issue 9, slice E: input and output formats without surprises -----------------------------------

MINI = str(Path(__file__).parent / "data" / "mini_pack.yaml")
TUNNEL = "ssh -fNR 9000:localhost:22 u@203.0.113.9"


def run_on(input_spec, out, *overrides):
    from safefilter.config import load_config
    from safefilter.run import run

    config, applied = load_config(None, [f"input={input_spec}", f"output={out}", f"rules.packs=[{MINI}]",
                                          "progress=false", *overrides])
    return run(config, overrides=applied)


def output_rows(folder):
    rows = []
    for p in sorted(Path(folder).glob("part-*")):
        rows += pq.read_table(p).to_pylist() if p.suffix == ".parquet" else \
            [json.loads(line) for line in p.read_text().splitlines()]
    return rows


def test_existing_path_with_glob_characters_is_taken_literally(tmp_path):
    literal = tmp_path / "data[1].jsonl"
    literal.write_text("{}\n")
    (tmp_path / "data1.jsonl").write_text("{}\n")  # what `data[1].jsonl` matches as a glob
    assert expand_inputs(str(literal)) == [literal.resolve()]
    for name in ("what?.jsonl", "star*.jsonl"):
        (tmp_path / name).write_text("{}\n")
        assert expand_inputs(str(tmp_path / name)) == [(tmp_path / name).resolve()]
    # a spec that is not an existing path is still a glob
    assert [p.name for p in expand_inputs(str(tmp_path / "data?.jsonl"))] == ["data1.jsonl"]


def test_uppercase_suffixes_are_inputs(tmp_path):
    rows = [{"id": "p1", "messages": [{"role": "user", "content": "hi"}]}]
    (tmp_path / "A.JSONL").write_text(json.dumps(rows[0]) + "\n")
    (tmp_path / "B.Json").write_text(json.dumps(rows))
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "C.Parquet")
    (tmp_path / "D.JSONL.GZ").write_bytes(gzip.compress(json.dumps(rows[0]).encode() + b"\n"))
    files = expand_inputs(str(tmp_path))
    assert [f.name for f in files] == ["A.JSONL", "B.Json", "C.Parquet", "D.JSONL.GZ"]
    for f in files:
        (item,) = list(read_file(f))
        assert item.error is None and item.record["id"] == "p1", f


def test_dangling_symlink_is_named_never_skipped_silently(tmp_path):
    (tmp_path / "good.jsonl").write_text("{}\n")
    (tmp_path / "gone.jsonl").symlink_to(tmp_path / "missing.jsonl")
    with pytest.raises(InputError, match="symlink .* does not exist"):
        expand_inputs(str(tmp_path / "gone.jsonl"))
    for spec in (str(tmp_path), str(tmp_path / "*.jsonl")):
        warnings: list[str] = []
        assert [p.name for p in expand_inputs(spec, warnings=warnings)] == ["good.jsonl"]
        assert len(warnings) == 1 and "gone.jsonl" in warnings[0] and "does not exist" in warnings[0]


def test_dangling_symlink_in_input_folder_is_a_run_warning(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text(json.dumps(traj(bash("ls"), rid="a")) + "\n")
    (folder / "b.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    summary = run_on(folder, tmp_path / "run")
    manifest = json.loads(summary.manifest_path.read_text())
    assert any("b.jsonl" in w and "symlink" in w for w in manifest["warnings"])


def test_unreadable_file_in_a_folder_gives_an_invalid_row(tmp_path, monkeypatch):
    path = tmp_path / "locked.jsonl"
    path.write_text("{}\n")
    real_open = open

    def deny(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    (item,) = list(read_file(path))
    assert item.error and "Permission denied" in item.error


def test_json_list_is_streamed_not_loaded_whole(tmp_path, monkeypatch):
    from safefilter.io import readers

    items = [traj(bash(f"echo {i}"), tool("x" * 2000), rid=f"j{i}") | {"reward": 0.1 * i, "big": 2 ** 62}
             for i in range(1000)]
    path = tmp_path / "list.json"
    path.write_text(json.dumps(items, indent=2))
    consumed = []
    real_open = readers._open

    class Counting:
        def __init__(self, fh):
            self.fh = fh

        def read(self, size=-1):
            data = self.fh.read(size)
            consumed.append(len(data))
            return data

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    monkeypatch.setattr(readers, "_open", lambda source: Counting(real_open(source)))
    read = []
    for item in read_file(path):
        assert item.error is None
        if not read:  # the first item arrives after reading a small part of the file, not all of it
            assert sum(consumed) < path.stat().st_size // 10
        read.append(item)
    assert [i.line for i in read] == list(range(1, 1001))
    assert [json.loads(i.raw) for i in read] == items  # numbers round-trip exactly (no Decimal, no rounding)
    assert all(isinstance(i.record["reward"], float) for i in read[1:]) and read[5].record == items[5]


@pytest.mark.parametrize("text, read_ids, reason", [
    (b'[{"id": "a"}, {"id": "b", "x": tru}, {"id": "c"}]', ["a"], "broken or truncated after item 1"),
    (b'[{"id": "a"}, {"id": "b", "messages": [', ["a"], "premature EOF"),
    (b'\xef\xbb\xbf\n [{"id": "a"}, {"id": "b"}] trailing', ["a", "b"], "trailing"),
    (b'[{"id": "\xff"}]', [], "no item could be read"),
])
def test_broken_json_list_gives_invalid_rows_not_a_traceback(tmp_path, text, read_ids, reason):
    path = tmp_path / "list.json"
    path.write_bytes(text)
    items = list(read_file(path))
    assert [i.record["id"] for i in items if i.error is None] == read_ids
    (bad,) = [i for i in items if i.error is not None]
    assert reason in bad.error and bad.line == len(read_ids) + 1


def test_single_json_document_and_traj_stay_whole_file(tmp_path):
    doc = {"id": "d", "trajectory": [{"action": "ls"}]}
    for name in ("one.json", "one.traj"):
        (tmp_path / name).write_text(json.dumps(doc, indent=2))
        (item,) = list(read_file(tmp_path / name))
        assert item.whole_file and item.record == doc


def parquet_records(n=3000, switch=2048, later=lambda i: f"r{i}", unsafe=False):
    rows = []
    for i in range(n):
        command = TUNNEL if unsafe else "ls"
        rows.append(traj(bash(command), rid=f"id{i}") | {"reward": i if i < switch else later(i)})
    return rows


@pytest.mark.parametrize("later", [lambda i: f"r{i}", lambda i: {"score": i}], ids=["string", "object"])
def test_parquet_output_column_type_change_rolls_over_without_loss(tmp_path, later):
    records = parquet_records(later=later)
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    summary = run_on(path, tmp_path / "run", "output_format=parquet")
    c = summary.counts
    assert c["input"] == c["clean"] + c["unsafe"] == 3000 and c["invalid"] == 0
    manifest = json.loads(summary.manifest_path.read_text())
    listed = [f for shard in manifest["shards"] for files in shard["outputs"].values() for f in files]
    on_disk = sorted(str(p.relative_to(tmp_path / "run")) for p in (tmp_path / "run").glob("*/part-*"))
    assert sorted(listed) == on_disk and len(on_disk) == 2  # every file written is listed
    assert any("continue in" in w for w in manifest["warnings"])
    rows = output_rows(tmp_path / "run" / "clean") + output_rows(tmp_path / "run" / "unsafe")
    assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in records)
    by_id = {r["id"]: r["reward"] for r in rows}
    assert by_id["id10"] == 10 and by_id["id2999"] in (later(2999), json.dumps(later(2999), separators=(",", ":")))


def test_parquet_writer_roll_over_is_deterministic_and_aborts_cleanly(tmp_path):
    def write(folder):
        writer = ShardWriter(folder / "part-00000-00000.parquet", "parquet", parquet_rows_per_group=10)
        for i in range(35):
            writer.write_row({"id": i, "v": i if i < 10 else (str(i) if i < 20 else [i])} | ({"new": 1} if i > 30 else {}))
        return writer

    a = write(tmp_path / "a")
    a.close()
    b = write(tmp_path / "b")
    b.close()
    assert [p.name for p in a.paths] == [p.name for p in b.paths] == sorted(p.name for p in a.paths)
    assert [p.read_bytes() for p in a.paths] == [p.read_bytes() for p in b.paths]
    assert sum(pq.read_table(p).num_rows for p in a.paths) == 35
    c = write(tmp_path / "c")
    c.abort()
    assert list((tmp_path / "c").iterdir()) == []


def test_parquet_group_with_mixed_scalar_types_is_written(tmp_path):
    writer = ShardWriter(tmp_path / "part.parquet", "parquet")
    writer.write_row({"id": "a", "reward": 1})
    writer.write_row({"id": "b", "reward": "high"})
    writer.close()
    assert [r["reward"] for r in pq.read_table(writer.paths[0]).to_pylist()] == ["1", '"high"']
    assert any("reward" in w for w in writer.warnings)


def test_parquet_output_folder_with_type_change_reads_back(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in parquet_records(unsafe=True)))
    run_on(path, tmp_path / "run", "output_format=parquet")
    files = expand_inputs(str(tmp_path / "run" / "unsafe"))
    items = [i for f in files for i in read_file(f)]
    assert len(files) == 2 and len(items) == 3000 and all(i.error is None for i in items)
    assert [i.record["id"] for i in items] == [f"id{i}" for i in range(3000)]


def test_parquet_row_that_breaks_its_features_is_invalid_others_read(tmp_path, monkeypatch):
    from datasets import Features

    rows = [{"id": f"p{i}", "messages": [{"role": "user", "content": "hi"}]} for i in range(3)]
    table = pa.Table.from_pylist(rows).replace_schema_metadata({b"huggingface": b'{"info": {"features": null}}'})
    pq.write_table(table, tmp_path / "hf.parquet")
    real = Features.decode_example

    def decode(self, row, *args, **kwargs):
        if row["id"] == "p1":
            raise ValueError("value does not fit")
        return real(self, row, *args, **kwargs)

    monkeypatch.setattr(Features, "decode_example", decode)
    items = list(read_file(tmp_path / "hf.parquet"))
    assert [i.error is None for i in items] == [True, False, True]
    assert "does not fit" in items[1].error and b"p1" in items[1].raw


def unsafe_item(record, raw=None):
    from safefilter.io import InputRecord

    return InputRecord("in.jsonl", 3, raw if raw is not None else json.dumps(record).encode(), record)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_empty_id_gets_the_generated_id_in_unsafe_output(tmp_path, fmt):
    from safefilter.scanner import record_id

    writer = ShardWriter(tmp_path / f"part-0.{fmt}", fmt)
    for line, rid in enumerate(("", None, "own")):
        record = {"id": rid, "messages": []}
        writer.write_unsafe(unsafe_item(record), {"unsafe": True}, record_id(record, "in.jsonl", line))
    writer.close()
    assert [r["id"] for r in output_rows(tmp_path)] == ["in.jsonl:0", "in.jsonl:1", "own"]


def test_empty_ids_do_not_repeat_in_a_run(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(traj(bash(TUNNEL)) | {"id": ""}) + "\n" for _ in range(3)))
    run_on(path, tmp_path / "run")
    ids = [r["id"] for r in output_rows(tmp_path / "run" / "unsafe")]
    assert len(ids) == 3 and len(set(ids)) == 3 and "" not in ids


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_input_safety_field_is_kept_and_counted(tmp_path, fmt):
    writer = ShardWriter(tmp_path / f"part-0.{fmt}", fmt)
    for i in range(3):
        record = {"id": f"r{i}", "safety": {"reviewed_by": "alice"}, "messages": []}
        writer.write_unsafe(unsafe_item(record), {"unsafe": True}, f"r{i}")
    writer.close()
    rows = output_rows(tmp_path)
    assert [r["id"] for r in rows] == ["r0", "r1", "r2"]
    assert all(r["safety"] == {"unsafe": True} and r["input_safety"] == {"reviewed_by": "alice"} for r in rows)
    (warning,) = [w for w in writer.warnings if "safety" in w]
    assert "3 records" in warning and "input_safety" in warning


def test_unsafe_output_keeps_original_bytes_when_it_can(tmp_path):
    record = {"id": "own", "messages": [], "reward": 0.30000000000000004}
    raw = b'{"id": "own",  "messages": [], "reward": 0.30000000000000004}'
    writer = ShardWriter(tmp_path / "part.jsonl")
    writer.write_unsafe(unsafe_item(record, raw), {"unsafe": True}, "own")
    writer.close()
    assert (tmp_path / "part.jsonl").read_bytes().startswith(raw[:-1] + b',"safety":')


def test_symlinked_and_unlistable_folders_are_named(tmp_path, monkeypatch):
    import os

    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.jsonl").write_text("{}\n")
    (tmp_path / "in" / "a.jsonl").write_text("{}\n")
    (tmp_path / "in" / "sub" / "b.jsonl").write_text("{}\n")
    (tmp_path / "in" / "link").symlink_to(tmp_path / "other")
    real_scandir = os.scandir

    def scandir(path="."):
        if str(path).endswith("sub"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    warnings: list[str] = []
    assert [p.name for p in expand_inputs(str(tmp_path / "in"), warnings=warnings)] == ["a.jsonl"]
    assert any("link" in w and "not followed" in w for w in warnings)
    assert any("sub" in w and "could not be listed" in w for w in warnings)


def test_parquet_types_that_keep_changing_roll_over_once(tmp_path):
    writer = ShardWriter(tmp_path / "part-0.parquet", "parquet", parquet_rows_per_group=10)
    for i in range(100):
        group = i // 10
        writer.write_row({"id": i, "reward": i if group % 2 == 0 else f"x{i}", "meta": {f"k{group}": group}})
    writer.close()
    assert len(writer.paths) == 2  # a column that changed is JSON text from then on: no second roll-over
    rows = [r for p in writer.paths for r in pq.read_table(p).to_pylist()]
    assert [r["id"] for r in rows] == list(range(100))
    assert rows[15]["reward"] == '"x15"' and json.loads(rows[99]["meta"]) == {"k9": 9}


def test_parquet_value_python_cannot_hold_costs_only_its_row(tmp_path):
    ts = pa.array([0, 2 ** 50, 5], pa.int64()).cast(pa.timestamp("ms"))  # the middle one is past year 9999
    pq.write_table(pa.table({"id": ["a", "b", "c"], "ts": ts}), tmp_path / "ts.parquet")
    items = list(read_file(tmp_path / "ts.parquet"))
    assert [i.error is None for i in items] == [True, False, True]
    assert items[1].line == 2 and "cannot be converted" in items[1].error and b'"b"' in items[1].raw


def test_roll_over_files_are_recognised_as_run_shards(tmp_path):
    """Overwrite and --resume repair find shards and temporaries by name: roll-over files must match."""
    from safefilter import rundir

    writer = ShardWriter(tmp_path / "part-00003-00001.parquet", "parquet", parquet_rows_per_group=2)
    for value in (1, 2, "three", "four"):
        writer.write_row({"v": value})
    temporaries = [p.name for p in tmp_path.iterdir()]  # both files are open under temporary names
    writer.close()
    assert [p.name for p in writer.paths] == ["part-00003-00001.parquet", "part-00003-00001_001.parquet"]
    assert all(rundir._SHARD.fullmatch(p.name) for p in writer.paths)
    assert temporaries and all(rundir._TEMPORARY.fullmatch(name) for name in temporaries)


@pytest.mark.parametrize("text, expected", [
    (b'[{"t": "\\ud83d\\ude00"}, {"t": "ok"}]', [{"t": "\U0001F600"}, {"t": "ok"}]),  # an escaped pair is one char
    (b'[{"t": "a"}, {"t": "x\\ud800y"}, {"t": "c"}]', [{"t": "a"}, None, {"t": "c"}]),  # lone high: invalid row
    (b'[{"t": "\\udc00"}, {"t": "c"}]', [None, {"t": "c"}]),  # lone low
    (b'[{"t": "\\ud800\\ud800"}]', [None]),  # two highs are not a pair
    (b'[{"t": "\\\\ud800"}]', [{"t": "\\ud800"}]),  # an escaped backslash, then text
])
def test_json_list_surrogate_escapes_are_never_garbled(tmp_path, text, expected):
    path = tmp_path / "list.json"
    path.write_bytes(text)
    items = list(read_file(path))
    assert [i.record if i.error is None else None for i in items] == expected
    for item in items:
        if item.error is not None:  # the invalid row keeps the string exactly, escaped
            assert b"\\ud" in item.raw or b"\\udc" in item.raw


def test_surrogate_guard_passes_pairs_split_at_any_chunk_boundary():
    import io

    from safefilter.io.readers import _SurrogateGuard

    data = b'["' + b'\\ud83d\\ude00' * 50 + b'"]'
    for size in (1, 2, 3, 5, 7, 11, 13, 64):
        guard, out = _SurrogateGuard(io.BytesIO(data)), b""
        while chunk := guard.read(size):
            out += chunk
        assert out == data


def test_truncated_gzip_json_list_keeps_the_items_before_the_damage(tmp_path):
    items = [traj(bash(f"echo {i}"), tool("y" * 300), rid=f"g{i}") for i in range(2000)]
    whole = gzip.compress(json.dumps(items).encode())
    path = tmp_path / "list.json.gz"
    path.write_bytes(whole[: len(whole) // 2])
    read = list(read_file(path))
    good = [i for i in read if i.error is None]
    assert good and [i.record["id"] for i in good] == [f"g{n}" for n in range(len(good))]
    assert read[-1].error and read[-1].line == len(good) + 1 and len(read) == len(good) + 1


def test_folder_with_only_a_dangling_symlink_says_so(tmp_path):
    (tmp_path / "gone.jsonl").symlink_to(tmp_path / "missing.jsonl")
    with pytest.raises(InputError, match="has no .*gone.jsonl.*does not exist"):
        expand_inputs(str(tmp_path))


def test_deeply_nested_json_list_item_is_one_invalid_row(tmp_path):
    deep = b'{"id": "deep", "x": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    (tmp_path / "in.json").write_bytes(b'[{"id": "a"}, ' + deep + b', {"id": "b"}]')
    items = list(read_file(tmp_path / "in.json"))
    assert [i.error is None for i in items] == [True, False, True] and items[1].line == 2


@pytest.mark.parametrize("depth", [50, 500])
def test_parquet_output_of_a_deeply_nested_value_reads_back(tmp_path, depth):
    value = []
    for _ in range(depth):
        value = [value]
    writer = ShardWriter(tmp_path / "part-0.parquet", "parquet")
    writer.write_row({"id": "x", "metadata": value})
    writer.close()
    (row,) = pq.read_table(writer.paths[0]).to_pylist()  # pyarrow refuses schemas nested past 100 levels
    assert json.loads(row["metadata"]) == value


def test_the_cli_shows_a_runs_warnings(tmp_path, capsys):
    """A skipped dangling symlink is in manifest.json and on the terminal, not only in the file."""
    from safefilter.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text(json.dumps(traj(bash("ls"), rid="a")) + "\n")
    (folder / "b.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    assert main(["run", "--config", "configs/rules-only.yaml", "--input", str(folder), "--output",
                 str(tmp_path / "run"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "safefilter: warning:" in err and "b.jsonl" in err


def test_input_warnings_survive_resume(tmp_path, monkeypatch):
    """An interrupted run resumed later still reports the inputs its spec skipped."""
    import safefilter.executors.sink as sink_module
    from safefilter.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text(json.dumps(traj(bash("ls"), rid="a")) + "\n")
    (folder / "b.jsonl").symlink_to(tmp_path / "nowhere.jsonl")

    def interrupt() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sink_module, "pause_for_tests", interrupt)
    args = ["run", "--config", "configs/rules-only.yaml", "--input", str(folder), "--output", str(tmp_path / "run"),
            "--no-progress"]
    assert main(args) == 130
    monkeypatch.undo()
    assert main([*args, "--resume"]) == 0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["timing"]["resumed"] and any("b.jsonl" in w for w in manifest["warnings"])
