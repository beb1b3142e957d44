"""The run report: counts, highlighted evidence, escaping of hostile record text, labels, size cap."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from conftest import ROOT, sample_run
from safefilter.cli import main
from safefilter.export.postrun import write_run_extras
from safefilter.report import render_report, write_report
from safefilter.report.highlight import SHOW_CHARS, highlight
from safefilter.report.page import anchor

EVIL = '<script>document.title="pwned"</script>'


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        return sample_run(tmp_path_factory.mktemp("report") / "run")


def _call(call_id: str, command: str) -> dict:
    return {"role": "assistant", "content": "", "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": "bash", "arguments": json.dumps({"command": command})}}]}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of one record whose id, task, command and output carry markup and script."""
    folder = tmp_path_factory.mktemp("hostile")
    record = {"id": EVIL + '"><img src=x onerror="document.title=1">', "messages": [
        {"role": "system", "content": "You are a coding agent. " + EVIL},
        {"role": "user", "content": "Open a reverse SSH tunnel from this box to bastion.example.com on port 2222."},
        _call("c1", "ssh -N -R 2222:localhost:22 ops@bastion.example.com"),
        {"role": "tool", "tool_call_id": "c1", "content": "connected"},
        _call("c2", "nmap -sS -p 1-1000 10.0.0.0/24 # " + EVIL + "<img src=x onerror=\"document.title='pwned'\">"),
        {"role": "tool", "tool_call_id": "c2", "content": "</pre></section>" + EVIL}]}
    (folder / "in.jsonl").write_text(json.dumps(record) + "\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        return sample_run(folder / "run", f"input={folder / 'in.jsonl'}")


def test_report_of_the_sample_run_shows_counts_and_highlighted_evidence(sample):
    page = write_report(sample).read_text()
    counts = json.loads((sample / "manifest.json").read_text())["counts"]
    for key in ("input", "clean", "unsafe", "invalid"):
        assert f'data-count="{key}">{counts[key]}<' in page
    # a text rule and an event rule may mark the same span: one mark, both rules in its title
    assert re.search(r'<mark class="ev" title="[^"]*tun-ssh-remote-forward[^"]*">[^<]*-R 2222:localhost:22', page)
    # an encoded command: the original marked in place, its decoded text shown next to it
    assert "decoded (normalized) of the marked text" in page and "nohup nc -e /bin/sh" in page
    assert 'id="unsafe-table"' in page and page.count('class="traj"') == counts["unsafe"]
    assert page.count("data:image/png;base64,") >= 2  # plots inline, nothing fetched
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_record_text_is_escaped_and_cannot_run(hostile):
    page = render_report(hostile)
    assert page.count("<script") == 1  # the page's own sorting script only
    assert "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;" in page
    assert "<img src=x" not in page and "</pre></section><" not in page
    assert "script-src 'sha256-" in page  # and a CSP that would block any inline script but ours
    # a requested finding is marked as such, the unrequested one as evidence
    assert re.search(r'<mark class="ev req" title="[^"]*tun-ssh-remote-forward[^"]*requested by the task">ssh -N', page)
    assert re.search(r'<mark class="ev" title="[^"]*np-nmap-scan[^"]*\(network_probing\)">nmap -sS', page)


def test_labels_add_precision_recall_and_link_the_misjudged(sample, tmp_path):
    unsafe_ids = [json.loads(line)["id"] for p in sorted((sample / "unsafe").glob("*.jsonl"))
                  for line in p.read_text().splitlines()]
    labels = [{"id": i, "unsafe": True, "categories": []} for i in unsafe_ids[1:]]
    labels.append({"id": unsafe_ids[0], "unsafe": False, "categories": []})  # a false alarm, by these labels
    path = tmp_path / "labels.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in labels))
    page = render_report(sample, labels=path, max_per_category=0)
    assert 'id="metrics"' in page
    precision = (len(unsafe_ids) - 1) / len(unsafe_ids)
    assert f"<b>unsafe (any)</b></td><td class=\"n\" data-sort=\"{precision:.3f}\">{precision:.3f}<" in page
    assert f'<b>False alarms</b> (1): <a href="#{anchor(unsafe_ids[0])}">' in page
    assert f'id="{anchor(unsafe_ids[0])}"' in page  # shown although the per-category cap is 0


def test_cap_per_category_keeps_the_page_small(sample):
    page = render_report(sample, max_per_category=1)
    assert 1 <= page.count('class="traj"') <= 4
    assert len(page.encode()) < len(render_report(sample).encode())
    long = "x" * (SHOW_CHARS * 10) + "EVIDENCE" + "y" * (SHOW_CHARS * 10)
    html = highlight(long, [{"start": SHOW_CHARS * 10, "end": SHOW_CHARS * 10 + 8, "rule_id": "r"}])
    assert len(html) < SHOW_CHARS * 2 and ">EVIDENCE</mark>" in html


def test_run_writes_report_and_exports_and_a_failure_only_warns(sample, tmp_path, monkeypatch, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(sample, run_dir)
    config = {"report": {"enabled": True, "max_per_category": 2}, "exports": {"formats": ["prefixes"]}}
    assert write_run_extras(run_dir, config) == []
    assert (run_dir / "report.html").is_file() and (run_dir / "exports" / "prefixes" / "dataset_info.json").is_file()
    (run_dir / "report.html").unlink()
    assert write_run_extras(run_dir, {"report": {"enabled": False}}) == [] and not (run_dir / "report.html").exists()

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr("safefilter.report.write_report", broken)
    problems = write_run_extras(run_dir, {"report": {"enabled": True}})
    assert len(problems) == 1 and "boom" in problems[0] and "safefilter report" in capsys.readouterr().err


def test_cli_report_and_errors(sample, tmp_path, capsys):
    assert main(["report", str(sample), "--output", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    bad = tmp_path / "labels.jsonl"
    bad.write_text("not json\n")
    assert main(["report", str(sample), "--labels", str(bad)]) == 2
    assert "labels.jsonl:1: not a label line" in capsys.readouterr().err


CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


NO_CHROMIUM = ("no chromium binary on this machine (apt-get install chromium): the headless-browser check of "
               "the report did not run")


def test_report_in_headless_chromium(hostile, sample, tmp_path):
    """The page loads without script errors, its script runs, hostile record script does not."""
    if CHROMIUM is None:
        warnings.warn(NO_CHROMIUM)  # shown in pytest's warnings summary, where a bare skip reason is not
        pytest.skip(NO_CHROMIUM)
    for run_dir in (hostile, sample):
        page = write_report(run_dir, output=tmp_path / f"{run_dir.parent.name}.html")
        proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                               "--v=0", "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
                              capture_output=True, text=True, timeout=120)
        dom = proc.stdout
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert '<body data-ready="1">' in dom  # our script ran to its end: no error before it
        assert "<title>safefilter report</title>" in dom  # record script never ran (it would rename the page)
        assert "Uncaught" not in proc.stderr and "Refused to" not in proc.stderr, proc.stderr[-2000:]
        assert '<mark class="ev' in dom
    assert 'data-count="unsafe">' in dom


class _FakeClassifier:
    labels = ("tunneling", "cryptomining", "network_probing", "resource_acquisition")
    cache_size = 10

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, texts, *, batch_size, max_length):
        import numpy as np

        self.calls += 1
        return np.array([[0.97 if "ssh -R" in t else 0.01, 0.0, 0.42 if "nmap" in t else 0.03, 0.0] for t in texts])


class _FakeDetector:
    name, gate, batch_size, max_length = "classifier", "undecided", 8, 32

    def __init__(self) -> None:
        self.classifier = _FakeClassifier()

    def _inputs(self, item):
        return [(None, text) for text in item]

    def detect_batch(self, items, *, skip=None):
        return [["found"] if j not in (skip or ()) else [] for j, _ in enumerate(items)]


def test_histogram_counts_every_scored_trajectory_by_its_top_score_and_merges():
    from safefilter.scanner import Scanner
    from safefilter.scorehist import BINS, merge_histograms, score_histogram

    scanner = Scanner([_FakeDetector()], None)
    hist = score_histogram(scanner)
    assert score_histogram(scanner) is hist and scanner.detectors[0].gate == "undecided"  # wrapped once, same API
    items = [["ls", "ssh -R 9:h:22 u@h"], ["nmap -sn 10.0.0.0/24", "ls"], [], ["ssh -R 1:h:22 x@y"]]
    assert scanner.detectors[0].detect_batch(items, skip={3}) == [["found"], ["found"], ["found"], []]  # findings unchanged
    part = hist.take()
    assert part["scored"] == 2  # no actions, and skipped by the gate: not scored
    assert part["categories"]["tunneling"][int(0.97 * BINS)] == 1 and part["categories"]["tunneling"][0] == 1
    assert part["categories"]["network_probing"][int(0.42 * BINS)] == 1
    assert all(sum(v) == 2 for v in part["categories"].values())
    assert hist.take()["scored"] == 0  # taken: the next unit starts from zero
    total = merge_histograms([part, None, part, {"bins": 7}])
    assert total["scored"] == 4 and total["categories"]["tunneling"][int(0.97 * BINS)] == 2
    assert merge_histograms([None, {}]) is None
    assert score_histogram(Scanner([], None)) is None


def test_report_plots_scores_of_clean_trajectories_when_the_classifier_ran(tmp_path, monkeypatch):
    """With the shipped classifier on, every unit records a histogram of all scanned trajectories
    (clean ones too) in the manifest, and the report draws it; a rules-only run says there are none."""
    from safefilter.config import load_config
    from safefilter.run import run

    monkeypatch.chdir(ROOT)
    records = [{"id": f"c{i}", "messages": [{"role": "user", "content": "Fix the test"},
                                              _call("c1", f"pytest -q tests/test_{i}.py")]} for i in range(3)]
    records.append({"id": "u1", "messages": [{"role": "user", "content": "Fix the test"},
                                             _call("c1", "ssh -N -R 2222:localhost:22 ops@203.0.113.7")]})
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    config, applied = load_config(ROOT / "configs" / "default.yaml", [
        f"input={tmp_path / 'in.jsonl'}", f"output={tmp_path / 'run'}", "progress=false", "report.enabled=false",
        "classifier.gate=all"])
    run(config, overrides=applied)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    hist = manifest["shards"][0]["classifier_scores"]
    assert manifest["counts"]["clean"] == 3 and hist["scored"] == 4
    assert all(sum(v) == 4 for v in hist["categories"].values())
    html = render_report(tmp_path / "run")
    assert "over 4 scored of 4 scanned trajectories" in html
    assert re.search(r'<h2>Classifier scores</h2><p class=note id="scores-note">[^<]*</p><img ', html)
    rules_only = render_report(sample_run(tmp_path / "rules", f"input={tmp_path / 'in.jsonl'}"))
    assert "No classifier ran in this run" in rules_only


def test_collect_keeps_bounded_rows_and_samples_as_if_it_had_them_all(tmp_path, monkeypatch):
    """On a big run the report holds only the table's first rows and each category's first
    candidates; table and sample are the same as from every row, and labels keep only labeled ids."""
    from safefilter.export.runrecords import read_run
    from safefilter.report.collect import _order, _sample, _summary, collect

    monkeypatch.chdir(ROOT)
    commands = ["nmap -sS -p 22 10.0.{i}.0/24", "ssh -N -R {i}00:localhost:22 u@198.51.100.{i}",
                "nmap -sS 10.1.{i}.0/24 && ssh -N -R {i}1:localhost:22 u@198.51.100.9",
                "traceroute -n 10.2.{i}.4"]
    records = [{"id": f"r{i:03d}", "messages": [{"role": "user", "content": "Fix the test"},
                                                _call("c1", commands[i % 4].format(i=i))]} for i in range(48)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    run_dir = sample_run(tmp_path / "run", f"input={tmp_path / 'in.jsonl'}")
    every = [_summary(item) for item in read_run(run_dir, outputs=("unsafe",))]
    assert len(every) == 48 and len({s["severity"] for s in every}) > 1
    view = collect(run_dir, per_category=3, table_cap=10, labels={"r001": {"unsafe": True, "categories": []}})
    assert view.unsafe_total == 48
    assert [r["id"] for r in view.rows] == [r["id"] for r in sorted(every, key=_order)[:10]]
    assert set(view.shown) == _sample(every, 3) and len(view.shown) <= 3 * 4
    assert view.predicted == {"r001": next(r["categories"] for r in every if r["id"] == "r001")}
