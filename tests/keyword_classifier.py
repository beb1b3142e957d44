"""A stand-in for the learned classifier in policy and eval tests: scores by keywords, no model.

It speaks the scanner's classifier protocol (`name`, `gate`, `threshold_override`, `thresholds()`,
`detect_batch(items, skip=)`), so tests of combination and evaluation do not depend on torch or on
what the shipped model happens to score.
"""
from __future__ import annotations

from typing import Any, Collection, Mapping, Sequence

from safefilter.types import CATEGORIES, Finding, Severity


class KeywordClassifier:
    """`scores`: keyword -> (category, score); an original shell action containing the keyword gets it."""

    name = "classifier"

    def __init__(self, scores: Mapping[str, tuple[str, float]], *, gate: str = "undecided") -> None:
        self.scores = dict(scores)
        self.gate = gate
        self.threshold_override: dict[str, float] = {}
        self.calls = 0

    def thresholds(self) -> dict[str, float]:
        return {**{c: 0.5 for c in CATEGORIES}, **self.threshold_override}

    def detect_batch(self, items: Sequence[Any], *, skip: Collection[int] | None = None) -> list[list[Finding]]:
        th = self.thresholds()
        out: list[list[Finding]] = []
        for j, item in enumerate(items):
            found: list[Finding] = []
            if not (self.gate == "undecided" and skip and j in skip):
                self.calls += 1
                for seg in item.segments:
                    if seg.kind != "shell" or seg.decoded_from is not None:
                        continue
                    for word, (category, score) in self.scores.items():
                        if word in seg.text and score >= th[category]:
                            found.append(Finding(category, "classifier", "classifier", f"classifier:{category}",
                                                 score, Severity.MEDIUM, (), seg.message_index, seg.tool_call_id,
                                                 seg.field, seg.start, seg.start + len(seg.text), seg.text))
            out.append(found)
        return out
