"""A per-record work budget and the record of where analysis was cut short.

Deobfuscation can multiply text (variables expanded, payloads decoded, gzip inflated, scripts
re-read when they run). The budget caps the characters normalized and decoded for one record at
a constant times the record's own size, so no record costs more than linear time. Whenever a
limit stops analysis early, a reason is noted: a record whose analysis was incomplete must not
pass as clean just because the analyser gave up (see `Policy.decide`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from ..types import Incomplete, Segment

__all__ = ["Budget", "REASONS"]

#: Why analysis of a record was cut short; the values of `analysis_incomplete[].reason`.
REASONS = (
    "decode_budget",  # max_derived decoded views per segment spent with decodable payloads left
    "decode_depth",  # max_decode_depth reached with a decodable payload still inside
    "substitution_cap",  # variable substitution stopped at its size cap with references left
    "work_budget",  # the record's work budget (work_per_char x its size) ran out
)
MAX_REASONS = 20  # per record: enough to say where, few enough to keep the output small


@dataclass(slots=True)
class Budget:
    """Characters of normalizing and decoding work left for one record, and why analysis stopped."""

    remaining: int
    reasons: list[Incomplete] = field(default_factory=list)
    exhausted: bool = False

    @classmethod
    def for_texts(cls, texts: Iterable[str], per_char: int, floor: int) -> "Budget":
        """A budget of `per_char` times the characters of `texts`, and at least `floor`."""
        return cls(floor + per_char * sum(len(t) for t in texts))

    def spend(self, chars: int) -> bool:
        """Take `chars` of work; False (and the budget is then spent) when there is not enough."""
        if chars > self.remaining:
            self.remaining = 0
            self.exhausted = True
            return False
        self.remaining -= chars
        return True

    def note(self, reason: str, segment: Segment) -> None:
        """Record that `reason` cut analysis of `segment` short (once per reason and place)."""
        item = Incomplete(reason, segment.message_index, segment.field)
        if item not in self.reasons and len(self.reasons) < MAX_REASONS:
            self.reasons.append(item)
