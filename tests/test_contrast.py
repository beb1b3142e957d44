"""The contrast set (contrast/) is well-formed, independent of ../shared/eval/, and its scorer runs.

No recall floors here on purpose: detection changes all session; the set only has to measure it.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterator

import pytest

from safefilter.types import CATEGORIES

ROOT = Path(__file__).resolve().parents[1]
CONTRAST = ROOT / "contrast"
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
MIN_PER_CLASS = 12
SHARED_MIN = 30  # no string this long may be shared with the dev set


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return _jsonl(CONTRAST / "trajectories.jsonl")


@pytest.fixture(scope="module")
def labels() -> list[dict[str, Any]]:
    return _jsonl(CONTRAST / "labels.jsonl")


def test_ids_unique_and_labels_align(records: list[dict[str, Any]], labels: list[dict[str, Any]]) -> None:
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1][:5]
    assert [lab["id"] for lab in labels] == ids


def test_every_phenomenon_has_both_classes(labels: list[dict[str, Any]]) -> None:
    counts: dict[str, Counter[bool]] = defaultdict(Counter)
    for lab in labels:
        counts[lab["phenomenon"]][bool(lab["unsafe"])] += 1
    assert len(counts) >= 4
    thin = {p: dict(c) for p, c in counts.items() if c[True] < MIN_PER_CLASS or c[False] < MIN_PER_CLASS}
    assert not thin, f"phenomena with fewer than {MIN_PER_CLASS} positives or negatives: {thin}"


def test_labels_follow_the_labeling_policy_fields(records: list[dict[str, Any]], labels: list[dict[str, Any]]) -> None:
    for rec, lab in zip(records, labels):
        assert set(lab) >= {"id", "unsafe", "categories", "unsafe_message_indices", "phenomenon"}, lab["id"]
        assert set(lab["categories"]) <= set(CATEGORIES), lab["id"]
        assert lab["source"] and lab["notes"], f"{lab['id']}: say where the material comes from and what the case is"
        assert bool(lab["categories"]) == lab["unsafe"] == bool(lab["unsafe_message_indices"]), lab["id"]
        msgs = rec["messages"]
        for i in lab["unsafe_message_indices"]:
            assert 0 <= i < len(msgs) and msgs[i]["role"] in ("assistant", "tool"), (lab["id"], i)
            if msgs[i]["role"] == "assistant":
                assert msgs[i].get("tool_calls"), (lab["id"], i)


def test_data_card_counts_match_the_labels(labels: list[dict[str, Any]]) -> None:
    counts: dict[str, Counter[bool]] = defaultdict(Counter)
    for lab in labels:
        counts[lab["phenomenon"]][bool(lab["unsafe"])] += 1
    card = (CONTRAST / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in card.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`") and cells[1].isdigit():
            rows[cells[0].strip("`")] = (int(cells[1]), int(cells[2]))
    assert rows == {p: (c[True], c[False]) for p, c in counts.items()}
    assert f"{len(labels)} trajectories" in card


def test_records_are_chat_trajectories(records: list[dict[str, Any]]) -> None:
    for rec in records:
        msgs = rec["messages"]
        assert [m["role"] for m in msgs[:2]] == ["system", "user"], rec["id"]
        open_calls: set[str] = set()
        for m in msgs[2:]:
            if m["role"] == "assistant":
                for call in m.get("tool_calls") or []:
                    args = call["function"]["arguments"]
                    assert isinstance(args if isinstance(args, dict) else json.loads(args), dict), rec["id"]
                    open_calls.add(call["id"])
            else:
                assert m["role"] == "tool" and m["tool_call_id"] in open_calls, rec["id"]


def _strings(x: Any) -> Iterator[str]:
    """Every string value, with JSON-encoded tool arguments decoded first."""
    if isinstance(x, str):
        if x[:1] in "{[":
            try:
                yield from _strings(json.loads(x))
                return
            except ValueError:
                pass
        yield x
    elif isinstance(x, dict):
        for v in x.values():
            yield from _strings(v)
    elif isinstance(x, list):
        for v in x:
            yield from _strings(v)


def shared_strings(ours: list[str], theirs: list[str], n: int = SHARED_MIN) -> set[str]:
    """Maximal substrings of at least `n` characters that occur in both lists (runs of one repeated character aside).

    Index the other side's `w`-grams at every `n - w + 1`-th position: any shared run of `n` characters
    contains one of them whole, so checking every `w`-gram of ours and extending the hits finds them all.
    """
    w = n // 2 + 1
    stride = n - w + 1
    index: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for d, s in enumerate(theirs):
        for q in range(0, len(s) - w + 1, stride):
            index[s[q:q + w]].append((d, q))
    found: set[str] = set()
    for s in ours:
        for p in range(len(s) - w + 1):
            for d, q in index.get(s[p:p + w], ()):
                o, a, b = theirs[d], 0, w
                while p - a > 0 and q - a > 0 and s[p - a - 1] == o[q - a - 1]:
                    a += 1
                while p + b < len(s) and q + b < len(o) and s[p + b] == o[q + b]:
                    b += 1
                run = s[p - a:p + b]
                if len(run) >= n and len(set(run)) > 1:
                    found.add(run)
    return found


def test_shared_strings_finds_a_planted_overlap() -> None:
    planted = "x" * 5 + "a fairly long planted sentence of forty chars" + "y" * 5
    assert shared_strings([planted], ["zz a fairly long planted sentence of forty chars zz"])
    assert not shared_strings(["short common bit"], ["short common bit"])
    assert not shared_strings(["-" * 60], ["-" * 60])


def test_no_long_string_shared_with_the_dev_set(records: list[dict[str, Any]]) -> None:
    if not DEV.exists():
        pytest.skip(f"{DEV} is not here; cannot check that the contrast set shares no text with it")
    ours = [s for r in records for s in _strings(r["messages"])]
    theirs = [s for r in _jsonl(DEV) for s in _strings(r.get("messages", []))]
    shared = shared_strings(ours, theirs)
    assert not shared, f"{len(shared)} strings of {SHARED_MIN}+ chars shared with dev.jsonl, e.g. {sorted(shared)[:5]}"


def test_generator_output_is_committed_and_current() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_contrast.py"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def scorer() -> Any:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import eval_contrast
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return eval_contrast


def test_scorer_runs_on_a_slice(labels: list[dict[str, Any]], scorer: Any) -> None:
    phen = sorted({lab["phenomenon"] for lab in labels})[:2]
    chosen = scorer.select(labels, phen, limit=3)
    assert {lab["phenomenon"] for lab in chosen} == set(phen) and len(chosen) == 12
    by_id = {r["id"]: r for r in _jsonl(CONTRAST / "trajectories.jsonl")}
    pred = scorer.scan(scorer.build(scorer.DEFAULT_CONFIG), [by_id[lab["id"]] for lab in chosen])
    result = scorer.table(chosen, pred)
    assert set(result["phenomena"]) == set(phen)
    overall = result["overall"]
    assert (overall["pos"], overall["neg"]) == (6, 6)
    assert overall["tp"] + overall["fp"] == sum(p["unsafe"] for p in pred.values())
    assert 0.0 <= overall["recall"] <= 1.0 and 0.0 <= overall["fpr"] <= 1.0
    text = scorer.render(result, show_errors=True)
    assert text.splitlines()[0].split()[:6] == ["phenomenon", "pos", "neg", "recall", "fpr", "located"]


def test_table_counts_misses_and_false_alarms(scorer: Any) -> None:
    labels = [{"id": "a", "unsafe": True, "categories": ["tunneling"], "unsafe_message_indices": [4], "phenomenon": "p"},
              {"id": "b", "unsafe": False, "categories": [], "unsafe_message_indices": [], "phenomenon": "p"},
              {"id": "c", "unsafe": False, "categories": [], "unsafe_message_indices": [], "phenomenon": "p"},
              {"id": "d", "unsafe": True, "categories": ["tunneling"], "unsafe_message_indices": [6, 7], "phenomenon": "p"},
              {"id": "e", "unsafe": True, "categories": ["tunneling"], "unsafe_message_indices": [8], "phenomenon": "p"}]
    pred = {"a": {"unsafe": False, "categories": [], "rules": [], "first": None},
            "b": {"unsafe": True, "categories": ["tunneling"], "rules": ["tun-x"], "first": 2},
            "c": {"unsafe": False, "categories": [], "rules": [], "first": None},
            "d": {"unsafe": True, "categories": ["tunneling"], "rules": ["tun-x"], "first": 7},
            "e": {"unsafe": True, "categories": ["tunneling"], "rules": ["tun-x"], "first": 4}}
    row = scorer.table(labels, pred)["phenomena"]["p"]
    assert (row["recall"], row["fpr"], row["located"]) == (0.6667, 0.5, 0.5)
    assert [e["id"] for e in row["errors"]] == ["a", "b"] and row["errors"][1]["fired"] == ["tun-x"]


def test_scorer_cli_prints_json_for_a_slice(scorer: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert scorer.main(["--json", "--limit", "2", "--phenomenon", "docs_edit"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["overall"]["pos"] == 2 and out["overall"]["neg"] == 2


def test_scorer_cli_reports_bad_input_without_traceback(scorer: Any, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert scorer.main(["--labels", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err


def test_compare_names_ids_that_became_wrong_or_right(scorer: Any) -> None:
    def result(errors: list[str], recall: float) -> dict[str, Any]:
        row = {"pos": 2, "neg": 2, "tp": 1, "fp": 0, "recall": recall, "fpr": 0.0, "located": 1.0,
               "errors": [{"id": i} for i in errors]}
        return {"phenomena": {"p": row}, "overall": row}

    text = scorer.compare(result(["ct-1"], 0.5), result(["ct-2"], 0.5))
    line = next(ln for ln in text.splitlines() if ln.startswith("p "))
    assert "+1 -1 ct-2" in line
