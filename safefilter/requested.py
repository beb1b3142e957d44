"""What the task actually asks for: negated clauses dropped, and requests held to the hosts they name.

Why: the packs' `requested_when` phrases were matched against the whole task, so "Do not set up
an SSH tunnel" requested a tunnel, and "Set up an SSH tunnel to the staging database at
10.0.0.7" excused a tunnel to any host. LABELING.md §3: a request excuses what it names, not the
whole family. Two steps, both conservative (they can only take `requested` away):

- `affirmed(task)`: the task without its negated clauses (from a cue such as "do not", "never",
  "without", "no" to the end of the clause), which is what `requested_when` phrases are matched
  against;
- `scope_to_named_hosts(findings, request)`: when the request names hosts (IPs, CIDRs, dotted
  names, URLs, `user@host`), a requested finding stays requested only if every network target of
  its evidence is one of them.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import re2

from .hosts import HostAllowlist, Target, named_hosts, network_targets
from .policy import WHOLE_EVIDENCE_BELOW
from .types import Finding

__all__ = ["affirmed", "scope_to_named_hosts"]

_OPTIONS = re2.Options()
_OPTIONS.case_sensitive = False
_NEGATION = re2.compile(
    r"\b(?:do|does|did|must|should|shall|will|would|could|can|may|need)\s+not\b"
    r"|\b(?:don|doesn|didn|mustn|shouldn|won|wouldn|couldn|can|needn)['’]?t\b"
    r"|\b(?:never|not|no|without|avoid|avoiding|refrain|forbid|forbidden|prohibit|prohibited|disallow"
    r"|disallowed|instead\s+of|rather\s+than|except|stop)\b",
    _OPTIONS,
)
#: Negation cues read per task at most; past them the rest of the task is dropped (bounded work).
MAX_CUES = 1000
# Clause ends: , ; : ! ? newline, and a full stop followed by a blank (not the dots of 10.0.0.7),
# all folded to b"\n" (same length) so one bytes.find finds the nearest.
_CLAUSE_ENDS = bytes.maketrans(b"!?;:,\t", b"\n\n\n\n\n ")


def affirmed(task: str) -> str:
    """The task with every negated clause cut from its negation cue on ("Do not open a tunnel" -> "").

    Linear, and cheap on the long system prompts nearly every record carries: one RE2 pass for
    the cues over the UTF-8 bytes, the clause ends folded in C, and each stretch of text searched
    for a clause end at most once (cues inside a clause already cut are skipped). Cuts fall on
    ASCII characters, so the kept bytes are whole UTF-8.
    """
    if not task:
        return task
    data = task.encode("utf-8", "surrogatepass")  # Python callers may pass lone surrogates; JSON cannot
    if _NEGATION.search(data) is None:
        return task
    folded = data.translate(_CLAUSE_ENDS).replace(b". ", b"\n ")
    kept: list[bytes] = []
    pos = 0
    for n, m in enumerate(_NEGATION.finditer(data)):
        cue = m.start()
        if n >= MAX_CUES:
            pos = len(data)  # a task this full of negations: keep nothing past here (asks for less)
            break
        if cue < pos:
            continue  # inside a clause already cut
        kept.append(data[pos:cue])
        end = folded.find(b"\n", cue)
        pos = len(data) if end < 0 else end + 1
    kept.append(data[pos:])
    return b"".join(kept).decode("utf-8", "surrogatepass")


def _local(target: Target) -> bool:
    return isinstance(target, str) and (target == "localhost" or target.endswith(".localhost")) or \
        getattr(target, "is_loopback", False)


def scope_to_named_hosts(findings: Sequence[Finding], request: str) -> list[Finding]:
    """`findings` with `requested` taken from those aimed at hosts the request does not name.

    Unchanged when nothing is requested or the request names no host. A requested finding whose
    evidence names no target keeps its flag (nothing to compare); one with a target that cannot
    be read (`$HOST`), or evidence too long to be whole, loses it.
    """
    if not any(f.requested for f in findings):
        return list(findings)
    named = named_hosts(request)
    if not named:
        return list(findings)
    scope = HostAllowlist.of_targets(named)
    out: list[Finding] = []
    for f in findings:
        if f.requested and not _within(f.evidence, scope):
            f = replace(f, requested=False)
        out.append(f)
    return out


def _within(evidence: str, scope: HostAllowlist) -> bool:
    """Every non-local target of the evidence is in scope (evidence that may be cut short is not)."""
    if len(evidence) >= WHOLE_EVIDENCE_BELOW:
        return False
    return all(scope.covers(t) for t in network_targets(evidence) if not _local(t))
