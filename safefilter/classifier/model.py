"""Loading and running the fine-tuned action classifier.

A model directory holds what `safefilter train` writes: the `transformers` config and
safetensors weights, the tokenizer, ``labels.json`` (category order of the logits),
``thresholds.json`` (one decision threshold per category), ``training_config.json`` and
``model_card.md``. Loading is strictly local: no hub access, no remote code, safetensors only.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import DetectorError
from ..training.data import LABELS
from ..types import CATEGORIES

__all__ = ["Classifier", "ModelLoadError", "resolve_model", "builtin_model_dir", "BUILTIN_MODEL", "load_classifier", "tiny_model_dir", "save_model_dir",
           "pick_device", "DEFAULT_THRESHOLD", "TRAIN_COMMAND"]

DEFAULT_THRESHOLD = 0.5
TRAIN_COMMAND = "safefilter train --config configs/train.yaml"
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt")


class ModelLoadError(DetectorError):
    """A classifier model directory is missing, incomplete or unreadable; the message says how to make one."""


def _offline() -> None:
    # Never reach the hub from here, whatever the caller's environment says.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class _quiet_hf:
    """Silence transformers' per-load/save progress bars (noise in every worker) and restore them."""

    def __enter__(self) -> None:
        from transformers.utils import logging as hf_logging

        self._was = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()

    def __exit__(self, *exc: object) -> None:
        from transformers.utils import logging as hf_logging

        if self._was:
            hf_logging.enable_progress_bar()


def pick_device(device: str = "auto", *, setting: str = "device"):
    """The torch device for `device`; ModelLoadError, naming `setting`, when this machine has no such device."""
    import torch

    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError) as exc:
        raise ModelLoadError(f"{setting}={device!r} is not a device torch knows ({exc}); "
                             f"set {setting}=cpu or auto") from None
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ModelLoadError(f"{setting}={device} but torch finds no CUDA device on this machine "
                                 f"(torch {torch.__version__}); set {setting}=cpu or auto")
        if dev.index is not None and dev.index >= count:
            raise ModelLoadError(f"{setting}={device} but this machine has {count} CUDA device(s) "
                                 f"(cuda:0 to cuda:{count - 1}); set {setting} to one of them, or auto")
    elif dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ModelLoadError(f"{setting}={device} but MPS is not available here; set {setting}=cpu or auto")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise ModelLoadError(f"{setting}={device}: only cpu, cuda, cuda:N, mps and auto are supported")
    return dev


def _missing(model_dir: Path, what: str) -> ModelLoadError:
    return ModelLoadError(
        f"classifier model not usable at {model_dir}: {what}. "
        f"Produce it with `{TRAIN_COMMAND}` (or point the config at an existing model directory).")


BUILTIN_MODEL = "builtin"


def builtin_model_dir() -> Path:
    """Where the model shipped inside the package lives."""
    return Path(__file__).resolve().parent.parent / "models" / "action-classifier"


def resolve_model(name: str | os.PathLike[str]) -> Path:
    """`builtin` -> the shipped model directory; anything else is a local model directory."""
    if str(name) == BUILTIN_MODEL:
        return builtin_model_dir()
    return Path(name).expanduser()


def check_model_dir(model_dir: str | os.PathLike[str]) -> Path:
    """The directory as a Path, or ModelLoadError naming what is missing and the command that makes it."""
    path = Path(model_dir).expanduser()
    if not path.is_dir():
        raise _missing(path, "the directory does not exist")
    if not (path / "config.json").is_file():
        raise _missing(path, "config.json is missing")
    if not any((path / f).is_file() for f in _WEIGHT_FILES):
        raise _missing(path, "no safetensors weights (model.safetensors)")
    if not any((path / f).is_file() for f in _TOKENIZER_FILES):
        raise _missing(path, "no tokenizer files (tokenizer.json or vocab.txt)")
    return path


def _read_json(f: Path) -> Any:
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(f"classifier model file {f} cannot be read as JSON ({type(exc).__name__}: {exc}). "
                             f"Re-create the model with `{TRAIN_COMMAND}`.") from None


