"""Review feedback: the terminal walk driven by scripted input, and false alarms scoped to rule + evidence."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from conftest import bash, tool, traj
from safefilter import Scanner
from safefilter.cli import main
from safefilter.export import export_run
from safefilter.config import load_config
from safefilter.policy import Policy
from safefilter.review import (ReviewAllowlist, labels_from_decisions, load_review_allowlist, read_decisions,
                               review_walk, with_review)
from safefilter.run import run

ROOT = Path(__file__).resolve().parent.parent
SCAN = "nmap -sS -p 22,80,443 10.20.0.0/24"
TUNNEL = "ssh -N -R 9000:localhost:22 relay@198.51.100.40"


@pytest.fixture(scope="module")
def flagged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of three unsafe records: a scan, a tunnel, and a scan plus a tunnel (two findings)."""
    folder = tmp_path_factory.mktemp("review")
    records = [traj(bash(SCAN), tool("Nmap done: 256 IP addresses"), rid="r-scan"),
               traj(bash(TUNNEL, "c1"), tool("", "c1"), rid="r-tunnel"),
               traj(bash(SCAN, "c1"), tool("done", "c1"), bash(TUNNEL + "\x1b[2J", "c2"), rid="r-both")]
    (folder / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    config, applied = load_config(ROOT / "configs" / "rules-only.yaml",
                                  [f"input={folder / 'in.jsonl'}", f"output={folder / 'run'}", "progress=false",
                                   "report.enabled=false"])
    assert run(config, overrides=applied).counts["unsafe"] == 3
    return folder / "run"


def test_walk_records_decisions_from_scripted_input(flagged, tmp_path):
    path = tmp_path / "decisions.jsonl"
    out = io.StringIO()
    # records in run order (r-scan, r-tunnel, r-both): a bad answer gets help, then c, f; "f 9" is out of range
    tally = review_walk(flagged, path, inp=io.StringIO("maybe\nc\nf\nf 9\nf 1\n"), out=out, reviewer="ana")
    assert tally == {"correct": 2, "false_alarm": 2, "skipped": 0}
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["id"], r["decision"]) for r in rows] == [("r-scan", "correct"), ("r-tunnel", "false_alarm"),
                                                        ("r-both", "false_alarm"), ("r-both", "correct")]
    assert all(r["reviewer"] == "ana" for r in rows)
    both = [r for r in rows if r["id"] == "r-both"]
    assert len(both[0]["findings"]) == 1 and len(both[1]["findings"]) >= 1
    shown = out.getvalue()
    assert "c = correct" in shown and "\x1b" not in shown and "\\x1b[2J" in shown  # escapes shown, not sent
    # a second walk skips what is decided and stops on q
    again = review_walk(flagged, path, inp=io.StringIO("q\n"), out=io.StringIO())
    assert again == {"correct": 0, "false_alarm": 0, "skipped": 0}
    assert len(read_decisions(path)) == 4


def test_false_alarm_is_scoped_to_rule_and_evidence(flagged, tmp_path):
    row = json.loads((flagged / "unsafe" / "part-00000-00000.jsonl").read_text().splitlines()[1])
    assert row["id"] == "r-tunnel"
    findings = [{"rule_id": f["rule_id"], "evidence": f["evidence"]} for f in row["safety"]["findings"]]
    path = tmp_path / "d.jsonl"  # every finding of the record (a text rule and an event rule may both fire)
    path.write_text(json.dumps({"id": "r-tunnel", "decision": "false_alarm", "findings": findings}) + "\n")
    policy = with_review(Policy(), {"review": {"decisions": str(path)}})
    scanner = Scanner.from_rules(policy=policy)
    assert not scanner.scan(traj(bash(TUNNEL), rid="same")).unsafe            # the reviewed evidence: excused
    assert scanner.scan(traj(bash(TUNNEL.replace("9000", "9001")), rid="other")).unsafe  # other evidence: not
    both = scanner.scan(traj(bash(SCAN, "c1"), bash(TUNNEL, "c2"), rid="both"))
    assert both.unsafe and both.categories == ("network_probing",)            # other rules still fire
    entry = load_review_allowlist({"review": {"decisions": str(path)}}).manifest_entry()
    assert entry["allowlisted"] == sorted(findings, key=lambda f: (f["rule_id"], f["evidence"]))
    assert len(entry["decisions_sha256"]) == 64
    assert with_review(Policy(), {"review": {"decisions": None}}) == Policy()
    import pickle  # Ray and multi-process workers get the scanner pickled: the review allowlist travels with it
    again = Scanner.from_rules(policy=pickle.loads(pickle.dumps(policy)))
    assert not again.scan(traj(bash(TUNNEL), rid="same")).unsafe


