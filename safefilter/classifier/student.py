"""A small encoder initialised from a larger pretrained one, for fast CPU inference.

The student keeps the teacher's tokenizer and vocabulary, so it reads commands the same way, and
starts from the teacher's word and position embeddings projected onto their top principal
directions (hidden size 384 -> 128 for MiniLM-L6; computed exactly, so the same base model gives the
same start in every run). Its transformer layers start random and are
trained on the classification task, optionally against a fine-tuned teacher's scores
(`safefilter.classifier.train.train(..., teacher=...)`). Two layers of width 128 run about 20x
faster than MiniLM-L6 on a CPU and weigh a few MB in float16.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from ..training.data import LABELS
from .model import _quiet_hf

__all__ = ["build_student", "build_truncated", "load_for_classification", "principal_basis"]


def _project(weight: Any, basis: Any) -> Any:
    """Rows of `weight` expressed in `basis` (hidden x k), centred on their mean, rescaled to unit-ish norm."""
    centred = weight - weight.mean(dim=0, keepdim=True)
    out = centred @ basis
    return out / out.std().clamp_min(1e-6) * 0.05


def principal_basis(weight: Any, k: int) -> Any:
    """Top-`k` principal directions of the rows of `weight` ([hidden, k]), exactly and deterministically.

    An eigen-decomposition of the float64 covariance, not a randomized SVD, and each direction's
    sign fixed (largest component positive): the same embeddings give the same basis in every run.
    """
    import torch

    w = weight.double()
    centred = w - w.mean(dim=0, keepdim=True)
    _, vectors = torch.linalg.eigh(centred.T @ centred)  # ascending eigenvalues
    top = vectors.flip(1)[:, :k]
    pivot = top.abs().argmax(dim=0)
    signs = torch.sign(top[pivot, torch.arange(top.shape[1])])
    return (top * signs).to(weight.dtype)


def build_student(base_model_dir: str | os.PathLike[str], *, layers: int = 2, hidden: int = 128, heads: int = 2,
                  intermediate: int = 512, labels: Sequence[str] = LABELS, seed: int = 0,
                  freeze_embeddings: bool = False) -> tuple[Any, Any]:
    """(model, tokenizer): a BertForSequenceClassification student with the base model's tokenizer.

    ``freeze_embeddings`` keeps the projected word embeddings fixed, so tokens the training data
    never shows keep their pretrained neighbours instead of drifting apart from the ones it does.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer, BertConfig, BertForSequenceClassification

    base = Path(base_model_dir)
    with _quiet_hf():
        tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True, trust_remote_code=False)
        teacher = AutoModel.from_pretrained(str(base), local_files_only=True, trust_remote_code=False,
                                            use_safetensors=True)
    emb = teacher.embeddings
    words = emb.word_embeddings.weight.detach().float()
    positions = emb.position_embeddings.weight.detach().float()
    basis = principal_basis(words, hidden)  # the student's hidden axes
    config = BertConfig(
        vocab_size=words.shape[0], hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=intermediate, max_position_embeddings=positions.shape[0],
        type_vocab_size=getattr(teacher.config, "type_vocab_size", 2), num_labels=len(labels),
        problem_type="multi_label_classification", id2label=dict(enumerate(labels)),
        label2id={c: i for i, c in enumerate(labels)}, pad_token_id=tokenizer.pad_token_id or 0)
    torch.manual_seed(seed)
    student = BertForSequenceClassification(config)
    with torch.no_grad():
        student.bert.embeddings.word_embeddings.weight.copy_(_project(words, basis))
        student.bert.embeddings.position_embeddings.weight.copy_(_project(positions, basis))
    if freeze_embeddings:
        student.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    return student, tokenizer


def build_truncated(base_model_dir: str | os.PathLike[str], *, layers: int = 2, labels: Sequence[str] = LABELS,
                    seed: int = 0) -> tuple[Any, Any]:
    """(model, tokenizer): the base model with only `layers` of its transformer layers, evenly spaced
    (first and last kept), at full width.

    Why: a student whose layers start random must learn to read commands from the classification
    data alone; pretrained layers already attend to the words that matter (a DistilBERT-style
    start). Two of MiniLM-L6's six layers cost about a third of the full model per input.
    """
    import torch

    torch.manual_seed(seed)  # the new classification head
    model, tokenizer = load_for_classification(base_model_dir, labels)
    total = model.config.num_hidden_layers
    if not 1 <= layers <= total:
        raise ValueError(f"student.layers must be between 1 and {total} for a truncated student, got {layers}")
    keep = sorted({round(i * (total - 1) / max(1, layers - 1)) for i in range(layers)}) if layers > 1 else [0]
    model.bert.encoder.layer = torch.nn.ModuleList([model.bert.encoder.layer[i] for i in keep])
    model.config.num_hidden_layers = len(keep)
    return model, tokenizer


def load_for_classification(base_model_dir: str | os.PathLike[str], labels: Sequence[str] = LABELS) -> tuple[Any, Any]:
    """(model, tokenizer): a local base model with a new multi-label head, never from a hub."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    base = str(Path(base_model_dir))
    with _quiet_hf():
        tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True, trust_remote_code=False)
        model = AutoModelForSequenceClassification.from_pretrained(
            base, local_files_only=True, trust_remote_code=False, use_safetensors=True,
            num_labels=len(labels), problem_type="multi_label_classification",
            id2label=dict(enumerate(labels)), label2id={c: i for i, c in enumerate(labels)},
            ignore_mismatched_sizes=True)
    return model, tokenizer