def read_training_config(model_dir: Path) -> dict[str, Any]:
    """training_config.json of a model directory ({} when absent); ModelLoadError when unreadable."""
    f = Path(model_dir) / "training_config.json"
    if not f.is_file():
        return {}
    data = _read_json(f)
    if not isinstance(data, dict):
        raise ModelLoadError(f"classifier model file {f} holds {type(data).__name__}, not a mapping. "
                             f"Re-create the model with `{TRAIN_COMMAND}`.")
    return data


def read_labels(model_dir: Path, config: Any = None) -> tuple[str, ...]:
    """Category order of the logits: labels.json, else the config's id2label, else the four categories.

    ModelLoadError unless they are the four categories, each once (any order).
    """
    f = model_dir / "labels.json"
    if f.is_file():
        labels = _read_json(f)
        try:
            if isinstance(labels, dict):  # {"0": "tunneling", ...} or {"labels": [...]}
                labels = labels.get("labels") or [labels[k] for k in sorted(labels, key=int)]
            if not isinstance(labels, list):
                raise TypeError(f"a list, not {type(labels).__name__}")
            found = tuple(str(x) for x in labels)
        except (TypeError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"classifier model file {f} must list the categories in logit order "
                                 f"({exc}). Re-create the model with `{TRAIN_COMMAND}`.") from None
    else:
        id2label = getattr(config, "id2label", None) or {}
        if id2label and all(not str(v).startswith("LABEL_") for v in id2label.values()):
            found = tuple(str(id2label[i]) for i in sorted(id2label))
        else:
            found = LABELS
    if sorted(found) != sorted(CATEGORIES):
        raise ModelLoadError(f"classifier model at {model_dir} has labels {list(found)}; it must name the four "
                             f"categories {list(CATEGORIES)}, each once. Re-create it with `{TRAIN_COMMAND}`.")
    return found


def read_thresholds(model_dir: Path, labels: Sequence[str]) -> dict[str, float]:
    """Per-category thresholds from thresholds.json; a category it does not name gets 0.5.

    ModelLoadError for a file that is not a mapping of categories to numbers in [0, 1].
    """
    out = {c: DEFAULT_THRESHOLD for c in labels}
    f = model_dir / "thresholds.json"
    if not f.is_file():
        return out
    data = _read_json(f)
    data = data.get("thresholds", data) if isinstance(data, dict) else data
    problem = None
    if not isinstance(data, dict):
        problem = f"it holds {type(data).__name__}, not a mapping of category to threshold"
    else:
        for key, value in data.items():
            if key not in labels:
                problem = f"{key!r} is not one of the model's categories {list(labels)}"
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                problem = f"{key}: {value!r} is not a number in [0, 1]"
            else:
                out[key] = float(value)
            if problem:
                break
    if problem:
        raise ModelLoadError(f"classifier model file {f} is invalid: {problem}. "
                             f"Re-create the model with `{TRAIN_COMMAND}`, or fix the file.")
    return out


