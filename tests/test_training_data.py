"""Synthetic training-data generator: determinism, balance, splits, parquet round trip, rule agreement."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from safefilter.training.data import DISGUISES, LABELS, build_dataset, format_input, make_examples, save_dataset

N = 400
MAX_TEXT = len(format_input("t" * 1000, "p" * 1000, "shell", "a" * 1000))


@pytest.fixture(scope="module")
def examples() -> list[dict]:
    return make_examples(N, seed=0)


def test_deterministic(examples: list[dict]) -> None:
    assert make_examples(N, seed=0) == examples
    assert make_examples(N, seed=1) != examples


def test_fields_and_labels(examples: list[dict]) -> None:
    assert len(examples) == N
    for ex in examples:
        assert len(ex["labels"]) == len(LABELS) and all(v in (0, 1) and isinstance(v, int) for v in ex["labels"])
        assert ex["kind"] in ("shell", "code", "file")
        assert ex["disguise"] in DISGUISES
        assert ex["source"] == "synthetic"
        assert ex["text"] == format_input(ex["task"], ex["previous"], ex["kind"], ex["action"])
        assert len(ex["text"]) <= MAX_TEXT
        if ex["family"].endswith("_requested"):
            assert not any(ex["labels"])
    assert len({ex["text"] for ex in examples}) == N


def test_balance(examples: list[dict]) -> None:
    for i, name in enumerate(LABELS):
        assert sum(ex["labels"][i] for ex in examples) > 0, name
    safe = sum(1 for ex in examples if not any(ex["labels"]))
    assert safe / N >= 0.5
    assert any(ex["family"].endswith("_requested") for ex in examples)
    assert {ex["disguise"] for ex in examples} == set(DISGUISES)
    unsafe = sum(1 for ex in examples if any(ex["labels"]))
    assert 0.28 <= unsafe / N <= 0.42, f"unsafe share {unsafe / N:.2f}"


def test_every_family_is_reachable_and_labelled_consistently() -> None:
    from safefilter.training.unsafe import UNSAFE_FAMILIES

    rows = make_examples(4000, seed=3)
    seen = {ex["family"]: ex["labels"] for ex in rows if any(ex["labels"])}
    for cat, families in UNSAFE_FAMILIES.items():
        for family, _gen, idx in families:
            assert family in seen, f"{family} never generated"
            assert all(seen[family][i] for i in idx), family
    safe_families = {ex["family"] for ex in rows if not any(ex["labels"])}
    assert not safe_families & set(seen), "a family produced both safe and unsafe rows"


def test_rule_examples_are_weakly_labelled_by_the_engine() -> None:
    from safefilter.rules.model import builtin_pack_paths

    pack = next(str(p) for p in builtin_pack_paths() if p.stem == "cryptomining")
    rows = make_examples(50, seed=0, rule_examples=True, rule_packs=(pack,))
    weak = [ex for ex in rows if ex["source"] == "rule_examples"]
    assert len(rows) == 50 + len(weak) and len({ex["text"] for ex in rows}) == len(rows)
    match = [ex for ex in weak if ex["family"].endswith(":match")]
    no_match = [ex for ex in weak if ex["family"].endswith(":no_match")]
    assert match and no_match
    assert sum(ex["labels"][1] for ex in match) / len(match) >= 0.9
    assert sum(any(ex["labels"]) for ex in no_match) / len(no_match) <= 0.1
    assert all(ex["text"] == format_input(ex["task"], ex["previous"], ex["kind"], ex["action"]) for ex in weak)


def test_splits_and_parquet_round_trip(tmp_path: Path) -> None:
    import datasets

    dsd = build_dataset(N, seed=0, validation_share=0.1)
    assert set(dsd) == {"train", "validation"}
    assert len(dsd["validation"]) == round(N * 0.1) and len(dsd["train"]) == N - round(N * 0.1)
    assert not set(dsd["train"]["text"]) & set(dsd["validation"]["text"])
    hashes = save_dataset(dsd, tmp_path)
    assert set(hashes) == {"train.parquet", "validation.parquet"}
    assert json.loads((tmp_path / "hashes.json").read_text()) == hashes
    for split in dsd:
        back = datasets.load_dataset("parquet", data_files={split: str(tmp_path / f"{split}.parquet")})[split]
        assert back.to_list() == dsd[split].to_list()
    assert save_dataset(build_dataset(N, seed=0), tmp_path / "again") == hashes


def _record(ex: dict) -> dict:
    if ex["kind"] == "shell":
        name, args = "bash", {"command": ex["action"]}
    elif ex["kind"] == "code":
        name, args = "python", {"code": ex["action"]}
    else:
        path, _, content = ex["action"].partition("\n")
        name, args = "write_file", {"path": path, "content": content}
    return {"id": "x", "messages": [
        {"role": "user", "content": ex["task"]},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}]}]}


@pytest.fixture(scope="module")
def scanner():
    from safefilter import Scanner

    return Scanner.from_rules()


def test_rules_agree_on_shell_examples(examples: list[dict], scanner) -> None:
    shell = [ex for ex in examples if ex["kind"] == "shell"]
    unsafe = [ex for ex in shell if any(ex["labels"])]
    safe = [ex for ex in shell if not any(ex["labels"])]
    flagged_unsafe = sum(scanner.scan(_record(ex)).unsafe for ex in unsafe)
    flagged_safe = sum(scanner.scan(_record(ex)).unsafe for ex in safe)
    assert flagged_unsafe / len(unsafe) >= 0.60, f"{flagged_unsafe}/{len(unsafe)} unsafe shell examples flagged"
    assert flagged_safe / len(safe) <= 0.05, f"{flagged_safe}/{len(safe)} safe shell examples flagged"


def _draw_everyday(seed: int, n: int) -> list[tuple[str, str]]:
    import random

    from safefilter.training.everyday import everyday_command
    from safefilter.training.parts import Parts

    p = Parts(random.Random(seed))
    return [everyday_command(p) for _ in range(n)]


def test_everyday_grammar_is_deterministic_and_varied() -> None:
    draws = _draw_everyday(0, 5000)
    assert draws == _draw_everyday(0, 5000)
    assert draws != _draw_everyday(1, 5000)
    commands = {cmd for _desc, cmd in draws}
    assert len(commands) >= 3000, f"only {len(commands)} distinct commands in 5000 draws"
    assert all(desc and cmd for desc, cmd in draws)
    first_words = {cmd.split()[0] for cmd in commands}
    for tool in ("find", "grep", "awk", "sed", "tar", "chgrp", "mkdir", "ss", "wget", "ffmpeg", "shopt", "for", "yes"):
        assert any(tool in cmd.split() for cmd in commands), f"no command uses {tool}"
    assert len(first_words) >= 60, sorted(first_words)


def test_everyday_and_editor_rows_are_safe_and_the_rules_agree(scanner) -> None:
    """The benign grammar must not produce commands the rule packs call unsafe (rate <= 1%)."""
    rows = make_examples(3000, seed=11)
    benign = [ex for ex in rows if ex["family"] in ("everyday", "swe_editor") or ex["family"].startswith("own_code")]
    assert len(benign) >= 0.25 * len(rows)
    assert all(not any(ex["labels"]) for ex in benign)
    assert any(ex["action"].startswith("edit ") and "\n" in ex["action"] for ex in benign)
    commands = sorted({("shell", cmd) for _desc, cmd in _draw_everyday(7, 1500)} | {(ex["kind"], ex["action"]) for ex in benign})
    flagged = [cmd for kind, cmd in commands
               if scanner.scan(_record({"kind": kind, "action": cmd, "task": "Do the task"})).unsafe]
    assert len(flagged) / len(commands) <= 0.01, f"{len(flagged)}/{len(commands)} flagged, e.g. {flagged[:5]}"
