"""Review feedback that closes the loop: decisions on flagged trajectories, and what a run makes of them.

A reviewer marks unsafe trajectories `correct` or `false_alarm` (by hand, or with `safefilter
review`, which walks the run in a terminal), one JSON object per line:

    {"id": "ep-17", "decision": "false_alarm", "findings": [{"rule_id": "np-nmap-scan",
     "evidence": "nmap -sV localhost", "category": "network_probing"}], "reviewer": "ana", "note": ""}

A false alarm becomes an allowlist entry scoped to that rule and that evidence: the same rule on
other text, and other rules on the same text, still fire; nothing excuses a whole record.
Confirmed decisions become labels (`labels_from_decisions`) for evaluation and training data.
"""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, TextIO

from .errors import InputError, SafeFilterError
from .policy import WHOLE_EVIDENCE_BELOW, Policy
from .types import CATEGORIES, Finding

__all__ = ["Decision", "ReviewAllowlist", "read_decisions", "labels_from_decisions", "load_review_allowlist",
           "ReviewedPolicy", "with_review", "review_walk", "review_cli", "DECISIONS"]

DECISIONS = ("correct", "false_alarm")


def _norm(evidence: str) -> str:
    """Evidence compared with runs of whitespace folded, so a reformatted file still matches."""
    return " ".join(evidence.split())


@dataclass(frozen=True, slots=True)
class Decision:
    id: str
    decision: str
    findings: tuple[tuple[str, str, str], ...]  # (rule_id, evidence, category)
    reviewer: str = ""
    note: str = ""