class Classifier:
    """A loaded multi-label classifier: texts in, sigmoid probabilities out ([n, len(labels)]).

    `predict` deduplicates identical texts within a call and keeps an LRU cache (keyed by the
    sha1 of max_length and text) across calls; `cache_hits` / `cache_misses` count texts served
    from the cache and texts that went through the model.
    """

    def __init__(self, model: Any, tokenizer: Any, *, labels: Sequence[str] = LABELS,
                 thresholds: Mapping[str, float] | None = None, device: Any = None,
                 model_dir: Path | None = None, cache_size: int = 100_000) -> None:
        import torch

        self.model = model
        self.tokenizer = tokenizer
        self.labels = tuple(labels)
        self.thresholds = {c: DEFAULT_THRESHOLD for c in self.labels}
        self.thresholds.update(thresholds or {})
        self.device = device if device is not None else next(model.parameters()).device
        self.model_dir = model_dir
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self.cache_hits = 0
        self.cache_misses = 0
        self._torch = torch

    # ------------------------------------------------------------------ cache
    def clear_cache(self) -> None:
        self._cache.clear()
        self.cache_hits = self.cache_misses = 0

    @staticmethod
    def _key(text: str, max_length: int) -> bytes:
        return hashlib.sha1(f"{max_length}\0{text}".encode("utf-8", "surrogatepass")).digest()

    # ------------------------------------------------------------------ inference
    def predict(self, texts: Sequence[str], *, batch_size: int = 64, max_length: int = 128,
                use_cache: bool = True) -> np.ndarray:
        """Sigmoid probabilities, one row per text, columns in `self.labels` order (float32)."""
        n_labels = len(self.labels)
        out = np.empty((len(texts), n_labels), dtype=np.float32)
        if not texts:
            return out
        # unique texts still to compute -> rows of `out` they fill
        pending: dict[bytes, list[int]] = {}
        pending_text: dict[bytes, str] = {}
        for i, text in enumerate(texts):
            key = self._key(text, max_length)
            if use_cache and key in self._cache:
                self._cache.move_to_end(key)
                out[i] = self._cache[key]
                self.cache_hits += 1
                continue
            rows = pending.get(key)
            if rows is None:
                pending[key] = [i]
                pending_text[key] = text
            else:
                rows.append(i)
                self.cache_hits += use_cache
        if pending:
            keys = list(pending)
            probs = self._forward([pending_text[k] for k in keys], batch_size, max_length)
            self.cache_misses += len(keys)
            for key, row in zip(keys, probs):
                out[pending[key]] = row
                if use_cache and self.cache_size > 0:
                    self._cache[key] = row.copy()
            if use_cache:
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return out

    def _forward(self, texts: list[str], batch_size: int, max_length: int) -> np.ndarray:
        torch = self._torch
        # Tokenize once without padding, then batch texts of similar length (dynamic padding).
        enc = self.tokenizer(texts, truncation=True, max_length=max_length, padding=False)
        ids = enc["input_ids"]
        extra = {k: enc[k] for k in ("token_type_ids",) if k in enc}
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        result = np.empty((len(texts), len(self.labels)), dtype=np.float32)
        pad_id = self.tokenizer.pad_token_id or 0
        self.model.eval()
        with torch.inference_mode():
            for s in range(0, len(order), batch_size):
                chunk = order[s:s + batch_size]
                width = max(len(ids[i]) for i in chunk)
                input_ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for r, i in enumerate(chunk):
                    input_ids[r, :len(ids[i])] = torch.tensor(ids[i], dtype=torch.long)
                    mask[r, :len(ids[i])] = 1
                inputs = {"input_ids": input_ids.to(self.device), "attention_mask": mask.to(self.device)}
                if "token_type_ids" in extra:
                    inputs["token_type_ids"] = torch.zeros_like(input_ids).to(self.device)
                logits = self.model(**inputs).logits.float()
                result[chunk] = torch.sigmoid(logits).cpu().numpy()
        return result

    def self_test(self) -> None:
        """One tiny inference, uncached: ModelLoadError unless it gives one probability per category.

        Run before the first record, so weights that load but cannot compute (wrong shapes, NaN
        weights, a device that fails at the first kernel) stop the run instead of every record.
        """
        try:
            probs = self.predict(["ls -la"], batch_size=1, max_length=16, use_cache=False)
        except Exception as exc:  # noqa: BLE001 - whatever breaks here breaks every record
            raise ModelLoadError(f"classifier model at {self.model_dir} failed a test inference on {self.device} "
                                 f"({type(exc).__name__}: {exc}). Re-create it with `{TRAIN_COMMAND}`, or set "
                                 "classifier.device=cpu") from exc
        if probs.shape != (1, len(self.labels)) or not np.all((probs >= 0) & (probs <= 1)):
            raise ModelLoadError(f"classifier model at {self.model_dir} gives {probs.tolist()} for a test input, "
                                 f"not {len(self.labels)} probabilities in [0, 1]. Re-create it with `{TRAIN_COMMAND}`.")

    def decide(self, probs: np.ndarray) -> np.ndarray:
        """Boolean [n, labels]: probability >= the category's threshold."""
        t = np.array([self.thresholds[c] for c in self.labels], dtype=np.float32)
        return probs >= t