def test_later_decision_wins_and_long_evidence_is_refused():
    from safefilter.review import Decision

    long = "curl " + "a" * 300
    allow = ReviewAllowlist.from_decisions([
        Decision("x", "false_alarm", (("r1", "nmap  -sV\nhost", "network_probing"), ("r2", long, "tunneling"))),
        Decision("y", "false_alarm", (("r3", "ping -c1 h", "network_probing"),)),
        Decision("y", "correct", (("r3", "ping -c1 h", "network_probing"),)),
    ])
    assert allow.entries == frozenset({("r1", "nmap -sV host")}) and len(allow.refused) == 1
    labels = labels_from_decisions([Decision("x", "false_alarm", (("r1", "e", "network_probing"),)),
                                    Decision("y", "correct", (("r3", "e", "network_probing"),))])
    assert labels == [{"id": "x", "unsafe": False, "categories": []},
                      {"id": "y", "unsafe": True, "categories": ["network_probing"]}]


def test_terminal_text_shows_control_and_bidi_characters_instead_of_sending_them():
    from safefilter.review import _safe

    assert _safe("ok\x1b]0;title\x07\u202egnp.exe\r") == "ok\\x1b]0;title\\x07\\u202egnp.exe\\x0d"


def test_bad_decisions_and_no_terminal_are_one_line_errors(flagged, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "decision": "maybe"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:1: not a review decision"):
        read_decisions(bad)
    assert main(["review", str(flagged), "--decisions", str(tmp_path / "d.jsonl")]) == 2  # pytest's stdin is no TTY
    assert "needs a terminal" in capsys.readouterr().err


def test_exports_take_decisions_false_alarms_become_safe_rows(flagged, tmp_path):
    from datasets import load_dataset

    rows = {json.loads(line)["id"]: json.loads(line) for line in
            (flagged / "unsafe" / "part-00000-00000.jsonl").read_text().splitlines()}
    tunnel = [f for f in rows["r-both"]["safety"]["findings"] if f["category"] == "tunneling"]  # text and event rule
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"id": "r-both", "decision": "false_alarm",
                                "findings": [{"rule_id": f["rule_id"], "evidence": f["evidence"]} for f in tunnel]}) + "\n"
                    + json.dumps({"id": "r-scan", "decision": "correct",
                                  "findings": [dict(rule_id=f["rule_id"], evidence=f["evidence"])
                                               for f in rows["r-scan"]["safety"]["findings"]]}) + "\n")

    def load(fmt: str) -> list[dict]:
        export_run(flagged, fmt, tmp_path / fmt, decisions=path)
        ds = load_dataset("parquet", data_files=[str(p) for p in (tmp_path / fmt / "data").glob("*.parquet")])
        return list(ds["train"])

    traj_rows = {r["id"]: r for r in load("trajectories")}
    assert traj_rows["r-both"]["label"] == "unsafe" and traj_rows["r-both"]["categories"] == ["network_probing"]
    assert traj_rows["r-both"]["reviewed"] == "false_alarm" and traj_rows["r-scan"]["reviewed"] == "correct"
    assert traj_rows["r-tunnel"]["label"] == "unsafe" and traj_rows["r-tunnel"]["reviewed"] is None
    steps = [r for r in load("steps") if r["record_id"] == "r-both"]
    # decisions are keyed by rule and evidence, not record: r-scan's confirmed scan confirms the same scan here
    assert [(r["label"], r["reviewed"]) for r in steps if r["evidence"]] == [("unsafe", "correct"),
                                                                            ("safe", "false_alarm")]


