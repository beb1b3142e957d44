"""Linear-time matching of event rules (`event:` blocks) against a trajectory's events.

Rules are grouped by event kind. For each kind and each field that some rule tests, every pattern
on that field (equals / startswith / endswith / contains become escaped, anchored RE2; `|re` is
used as written) goes into one RE2 `Set`, compiled once per worker. An event then costs one
`Set.Match` per field its kind's rules use (one per argument for the multi-valued `arg`), and
only rules whose key test fired (the first `all` test, else the first of each `any` group) are
evaluated; `|cidr` tests use `ipaddress` on the host the parser already normalised. RE2 keeps each match linear in the field's length.
"""
from __future__ import annotations

import ipaddress
import shlex
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

import re2

from ..events.model import Event, Observation
from ..events.trajectory import files_shown, from_agent_process, process_outputs
from ..types import Finding
from .fields import MULTI_VALUED, render
from .model import EventCondition, FieldTest, Rule

__all__ = ["EventMatcher", "describe_event", "MAX_EVIDENCE"]

MAX_EVIDENCE = 480  # characters of evidence per finding
MAX_FINDINGS = 200  # per trajectory, as in the text engine
OBSERVATION_WINDOW = 200  # characters kept on each side of an observation match


@dataclass(slots=True)
class _FieldIndex:
    """One field of one kind: its Set and which global test ids its Set entries stand for."""

    field: str
    matcher: Any  # re2.Set
    test_ids: list[int]


@dataclass(slots=True)
class _KindIndex:
    fields: list[_FieldIndex] = field(default_factory=list)
    cidr: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)  # field -> (version, lo, hi, test)
    keyed: dict[int, list[int]] = field(default_factory=dict)  # key test id -> rules it unlocks
    always: list[int] = field(default_factory=list)  # rules no Set-matched test can rule out
    key_fields: frozenset[str] = frozenset()  # fields holding some rule's key test: matched first


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A rule's condition as global test ids."""

    all: tuple[int, ...]
    any: tuple[tuple[int, ...], ...]
    not_: tuple[tuple[int, ...], ...]


