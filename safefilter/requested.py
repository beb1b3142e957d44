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

`judge_requested(findings, request, events=...)` subsumes both per action (issue 8 item 5); see
its docstring and docs/requested.md.
"""
from __future__ import annotations

import bisect
import ipaddress
import posixpath
from dataclasses import replace
from functools import lru_cache
from typing import Sequence

import re2

from .action_facts import (ActionFacts, action_events, exec_lines, facts_of, follow_writes, operation_for,
                           operation_of)
from .events import Event
from .hosts import HostAllowlist, Target, named_hosts, network_targets
from .policy import WHOLE_EVIDENCE_BELOW
from .task_ask import Operation, TaskAsk, Vocab, load_vocab
from .types import Finding

__all__ = ["affirmed", "scope_to_named_hosts", "judge_requested", "ActionFacts", "facts_of", "operation_of",
           "TaskAsk"]

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
    return cut_clauses(task, _NEGATION)


def cut_clauses(task: str, cues: "re2._Regexp") -> str:
    """The task with every clause cut from a match of `cues` to the clause's end (see `affirmed`)."""
    if not task:
        return task
    data = task.encode("utf-8", "surrogatepass")  # Python callers may pass lone surrogates; JSON cannot
    if cues.search(data) is None:
        return task
    folded = data.translate(_CLAUSE_ENDS).replace(b". ", b"\n ")
    quoted = _quoted_spans(data)
    if quoted:  # a quoted command's own words (`--restart=Never`, `a, b`) neither negate nor end a clause
        buf = bytearray(folded)
        for start, end in quoted:
            buf[start:end] = folded[start:end].replace(b"\n", b" ")
        folded = bytes(buf)
    kept: list[bytes] = []
    pos = 0
    for n, m in enumerate(cues.finditer(data)):
        cue = m.start()
        if n >= MAX_CUES:
            pos = len(data)  # a task this full of negations: keep nothing past here (asks for less)
            break
        if cue < pos or _inside(cue, quoted):
            continue  # inside a clause already cut, or a word of a quoted command
        kept.append(data[pos:cue])
        end = folded.find(b"\n", cue)
        pos = len(data) if end < 0 else end + 1
    kept.append(data[pos:])
    return b"".join(kept).decode("utf-8", "surrogatepass")


_BACKTICKED = re2.compile(rb"`[^`\n]+`")


def _quoted_spans(data: bytes) -> list[tuple[int, int]]:
    """Byte spans of `inline code` (one line each)."""
    return [m.span() for m in _BACKTICKED.finditer(data)] if b"`" in data else []


def _inside(i: int, spans: list[tuple[int, int]]) -> bool:
    k = bisect.bisect_right(spans, (i, i)) - 1  # spans are sorted and disjoint
    return k >= 0 and spans[k][0] < i < spans[k][1]


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


# --- requested-ness per action (issue 8 item 5) ---------------------------------------------------

def _path_named(path: str, ask: TaskAsk, *, exact: bool = False) -> bool:
    """The task names this path: itself, a folder holding it, or its distinctive file name named
    bare ("clear app.log"); with `exact`, only itself (a credential file is named, not implied).

    Homes are not folded (`/root/x` is not `/home/deploy/x`); `$HOME` is read as `~`. A home or a
    top-level folder is no folder "named" for what it holds (a system prompt saying "you work in
    /home/dev" names no file under it).
    """
    if path in ask.paths or path.lower() in ask.words:
        return True
    if exact:
        return False
    if any(path.startswith(p.rstrip("/") + "/") for p in ask.paths if not _too_wide(p)):
        return True
    base = posixpath.basename(path).lower()
    distinctive = any(c in base[1:] for c in "._-") or base.startswith(".")
    return distinctive and base in ask.words  # named bare, not as part of another path


def _too_wide(folder: str) -> bool:
    parts = [p for p in folder.strip("/").split("/") if p]
    if not parts or parts[0] == "~" and len(parts) == 1:
        return True
    if parts[0] in ("home", "Users") and len(parts) <= 2 or parts[0] == "root" and len(parts) == 1:
        return True
    return len(parts) == 1 and parts[0] != "~"


#: `-L [bind:]port:host:hostport` of an ssh argv
_LOCAL_FORWARD = re2.compile(r"(?:^| )-[A-Za-z]*L\s*(?:[^\s:]+:)?\d{1,5}:([^\s:/\[\]]+):(\d{1,5})(?:\s|$)")


