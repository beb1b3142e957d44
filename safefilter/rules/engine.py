"""Linear-time matching of every rule against a trajectory's segments.

All patterns are compiled once per process into one RE2 `Set` per segment kind. A trajectory's
segments of one kind are joined into a single buffer and matched in one pass; only when that
pass reports that some rule could fire are the segments matched one by one to find which segment,
which span and whether exclusions apply. RE2 guarantees linear time in the input, so adversarial
text cannot make matching blow up, and benign trajectories cost one `Set.Match` per kind.

Event rules (`event:` blocks) have no text condition: they are kept in `rules` (so indexes and
`requested_rules` cover every rule) but compile to nothing here; `EventMatcher` in `events.py`
matches them against the trajectory's events (`split_rules` separates the two).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Sequence

import re2

from ..types import Finding, Segment
from .model import Condition, Rule

__all__ = ["RuleEngine"]

SEPARATOR = "\n\x00\n"  # joins segments in the prefilter buffer; no rule pattern can span it usefully
EVIDENCE_WINDOW = 240  # characters kept on each side of a match when the line is longer
MAX_FINDINGS = 200  # per trajectory, so match-dense adversarial input keeps output bounded
MAX_TRIES = 16  # matches of one pattern tried against exclusions before the segment is let go
KINDS = ("shell", "code", "file", "args", "observation")


def _flagged(pattern: str) -> str:
    return "(?im)" + pattern


@dataclass(slots=True)
class _KindIndex:
    matcher: "re2.Set"  # the positive patterns (any / all) of the rules for this kind
    local_ids: list[int]  # Set index -> global pattern id
    rules_of: dict[int, list[int]]  # global pattern id -> rules (of this kind) that use it positively


class RuleEngine:
    """Compiled rules. Build once per worker; `match` is then cheap and thread-safe."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = list(rules)
        self._patterns: list[str] = []
        self._pattern_id: dict[str, int] = {}
        self._compiled: dict[int, "re2._Regexp"] = {}
        # per rule, per step: (any ids, all ids, not ids, not_anywhere ids)
        self._steps: list[list[tuple[tuple[int, ...], ...]]] = []
        for rule in self.rules:
            self._steps.append([self._register(cond) for cond in rule.steps])
        self._kinds: dict[str, _KindIndex] = {}
        for kind in KINDS:
            rules_of: dict[int, list[int]] = defaultdict(list)
            for i, rule in enumerate(self.rules):
                if kind in rule.applies_to:
                    for p in sorted({p for step in self._steps[i] for p in (*step[0], *step[1])}):
                        rules_of[p].append(i)
            if not rules_of:
                continue
            # Exclusions stay out of the Set: they are checked only for rules that already fired.
            pids = sorted(rules_of)
            options = re2.Options()
            options.max_mem = 512 << 20
            matcher = re2.Set.SearchSet(options)
            for pid in pids:
                matcher.Add(_flagged(self._patterns[pid]))
            matcher.Compile()
            self._kinds[kind] = _KindIndex(matcher, pids, dict(rules_of))
        self._requested_patterns: list[str] = sorted({p for r in self.rules for p in r.requested_when})
        self._requested_set = None
        if self._requested_patterns:
            self._requested_set = re2.Set.SearchSet(re2.Options())
            for p in self._requested_patterns:
                self._requested_set.Add(_flagged(p))
            self._requested_set.Compile()

    def _register(self, cond: Condition) -> tuple[tuple[int, ...], ...]:
        def ids(patterns: tuple[str, ...]) -> tuple[int, ...]:
            out = []
            for p in patterns:
                if p not in self._pattern_id:
                    self._pattern_id[p] = len(self._patterns)
                    self._patterns.append(p)
                out.append(self._pattern_id[p])
            return tuple(out)

        return ids(cond.any), ids(cond.all), ids(cond.not_), ids(cond.not_anywhere)

    def _regex(self, pid: int) -> Any:
        rx = self._compiled.get(pid)
        if rx is None:
            rx = self._compiled[pid] = re2.compile(_flagged(self._patterns[pid]))
        return rx

    def __getstate__(self) -> dict:
        # RE2 objects do not pickle; workers recompile from the rules.
        return {"rules": self.rules}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["rules"])

    # --- matching -------------------------------------------------------------------------------

    def could_fire(self, kind: str, text: str) -> bool:
        """Whether some text rule for `kind` has a positive pattern in `text` (the prefilter alone:
        cheap, one Set match). The event stage's gate uses it to leave texts no rule reads unparsed."""
        index = self._kinds.get(kind)
        return index is not None and bool(index.matcher.Match(text))

    def requested_rules(self, task: str) -> set[int]:
        """Indexes of rules whose behaviour the task prompt asks for."""
        if not task or self._requested_set is None:
            return set()
        fired = self._requested_set.Match(task)
        if not fired:
            return set()
        fired_patterns = {self._requested_patterns[i] for i in fired}
        return {i for i, r in enumerate(self.rules) if any(p in fired_patterns for p in r.requested_when)}

    def match(self, segments: Sequence[Segment], task: str = "") -> list[Finding]:
        """Findings of every rule on one trajectory's segments (originals and derived)."""
        by_kind: dict[str, list[Segment]] = defaultdict(list)
        for seg in segments:
            if seg.kind in self._kinds:
                by_kind[seg.kind].append(seg)
        # step hits: (rule, step) -> list of (segment, match of a positive pattern)
        hits: dict[tuple[int, int], list[tuple[Segment, Any]]] = defaultdict(list)
        for kind, segs in by_kind.items():
            index = self._kinds[kind]
            buffer = segs[0].text if len(segs) == 1 else SEPARATOR.join(s.text for s in segs)
            fired = index.matcher.Match(buffer)
            if not fired:
                continue
            fired_ids = {index.local_ids[i] for i in fired}
            reachable = sorted({r for p in fired_ids for r in index.rules_of[p]})
            candidates = [r for r in reachable if any(self._could_fire(step, fired_ids) for step in self._steps[r])]
            if not candidates:
                continue
            for seg in segs:
                seg_fired = index.matcher.Match(seg.text) if len(segs) > 1 else fired
                if not seg_fired:
                    continue
                seg_ids = {index.local_ids[i] for i in seg_fired}
                for r in candidates:
                    for step_no, step in enumerate(self._steps[r]):
                        m = self._step_hit(step, seg_ids, seg.text)
                        if m is not None:
                            hits[(r, step_no)].append((seg, m))
        if not hits:
            return []
        requested = self.requested_rules(task)
        findings: list[Finding] = []
        seen: set[tuple[str, int, str]] = set()
        for r, rule in enumerate(self.rules):
            if (r, 0) not in hits:
                continue
            located = hits[(r, 0)] if not rule.is_sequence else self._sequence(r, hits)
            for seg, m in located:
                key = (rule.id, seg.message_index, seg.field)
                if key in seen:
                    continue
                seen.add(key)
                findings.append(self._finding(rule, seg, m, r in requested))
                if len(findings) >= MAX_FINDINGS:
                    return findings
        return findings

    @staticmethod
    def _could_fire(step: tuple[tuple[int, ...], ...], fired: set[int]) -> bool:
        any_ids, all_ids = step[0], step[1]
        return all(p in fired for p in all_ids) and (not any_ids or any(p in fired for p in any_ids))

    def _step_hit(self, step: tuple[tuple[int, ...], ...], fired: set[int], text: str) -> Any:
        """The match that satisfies one condition in `text`, or None.

        Exclusions (`not`) apply to the line around a match, not to the whole segment, so one
        harmless line of a script (a comment, a grep of the docs) does not silence the rest of it.
        """
        any_ids, all_ids, not_ids, not_anywhere_ids = step
        if not all(p in fired for p in all_ids):
            return None
        candidates = [p for p in any_ids if p in fired] if any_ids else [all_ids[0]]
        if not candidates or any(self._regex(p).search(text) for p in not_anywhere_ids):
            return None
        for pid in candidates:
            if not not_ids:
                m = self._regex(pid).search(text)
                if m is not None:
                    return m
                continue
            for n, m in enumerate(self._regex(pid).finditer(text)):
                if n >= MAX_TRIES:
                    break
                line = _line(text, m.start(), m.end())
                if not any(self._regex(x).search(line) for x in not_ids):
                    return m
        return None

    def _sequence(self, r: int, hits: dict[tuple[int, int], list[tuple[Segment, Any]]]) -> list[tuple[Segment, Any]]:
        """Earliest chain of step hits in trajectory order, honouring named captures."""
        n_steps = len(self._steps[r])
        if any((r, s) not in hits for s in range(n_steps)):
            return []
        position = (-1, -1)  # (step of the action, offset in its text) of the previous step's match
        bound: dict[str, str] = {}
        chain: list[tuple[Segment, Any]] = []
        for s in range(n_steps):
            best = None
            for seg, m in hits[(r, s)]:
                if any(v.lower() not in seg.text.lower() for v in bound.values()):
                    continue
                pos = (seg.step, m.start())
                if pos >= position and (best is None or pos < best[0]):
                    best = (pos, seg, m)
            if best is None:
                return []
            position = (best[0][0], best[0][1] + 1)
            chain.append((best[1], best[2]))
            for name, value in (best[2].groupdict() or {}).items():
                if value:
                    bound[name] = value.rsplit("/", 1)[-1]
        return [chain[-1]]  # the finding points at the step that completes the sequence

    def _finding(self, rule: Rule, seg: Segment, m: Any, requested: bool) -> Finding:
        text = seg.text
        m_start, m_end = m.start(), m.end()
        line_start = text.rfind("\n", max(0, m_start - EVIDENCE_WINDOW), m_start) + 1
        if line_start == 0 and m_start > EVIDENCE_WINDOW:
            line_start = m_start - EVIDENCE_WINDOW
        line_end = text.find("\n", m_end, m_end + EVIDENCE_WINDOW)
        if line_end == -1:
            line_end = min(len(text), m_end + EVIDENCE_WINDOW)
        evidence = text[line_start:line_end]
        if seg.decoded_from:
            start, end = seg.start, seg.end
        else:
            start, end = seg.start + line_start, seg.start + line_end
        return Finding(
            category=rule.category, subcategory=rule.subcategory, detector="rule", rule_id=rule.id,
            score=1.0, severity=rule.severity, mitre=rule.mitre, message_index=seg.message_index,
            tool_call_id=seg.tool_call_id, field=seg.field, start=start, end=end, evidence=evidence,
            decoded_from=seg.decoded_from, requested=requested,
        )


def _line(text: str, start: int, end: int) -> str:
    """The whole line(s) around text[start:end]."""
    left = text.rfind("\n", 0, start) + 1
    right = text.find("\n", end)
    return text[left:] if right < 0 else text[left:right]