class EventMatcher:
    """Compiled event rules. Build once per worker; `match` is then cheap. Picklable (recompiles)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = [r for r in rules if r.event is not None]
        self._tests: list[FieldTest] = []
        self._test_id: dict[tuple[str, FieldTest], int] = {}
        self._networks: dict[int, tuple[Any, ...]] = {}
        self._compiled: list[_Compiled] = []
        for rule in self.rules:
            cond = rule.event
            assert cond is not None
            self._compiled.append(_Compiled(self._ids(cond.kind, cond.all),
                                            tuple(self._ids(cond.kind, g) for g in cond.any),
                                            tuple(self._ids(cond.kind, g) for g in cond.not_)))
        self._kinds: dict[str, _KindIndex] = {}
        self.set_count = 0
        self._build_indexes()
        self._requested_patterns = sorted({p for r in self.rules for p in r.requested_when})
        self._requested_set = None
        self._requested_by: list[list[int]] = [[r for r, rule in enumerate(self.rules) if p in rule.requested_when]
                                               for p in self._requested_patterns]
        if self._requested_patterns:
            self._requested_set = self._new_set(["(?im)" + p for p in self._requested_patterns])

    def _ids(self, kind: str, tests: tuple[FieldTest, ...]) -> tuple[int, ...]:
        return tuple(self._register(kind, t) for t in tests)

    def _register(self, kind: str, test: FieldTest) -> int:
        key = (kind, test)
        if key not in self._test_id:
            self._test_id[key] = len(self._tests)
            self._tests.append(test)
            if test.modifier == "cidr":
                self._networks[self._test_id[key]] = tuple(ipaddress.ip_network(v, strict=False) for v in test.values)
        return self._test_id[key]

    @staticmethod
    def _new_set(patterns: list[str]) -> Any:
        options = re2.Options()
        options.max_mem = 256 << 20
        matcher = re2.Set.SearchSet(options)
        for p in patterns:
            matcher.Add(p)
        matcher.Compile()
        return matcher

    def _build_indexes(self) -> None:
        by_kind_field: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        cidr: dict[str, list[int]] = defaultdict(list)
        for (kind, test), tid in self._test_id.items():
            if test.modifier == "cidr":
                cidr[kind].append(tid)
            else:
                by_kind_field[kind][test.field].append(tid)
        for r, rule in enumerate(self.rules):
            kind = rule.event.kind  # type: ignore[union-attr]
            index = self._kinds.setdefault(kind, _KindIndex())
            keys = self._keys(self._compiled[r])
            for key in keys:
                index.keyed.setdefault(key, []).append(r)
            index.key_fields |= {self._tests[k].field for k in keys}
            if not keys:
                index.always.append(r)
        for kind, fields in by_kind_field.items():
            index = self._kinds.setdefault(kind, _KindIndex())
            for name, tids in sorted(fields.items()):
                index.fields.append(_FieldIndex(name, self._new_set([self._tests[t].pattern for t in tids]), tids))
                self.set_count += 1
        for kind, tids in cidr.items():
            ranges = self._kinds[kind].cidr
            for tid in tids:
                for net in self._networks[tid]:
                    ranges.setdefault(self._tests[tid].field, []).append(
                        (net.version, int(net.network_address), int(net.broadcast_address), tid))

    def _keys(self, c: _Compiled) -> list[int]:
        """Tests of which one must hold for the rule to hold: the cheapest, most selective test of
        `all`, else of each `any` group. Only rules with a key that fired are evaluated further."""
        def best(tests: tuple[int, ...]) -> int:
            return min(tests, key=lambda t: (_key_cost(self._tests[t]), tests.index(t)))

        return [best(c.all)] if c.all else [best(g) for g in c.any if g]

    def __getstate__(self) -> dict:
        return {"rules": self.rules}  # RE2 objects do not pickle; workers recompile from the rules

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["rules"])

    # --- matching -------------------------------------------------------------------------------

    def requested_rules(self, request: str) -> set[int]:
        """Indexes (in `self.rules`) of rules whose `requested_when` phrases the task matches.

        The seam for requested-ness: a per-action judgment can replace this and `_requested`."""
        if not request or self._requested_set is None:
            return set()
        return {r for i in self._requested_set.Match(request) or () for r in self._requested_by[i]}

    def fired_tests(self, event: Event, events: Sequence[Event] = ()) -> set[int]:
        """Global ids of every test that holds on `event`: one Set match per field used."""
        index = self._kinds.get(event.kind)
        return set() if index is None else self._fire(index, event, events, None)

    def _fire(self, index: _KindIndex, event: Event, events: Sequence[Event], only: frozenset[str] | None,
              skip: frozenset[str] = frozenset()) -> set[int]:
        """Tests that hold on the fields in `only` (all when None) and not in `skip`."""
        fired: set[int] = set()
        for fi in index.fields:
            if (only is not None and fi.field not in only) or fi.field in skip:
                continue
            value = render(event, fi.field, events)
            parts = dict.fromkeys(value) if fi.field in MULTI_VALUED else (value,)
            for part in parts:
                for i in fi.matcher.Match(part) or ():
                    fired.add(fi.test_ids[i])
        for name, ranges in index.cidr.items():
            if (only is not None and name not in only) or name in skip:
                continue
            address = _address(render(event, name, events))  # type: ignore[arg-type]
            if address is not None:
                version, value = address
                fired.update(tid for v, lo, hi, tid in ranges if v == version and lo <= value <= hi)
        return fired

    def rules_for(self, event: Event, events: Sequence[Event] = ()) -> list[int]:
        """Indexes of rules whose condition holds on `event` (observation scoping not applied).

        The fields that hold rules' key tests are matched first; the other fields only when some
        rule's key fired, so an event no rule is about costs its key fields' Set matches alone."""
        index = self._kinds.get(event.kind)
        if index is None:
            return []
        fired = self._fire(index, event, events, index.key_fields)
        candidates = set(index.always)
        for tid in fired:
            candidates.update(index.keyed.get(tid, ()))
        if not candidates:
            return []
        fired |= self._fire(index, event, events, None, skip=index.key_fields)
        return [r for r in sorted(candidates) if _holds(self._compiled[r], fired)]

    def match(self, events: Sequence[Event], request: str = "") -> list[Finding]:
        """Findings of every event rule on one trajectory's events (in trajectory order).

        `produced_by` and `parent` index `events`. A rule on observations counts only on output of
        a process the agent started, not on a display of a fixture, test or file written as data."""
        if not self._kinds:
            return []
        requested: set[int] | None = None
        findings: list[Finding] = []
        seen: set[tuple[str, int, str]] = set()
        outputs: set[str] | None = None
        shown: dict[int, list[str]] | None = None
        for event in events:
            if event.kind not in self._kinds:
                continue
            hits = self.rules_for(event, events)
            if not hits:
                continue
            if isinstance(event, Observation):
                if outputs is None or shown is None:
                    outputs, shown = process_outputs(events), files_shown(events)
                if not from_agent_process(event, events, outputs, shown):
                    continue
            for r in hits:
                rule = self.rules[r]
                key = (rule.id, event.source.message_index, event.source.field)
                if key in seen:
                    continue
                seen.add(key)
                if requested is None:
                    requested = self.requested_rules(request)
                findings.append(self._finding(rule, event, events, r in requested))
                if len(findings) >= MAX_FINDINGS:
                    return findings
        return findings

    def _finding(self, rule: Rule, event: Event, events: Sequence[Event], requested: bool) -> Finding:
        src = event.source
        start, end = src.start, src.end
        evidence = describe_event(event, events)
        if isinstance(event, Observation):
            span = self._observation_span(rule.event, event)  # type: ignore[arg-type]
            if span is not None:
                lo, hi = span
                evidence = event.text[lo:hi]
                if src.decoded_from is None:
                    start, end = src.start + lo, src.start + hi
        return Finding(
            category=rule.category, subcategory=rule.subcategory, detector="rule", rule_id=rule.id,
            score=1.0, severity=rule.severity, mitre=rule.mitre, message_index=src.message_index,
            tool_call_id=src.tool_call_id, field=src.field, start=start, end=end,
            evidence=_cap(evidence), decoded_from=src.decoded_from, requested=requested,
        )

    @staticmethod
    def _observation_span(cond: EventCondition, event: Observation) -> tuple[int, int] | None:
        """The window around the first match of the rule's first `text` test, for evidence."""
        test = next((t for t in cond.all if t.field == "text" and t.pattern), None)
        if test is None:
            test = next((t for g in cond.any for t in g if t.field == "text" and t.pattern), None)
        if test is None:
            return None
        m = re2.search(test.pattern, event.text)
        if m is None:
            return None
        lo = max(0, m.start() - OBSERVATION_WINDOW)
        lo = event.text.rfind("\n", lo, m.start()) + 1 or lo
        hi = event.text.find("\n", m.end(), m.end() + OBSERVATION_WINDOW)
        return lo, (hi if hi != -1 else min(len(event.text), m.end() + OBSERVATION_WINDOW))


