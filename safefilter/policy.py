"""From findings to a verdict: the only place that decides what counts as unsafe.

Detectors report everything they see; the policy applies the team's choices (allowlists,
requested behaviour, minimum severity), so thresholds can change without touching rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import re2

from .types import CATEGORIES, Finding, Severity, Verdict

__all__ = ["Policy", "COMBINE_MODES"]

COMBINE_MODES = ("rules", "classifier", "either")
_DETECTOR_OF_MODE = {"rules": "rule", "classifier": "classifier"}


@dataclass(frozen=True)
class Policy:
    requested_is_unsafe: bool = False
    min_severity: Severity = Severity.LOW
    disabled_rules: frozenset[str] = frozenset()
    allow_hosts: tuple[str, ...] = ()
    allow_commands: tuple[str, ...] = ()  # RE2 patterns; a finding whose evidence matches is dropped
    combine: str = "either"  # whose findings count: "rules", "classifier" or "either" (the ablation switch)
    _allow_rx: object = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.combine not in COMBINE_MODES:
            raise ValueError(f"combine must be one of {COMBINE_MODES}, got {self.combine!r}")
        if self.allow_commands:
            object.__setattr__(self, "_allow_rx", re2.compile("(?i)(?:" + "|".join(self.allow_commands) + ")"))

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_allow_rx"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    def allowed(self, finding: Finding) -> bool:
        """True when the team has accepted this finding (allowlisted host or command, disabled rule)."""
        if finding.rule_id in self.disabled_rules:
            return True
        evidence = finding.evidence.lower()
        if any(host.lower() in evidence for host in self.allow_hosts):
            return True
        return self._allow_rx is not None and self._allow_rx.search(finding.evidence) is not None

    def counts(self, finding: Finding) -> bool:
        if finding.severity < self.min_severity:
            return False
        if self.combine != "either" and finding.detector != _DETECTOR_OF_MODE[self.combine]:
            return False
        return self.requested_is_unsafe or not finding.requested

    def decide(self, findings: Sequence[Finding]) -> Verdict:
        kept = tuple(f for f in findings if not self.allowed(f))
        counting = [f for f in kept if self.counts(f)]
        if not counting:
            return Verdict(unsafe=False, findings=kept)
        present = {f.category for f in counting}
        return Verdict(
            unsafe=True,
            findings=kept,
            categories=tuple(c for c in CATEGORIES if c in present),
            severity=max(f.severity for f in counting),
            first_unsafe_message=min(f.message_index for f in counting),
        )
