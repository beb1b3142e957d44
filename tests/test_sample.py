"""The README's main command on the bundled sample data: every record accounted for, labels met."""
import json
from pathlib import Path

from safefilter.config import load_config
from safefilter.run import run

ROOT = Path(__file__).resolve().parent.parent


def test_default_config_on_sample_data(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    config, applied = load_config(ROOT / "configs" / "default.yaml", [f"output={tmp_path / 'run'}", "progress=false"])
    summary = run(config, overrides=applied)
    c = summary.counts
    assert c["input"] == c["clean"] + c["unsafe"] + c["invalid"]
    assert c["invalid"] == 5  # the broken file's five unreadable records, each with a reason
    invalid = [json.loads(line) for p in (tmp_path / "run" / "invalid").glob("*.jsonl") for line in p.open()]
    assert all(r["error"] and r["source"].endswith("broken.jsonl") for r in invalid)

    labels = {r["id"]: r for r in map(json.loads, (ROOT / "examples" / "labels.jsonl").read_text().splitlines())}
    predicted = {}
    for kind in ("clean", "unsafe"):
        for path in (tmp_path / "run" / kind).glob("*.jsonl"):
            for line in path.read_text().splitlines():
                record = json.loads(line)
                cats = record["safety"]["categories"] if kind == "unsafe" else []
                predicted[record.get("id")] = set(cats)
    missed = [rid for rid, lab in labels.items() if lab["unsafe"] and not predicted.get(rid)]
    false_alarms = [rid for rid, lab in labels.items() if not lab["unsafe"] and predicted.get(rid)]
    wrong_category = [rid for rid, lab in labels.items()
                      if lab["unsafe"] and predicted.get(rid) and not set(lab["categories"]) <= predicted[rid]]
    assert not missed and not false_alarms and not wrong_category, (missed, false_alarms, wrong_category)