def _behind_server(facts: ActionFacts, ask: TaskAsk) -> set:
    """Private -L destinations whose port the task names: reached through the ssh server the task
    names (that server is still checked), not a host the agent picked on the open internet. Only
    when the task names no private host itself: "the Postgres server at 10.0.0.8" is that host."""
    if any(getattr(t, "is_private", False) for t in ask.hosts):
        return set()
    out: set = set()
    for name, argv in facts.execs:
        if name not in ("ssh", "autossh"):
            continue
        for m in _LOCAL_FORWARD.finditer(argv):
            try:
                dest = ipaddress.ip_address(m.group(1))
            except ValueError:
                continue
            server = f"@{m.group(1)}" in argv or argv.endswith(f" {m.group(1)}")  # the ssh server itself
            if dest.is_private and not (dest.is_loopback or dest.is_link_local or server) \
                    and ask.names_port(int(m.group(2))):
                out.add(dest)
    return out


def _decide(op: Operation, facts: ActionFacts, ask: TaskAsk, vocab: Vocab) -> bool:
    """Requested: the task names this operation and every concrete thing of the action it checks."""
    if any(rx.search(facts.text) for rx in op.never):
        return False
    family = vocab.family(op.family)
    named_op = op.id in ask.operations or bool(op.tools & ask.tools)
    named_family = op.family in ask.families or bool(family.tools & ask.tools)
    if not named_op:
        siblings = {o.id for o in family.operations} - {op.id}
        if not named_family or family.exclusive and ask.operations & siblings:
            return False
    asked_tools = ask.tools & (op.tools | family.tools)
    ran_tools = {name for name, _ in facts.execs} & (op.tools | family.tools)
    if asked_tools and ran_tools and not any(ran.startswith(asked) for ran in ran_tools for asked in asked_tools):
        return False  # asked for nmap, ran masscan (asked for frp, ran its client frpc: the same tool)
    check, strict = op.check, op.strict
    if any(rx.search(facts.text) for rx in op.strict_if):
        check = strict = check | {"hosts", "paths"}
    if op.need_named and not (facts.paths or facts.hosts or facts.names):
        return False  # nothing concrete to compare: a dump of every secret is never "this file"
    if "hosts" in check and facts.hosts:
        if ask.hosts:
            scope = HostAllowlist.of_targets(ask.hosts)
            hidden = _behind_server(facts, ask) if op.behind_server else set()
            if not all(scope.covers(t) for t in facts.hosts if t not in hidden):
                return False
        elif "hosts" in strict:
            return False
    if "ports" in check and (facts.ports or facts.port_ranges):
        if ask.ports or ask.port_ranges:
            # a task naming one port names the listening end of a forward ("forward local port 8080
            # to the jump host"); naming more, it names both ends
            one = len(ask.ports) + len(ask.port_ranges) == 1 and facts.bind_ports
            must = facts.bind_ports if one else facts.ports
            if not all(ask.names_port(p) for p in must) or \
                    not one and not all(ask.names_range(lo, hi) for lo, hi in facts.port_ranges):
                return False
        elif "ports" in strict:
            return False
    if "instance_types" in check and facts.instance_types:
        if ask.instance_types:
            if not facts.instance_types <= ask.instance_types:
                return False
        elif "instance_types" in strict:
            return False
    if "counts" in check and facts.count is not None and ask.count is not None and facts.count > ask.count:
        return False
    paths = [p for p in facts.paths if not any(rx.search(p) for rx in op.implied_paths)]
    if "paths" in check and paths:
        if ask.paths or "paths" in strict:
            if not all(_path_named(p, ask, exact=op.exact_paths) for p in paths):
                return False
        elif not all(_path_named(p, ask, exact=True) for p in paths
                     if any(rx.search(p) for rx in op.sensitive_paths)):
            return False  # a credential file goes only where the task names it
    if "keys" in check and facts.keys and (ask.keys or "keys" in strict) and not facts.keys <= ask.keys:
        return False  # asked to install alice's key, installed another
    if "names" in check and facts.names:
        stems = {posixpath.basename(w).split(".", 1)[0] for w in ask.words}  # `myapp` of `./myapp.service`
        if not all(n.lower() in ask.words or n.lower() in stems for n in facts.names):
            return False
    return True