def test_a_run_applies_review_decisions_and_records_them(flagged, tmp_path):
    """`review.decisions` reaches the run's policy: the reviewed false alarm is clean in the next
    run, another record with the same rule stays unsafe, and the manifest records the file's hash."""
    unsafe = [json.loads(line) for f in sorted((flagged / "unsafe").glob("*.jsonl")) for line in f.read_text().splitlines()]
    target = unsafe[0]
    decisions = tmp_path / "decisions.jsonl"
    decisions.write_text(json.dumps({"id": target["id"], "decision": "false_alarm", "findings": [
        {"rule_id": f["rule_id"], "evidence": f["evidence"]} for f in target["safety"]["findings"]]}) + "\n")
    config, applied = load_config(ROOT / "configs" / "rules-only.yaml", [
        f"input={flagged.parent / 'in.jsonl'}", f"output={tmp_path / 'again'}", "progress=false",
        "report.enabled=false", f"review.decisions={decisions}"])
    run(config, overrides=applied)
    again = tmp_path / "again"
    clean_ids = {json.loads(line)["id"] for f in (again / "clean").glob("*.jsonl") for line in f.read_text().splitlines()}
    unsafe_ids = {json.loads(line)["id"] for f in (again / "unsafe").glob("*.jsonl") for line in f.read_text().splitlines()}
    assert target["id"] in clean_ids
    assert len(unsafe_ids) == len(unsafe) - 1
    manifest = json.loads((again / "manifest.json").read_text())
    assert manifest["review"]["decisions_sha256"] and manifest["review"]["allowlisted"]


def test_confirmed_decisions_and_false_alarms_become_training_rows(flagged, tmp_path, capsys):
    """`data make-training --decisions`: one row per decided flagged action, in the synthetic set's columns."""
    import datasets

    from safefilter.training.data import build_dataset

    rows = {json.loads(line)["id"]: json.loads(line) for line in
            (flagged / "unsafe" / "part-00000-00000.jsonl").read_text().splitlines()}

    def said(rid: str, category: str | None = None) -> list[dict]:
        return [{"rule_id": f["rule_id"], "evidence": f["evidence"], "category": f["category"]}
                for f in rows[rid]["safety"]["findings"] if category in (None, f["category"])]

    path = tmp_path / "d.jsonl"  # r-both: the scan confirmed, its tunnel left undecided
    path.write_text("".join(json.dumps(d) + "\n" for d in (
        {"id": "r-scan", "decision": "correct", "findings": said("r-scan")},
        {"id": "r-tunnel", "decision": "false_alarm", "findings": said("r-tunnel")},
        {"id": "r-both", "decision": "correct", "findings": said("r-both", "network_probing")})))
    out = tmp_path / "reviewed"
    assert main(["data", "make-training", "--decisions", str(path), "--run", str(flagged), "--output", str(out)]) == 0
    assert "2 rows from 3 decided records: confirmed 1  false alarm 1" in capsys.readouterr().out
    ds = datasets.load_dataset("parquet", data_files={"train": str(out / "train.parquet")})["train"]
    assert ds.features == build_dataset(20, validation_share=0.0)["train"].features  # joins the synthetic set
    got = {r["action"]: r for r in ds}
    assert set(got) == {SCAN, TUNNEL}  # r-both's undecided tunnel is left out; its scan repeats r-scan's row
    assert got[SCAN]["labels"] == [0, 0, 1, 0] and got[SCAN]["family"] == "review_confirmed"
    assert got[TUNNEL]["labels"] == [0, 0, 0, 0] and got[TUNNEL]["family"] == "review_false_alarm"
    assert all(r["source"] == "review" and r["kind"] == "shell" and r["text"].startswith("[task] You are a coding agent.\nFix the failing")
               and r["text"].endswith(r["action"]) for r in ds)
    card = (out / "README.md").read_text()
    assert "a finding on the action has no decision" in card and "| network_probing | 1 |" in card
    assert json.loads((out / "hashes.json").read_text())["train.parquet"]
    # never over existing data, never into the synthetic set's default folder
    assert main(["data", "make-training", "--decisions", str(path), "--run", str(flagged), "--output", str(out)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert main(["data", "make-training", "--decisions", str(path), "--run", str(flagged)]) == 2
    assert "give --output" in capsys.readouterr().err