_LONG_FIELDS = frozenset({"argv", "args", "content", "text", "parameters", "url", "reasons"})


def _key_cost(test: FieldTest) -> int:
    """Rank of a test as a rule's key: an exact value of a short field first, one argument at a
    time (`arg`, a Set match per argument) last."""
    if test.field in MULTI_VALUED:
        return 3
    if test.field in _LONG_FIELDS:
        return 2
    return 0 if test.modifier == "equals" else 1


def _holds(c: _Compiled, fired: set[int]) -> bool:
    return (all(t in fired for t in c.all)
            and (not c.any or any(all(t in fired for t in g) for g in c.any))
            and not any(all(t in fired for t in g) for g in c.not_))


def _address(host: str) -> tuple[int, int] | None:
    """(IP version, integer value) of a host that is an IP address, else None."""
    if not host or not (host[0].isdigit() or ":" in host or host[0] == "["):
        return None
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return address.version, int(address)


def _cap(text: str) -> str:
    return text if len(text) <= MAX_EVIDENCE else text[:MAX_EVIDENCE - 3] + "..."


def describe_event(event: Event, events: Sequence[Event] = ()) -> str:
    """A short readable rendering of an event: the evidence of a finding, capped at 480 chars."""
    e: Any = event
    kind = event.kind
    if kind == "exec":
        text = shlex.join(e.argv)
    elif kind == "connect":
        port = e.port if e.port is not None else ("{}-{}".format(*e.port_range) if e.port_range else "?")
        verb = "listen" if e.direction == "listen" else "connect"
        text = f"{verb} {e.host}:{port} ({e.tool})" + (f" {e.url}" if e.url else "")
    elif kind == "file_write":
        text = f"file_write {e.path} ({e.how}, {e.mode})" + (f": {e.content}" if e.content else "")
    elif kind == "file_read":
        text = f"file_read {e.path} ({e.how})"
    elif kind == "env_set":
        text = f"env_set {e.name}={e.value if e.value is not None else '?'}"
    elif kind == "persist":
        text = f"persist {e.mechanism} {e.target} {e.detail}".rstrip()
    elif kind == "cloud_call":
        params = " ".join(f"{k}={v}" for k, v in e.parameters)
        text = f"cloud_call {e.provider} {e.service} {e.operation} {params}".rstrip()
    elif kind == "privilege":
        text = f"privilege {e.how} {e.target}".rstrip()
    else:
        text = e.text
    return _cap(text)
