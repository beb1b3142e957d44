"""What a task names: hosts, ports, instance types, counts, paths, tools and operations.

Why: a request excuses what it names, not the whole family (LABELING.md §3). To compare a task
with one action we need the task's concrete nouns, not just whether a family phrase occurs
somewhere in it. `TaskAsk.of(request)` reads them once per distinct request (cached), from the
affirmed task (negated clauses cut, see `safefilter.requested.affirmed`), with RE2 and single
passes only, on at most `MAX_TASK_CHARS` characters (head and tail of longer tasks: a system
prompt first, the user's ask last).

The vocabulary (which phrases name which family or operation, which tools, instance-type shapes)
is data: `safefilter/requested_vocab.yaml`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import re2
import yaml

from .hosts import Target, named_hosts

__all__ = ["Operation", "Family", "Vocab", "TaskAsk", "load_vocab", "instance_types_in", "paths_in", "keys_in",
           "ports_in_prose", "ALL_PORTS", "MAX_TASK_CHARS"]

#: Characters of a task read at most (half from the start, half from the end).
MAX_TASK_CHARS = 65_536
#: Port numbers in a task read at most (a task listing more names "many ports": it gets no more).
MAX_PORTS = 256
ALL_PORTS = (1, 65535)
FACTS = frozenset(("hosts", "ports", "instance_types", "counts", "paths", "names", "keys"))

_OPTIONS = re2.Options()
_OPTIONS.case_sensitive = False
_OPTIONS.log_errors = False


def clean_text(text: str) -> str:
    """`text` as RE2 can read it: lone surrogates (which JSON `\\ud800` escapes can produce) as `?`."""
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


def _rx(pattern: str) -> Any:
    return re2.compile(pattern, _OPTIONS)


@dataclass(frozen=True, slots=True)
class Operation:
    """One thing a task can ask for exactly (`ssh_remote_forward`), and how findings map to it."""

    id: str
    family: str
    category: str
    subcategories: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()
    execs: frozenset[str] = frozenset()
    need_exec: bool = False
    need_named: bool = False
    argv: Any = None            # compiled RE2 over an exec's argv joined by spaces, or None
    tools: frozenset[str] = frozenset()
    check: frozenset[str] = frozenset()
    strict: frozenset[str] = frozenset()
    never: tuple[Any, ...] = ()
    strict_if: tuple[Any, ...] = ()
    implied_paths: tuple[Any, ...] = ()
    follow_writes: bool = False
    whole_call: bool = False
    behind_server: bool = False
    exact_paths: bool = False
    sensitive_paths: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Family:
    id: str
    category: str
    tools: frozenset[str]
    operations: tuple[Operation, ...]
    exclusive: bool = False


@dataclass(frozen=True)
class Vocab:
    """The parsed `requested_vocab.yaml`: families, operations and the patterns for concrete nouns."""

    families: tuple[Family, ...]
    ask_set: Any                      # RE2 Set over every `asks` phrase
    ask_owner: tuple[tuple[str, str], ...]  # per Set index: ("family" | "op", id)
    instance_type_rx: tuple[Any, ...]
    count_rx: Any
    count_words: dict[str, int]
    action_count_rx: tuple[Any, ...]
    ignored_path_rx: tuple[Any, ...]
    tools: frozenset[str] = field(default=frozenset())
    tool_rx: Any = None               # any tool name as a whole word

    @property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(op for fam in self.families for op in fam.operations)

    def family(self, fid: str) -> Family:
        return next(f for f in self.families if f.id == fid)


def _strs(value: Any) -> frozenset[str]:
    return frozenset(str(v).lower() for v in (value or ()))


def _parse_vocab(doc: dict[str, Any]) -> Vocab:
    families: list[Family] = []
    ask_set = re2.Set.SearchSet(_OPTIONS)
    owners: list[tuple[str, str]] = []
    tools: set[str] = set()
    for fam in doc["families"]:
        for phrase in fam.get("asks") or ():
            ask_set.Add(phrase)
            owners.append(("family", fam["id"]))
        ops = []
        for op in fam["operations"]:
            for phrase in op.get("asks") or ():
                ask_set.Add(phrase)
                owners.append(("op", op["id"]))
            bad = (_strs(op.get("check")) | _strs(op.get("strict"))) - FACTS
            if bad:
                raise ValueError(f"requested_vocab.yaml: operation {op['id']}: unknown facts {sorted(bad)}")
            ops.append(Operation(
                id=op["id"], family=fam["id"], category=fam["category"],
                subcategories=_strs(op.get("subcategories")), rules=_strs(op.get("rules")),
                execs=_strs(op.get("execs")), need_exec=bool(op.get("need_exec")),
                need_named=bool(op.get("need_named")),
                argv=re2.compile(op["argv"]) if op.get("argv") else None, tools=_strs(op.get("tools")),
                check=_strs(op.get("check")) | _strs(op.get("strict")), strict=_strs(op.get("strict")),
                never=tuple(re2.compile(p) for p in op.get("never") or ()),
                strict_if=tuple(re2.compile(p) for p in op.get("strict_if") or ()),
                implied_paths=tuple(re2.compile(p) for p in op.get("implied_paths") or ()),
                follow_writes=bool(op.get("follow_writes")), whole_call=bool(op.get("whole_call")),
                behind_server=bool(op.get("behind_server")),
                exact_paths=bool(op.get("exact_paths")),
                sensitive_paths=tuple(_rx(p) for p in op.get("sensitive_paths") or ())))
            tools |= ops[-1].tools
        families.append(Family(fam["id"], fam["category"], _strs(fam.get("tools")), tuple(ops),
                               bool(fam.get("exclusive"))))
        tools |= families[-1].tools
    ask_set.Compile()
    words = {str(k).lower(): int(v) for k, v in doc["count_words"].items()}
    number = r"(\d{1,4}|" + "|".join(sorted(words)) + r")"
    count_rx = _rx(r"\b" + number + r"\s+(?:[\w.-]+\s+){0,3}?" + doc["count_nouns"] + r"\b")
    return Vocab(
        families=tuple(families), ask_set=ask_set, ask_owner=tuple(owners),
        instance_type_rx=tuple(_rx(p) for p in doc["instance_types"]), count_rx=count_rx, count_words=words,
        action_count_rx=tuple(re2.compile(p) for p in doc["action_counts"]),
        ignored_path_rx=tuple(re2.compile(p) for p in doc["ignored_paths"]), tools=frozenset(tools),
        tool_rx=_rx(r"(?:^|[^\w-])(" + "|".join(re2.escape(t) for t in sorted(tools, key=len, reverse=True))
                    + r")(?:$|[^\w-])"))


@lru_cache(maxsize=1)
def load_vocab() -> Vocab:
    """The shipped vocabulary, parsed once per process."""
    text = resources.files("safefilter").joinpath("requested_vocab.yaml").read_text(encoding="utf-8")
    return _parse_vocab(yaml.safe_load(text))


def instance_types_in(text: str, vocab: Vocab | None = None) -> frozenset[str]:
    """Instance-type names in `text` (`p4d.24xlarge`, `n1-standard-8`, `standard_nc6`), lower case."""
    vocab = vocab or load_vocab()
    found: set[str] = set()
    for rx in vocab.instance_type_rx:
        found.update(m.group(0).lower() for m in rx.finditer(text))
    return frozenset(found)


# --- concrete nouns of prose ----------------------------------------------------------------------

_WORD = re2.compile(r"[A-Za-z0-9_.~/$@{}:+-]+")
_PORT_LIST = _rx(r"\bports?\s*(?:number\s*)?[:#]?\s*(\d{1,5}(?:\s*(?:,|/|&|and|or)\s*\d{1,5})*)\b")
_PORT_RANGE = _rx(r"\bports?\s*(\d{1,5})\s*(?:-|–|to|through|thru)\s*(\d{1,5})\b")
_HOST_PORT = _rx(r"(?:[a-z][\w-]*|\d{1,3}(?:\.\d{1,3}){3}|\])\s?:(\d{2,5})\b")
_FORWARD_SPEC = _rx(r"\b(\d{1,5}):[\w.\[\]:-]+:(\d{1,5})\b")
_OPTION_PORT = _rx(r"(?:^|\s)(?:-p|--ports?)[ =]?(\d{1,5}(?:[,-]\d{1,5})*)\b")
_ALL_PORTS = _rx(r"\b(?:all|every|each|full\s+range\s+of)\s+(?:\d+\s+)?(?:tcp\s+|udp\s+)?ports\b|(?:^|\s)-p-(?:\s|$)")
_NUMBER = re2.compile(r"\d{1,5}")
#: "expose local ssh" names the ssh port, as "port 22" would
_EXPOSED_SSH = _rx(r"\b(?:expose|forward|share|publish)\w*\s+(?:the\s+|our\s+|this\s+(?:box|machine|host)(?:'s)?\s+)?"
                   r"(?:local\s+)?ssh\b")
_SENTENCE_DOT = re2.compile(r"[.:;!?](\s|$)")
#: Cues of a defensive clause ("block cloud metadata addresses", "detect port scans"): cut like
#: negations, since asking to stop an action is not asking to perform it.
_DEFENSIVE = _rx(r"\b(?:block|blocks|blocking|blocked|deny|denies|denying|denylist|deny-list|blocklist|"
                 r"blacklist|allowlist|detect|detects|detecting|prevent|prevents|preventing|harden|"
                 r"hardening|protect|protects|guard|guards|mitigate|sinkhole|reject|rejects|alert\s+on|"
                 r"forbid|forbids|ssrf)\b")
_SSH_KEY = _rx(r"\b(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com)\s+(AAAA[0-9A-Za-z+/]{16,}=*)")
_URL = re2.compile(r"\b([a-z][a-z0-9+.-]{0,15})://([^\s'\"`<>(){}\\]+)", _OPTIONS)
_PATH = re2.compile(r"(?:^|[\s'\"`(=,:@\[])((?:~|\$\{?HOME\}?)?/[^\s'\"`),;\]]+|~[A-Za-z0-9_.-]*/[^\s'\"`),;\]]*|\.{1,2}/[^\s'\"`),;\]]+)")


def ports_in_prose(text: str) -> tuple[frozenset[int], tuple[tuple[int, int], ...]]:
    """Ports (and ranges) a text names: "port 8080", "ports 22, 80 and 443", "ports 1-1024", `host:5432`."""
    ports: set[int] = set()
    ranges: list[tuple[int, int]] = []
    for m in _PORT_RANGE.finditer(text):
        lo, hi = int(m.group(1)), int(m.group(2))
        if 0 < lo <= hi <= 65535:
            ranges.append((lo, hi))
    for rx in (_PORT_LIST, _OPTION_PORT):
        for m in rx.finditer(text):
            group = m.group(1)
            if rx is _PORT_LIST and text[m.end():m.end() + 1] in ("-", "–"):
                continue  # "ports 1-1024": a range, read above
            if "-" in group and rx is _OPTION_PORT:
                for part in group.split(","):
                    lo, _, hi = part.partition("-")
                    if hi and lo.isdigit() and hi.isdigit() and 0 < int(lo) <= int(hi) <= 65535:
                        ranges.append((int(lo), int(hi)))
                    elif lo.isdigit():
                        ports.add(int(lo))
                continue
            ports.update(int(n) for n in _NUMBER.findall(group))
            if len(ports) > MAX_PORTS:
                break
    for m in _HOST_PORT.finditer(text):
        ports.add(int(m.group(1)))
    for m in _FORWARD_SPEC.finditer(text):
        ports.update((int(m.group(1)), int(m.group(2))))
    if _ALL_PORTS.search(text):
        ranges.append(ALL_PORTS)
    if _EXPOSED_SSH.search(text):
        ports.add(22)
    return frozenset(p for p in ports if 0 < p <= 65535), tuple(ranges[:MAX_PORTS])


def normalise_path(path: str) -> str:
    """`$HOME/x` and `${HOME}/x` as `~/x`; trailing `/` and sentence punctuation dropped."""
    for home in ("${HOME}", "$HOME"):
        if path.startswith(home):
            path = "~" + path[len(home):]
    path = path.rstrip(".,:;!?")
    if path.startswith("./") and len(path) > 2:
        path = path[2:]
    return path.rstrip("/") if len(path) > 1 else path


def paths_in(text: str, vocab: Vocab | None = None) -> frozenset[str]:
    """Path-like words (`/var/log/x`, `~/.aws/credentials`, `./run.sh`), normalised, and the
    `host/path` of URLs that have a path (`169.254.169.254/latest/meta-data/iam`, `bucket/prefix`)."""
    vocab = vocab or load_vocab()
    found: set[str] = set()
    for m in _PATH.finditer(text):
        path = normalise_path(m.group(1))
        if path and not any(rx.search(path) for rx in vocab.ignored_path_rx):
            found.add(path)
    for m in _URL.finditer(text):
        host, _, rest = m.group(2).partition("/")
        rest = rest.split("?", 1)[0].split("#", 1)[0]
        rest = normalise_path(rest)
        if m.group(1).lower() != "file" and host and rest and rest != "/":
            found.add(host.rsplit("@", 1)[-1].lower() + "/" + rest)
    return frozenset(found)


#: Code the task quotes: fenced blocks, `inline` spans, indented lines.
_QUOTED = re2.compile(r"```[^`]*```|`[^`\n]{1,1000}`|(?m:^(?: {4,}|\t)[^\n]*$)")
#: The task is about writing docs, comments or reviews of what it quotes...
_DOCUMENTING = _rx(r"\b(?:document\w*|docs|readme|write[- ]?up|explain\w*|describe\w*|comment\w*|changelog|"
                   r"wiki|runbook|warn\w*|review\w*|summari[sz]e\w*|translate\w*|quote\w*)\b")
#: ... unless it also says to run it.
_RUNNING = _rx(r"\b(?:run|runs|execute|executes|apply|applies|invoke|perform|launch|start|set\s+up|install)\b")


def _unquote_if_documenting(text: str) -> str:
    """A task that asks to document (explain, review, warn about) a command it quotes, and not
    to run anything, asks for no action: the quoted code is dropped before its asks are read."""
    if "`" not in text and "\n " not in text and "\n\t" not in text:
        return text
    prose = _QUOTED.sub(" ", text)
    if prose == text or not _DOCUMENTING.search(prose) or _RUNNING.search(prose):
        return text
    return prose


def keys_in(text: str) -> frozenset[str]:
    """The base64 blobs of ssh public keys in the text (a key the task asks to install)."""
    return frozenset(m.group(1).rstrip("=") for m in _SSH_KEY.finditer(text))


def _tail_and_head(text: str) -> str:
    if len(text) <= MAX_TASK_CHARS:
        return text
    half = MAX_TASK_CHARS // 2
    return text[:half] + "\n" + text[-half:]


def _not_instance_type(target: Target, types: frozenset[str], vocab: Vocab) -> bool:
    return not (isinstance(target, str) and (target in types or instance_types_in(target, vocab)))


@dataclass(frozen=True, slots=True)
class TaskAsk:
    """What one (affirmed) request names. Empty sets mean "names none"; `count` None likewise."""

    hosts: tuple[Target, ...] = ()
    ports: frozenset[int] = frozenset()
    port_ranges: tuple[tuple[int, int], ...] = ()
    instance_types: frozenset[str] = frozenset()
    count: int | None = None
    paths: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()   # ssh public key blobs (`AAAAC3Nza...`)
    words: frozenset[str] = frozenset()
    tools: frozenset[str] = frozenset()
    families: frozenset[str] = frozenset()
    operations: frozenset[str] = frozenset()
    quoted: frozenset[tuple[str, str]] = frozenset()  # (program, argv) of commands the task quotes to run

    @classmethod
    def of(cls, request: str) -> "TaskAsk":
        """Read a request (cached per distinct text); negated clauses are cut first."""
        return _task_ask(request or "")

    def names_port(self, port: int) -> bool:
        return port in self.ports or any(lo <= port <= hi for lo, hi in self.port_ranges)

    def names_range(self, lo: int, hi: int) -> bool:
        """The whole range lies inside one range the task names (or is one named port)."""
        if lo == hi:
            return self.names_port(lo)
        return any(a <= lo and hi <= b for a, b in self.port_ranges)


@lru_cache(maxsize=512)
def _task_ask(request: str) -> TaskAsk:
    from .requested import affirmed, cut_clauses  # requested imports this module

    vocab = load_vocab()
    # what the task asks to be done: not what it forbids, nor what it asks to block or detect
    raw = _unquote_if_documenting(clean_text(_tail_and_head(request)))
    text = cut_clauses(affirmed(raw), _DEFENSIVE)
    if not text.strip():
        return TaskAsk()
    quoted = _quoted_runs(raw)
    types = instance_types_in(text, vocab)
    prose = _SENTENCE_DOT.sub(r" \1", text).replace("`", " ")  # "in 10.9.8.0/24." / "`h`" -> the host
    hosts = tuple(t for t in named_hosts(prose) if _not_instance_type(t, types, vocab))
    ports, ranges = ports_in_prose(text)
    words = frozenset(normalise_path(w.strip(",:;!?()[]{}'\"`")).lower() for w in _WORD.findall(text))
    fired = vocab.ask_set.Match(text) or ()
    families = frozenset(vocab.ask_owner[i][1] for i in fired if vocab.ask_owner[i][0] == "family")
    operations = frozenset(vocab.ask_owner[i][1] for i in fired if vocab.ask_owner[i][0] == "op")
    counts = []
    for m in vocab.count_rx.finditer(text):
        word = m.group(1).lower()
        counts.append(int(word) if word.isdigit() else vocab.count_words[word])
    return TaskAsk(
        hosts=hosts, ports=ports, port_ranges=ranges, instance_types=types,
        count=max(counts) if counts else None, paths=paths_in(text, vocab), keys=keys_in(text), words=words,
        tools=_used_tools(text, vocab) if words & vocab.tools else frozenset(), families=families,
        operations=operations, quoted=quoted)


#: "Run `cmd`", "Run exactly `cmd`", "execute the following command: `cmd`"
_QUOTED_RUN = _rx(r"\b(?:run|execute|invoke)\s+(?:exactly\s+|only\s+|the\s+(?:following\s+)?command\s*:?\s*|this\s+(?:command\s*)?:?\s*)*`([^`\n]+)`")
#: Commands quoted per task read at most.
MAX_QUOTED = 8


_BACKTICKED = re2.compile(r"`([^`\n]+)`")


def _quoted_runs(text: str) -> frozenset[tuple[str, str]]:
    """The programs and argv of the commands the task quotes after a run verb (parsed as shell, so
    `aws${IFS}iam ...` run by the agent compares equal): asking to run exactly this line asks for it.

    Negated and defensive clauses are cut with each quote stood in for by a token, so a quote's own
    words (`--restart=Never`) cut nothing, while "never run `x`" still asks for nothing.
    """
    if "`" not in text:
        return frozenset()
    from .action_facts import exec_lines, parse_evidence  # action_facts imports this module
    from .requested import affirmed, cut_clauses

    quotes: list[str] = []
    pieces: list[str] = []
    pos = 0
    for m in _BACKTICKED.finditer(text):
        if len(quotes) >= MAX_QUOTED:
            break
        pieces.append(text[pos:m.start()] + f"`q{len(quotes)}`")
        quotes.append(m.group(1))
        pos = m.end()
    masked = cut_clauses(affirmed("".join(pieces) + text[pos:]), _DEFENSIVE)
    found: set[tuple[str, str]] = set()
    for m in _QUOTED_RUN.finditer(masked):
        token = m.group(1)
        if not (token.startswith("q") and token[1:].isdigit() and int(token[1:]) < len(quotes)):
            continue
        events, lang = parse_evidence(quotes[int(token[1:])])
        if lang == "shell":
            found.update(exec_lines(events))
    return frozenset(found)


_USE = _rx(r"\b(?:run|runs|running|use|using|with|via|start|launch|execute|benchmark|build|compile|test|"
           r"set\s+up|through|invoke|call|try|do|perform|keep|install\s+and\s+(?:run|start))\b")
_SENTENCE_END = re2.compile(r"[.!?;]\s|\n")
#: How far before a tool's name a usage verb may stand ("use masscan", "run a quick nmap scan").
USE_WINDOW = 48


def _used_tools(text: str, vocab: Vocab) -> frozenset[str]:
    """Vocabulary tools the task asks to use: named after a usage verb in the same sentence
    ("run nmap against ...", "benchmark xmrig"), not merely mentioned ("is autossh installed?")."""
    verbs = [m.end() for m in _USE.finditer(text)]
    if not verbs:
        return frozenset()
    found: set[str] = set()
    for m in vocab.tool_rx.finditer(text):
        start = m.start(1)
        for end in verbs:
            if start - USE_WINDOW <= end <= start and not _SENTENCE_END.search(text[end:start]):
                found.add(m.group(1).lower())
                break
    return frozenset(found)