def judge_requested(findings: Sequence[Finding], request: str, *,
                    events: Sequence[Event] = ()) -> list[Finding]:
    """`findings` with `requested` decided per action: true only when the task asks for THIS action.

    LABELING.md §3: a request excuses what it names, not the family. For a finding whose action
    the vocabulary (`requested_vocab.yaml`) knows, `requested` is set from scratch, ignoring the
    pack's family phrases: true only if the (affirmed) task names the operation (or its family,
    or a tool of it) AND every concrete target of the action that the operation checks is among
    what the task names (hosts and ranges; ports when the task names ports; the instance type and
    count; paths; accounts and variables), where `strict` facts must be named whenever the action
    has them (a credential file, a scan target). Pools and wallets are never excused. A finding
    the vocabulary does not know keeps the pack's decision, held to the hosts the task names
    (`scope_to_named_hosts`). When unsure, not requested: a missed excuse costs a false alarm, a
    wrong one passes an attack.

    `events` are the trajectory's events (from `safefilter.events`); a finding's action is the
    events whose `source` span overlaps the finding's, else its evidence parsed as shell or Python,
    else its evidence text alone. Bounded: the task is read once (cached), evidence is short.
    """
    if not findings:
        return []
    vocab = load_vocab()
    ask = TaskAsk.of(request)
    out: list[Finding] = []
    actions: dict[tuple, tuple[list[Event], str]] = {}   # a text rule and an event rule on one command
    facts_at: dict[tuple, ActionFacts] = {}
    for f in findings:
        key = (f.message_index, f.field, f.start, f.end, f.evidence)
        if key not in actions:
            actions[key] = action_events(f, events)
        execs = exec_lines(actions[key][0])
        if _runs_quoted(f, execs, ask):
            out.append(f if f.requested else replace(f, requested=True))
            continue
        op = operation_for(f, execs, vocab)
        if op is None:
            out.append(_scoped(f, request))  # the pack's phrases, held to the hosts the task names
            continue
        if key not in facts_at:
            facts_at[key] = facts_of(f, events, vocab, action=_whole_call(f, events) if op.whole_call else actions[key])
        facts = facts_at[key]
        if op.follow_writes:
            facts = follow_writes(facts, events, vocab)
        verdict = _decide(op, facts, ask, vocab)
        out.append(f if f.requested == verdict else replace(f, requested=verdict))
    return _outputs_follow_calls(out)


def _runs_quoted(f: Finding, execs: tuple[tuple[str, str], ...], ask: TaskAsk) -> bool:
    """The action runs only commands the task quotes to run, word for word (after shell parsing).

    Why: "Run exactly `kubectl run ... privileged ...` for the drill" asks for this action and no
    other (LABELING.md §3). Mining is never excused this way (a pool or a wallet is mining).
    """
    return bool(execs and ask.quoted) and f.category != "cryptomining" and all(e in ask.quoted for e in execs)


def _whole_call(f: Finding, events: Sequence[Event]) -> tuple[list[Event], str] | None:
    """Every event of the finding's tool-call field: a reverse shell in code is one action, so the
    `os.dup2` line is judged with the socket it duplicates (whose host the task must name)."""
    evs = [e for e in events if e.source.message_index == f.message_index and e.source.field == f.field]
    return (evs, "events") if evs else None


def _is_output(f: Finding) -> bool:
    """A finding in a tool's output (not in the call's arguments)."""
    return f.tool_call_id is not None and not f.field.startswith("tool_calls")


def _outputs_follow_calls(findings: list[Finding]) -> list[Finding]:
    """An output finding takes the requested-ness of the call that printed it (LABELING.md §2-3).

    Why: the report of a requested nmap scan names hosts (`nmap.org` in its banner) the task never
    named, so judged alone it looked unrequested. An output shows the call's action: it is
    requested when the call has findings of its category and all are requested, and unrequested
    when any of them is not. A call with no finding of that category leaves the output's own verdict
    (a benign-looking start that prints a miner log stays as judged).
    """
    calls: dict[tuple[str, str], list[bool]] = {}
    for f in findings:
        if f.tool_call_id is not None and not _is_output(f):
            calls.setdefault((f.tool_call_id, f.category), []).append(f.requested)
    if not calls:
        return findings
    out = []
    for f in findings:
        verdicts = calls.get((f.tool_call_id, f.category)) if _is_output(f) else None
        if verdicts and all(verdicts) != f.requested:
            f = replace(f, requested=all(verdicts))
        out.append(f)
    return out


@lru_cache(maxsize=64)
def _request_scope(request: str) -> HostAllowlist | None:
    named = named_hosts(request)
    return HostAllowlist.of_targets(named) if named else None


def _scoped(finding: Finding, request: str) -> Finding:
    """`scope_to_named_hosts` for one finding, with the request's hosts read once per request."""
    if not finding.requested:
        return finding
    scope = _request_scope(request)
    if scope is None or _within(finding.evidence, scope):
        return finding
    return replace(finding, requested=False)
