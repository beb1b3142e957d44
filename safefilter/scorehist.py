"""A bounded histogram of the classifier's top score per trajectory and category, clean records included.

Findings keep a classifier score only when it passes the threshold, so scores read back from
unsafe/ show only the tail. `score_histogram(scanner)` wraps the scanner's classifier detector so
that every trajectory it scores is added here (the highest probability over its actions, per
category); each work unit takes its share into its completion record
(`shard["classifier_scores"]`), and the report merges the shards of the manifest. Fixed bins: the
size does not grow with the run, and merging is adding.

The wrapper reads the probabilities back from the classifier's own cache (the texts were just
scored), so it adds lookups, not model calls; with the cache off (`classifier.cache_size: 0`) it
records nothing rather than score everything twice.
"""
from __future__ import annotations

from typing import Any, Collection, Iterable, Mapping, Sequence

__all__ = ["BINS", "ScoreHistogram", "ScoredClassifier", "merge_histograms", "score_histogram"]

BINS = 20  # equal bins over [0, 1]


def _bin(score: float) -> int:
    return min(max(int(score * BINS), 0), BINS - 1)


class ScoreHistogram:
    """Counts per category and bin, and how many trajectories were scored."""

    def __init__(self) -> None:
        self.scored = 0
        self.counts: dict[str, list[int]] = {}

    def add(self, top: Mapping[str, float]) -> None:
        """One scored trajectory: its highest score per category."""
        self.scored += 1
        for category, score in top.items():
            self.counts.setdefault(category, [0] * BINS)[_bin(float(score))] += 1

    def take(self) -> dict[str, Any]:
        """What was added since the last take (as JSON), and start over: one work unit's share."""
        out = {"bins": BINS, "scored": self.scored, "categories": {c: list(v) for c, v in sorted(self.counts.items())}}
        self.scored, self.counts = 0, {}
        return out


def merge_histograms(parts: Iterable[Mapping[str, Any] | None]) -> dict[str, Any] | None:
    """The sum of work units' histograms; None when no unit carried one (no classifier ran)."""
    total: dict[str, Any] | None = None
    for part in parts:
        if not part or part.get("bins") != BINS:
            continue
        if total is None:
            total = {"bins": BINS, "scored": 0, "categories": {}}
        total["scored"] += int(part.get("scored") or 0)
        for category, counts in (part.get("categories") or {}).items():
            mine = total["categories"].setdefault(category, [0] * BINS)
            for i, n in enumerate(counts[:BINS]):
                mine[i] += int(n)
    return total


class ScoredClassifier:
    """The classifier detector, unchanged in what it finds, that also adds each trajectory it scored
    to `histogram`. Everything but `detect_batch` is the wrapped detector's."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.histogram = ScoreHistogram()

    def __getattr__(self, name: str) -> Any:
        if name in ("inner", "histogram"):  # not set yet (unpickling): never recurse
            raise AttributeError(name)
        return getattr(self.inner, name)

    def detect_batch(self, items: Sequence[Any], *, skip: Collection[int] | None = None) -> list[Any]:
        found = self.inner.detect_batch(items, skip=skip)
        try:
            self._record(items, skip)
        except Exception:  # noqa: BLE001 - a histogram is a view of the run; it never fails a scan
            pass
        return found

    def _record(self, items: Sequence[Any], skip: Collection[int] | None) -> None:
        inner = self.inner
        clf = inner.classifier
        if getattr(clf, "cache_size", 0) <= 0:
            return
        skipped = set(skip or ()) if getattr(inner, "gate", "all") == "undecided" else set()
        per_item = [[] if j in skipped else [text for _, text in inner._inputs(item)] for j, item in enumerate(items)]
        texts = [t for texts in per_item for t in texts]
        # a notable-only model scores every ordinary action 0 without a forward pass: a trajectory it
        # was asked about with nothing notable is scored, at 0
        zero_when_empty = getattr(inner, "inputs", "all") == "notable"
        probs = clf.predict(texts, batch_size=inner.batch_size, max_length=inner.max_length) if texts else None
        row = 0
        for j, texts in enumerate(per_item):
            if not texts:
                if zero_when_empty and j not in skipped:
                    self.histogram.add({c: 0.0 for c in clf.labels})
                continue  # skipped by the gate, or no action the classifier reads: not scored
            block = probs[row:row + len(texts)].max(axis=0)
            row += len(texts)
            self.histogram.add({c: float(block[i]) for i, c in enumerate(clf.labels)})


def score_histogram(scanner: Any) -> ScoreHistogram | None:
    """The histogram of `scanner`'s classifier (wrapping it on first use), or None without a classifier."""
    for i, detector in enumerate(getattr(scanner, "detectors", None) or ()):
        if isinstance(detector, ScoredClassifier):
            return detector.histogram
        if getattr(detector, "name", None) == "classifier":
            wrapped = ScoredClassifier(detector)
            scanner.detectors[i] = wrapped
            return wrapped.histogram
    return None