def load_classifier(model_dir: str | os.PathLike[str], *, device: str = "auto",
                    cache_size: int = 100_000) -> Classifier:
    """Load a model directory written by `safefilter train` (local files only, safetensors only)."""
    path = check_model_dir(model_dir)
    dev = pick_device(device, setting="classifier.device")  # before the weights: a missing device is the clearer message
    _offline()
    try:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        with _quiet_hf():
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True, trust_remote_code=False)
            model = AutoModelForSequenceClassification.from_pretrained(
                str(path), local_files_only=True, trust_remote_code=False, use_safetensors=True)
    except Exception as exc:  # noqa: BLE001 - any load failure becomes one clear error
        raise ModelLoadError(f"classifier model at {path} could not be loaded ({type(exc).__name__}: {exc}). "
                             f"Produce it with `{TRAIN_COMMAND}`.") from exc
    labels = read_labels(path, model.config)
    if model.config.num_labels != len(labels):
        raise ModelLoadError(f"classifier model at {path} has {model.config.num_labels} outputs but "
                             f"labels.json names {len(labels)} categories. Re-create it with `{TRAIN_COMMAND}`.")
    try:
        model.to(dev).eval()
        if dev.type == "cpu":
            model.float()  # weights may be stored in float16; CPU kernels want float32
    except Exception as exc:  # noqa: BLE001 - a device that fails to take the weights is a load failure
        raise ModelLoadError(f"classifier model at {path} could not be moved to {dev} ({type(exc).__name__}: "
                             f"{exc}); set classifier.device=cpu or auto") from exc
    return Classifier(model, tokenizer, labels=labels, thresholds=read_thresholds(path, labels),
                      device=dev, model_dir=path, cache_size=cache_size)


def save_model_dir(model: Any, tokenizer: Any, out_dir: str | os.PathLike[str], *,
                   labels: Sequence[str] = LABELS, thresholds: Mapping[str, float] | None = None) -> Path:
    """Write model (safetensors), tokenizer, labels.json and thresholds.json to `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {}
    if "safe_serialization" in inspect.signature(model.save_pretrained).parameters:
        kwargs["safe_serialization"] = True  # transformers < 5; 5.x always writes safetensors
    with _quiet_hf():
        model.save_pretrained(str(out), **kwargs)
        tokenizer.save_pretrained(str(out))
    (out / "labels.json").write_text(json.dumps(list(labels), indent=2) + "\n")
    th = {c: DEFAULT_THRESHOLD for c in labels}
    th.update(thresholds or {})
    (out / "thresholds.json").write_text(json.dumps(th, indent=2) + "\n")
    return out


# ---------------------------------------------------------------------- tiny model for tests
_TINY_WORDS = (
    "ssh nc ncat socat bash sh python python3 perl php curl wget git pip npm make pytest ls cat grep sed "
    "find head tail echo chmod nohup screen docker kubectl aws gcloud az ec2 run instances instance type "
    "region nmap masscan ping arp scan xmrig miner pool stratum tcp udp dev tmp wallet user pass config "
    "json cron crontab systemctl tunnel ngrok chisel frpc cloudflared localhost root import socket os "
    "subprocess requests print open file test tests src fix the failing add in to task prev shell code "
    "args http https example com net org"
).split()


def _tiny_vocab() -> list[str]:
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [chr(c) for c in range(33, 127)]
    vocab = specials + chars + ["##" + c for c in chars if c.isalnum()] + _TINY_WORDS
    seen: set[str] = set()
    return [t for t in vocab if not (t in seen or seen.add(t))]


def tiny_model_dir(path: str | os.PathLike[str], *, vocab_from: str | os.PathLike[str] | None = None,
                   seed: int = 0, labels: Sequence[str] = LABELS) -> Path:
    """Build and save a tiny random BERT classifier (2 layers, hidden 32) plus a tokenizer.

    The tokenizer is a small WordPiece vocabulary written to disk, or the tokenizer of
    `vocab_from` (a local model directory such as the MiniLM one). For tests: seconds, no download.
    """
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, BertTokenizer

    _offline()
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    if vocab_from is not None:
        tokenizer = AutoTokenizer.from_pretrained(str(vocab_from), local_files_only=True, trust_remote_code=False)
    else:
        vocab_file = out / "vocab.txt"
        vocab_file.write_text("\n".join(_tiny_vocab()) + "\n")
        tokenizer = BertTokenizer(vocab_file=str(vocab_file), do_lower_case=True)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512, num_labels=len(labels),
        problem_type="multi_label_classification",
        id2label=dict(enumerate(labels)), label2id={c: i for i, c in enumerate(labels)},
        pad_token_id=tokenizer.pad_token_id or 0)
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    save_model_dir(model, tokenizer, out, labels=labels)
    return out

