"""`ClassifierDetector`: the learned classifier as a scanner Detector.

Every action segment of a trajectory (kinds ``shell``, ``code``, ``file``, ``args``; the original
segments, plus the decoded views when ``include_decoded=True``) becomes one model input, built by
`safefilter.classifier.inputs.action_inputs` in the context the model was trained with
(``training_config.json`` ``input_context``): ``"events"`` (facts from the event model, plus task
and output excerpt for notable actions), or the older ``"none"`` (``[kind] action``) and
``"task_previous"`` (`format_input(task, previous, kind, text)`, ``previous`` the last earlier
action or, with ``previous="observation"``, the last tool output). ``task_view="tail"`` (default)
keeps the last 150 characters of a long task (the user request comes last); ``"head"`` the first.
All inputs of one `detect_batch` call go to the model together (deduplicated and cached by
`Classifier.predict`).

A category whose probability reaches its threshold (``thresholds.json`` of the model, or the
``thresholds`` override) gives one Finding with ``detector="classifier"`` and the probability as
its score.

Gate: ``gate="all"`` classifies every action. ``gate="undecided"`` skips the items whose
positions in the batch are in ``skip`` -- those the rules already flagged
(``detect_batch(items, skip={0, 3})``); without ``skip``, the ``undecided`` gate classifies
everything. Skipped trajectories get no classifier findings. Positions, not trajectory ids: two
records may share an id, and one being flagged must not let the other pass unclassified.

Build before use: `ready()` loads the model, checks the device and runs one test inference, so a
broken model stops a run before its first record (ModelLoadError) instead of failing each record.
A load that failed is remembered and raised again, never retried per batch.

Picklable: the loaded model is dropped in ``__getstate__`` and reloaded lazily in each worker.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Collection, Mapping, Sequence

from .inputs import INPUTS, ACTION_KINDS, action_inputs
from ..types import Finding, Segment, Severity
from .model import Classifier, ModelLoadError, check_model_dir, load_classifier, read_training_config

__all__ = ["ClassifierDetector", "ACTION_KINDS", "GATES"]

GATES = ("all", "undecided")
_EVIDENCE_CHARS = 240


class ClassifierDetector:
    """Detector protocol: `name` and `detect_batch(items) -> list[list[Finding]]`."""

    name = "classifier"

    def __init__(self, model_dir: str | os.PathLike[str], *, gate: str = "all", device: str = "auto",
                 batch_size: int = 64, max_length: int | None = None, include_decoded: bool = False,
                 thresholds: Mapping[str, float] | None = None, severity: Severity = Severity.MEDIUM,
                 cache_size: int = 100_000, check: bool = True, previous: str = "action",
                 task_view: str = "tail", inputs: str | None = None,
                 classifier: Classifier | None = None) -> None:
        if previous not in ("action", "observation"):
            raise ValueError(f"previous must be 'action' or 'observation', got {previous!r}")
        if task_view not in ("tail", "head"):
            raise ValueError(f"task_view must be 'tail' or 'head', got {task_view!r}")
        if gate not in GATES:
            raise ValueError(f"gate must be one of {GATES}, got {gate!r}")
        self.model_dir = Path(model_dir)
        if check and classifier is None:
            check_model_dir(self.model_dir)  # fail early (ModelLoadError) with the command that makes it
        self.gate = gate
        self.previous = previous
        self.task_view = task_view
        self.device = device
        self.batch_size = batch_size
        self._max_length = max_length
        self.include_decoded = include_decoded
        self.threshold_override = dict(thresholds or {})
        self.severity = severity
        self.cache_size = cache_size
        self._classifier = classifier
        self._load_error: ModelLoadError | None = None
        self._context: str | None = None
        if inputs is not None and inputs not in INPUTS:
            raise ValueError(f"inputs must be one of {INPUTS}, got {inputs!r}")
        self._inputs_mode = inputs

    # ------------------------------------------------------------------ lifecycle
    @property
    def classifier(self) -> Classifier:
        if self._classifier is None:
            if self._load_error is not None:  # failed once: the same error, not another load per batch
                raise self._load_error
            try:
                self._classifier = load_classifier(self.model_dir, device=self.device, cache_size=self.cache_size)
            except ModelLoadError as exc:
                self._load_error = exc
                raise
        return self._classifier

    def ready(self) -> None:
        """Load the model, check device, labels and thresholds, run one inference: ModelLoadError if broken."""
        clf = self.classifier
        _ = self.context
        clf.self_test()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_classifier"] = None  # weights and cache stay behind; each worker reloads lazily
        state["_load_error"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def thresholds(self) -> dict[str, float]:
        th = dict(self.classifier.thresholds)
        th.update(self.threshold_override)
        return th

    @property
    def max_length(self) -> int:
        """Tokens per input: the setting, or else the length the model was trained with (a model
        read at another length than it learned scores differently)."""
        if self._max_length is None:
            self._max_length = int(read_training_config(self.model_dir).get("max_length") or 128)
        return self._max_length

    # ------------------------------------------------------------------ inputs
    @property
    def context(self) -> str:
        """The input context the model was trained with (`training_config.json`), "none" by default."""
        if self._context is None:
            self._context = str(read_training_config(self.model_dir).get("input_context", "none"))
        return self._context

    @property
    def inputs(self) -> str:
        """Which actions get a forward pass: the setting, else what the model was trained on ("all")."""
        if self._inputs_mode is None:
            self._inputs_mode = str(read_training_config(self.model_dir).get("inputs", "all"))
        return self._inputs_mode

    def _inputs(self, item: Any) -> list[tuple[Segment, str]]:
        """(segment, model text) for each action segment of one prepared trajectory: `action_inputs`,
        the one code path training (`safefilter.training.examples`) uses too."""
        notable_only = self.inputs == "notable"
        return [(a.segment, a.text) for a in action_inputs(item, context=self.context, task_view=self.task_view,
                                                            include_decoded=self.include_decoded,
                                                            previous=self.previous)
                if a.notable or not notable_only]

    # ------------------------------------------------------------------ detection
    def detect_batch(self, items: Sequence[Any], *, skip: Collection[int] | None = None) -> list[list[Finding]]:
        """Findings per item; with the `undecided` gate, items at the positions in `skip` are not classified."""
        per_item: list[list[tuple[Segment, str]]] = []
        for j, item in enumerate(items):
            if self.gate == "undecided" and skip and j in skip:
                per_item.append([])
            else:
                per_item.append(self._inputs(item))
        texts = [text for inputs in per_item for _, text in inputs]
        results: list[list[Finding]] = [[] for _ in items]
        if not texts:
            return results
        clf = self.classifier
        probs = clf.predict(texts, batch_size=self.batch_size, max_length=self.max_length)
        th = self.thresholds()
        labels = clf.labels
        row = 0
        for j, inputs in enumerate(per_item):
            for seg, _ in inputs:
                p = probs[row]
                row += 1
                for c, category in enumerate(labels):
                    score = float(p[c])
                    if score >= th.get(category, 0.5):
                        results[j].append(self._finding(seg, category, score))
        return results

    def _finding(self, seg: Segment, category: str, score: float) -> Finding:
        end = seg.end if seg.end >= 0 else seg.start + len(seg.text)
        if seg.decoded_from is None:
            end = seg.start + len(seg.text)
        return Finding(category=category, subcategory="classifier", detector="classifier",
                       rule_id=f"classifier:{category}", score=round(score, 4), severity=self.severity,
                       mitre=(), message_index=seg.message_index, tool_call_id=seg.tool_call_id,
                       field=seg.field, start=seg.start, end=end, evidence=seg.text[:_EVIDENCE_CHARS],
                       decoded_from=seg.decoded_from, requested=False)
