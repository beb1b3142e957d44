"""Which stored findings made a record unsafe, judged by the run's own policy, and stable splits.

The `safety` object keeps every finding the allowlists let through, including requested ones and
those under `min_severity`; a step is labeled unsafe only by findings the run's policy counted,
so an export agrees with the run that wrote it.
"""
from __future__ import annotations

import hashlib
from typing import Any, Mapping

from dataclasses import dataclass

from ..policy import Policy
from ..types import Finding, Severity

__all__ = ["Judge", "counting_policy", "counts", "split_of", "DEFAULT_SPLITS"]

DEFAULT_SPLITS: dict[str, float] = {"train": 0.8, "validation": 0.1, "test": 0.1}


def counting_policy(config: Mapping[str, Any]) -> Policy:
    """The run's policy (allowlists aside: findings they excused are not stored)."""
    p = dict(config.get("policy") or {})
    return Policy(requested_is_unsafe=bool(p.get("requested_is_unsafe", False)),
                  min_severity=Severity.parse(str(p.get("min_severity", "low"))),
                  combine=str(p.get("combine", "either")))


def _finding(d: Mapping[str, Any]) -> Finding:
    try:
        severity = Severity.parse(str(d.get("severity") or "low"))
    except KeyError:
        severity = Severity.LOW
    return Finding(str(d.get("category", "")), str(d.get("subcategory", "")), str(d.get("detector", "rule")),
                   str(d.get("rule_id", "")), float(d.get("score") or 0.0), severity, tuple(d.get("mitre") or ()),
                   int(d.get("message_index") or 0), d.get("tool_call_id"), str(d.get("field", "")),
                   int(d.get("start") or 0), int(d.get("end") or 0), str(d.get("evidence", "")),
                   d.get("decoded_from"), bool(d.get("requested", False)))


def counts(policy: Policy, finding: Mapping[str, Any]) -> bool:
    """True when this stored finding is one that makes its record unsafe under `policy`."""
    return policy.counts(_finding(finding))


@dataclass(frozen=True)
class Judge:
    """The run's policy plus, when given, reviewers' decisions: a finding a reviewer called a false
    alarm (same rule, same evidence) does not count; `review_of` says what reviewers said."""

    policy: Policy
    review: Any = None  # safefilter.review.ReviewAllowlist

    def counts(self, finding: Mapping[str, Any]) -> bool:
        if self.review_of([finding]) == "false_alarm":
            return False
        return counts(self.policy, finding)

    def review_of(self, findings: Any) -> str | None:
        """"false_alarm" if reviewers called any of `findings` one, else "correct" if they confirmed any."""
        if self.review is None:
            return None
        said = {self.review.decision_on(str(f.get("rule_id", "")), str(f.get("evidence", ""))) for f in findings}
        return "false_alarm" if "false_alarm" in said else "correct" if "correct" in said else None


def split_of(record_id: str, splits: Mapping[str, float] = DEFAULT_SPLITS) -> str:
    """The split of a record, from a SHA-256 of its id alone: the same on every rerun and machine,
    and every row of one trajectory lands in the same split."""
    names = [n for n, share in splits.items() if share > 0]
    total = sum(splits[n] for n in names)
    point = int.from_bytes(hashlib.sha256(str(record_id).encode("utf-8")).digest()[:8], "big") / 2 ** 64 * total
    edge = 0.0
    for name in names:
        edge += splits[name]
        if point < edge:
            return name
    return names[-1]
