"""Small immutable value types shared by every stage.

They are plain slotted dataclasses so they pickle cheaply across Ray and
`datasets` worker processes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, NamedTuple

__all__ = ["CATEGORIES", "Severity", "Segment", "Finding", "Incomplete", "Verdict"]

#: The four behaviours of the data contract, in their canonical order.
CATEGORIES: tuple[str, ...] = ("tunneling", "cryptomining", "network_probing", "resource_acquisition")


class Severity(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, name: str) -> "Severity":
        return cls[name.upper()]

    @property
    def label(self) -> str:
        return self.name.lower()


class Segment(NamedTuple):
    """One piece of text the agent produced or saw, with where it came from.

    `kind` says what the text is: ``shell`` (a command), ``code`` (Python or another
    interpreter's source), ``file`` (content written to a file), ``args`` (string arguments of
    an unknown tool), ``observation`` (tool output). `text` is what detectors read; `start` is
    where it begins inside the message field. For a derived segment (decoded base64, an unwrapped
    variable, a script that is later run) `text` is the decoded text while `start`/`end` point at
    the original characters in the message field, and `decoded_from` says how it was derived.
    A NamedTuple because a trajectory has dozens of them: construction cost matters.
    """

    kind: str
    text: str
    message_index: int
    field: str
    tool_call_id: str | None = None
    start: int = 0
    end: int = -1
    decoded_from: str | None = None
    depth: int = 0
    step: int = 0  # order of the action in the trajectory; derived segments share their parent's
    path: str | None = None  # for `file` segments: the path written


@dataclass(frozen=True, slots=True)
class Finding:
    """Evidence that one detector saw one behaviour at one place."""

    category: str
    subcategory: str
    detector: str
    rule_id: str
    score: float
    severity: Severity
    mitre: tuple[str, ...]
    message_index: int
    tool_call_id: str | None
    field: str
    start: int
    end: int
    evidence: str
    decoded_from: str | None = None
    requested: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "subcategory": self.subcategory,
            "detector": self.detector,
            "rule_id": self.rule_id,
            "score": self.score,
            "severity": self.severity.label,
            "mitre": list(self.mitre),
            "message_index": self.message_index,
            "tool_call_id": self.tool_call_id,
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "evidence": self.evidence,
            "decoded_from": self.decoded_from,
            "requested": self.requested,
        }


class Incomplete(NamedTuple):
    """Where and why analysis of a record was cut short by a limit (see normalize.budget.REASONS)."""

    reason: str
    message_index: int
    field: str

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "message_index": self.message_index, "field": self.field}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision for one trajectory and the findings behind it."""

    unsafe: bool
    findings: tuple[Finding, ...] = field(default=())
    categories: tuple[str, ...] = ()
    severity: Severity | None = None
    first_unsafe_message: int | None = None
    #: limits that cut analysis short; such a record is unsafe by default even with no categories
    analysis_incomplete: tuple[Incomplete, ...] = ()

    def safety_object(self) -> dict[str, Any]:
        """The contract's `safety` object (`analysis_incomplete` only when a limit was hit)."""
        out: dict[str, Any] = {
            "unsafe": self.unsafe,
            "categories": list(self.categories),
            "severity": self.severity.label if self.severity else None,
            "first_unsafe_message": self.first_unsafe_message,
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.analysis_incomplete:
            out["analysis_incomplete"] = [i.to_dict() for i in self.analysis_incomplete]
        return out