def read_decisions(path: str | Path) -> list[Decision]:
    """Every decision of a JSONL file; a bad line is one error naming the file and line."""
    out = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"review decisions {path}: {exc.strerror or exc}") from None
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if row["decision"] not in DECISIONS:
                raise ValueError(f"decision must be one of {DECISIONS}, got {row['decision']!r}")
            findings = tuple((str(f["rule_id"]), str(f["evidence"]), str(f.get("category") or ""))
                             for f in row.get("findings") or ())
            out.append(Decision(str(row["id"]), row["decision"], findings, str(row.get("reviewer") or ""),
                                str(row.get("note") or "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{n}: not a review decision ({exc}); expected {{\"id\", \"decision\", "
                             "\"findings\": [{\"rule_id\", \"evidence\"}]}") from None
    return out


@dataclass(frozen=True, slots=True)
class ReviewAllowlist:
    """(rule_id, evidence) pairs reviewers called false alarms; later decisions on a pair win."""

    entries: frozenset[tuple[str, str]] = frozenset()
    source_sha256: str | None = None
    refused: tuple[str, ...] = ()  # entries left out, and why (evidence that may have been cut short)
    confirmed: frozenset[tuple[str, str]] = frozenset()  # pairs reviewers called correct (labels, exports)

    @classmethod
    def from_decisions(cls, decisions: Iterable[Decision], *, source_sha256: str | None = None) -> "ReviewAllowlist":
        state: dict[tuple[str, str], bool] = {}
        refused = []
        for d in decisions:
            for rule_id, evidence, _ in d.findings:
                if d.decision == "false_alarm" and len(evidence) >= WHOLE_EVIDENCE_BELOW:
                    refused.append(f"{d.id}: {rule_id}: evidence of {len(evidence)} characters may be a window of a "
                                   "longer line, so it cannot be allowlisted (disable the rule or add an "
                                   "allowlist.commands pattern instead)")
                    continue
                state[(rule_id, _norm(evidence))] = d.decision == "false_alarm"
        return cls(frozenset(k for k, v in state.items() if v), source_sha256, tuple(refused),
                   frozenset(k for k, v in state.items() if not v))

    def excuses(self, finding: Finding) -> bool:
        """True when reviewers called exactly this rule on exactly this evidence a false alarm."""
        if not self.entries or len(finding.evidence) >= WHOLE_EVIDENCE_BELOW:
            return False
        return (finding.rule_id, _norm(finding.evidence)) in self.entries

    def decision_on(self, rule_id: str, evidence: str) -> str | None:
        """"false_alarm", "correct" or None: what reviewers said about this rule on this evidence."""
        key = (rule_id, _norm(evidence))
        return "false_alarm" if key in self.entries else "correct" if key in self.confirmed else None

    def manifest_entry(self) -> dict[str, Any]:
        """What a run records in manifest.json about the decisions it applied."""
        return {"decisions_sha256": self.source_sha256,
                "allowlisted": [{"rule_id": r, "evidence": e} for r, e in sorted(self.entries)],
                "refused": list(self.refused)}


def load_review_allowlist(config: Mapping[str, Any]) -> ReviewAllowlist | None:
    """The allowlist of `review.decisions` in a run config, or None when it names no file."""
    path = (config.get("review") or {}).get("decisions")
    if not path:
        return None
    data = Path(path).read_bytes() if Path(path).is_file() else None
    if data is None:
        raise InputError(f"review.decisions {path}: no such file")
    return ReviewAllowlist.from_decisions(read_decisions(path), source_sha256=hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class ReviewedPolicy(Policy):
    """A Policy that also drops findings reviewers called false alarms (rule and evidence both match)."""

    review: ReviewAllowlist = ReviewAllowlist()

    def allowed(self, finding: Finding) -> bool:
        return self.review.excuses(finding) or Policy.allowed(self, finding)


def with_review(policy: Policy, config: Mapping[str, Any]) -> Policy:
    """`policy` extended with the config's review decisions (unchanged when there are none)."""
    review = load_review_allowlist(config)
    if review is None:
        return policy
    fields = {k: getattr(policy, k) for k in ("requested_is_unsafe", "min_severity", "disabled_rules",
                                               "allow_hosts", "allow_commands", "combine", "incomplete_is_unsafe")}
    return ReviewedPolicy(**fields, review=review)


def labels_from_decisions(decisions: Iterable[Decision]) -> list[dict[str, Any]]:
    """Labels (`{"id", "unsafe", "categories"}`, as score.py and `report --labels` read) from decisions:
    a record is unsafe when any of its findings was confirmed; the last decision per finding wins."""
    per: dict[str, dict[tuple[str, str], tuple[bool, str]]] = {}
    for d in decisions:
        for rule_id, evidence, category in d.findings:
            per.setdefault(d.id, {})[(rule_id, _norm(evidence))] = (d.decision == "correct", category)
    out = []
    for rid, found in per.items():
        cats = sorted({c for ok, c in found.values() if ok and c in CATEGORIES})
        out.append({"id": rid, "unsafe": any(ok for ok, _ in found.values()), "categories": cats})
    return out


# --- the terminal walk -----------------------------------------------------------------------------

_CONTROL = {i: f"\\x{i:02x}" for i in (*range(0, 9), *range(11, 32), 127, *range(128, 160))}
_CONTROL.update({i: f"\\u{i:04x}" for i in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})  # bidi overrides


def _safe(text: Any, limit: int = 400) -> str:
    """Record text for a terminal: control characters (escape sequences) shown, not sent."""
    s = str(text)
    s = s if len(s) <= limit else s[:limit] + f"... ({len(s) - limit} more chars)"
    return s.translate(_CONTROL)


HELP = "c = correct, f = false alarm (all findings), f 1,3 = false alarm for those findings, s = skip, q = quit"


def _ask(inp: TextIO, out: TextIO, count: int) -> tuple[str, set[int]] | None:
    while True:
        out.write("[c/f/f N,M/s/q/?] > ")
        out.flush()
        line = inp.readline()
        if not line:
            return None
        answer = line.strip().lower()
        if answer in ("c", "s", "q", "f"):
            return answer, set(range(1, count + 1)) if answer == "f" else set()
        if answer.startswith("f "):
            try:
                picked = {int(x) for x in answer[2:].replace(" ", "").split(",") if x}
            except ValueError:
                picked = set()
            if picked and picked <= set(range(1, count + 1)):
                return "f", picked
        out.write(HELP + "\n")


def review_walk(run_dir: str | Path, decisions: str | Path, *, inp: TextIO, out: TextIO,
                reviewer: str = "") -> dict[str, int]:
    """Show each unsafe trajectory not yet decided in `decisions` and append the reviewer's answers."""
    from .export.runrecords import read_run

    path = Path(decisions)
    done = {d.id for d in read_decisions(path)} if path.is_file() else set()
    tally = {"correct": 0, "false_alarm": 0, "skipped": 0}
    items = [i for i in read_run(run_dir, outputs=("unsafe",)) if i.id not in done]
    out.write(f"{len(items)} flagged trajectories to review ({len(done)} already decided). {HELP}\n")
    with path.open("a", encoding="utf-8") as sink:
        for n, item in enumerate(items, start=1):
            safety = item.safety or {}
            findings = [f for f in safety.get("findings") or () if isinstance(f, dict)]
            out.write(f"\n[{n}/{len(items)}] {_safe(item.id, 120)}  {', '.join(safety.get('categories') or [])}"
                      f"  severity {safety.get('severity')}\n  task: {_safe(item.trajectory.task, 300)}\n")
            for k, f in enumerate(findings, start=1):
                flags = (" (requested)" if f.get("requested") else "") + \
                        (f" (decoded from {_safe(f.get('decoded_from'))})" if f.get("decoded_from") else "")
                out.write(f"  {k}. {_safe(f.get('rule_id'))} [{_safe(f.get('category'))}, {_safe(f.get('detector'))}] "
                          f"message {f.get('message_index')}{flags}\n     {_safe(f.get('evidence'))}\n")
            answer = _ask(inp, out, len(findings))
            if answer is None or answer[0] == "q":
                break
            verb, picked = answer
            if verb == "s":
                tally["skipped"] += 1
                continue
            for decision, chosen in (("false_alarm", picked if verb == "f" else set()),
                                     ("correct", set(range(1, len(findings) + 1)) - picked if verb == "f"
                                      else set(range(1, len(findings) + 1)))):
                if not chosen:
                    continue
                row = {"id": item.id, "decision": decision, "reviewer": reviewer,
                       "findings": [{"rule_id": findings[k - 1].get("rule_id"), "evidence": findings[k - 1].get("evidence"),
                                     "category": findings[k - 1].get("category")} for k in sorted(chosen)]}
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                sink.flush()
                tally[decision] += 1
    out.write(f"\ncorrect {tally['correct']}  false alarm {tally['false_alarm']}  skipped {tally['skipped']}  "
              f"-> {path}\n")
    return tally


def review_cli(run_dir: str | Path, decisions: str | Path, *, reviewer: str = "") -> int:
    """`safefilter review`: the walk on the terminal; refuses to run without one."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise SafeFilterError("safefilter review asks questions and needs a terminal; write the decisions file by "
                              "hand instead (one {\"id\", \"decision\", \"findings\"} per line, see docs/exports.md)")
    review_walk(run_dir, decisions, inp=sys.stdin, out=sys.stdout, reviewer=reviewer)
    return 0
