"""The learned detector: a small transformer that flags unsafe agent actions.

- `model`: `load_classifier` / `Classifier.predict` (batched, deduplicated, cached inference),
  `tiny_model_dir` (random tiny model for tests), `ModelLoadError`.
- `train`: `safefilter.classifier.train.train(...)` fine-tunes a local base model and writes a model directory.
- `detector`: `ClassifierDetector`, the scanner's Detector for it.

Importing this package does not import torch or transformers; they load on first use.
"""
from __future__ import annotations

from .detector import ClassifierDetector
from .model import Classifier, ModelLoadError, builtin_model_dir, load_classifier, resolve_model, tiny_model_dir

__all__ = ["Classifier", "ClassifierDetector", "ModelLoadError", "builtin_model_dir", "load_classifier",
           "resolve_model", "tiny_model_dir"]

