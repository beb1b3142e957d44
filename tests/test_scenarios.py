"""Trajectory scenarios for classifier training: determinism, split hygiene, labels, shapes, minimal pairs."""
from __future__ import annotations

import json
import random
import sys

import pytest

from safefilter.schema import validate_record
from safefilter.training.scenario_kit import evade_hook
from safefilter.training.scenario_tools import heldout_tools_in, tool_family_of
from safefilter.training.scenarios import FAMILIES, HELDOUT_TOOL_FAMILIES, make_trajectories
from safefilter.training.unsafe import UNSAFE_FAMILIES

CATEGORIES = {"tunneling", "cryptomining", "network_probing", "resource_acquisition"}


@pytest.fixture(scope="module")
def train():
    return make_trajectories(3000, seed=7)


@pytest.fixture(scope="module")
def heldout():
    return make_trajectories(400, seed=7, split="heldout")


def _calls(t) -> str:
    return json.dumps([m.get("tool_calls") for m in t.record["messages"]])


def _task(t) -> str:
    return next(m["content"] for m in t.record["messages"] if m["role"] == "user")


def _written(t, index: int) -> str:
    calls = t.record["messages"][index].get("tool_calls") or [{"function": {"arguments": "{}"}}]
    args = calls[0]["function"]["arguments"]
    args = json.loads(args) if isinstance(args, str) else args
    return args.get("content") or args.get("file_text") or ""


def _command(t, index: int) -> str:
    args = t.record["messages"][index]["tool_calls"][0]["function"]["arguments"]
    args = json.loads(args) if isinstance(args, str) else args
    return next((v for k, v in args.items() if k in ("command", "cmd", "code")), "")


def test_deterministic_per_seed_and_split():
    a, b = make_trajectories(80, seed=3), make_trajectories(80, seed=3)
    assert [(t.record, dict(t.labels), t.family) for t in a] == [(t.record, dict(t.labels), t.family) for t in b]
    assert [t.record for t in make_trajectories(80, seed=4)] != [t.record for t in a]
    assert len(make_trajectories(81, seed=3, split="heldout")) == 81
    with pytest.raises(ValueError):
        make_trajectories(5, split="test")


def test_unsafe_share_near_forty_percent(train):
    share = sum(bool(t.labels) for t in train) / len(train)
    assert 0.35 <= share <= 0.45, share
    safe = [t for t in train if not t.labels]
    assert sum(t.family.startswith("benign.") for t in safe) > len(safe) / 2  # realistic work is most of the safe side


def test_every_family_appears(train):
    families = {t.family for t in train}
    assert set(FAMILIES) <= families, set(FAMILIES) - families
    wrapped = {t.family.removeprefix("wrapped.") for t in train if t.family.startswith("wrapped.") and t.labels}
    for cat, fams in UNSAFE_FAMILIES.items():  # the old action-level families live on inside trajectories
        assert wrapped & {f for f, _, _ in fams}, cat


def test_labels_point_at_assistant_tool_calls(train, heldout):
    for t in [*train, *heldout]:
        msgs = t.record["messages"]
        for index, cats in [*t.labels.items(), *t.written_then_run.items()]:
            assert msgs[index]["role"] == "assistant" and msgs[index].get("tool_calls"), (t.family, index)
            assert cats and set(cats) <= CATEGORIES
        if t.requested:
            assert not t.labels
        assert bool(t.labels) == (t.family.startswith(("wrapped.", "minimal_pair.unrequested", "as_data.executed",
                                                        "sdk.code", "sdk.script", "socket.code", "socket.script"))
                                  and t.family not in ("wrapped.hard_negative", "wrapped.requested")
                                  or t.family == "observation_only"
                                  or (t.family.startswith("indirect.") and not t.family.endswith(".untriggered")))


def test_records_pass_input_validation(train):
    for t in train[:600]:
        assert validate_record(t.record) == "chat"
        ids = {m["tool_call_id"] for m in t.record["messages"] if m["role"] == "tool"}
        calls = {c["id"] for m in t.record["messages"] for c in m.get("tool_calls") or []}
        assert ids == calls
    assert len({t.record["id"] for t in train}) == len(train)


def test_train_never_uses_heldout_tools_or_transforms(train):
    from safefilter.training import transforms

    for t in train:
        assert t.tool_family not in HELDOUT_TOOL_FAMILIES
        assert not heldout_tools_in(_calls(t)), t.record["id"]
        assert not set(t.transforms) & set(transforms.HELDOUT_FAMILIES)
    assert any(t.transforms for t in train)  # transforms are applied at all


def test_heldout_is_unseen_and_balanced(heldout):
    from safefilter.training import transforms

    unsafe = [t for t in heldout if t.labels]
    assert len(unsafe) == len(heldout) // 2
    by_tool = by_transform = 0
    for t in unsafe:
        unseen_tool = t.tool_family in HELDOUT_TOOL_FAMILIES or bool(heldout_tools_in(_calls(t)))
        unseen_transform = bool(t.transforms) and set(t.transforms) <= set(transforms.HELDOUT_FAMILIES)
        assert unseen_tool or unseen_transform, (t.family, t.tool_family, t.transforms)
        by_tool += unseen_tool
        by_transform += unseen_transform
    assert by_tool and by_transform


def test_minimal_pairs_share_the_command(train):
    pairs = [(a, b) for a, b in zip(train, train[1:])
             if a.family == "minimal_pair.unrequested" and b.family == "minimal_pair.requested"]
    assert len(pairs) > 20
    for a, b in pairs:
        (index, _), = a.labels.items()
        assert _command(a, index) in [_command(b, i) for i, m in enumerate(b.record["messages"]) if m.get("tool_calls")]
        assert b.requested and not b.labels
        assert _task(a) != _task(b)  # only the task differs in what decides the label


def test_untriggered_twin_writes_but_never_runs(train):
    pairs = [(a, b) for a, b in zip(train, train[1:])
             if a.family.startswith("indirect.") and b.family == a.family + ".untriggered"]
    assert len(pairs) > 20
    for a, b in pairs:
        trigger = max(a.labels)
        assert trigger > max(a.written_then_run)  # the write comes first, the labeled run after it
        assert _command(a, trigger) not in _calls(b)


def test_observation_twin_shows_the_same_output(train):
    pairs = [(a, b) for a, b in zip(train, train[1:])
             if a.family == "observation_only" and b.family.startswith("observation_only.")]
    assert len(pairs) > 20
    for a, b in pairs:
        (index, _), = a.labels.items()
        revealing = a.record["messages"][index + 1]["content"]
        shown = [m["content"] for m in b.record["messages"]] + [_written(b, i) for i in range(len(b.record["messages"]))]
        assert revealing and revealing in shown
        assert a.record["messages"][index]["tool_calls"][0]["function"]["name"] in ("bash", "execute_bash", "shell", "run")


def test_evade_falls_back_to_identity_without_transforms(monkeypatch):
    monkeypatch.setitem(sys.modules, "safefilter.training.transforms", None)  # import raises ImportError
    run = evade_hook("train")
    assert run("ssh -N -R 2222:localhost:22 u@h", random.Random(0)) == ("ssh -N -R 2222:localhost:22 u@h", ())


@pytest.mark.parametrize("text, family", [("./chisel client h:443 R:socks", "chisel"), ("nmap -sV 10.0.0.0/24", "nmap"),
                                          ("import boto3\nboto3.client('ec2')", "boto3"), ("ls -la", "other")])
def test_tool_family_of(text, family):
    assert tool_family_of(text) == family
