"""Data flow across a trajectory: which written files later steps run or load, and what then
happens (issue 8 item 3).

A file an agent writes is data (LABELING.md: an action, not text, makes a trajectory unsafe)
until something runs or loads it: `bash x.sh`, `source x`, a renamed download run as
`./.cache/kworker`, a miner reading `config.json`, `ssh alias` through `~/.ssh/config`, `git x`
through an alias, `pytest` loading `conftest.py`, `make`, `npm test`, `systemctl enable`,
`crontab file`, `kubectl apply -f`, `docker compose up` (the runners: `flow_runners.py`;
what files they read: `flow_data.yaml`; the readers of those files: `configs.py`).
`resolve_flow` walks the events in trajectory order with a small virtual file system (path ->
content, writing events, identity, where it came from) and returns the NEW events those runs
cause, which written paths were run or loaded, and which writes nothing used (`mentions`: data
for the verdict).

Derived events: their `source` points at the written content that produced them (exact
character spans for editor writes, the whole write otherwise; `decoded_from` says
`script:<path>`, `import:<path>`, `hook:<runner>:<path>`, `cron:<path>`, `config:<path>`,
`ssh_config:<path>`, `manifest:<path>`), `launch` is `"script"` or `"hook"` for the
top-level processes of a run file, and `parent` indexes `tuple(events) + flow.events` (so a
caller that appends `flow.events` after `events` keeps them; `flow.triggers[k]` is the input
event that caused `flow.events[k]`, for a caller that interleaves). Bounded: linear in
events, at most `MAX_FILES` files tracked, each distinct text parsed once, script-runs-script
chains cut at `caps.max_depth`, derived events capped at `16 * caps.max_events`. Never raises.
"""
from __future__ import annotations

import posixpath
import shlex
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Sequence

import yaml

from . import configs
from .addr import normalize_host, parse_url, split_host_port
from .context import Caps, Origin, Result
from .model import Connect, Event, Exec, FileRead, FileWrite, Persist, Source
from .paths import home_relative, persist_mechanism
from .shell import SCRIPT_FIELD
from .tools import positional

__all__ = ["Flow", "resolve_flow", "MAX_FILES"]

MAX_FILES = 4096  # files tracked per trajectory
_NEAR = 8  # events searched back for the exec or connect of the same command
_CACHE = 256  # distinct texts kept parsed per trajectory
_PARSE_BUDGET = 16  # characters parsed per trajectory, in units of caps.max_text (4 MiB)
_SKIPPED = Result((), False, ("flow budget or time box",))
_UNCALLED = "which this code does not call"
_COPY_VALUE = frozenset(("-t", "--target-directory", "-m", "--mode", "-o", "--owner", "-g",
                         "--group", "-S", "--suffix"))


@dataclass(frozen=True, slots=True)
class Flow:
    """What the trajectory's writes turn into: new events, loaded paths, unused writes."""

    events: tuple[Event, ...] = ()
    loaded: frozenset[str] = frozenset()
    mentions: tuple[int, ...] = ()
    reasons: tuple[str, ...] = ()
    triggers: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class FlowData:
    shells: frozenset[str]
    pythons: frozenset[str]
    others: frozenset[str]
    bin_dirs: frozenset[str]
    identities: dict[str, str]
    archive_suffixes: tuple[str, ...]
    config_flags: frozenset[str]
    config_extensions: frozenset[str]
    code_flag_programs: frozenset[str]
    implicit_configs: dict[str, tuple[str, ...]]
    host_keys: frozenset[str]
    port_keys: frozenset[str]
    pytest_files: frozenset[str]
    test_prefixes: tuple[str, ...]
    test_suffixes: tuple[str, ...]
    build_files: tuple[str, ...]
    make_files: tuple[str, ...]
    compose_files: tuple[str, ...]
    git_configs: tuple[str, ...]
    ssh_configs: tuple[str, ...]
    npm_lifecycle: dict[str, tuple[str, ...]]
    node_runners: frozenset[str]
    compose_overrides: tuple[str, ...]
    git_hooks: dict[str, tuple[str, ...]]
    git_verify_hooks: frozenset[str]
    precommit_configs: tuple[str, ...]
    inert_options: dict[str, frozenset[str]]
    dockerfiles: tuple[str, ...]
    terraform_resources: dict[str, tuple[str, str, str]]
    terraform_providers: dict[str, str]


@lru_cache(maxsize=1)
def flow_data() -> FlowData:
    raw: dict[str, Any] = yaml.safe_load(
        resources.files("safefilter.events").joinpath("flow_data.yaml").read_text("utf-8"))
    fs = lambda key: frozenset(str(x) for x in raw[key])  # noqa: E731
    tp = lambda key: tuple(str(x) for x in raw[key])  # noqa: E731
    return FlowData(
        fs("shells"), fs("pythons"), fs("other_interpreters"), fs("bin_dirs"),
        {str(k).lower(): str(v) for k, v in raw["identities"].items()},
        tuple(sorted((str(x).lower() for x in raw["archive_suffixes"]), key=len, reverse=True)),
        fs("config_flags"), fs("config_extensions"), fs("code_flag_programs"),
        {str(k).lower(): tuple(v) for k, v in raw["implicit_configs"].items()},
        fs("host_keys"), fs("port_keys"), fs("pytest_files"), tp("pytest_test_prefixes"),
        tp("pytest_test_suffixes"), tp("build_files"), tp("make_files"), tp("compose_files"),
        tp("git_configs"), tp("ssh_configs"),
        {str(k): tuple(v) for k, v in raw["npm_lifecycle"].items()}, fs("node_runners"),
        tp("compose_overrides"), {str(k): tuple(v) for k, v in raw["git_hooks"].items()},
        fs("git_verify_hooks"), tp("precommit_configs"),
        {str(k): frozenset(v) for k, v in raw["inert_options"].items()}, tp("dockerfiles"),
        {str(k): (str(v[0]), str(v[1]), str(v[2])) for k, v in raw["terraform_resources"].items()},
        {str(k): str(v) for k, v in raw["terraform_providers"].items()})


def norm_path(path: str) -> str:
    """A path for comparison: unquoted, `~/` for home, `./` and `a/../` removed; "" if empty."""
    p = path.strip()
    if len(p) >= 2 and p[0] == p[-1] and p[0] in "'\"":
        p = p[1:-1]
    p = home_relative(p)
    if p == "~" or not p:
        return p
    if p.startswith("~/"):
        rest = posixpath.normpath(p[2:])
        return "~" if rest == "." else "~/" + rest
    p = posixpath.normpath(p)
    return "" if p == "." else p


def base_name(path: str) -> str:
    return path.rstrip("/").rpartition("/")[2]


def dir_name(path: str) -> str:
    d = norm_path(path).rpartition("/")[0]
    return d


def _called(reason: str, strip: bool, called_in: str | None) -> bool:
    """Whether a "not called" reason no longer holds: a runner calls everything (`strip`), an
    importer calls what it names (`called_in`)."""
    if _UNCALLED not in reason:
        return False
    if strip:
        return True
    name = reason.partition("in ")[2].partition("(")[0].rpartition(".")[2]
    return bool(name) and called_in is not None and name in called_in


def _is_config_name(path: str, extensions: frozenset[str]) -> bool:
    base = base_name(path).lower()
    return base == ".env" or base.startswith(".env.") or base.rpartition(".")[2] in extensions


def join_path(directory: str, name: str) -> str:
    return name if not directory or name.startswith(("/", "~")) else directory + "/" + name


_EXTRACTORS = frozenset(("tar", "bsdtar", "unzip", "gunzip", "gzip", "xz", "unxz", "bunzip2",
                         "7z", "7za"))


def _archive_args(name: str, args: list[str]) -> tuple[str | None, str]:
    """(archive, destination folder) of an extracting command, else (None, "")."""
    if name in ("tar", "bsdtar"):
        first = args[0] if args else ""
        if not any(a in ("-x", "--extract", "--get") or (not a.startswith("--") and "x" in a
                   and (a is first or a.startswith("-"))) for a in args):
            return None, ""
        archive = next((a.partition("=")[2] for a in args if a.startswith("--file=")), None)
        for k, a in enumerate(args[:-1]):
            if a.startswith("-") and not a.startswith("--") and a.endswith("f") or (
                    k == 0 and not a.startswith("-") and a.endswith("f")):
                archive = args[k + 1]
        dest = next((args[k + 1] for k, a in enumerate(args[:-1])
                     if a in ("-C", "--directory")), "")
        return archive, dest
    pos = [a for a in args if not a.startswith("-")]
    if name in ("7z", "7za"):
        if pos[:1] != ["x"] and pos[:1] != ["e"]:
            return None, ""
        pos = pos[1:]
        dest = next((a[2:] for a in args if a.startswith("-o")), "")
        return (pos[0] if pos else None), dest
    if name in ("gzip", "xz", "bunzip2") and not any(a in ("-d", "--decompress") for a in args):
        return None, ""
    dest = next((args[k + 1] for k, a in enumerate(args[:-1]) if a == "-d"), "") \
        if name == "unzip" else ""
    if name == "unzip":
        pos = [a for k, a in enumerate(args) if not a.startswith("-")
               and not (k > 0 and args[k - 1] == "-d")]
    return (pos[0] if pos else None), dest


def _content_anchor(w: FileWrite) -> tuple[Source, bool]:
    """Where a write's content sits in its field, and whether verbatim (exact spans): an
    editor write's span is its content; a heredoc or echo names its one content span."""
    if w.content is None:
        return w.source, False
    if w.how == "editor" and len(w.content) == w.source.end - w.source.start:
        return w.source, True
    spans = getattr(w, "content_spans", ())
    if len(spans) == 1 and spans[0][1] - spans[0][0] == len(w.content):
        return replace(w.source, start=spans[0][0], end=spans[0][1]), True
    return w.source, False


@dataclass(slots=True)
class TrackedFile:
    """A tracked file: content when known, the writes it is made of, where it came from."""

    path: str
    content: str | None
    writes: list[int]
    source: Source
    exact: bool  # content is the verbatim text of `source`'s span (one editor write)
    identity: str | None = None  # the tool it is (from its download URL or original name)
    origin: str | None = None  # URL or path it was downloaded or renamed from


class Walker:
    """One pass over a trajectory's events; derived events are walked as they are made."""

    def __init__(self, events: Sequence[Event], caps: Caps, deadline: float | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.deadline, self.clock = deadline, clock
        self.timed_out = False
        self.parsed_chars = 0
        self.all: list[Event] = list(events)
        self.n_input = len(self.all)
        self.caps = caps
        self.data = flow_data()
        self.files: dict[str, TrackedFile] = {}
        self.by_base: dict[str, list[str]] = {}
        self.git_keys: set[str] = set()  # files a runner reads by kind, not by name:
        self.conftest_keys: set[str] = set()  # git configs, conftest files, test files
        self.test_dirty: set[str] = set()  # written or changed since the last pytest run
        self.tf_keys: set[str] = set()  # terraform files
        self.precommit_installed = False
        self.hooks_set: list[str] = []
        self.extracted: list[tuple[str, str, str]] = []  # (folder, identity, archive)
        self.used: set[int] = set()
        self.untracked: set[int] = set()
        self.loaded: set[str] = set()
        self.reasons: list[str] = []
        self.triggers: list[int] = []
        self.cache: dict[tuple[str, str], Result] = {}
        self.derived: set[tuple[Any, ...]] = set()
        self.limit = 16 * caps.max_events
        self.full = False

    # --- bookkeeping ----------------------------------------------------------------------

    def note(self, reason: str) -> None:
        if len(self.reasons) < 64 and reason not in self.reasons:
            self.reasons.append(reason)

    def put(self, path: str, f: TrackedFile, index: int, *, by_name: bool = True) -> None:
        key = norm_path(path)
        if not key:
            return
        if key not in self.files and len(self.files) >= MAX_FILES:
            self.note(f"file cap {MAX_FILES} reached: later writes not tracked")
            self.untracked.add(index)
            return
        self.files[key] = f
        if key.endswith(("gitconfig", "git/config")):
            self.git_keys.add(key)
        elif key.endswith(".tf"):
            self.tf_keys.add(key)
        elif key.endswith(".py"):
            base = base_name(key)
            d = self.data
            if base in d.pytest_files:
                self.conftest_keys.add(key)
            elif base.startswith(d.test_prefixes) or base.endswith(d.test_suffixes):
                self.test_dirty.add(key)
        if not by_name:
            return
        names = self.by_base.setdefault(base_name(key), [])
        if key not in names and len(names) < 64:
            names.append(key)

    def lookup(self, path: str, *, by_name: bool = True) -> TrackedFile | None:
        """The tracked file `path` names: same normalised path, else the one tracked path it
        is a suffix of (or that is a suffix of it), else the one file with its basename."""
        key = norm_path(path)
        if not key:
            return None
        hit = self.files.get(key)
        if hit is not None:
            return hit
        names = [k for k in self.by_base.get(base_name(key), ()) if k in self.files]
        tail = [k for k in names if k.endswith("/" + key.lstrip("~/")) or key.endswith("/" + k)]
        if len(tail) == 1:
            return self.files[tail[0]]
        if by_name and len(names) == 1:
            return self.files[names[0]]
        return None

    def use(self, f: TrackedFile) -> None:
        """`f` is run or loaded: its writes are not data."""
        self.used.update(f.writes)
        for w in f.writes:
            ev = self.all[w]
            if isinstance(ev, FileWrite):
                self.loaded.add(ev.path)

    def near(self, i: int, kind: type, same_span: bool) -> list[Event]:
        """Events of `kind` just before `i` from the same command (same span) or field."""
        s = self.all[i].source
        out = []
        for j in range(i - 1, max(-1, i - 1 - _NEAR), -1):
            e = self.all[j]
            t = e.source
            if (t.message_index, t.tool_call_id, t.field) != (s.message_index, s.tool_call_id,
                                                              s.field):
                break
            if isinstance(e, kind) and (not same_span or (t.start, t.end) == (s.start, s.end)):
                out.append(e)
        return out

    # --- the walk ---------------------------------------------------------------------------

    def out_of_time(self) -> bool:
        if not self.timed_out and self.deadline is not None and self.clock() > self.deadline:
            self.timed_out = True
            self.note("flow time box reached: later steps not resolved, no writes called data")
        return self.timed_out

    def run(self) -> Flow:
        for i in range(self.n_input):
            if i % 32 == 0 and self.out_of_time():
                break
            self.step(i, 0)
        mentions = () if self.timed_out else tuple(
            i for i, e in enumerate(self.all[:self.n_input])
            if isinstance(e, FileWrite) and i not in self.used and i not in self.untracked
            and not persist_mechanism(e.path))
        return Flow(tuple(self.all[self.n_input:]), frozenset(self.loaded), mentions,
                    tuple(self.reasons), tuple(self.triggers))

    def step(self, i: int, chain: int) -> None:
        ev = self.all[i]
        try:
            if isinstance(ev, FileWrite):
                self.on_write(i, ev, chain)
            elif isinstance(ev, FileRead) and ev.how == "source":
                trigger = ev.parent if ev.parent is not None and ev.parent < len(self.all) else i
                f = self.lookup(ev.path)
                if f is not None:
                    self.run_text(trigger, f, "shell", "script", f"script:{f.path}", chain)
            elif isinstance(ev, FileRead) and ev.how == "redirect":
                self.stdin_script(ev.parent, ev.path, chain)  # bash < x.sh
            elif isinstance(ev, Exec) and ev.name == "?" and any(
                    "read from a pipe" in r for r in ev.reasons):
                self.piped_script(i, ev, chain)  # cat x.sh | bash
            elif isinstance(ev, Persist) and ev.mechanism == "cron" and ev.target == "-" \
                    and ev.content:
                self.run_lines(i, configs.cron_commands(ev.content, with_user=False), ev.source,
                               False, "cron:-", chain)
            elif isinstance(ev, Persist) and ev.mechanism == "at" and ev.content:
                self.run_lines(i, [(-1, ev.content)], ev.source, False, "hook:at:-", chain)
            elif isinstance(ev, Exec):
                self.on_exec(i, ev, chain)
        except (ValueError, TypeError, KeyError, IndexError, RecursionError,
                AttributeError) as exc:  # never raise on odd input; say what was skipped
            self.note(f"flow skipped event {i}: {type(exc).__name__}")

    def stdin_script(self, shell: int | None, path: str, chain: int) -> None:
        """A shell or Python interpreter given no script and no `-c` reads `path` as one."""
        if shell is None or not 0 <= shell < len(self.all):
            return
        sh = self.all[shell]
        d = self.data
        if not isinstance(sh, Exec) or sh.script or "-c" in sh.argv[1:] or (
                sh.name not in d.shells and sh.name not in d.pythons):
            return
        f = self.lookup(path)
        if f is not None:
            self.run_text(shell, f, self.lang_of(f.path, f.content or "", sh.name), "script",
                          f"script:{f.path}", chain)

    def piped_script(self, i: int, ev: Exec, chain: int) -> None:
        """`cat x.sh | bash`: the file `cat` displays just before the shell that reads a pipe."""
        shell = ev.parent
        if shell is None or not 0 <= shell < len(self.all):
            return
        start = self.all[shell].source.start
        for e in self.near(shell, FileRead, False):
            if isinstance(e, FileRead) and e.how == "command" and e.source.end <= start \
                    and e.parent is not None and 0 <= e.parent < len(self.all) \
                    and getattr(self.all[e.parent], "name", "") == "cat":
                self.stdin_script(shell, e.path, chain)
                return

    # --- writes -----------------------------------------------------------------------------

    def on_write(self, i: int, w: FileWrite, chain: int) -> None:
        if w.how in ("copy", "move"):
            self.copy_move(i, w)
            return
        key = norm_path(w.path)
        old = self.files.get(key)
        if w.content is None and w.how == "editor" and old is not None:
            # `sed -i` and other in-place edits: the old text, give or take a line
            self.put(w.path, TrackedFile(old.path, old.content, old.writes + [i], old.source,
                                         old.exact, old.identity, old.origin), i)
        elif w.mode == "append" and old is not None:
            content = old.content + w.content if old.content is not None and \
                w.content is not None else None
            self.put(w.path, TrackedFile(w.path, content, old.writes + [i], w.source, False,
                                         old.identity, old.origin), i)
        else:
            identity = origin = None
            if w.how == "download" or (w.how in ("python", "redirect", "tee")
                                       and w.content is None):
                url = next((c.url for c in self.near(i, Connect, w.how != "python")
                            if isinstance(c, Connect) and c.url), None)
                if url:
                    identity, origin = self.identity_of_url(url), url
                elif w.how == "redirect":
                    identity, origin = self.catted(i)
            anchor, exact = _content_anchor(w)
            self.put(w.path, TrackedFile(w.path, w.content, [i], anchor, exact, identity,
                                         origin), i)
        self.on_persist_write(i, w, chain)

    def on_persist_write(self, i: int, w: FileWrite, chain: int) -> None:
        """rc files run at the next login and cron files on schedule: loaded when written."""
        mech = persist_mechanism(w.path)
        if mech is None or not w.content:
            return
        anchor, exact = _content_anchor(w)
        p = home_relative(w.path)
        if mech in ("rc", "init") and not p.endswith(".desktop"):
            self.loaded.add(w.path)
            self.derive(w.content, "shell", anchor, exact, 0, f"hook:login:{w.path}",
                        i, None, "hook", chain)
        elif mech == "cron":
            if p.startswith(("/etc/cron.daily", "/etc/cron.hourly", "/etc/cron.weekly",
                             "/etc/cron.monthly")):
                lines = [(0, w.content)]
            else:
                lines = configs.cron_commands(
                    w.content, with_user=p.startswith("/etc/cron") or p == "/etc/anacrontab")
            self.loaded.add(w.path)
            self.run_lines(i, lines, anchor, exact, f"cron:{w.path}", chain, parent=None)

    def copy_move(self, i: int, w: FileWrite) -> None:
        ex = next((e for e in self.near(i, Exec, True) if isinstance(e, Exec)), None)
        srcs: list[str] = []
        if ex is not None:
            pos = positional(list(ex.argv[1:]), _COPY_VALUE)
            srcs = pos[:-1][:16]
        if not srcs:
            self.note(f"{w.how} to {w.path}: source not known")
            self.put(w.path, TrackedFile(w.path, None, [i], w.source, False), i)
            return
        into_dir = len(srcs) > 1 or w.path.endswith("/") or norm_path(w.path) in ("", "~", "..")
        for s in srcs:
            sf = self.lookup(s, by_name=False)
            target = join_path(w.path.rstrip("/"), base_name(s)) if into_dir else w.path
            if sf is not None:
                nf = TrackedFile(target, sf.content, sf.writes + [i], sf.source, sf.exact,
                                 sf.identity, sf.origin or s)
                if w.how == "move":
                    self.files.pop(norm_path(sf.path), None)
            else:
                ident = self.identity_of_name(s)
                nf = TrackedFile(target, None, [i], w.source, False, ident, s if ident else None)
            self.put(target, nf, i)
            if not into_dir and base_name(target) != base_name(s):  # `mv x dir` if dir exists
                self.put(join_path(target, base_name(s)), nf, i, by_name=False)

    def catted(self, i: int) -> tuple[str | None, str | None]:
        """`cat /usr/bin/ssh > .x`: a redirect of one file's bytes keeps that file's identity."""
        ex = next((e for e in self.near(i, Exec, True) if isinstance(e, Exec)), None)
        if ex is None or ex.name != "cat":
            return None, None
        srcs = positional(list(ex.argv[1:]), frozenset())
        if len(srcs) != 1:
            return None, None
        sf = self.lookup(srcs[0], by_name=False)
        ident = sf.identity if sf is not None else self.identity_of_name(srcs[0])
        return (ident, (sf.origin if sf is not None and sf.origin else srcs[0])) if ident else (None, None)

    # --- identities -------------------------------------------------------------------------

    def identity_of_name(self, path: str) -> str | None:
        """A tool named by a file name (`xmrig-6.21/xmrig`, `/usr/bin/ssh`), else None."""
        base = base_name(path)
        hit = self.hint(base)
        if hit:
            return hit
        if dir_name(path) in self.data.bin_dirs and base:
            return base
        return None

    def identity_of_url(self, url: str) -> str | None:
        """A tool named by a URL's path segments, last first (archive suffixes removed)."""
        rest = url.partition("://")[2] or url
        path = rest.split("?", 1)[0].split("#", 1)[0]
        for seg in reversed(path.split("/")[1:][-6:]):
            hit = self.hint(seg)
            if hit:
                return hit
        return None

    def hint(self, name: str) -> str | None:
        low = name.lower()
        for suffix in self.data.archive_suffixes:
            if low.endswith(suffix) and len(low) > len(suffix):
                low = low[:-len(suffix)]
                break
        for key, identity in self.data.identities.items():
            if low.startswith(key) and (len(low) == len(key) or not low[len(key)].isalpha()):
                return identity
        return None

    # --- parsing and deriving ---------------------------------------------------------------

    def parse(self, text: str, lang: str) -> Result:
        from . import events_of_python, events_of_shell

        key = (lang, text)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        if self.out_of_time():
            return _SKIPPED
        if self.parsed_chars + len(text) > _PARSE_BUDGET * self.caps.max_text:
            self.note("flow parse budget reached: later run files not parsed")
            return _SKIPPED
        self.parsed_chars += len(text)
        if len(self.cache) >= _CACHE:
            self.cache.clear()
        origin = Origin(0, None, SCRIPT_FIELD, 0)  # a run file: its positional parameters are unknown
        parser = events_of_python if lang == "python" else events_of_shell
        result = parser(text, origin=origin, caps=self.caps)
        self.cache[key] = result
        return result

    def derive(self, text: str, lang: str, anchor: Source, exact: bool, offset: int,
               tag: str | None, trigger: int, parent: int | None, launch: str | None,
               chain: int, *, strip: bool = False, called_in: str | None = None,
               top: dict[str, Any] | None = None) -> int:
        """Parse `text` (shell or Python), append its events as derived ones and walk them;
        returns the first index, or -1 when nothing was derived.

        With `exact`, spans are shifted into `anchor`'s field at `offset` within it; otherwise
        every event gets `anchor`'s span. `launch` replaces a top-level exec's launch; `top`
        replaces other fields of top-level execs; `strip` drops "not called" reasons (a runner
        calls the functions), `called_in` those of functions that text names (an importer).
        A text derived once the same way is neither parsed nor derived again (a script run 50
        times makes its events once, attributed to the first run), so the work and the derived
        events grow with distinct content, not with runs."""
        if chain >= self.caps.max_depth:
            self.note(f"run chain deeper than {self.caps.max_depth}: not followed")
            return -1
        if top is None:  # the same text run again the same way makes the same events
            key = (tag, anchor, exact, offset, launch, strip, called_in is None, lang, text)
            if key in self.derived:
                return -1
            self.derived.add(key)
        result = self.parse(text, lang)
        if not result.parsed:
            if result is not _SKIPPED:
                self.note(f"{tag}: did not parse")
            return -1
        base = len(self.all)
        room = self.limit - (base - self.n_input)
        if room <= 0:
            if not self.full:
                self.full = True
                self.note(f"derived event cap {self.limit} reached")
            return -1
        depth0 = self.all[trigger].depth + 1 if top is None else self.all[trigger].depth
        for e in result.events[:room]:
            s = e.source
            decoded = tag if s.decoded_from is None else (
                f"{tag}/{s.decoded_from}" if tag else s.decoded_from)
            if exact:
                at = anchor.start + offset
                src = Source(anchor.message_index, anchor.tool_call_id, anchor.field,
                             at + s.start, at + s.end, decoded)
            else:
                src = Source(anchor.message_index, anchor.tool_call_id, anchor.field,
                             anchor.start, anchor.end, decoded if tag else anchor.decoded_from)
            changes: dict[str, Any] = {
                "source": src, "depth": e.depth + depth0,
                "parent": base + e.parent if e.parent is not None else parent,
            }
            if (strip or called_in) and e.reasons:
                changes["reasons"] = tuple(r for r in e.reasons if not _called(r, strip, called_in))
            if isinstance(e, Exec) and e.depth == 0 and e.parent is None:
                if launch:
                    changes["launch"] = launch
                if top:
                    changes.update(top)
            self.all.append(replace(e, **changes))
            self.triggers.append(trigger)
        if len(result.events) > room:
            self.full = True
            self.note(f"derived event cap {self.limit} reached")
        for j in range(base, len(self.all)):
            self.step(j, chain + 1)
        return base

    def run_text(self, trigger: int, f: TrackedFile, lang: str | None, launch: str, tag: str,
                 chain: int, *, strip: bool = False, called_in: str | None = None) -> None:
        """`f` is run (or sourced, or imported) by the exec at `trigger`."""
        self.use(f)
        if f.content is None:
            if lang and f.origin and "://" in f.origin:  # `curl -o i.sh URL; bash i.sh`
                runner = self.all[trigger]
                why = (f"script downloaded from {f.origin}: content unknown",)
                unknown = Exec(replace(runner.source, decoded_from=tag), ("?",), "?", "?",
                               launch, depth=runner.depth + 1,  # type: ignore[arg-type]
                               parent=trigger, reasons=why)
                self.emit(trigger, unknown)
            return
        lang = lang or self.lang_of(f.path, f.content)
        if lang is None:
            return
        first = self.derive(f.content, lang, f.source, f.exact, 0, tag, trigger,
                            trigger, launch, chain, strip=strip, called_in=called_in)
        if lang == "python" and first >= 0:
            self.imports(trigger, f, chain + 1)

    def imports(self, trigger: int, f: TrackedFile, chain: int) -> None:
        """Written Python modules that a running Python file imports run too; their functions
        count as called when the importer names them."""
        where = dir_name(f.path)
        for module, names in configs.python_imports(f.content or ""):
            dots = len(module) - len(module.lstrip("."))
            parts = [p for p in module.lstrip(".").split(".") if p]
            base = where
            for _ in range(max(dots - 1, 0)):
                base = base.rpartition("/")[0]
            stem = "/".join(parts)
            candidates = [f"{stem}.py", f"{stem}/__init__.py"] if stem else []
            candidates += [join_path(stem, f"{n}.py") if stem else f"{n}.py" for n in names[:8]]
            for cand in candidates:
                path = join_path(base, cand) if (dots or where) else cand
                m = self.lookup(path, by_name=False)
                if m is None and not dots:
                    m = self.lookup(cand, by_name=False)
                if m is not None and m is not f and m.content is not None:
                    self.run_text(trigger, m, "python", "script", f"import:{m.path}", chain,
                                  called_in=f.content)
                    break

    def run_lines(self, trigger: int, lines: list[tuple[int, str]], anchor: Source, exact: bool,
                  tag: str, chain: int, *, parent: int | None = -1, lang: str = "shell",
                  suffix: str = "") -> None:
        """Run command lines found at `offset`s of a file's content (hooks, recipes, units);
        offset -1: the line is not verbatim in the content (spans are the whole file's)."""
        for offset, line in lines[:64]:
            self.derive(line + suffix, lang, anchor, exact and offset >= 0,
                        max(offset, 0), tag, trigger, trigger if parent == -1 else parent, "hook",
                        chain)

    def lang_of(self, path: str, content: str, interpreter: str | None = None) -> str | None:
        """shell / python / None (no parser) by interpreter, then shebang, then extension."""
        d = self.data
        if interpreter:
            if interpreter in d.shells:
                return "shell"
            if interpreter in d.pythons:
                return "python"
            return None
        if content.startswith("#!"):
            line = content[2:content.find("\n") if "\n" in content else len(content)]
            words = line.replace("/", " ").split()
            if any(w.startswith("python") or w.startswith("pypy") for w in words):
                return "python"
            if any(w in d.shells for w in words):
                return "shell"
            return None
        ext = base_name(path).rpartition(".")[2].lower() if "." in base_name(path) else ""
        if ext == "py":
            return "python"
        if ext in ("", "sh", "bash", "zsh", "ksh", "command"):
            return "shell"
        return None

    # --- execs ------------------------------------------------------------------------------

    def on_exec(self, i: int, ev: Exec, chain: int) -> None:
        d = self.data
        name = ev.name
        ran: TrackedFile | None = None
        script = ev.script
        if (name in d.shells or name in d.pythons) and (
                not script or self.lookup(script) is None):
            script = self.interpreter_script(ev) or script
        if script:
            ran = self.lookup(script)
            if ran is not None:
                hook = base_name(ran.path) in d.build_files
                tag = f"hook:build:{ran.path}" if hook else f"script:{ran.path}"
                self.run_text(i, ran, self.lang_of(ran.path, ran.content or "", name),
                              "hook" if hook else "script", tag, chain, strip=hook)
        elif name == "?" and len(ev.argv) > 1 and ev.argv[1].endswith((".py", ".sh")):
            # `subprocess.run([sys.executable, "x.py"])`: an interpreter we cannot name
            ran = self.lookup(ev.argv[1])
            if ran is not None:
                self.run_text(i, ran, None, "script", f"script:{ran.path}", chain)
            return
        elif "/" in ev.path or ev.path.startswith("~"):
            ran = self.lookup(ev.path)
        elif name not in d.shells and name not in d.pythons:
            hit = self.lookup(name)
            ran = hit if hit is not None and dir_name(hit.path) in d.bin_dirs else None
        if ran is None and not script and "/" in ev.path and self.extracted:
            ran = self.from_archive(ev.path)
        if ran is not None and not script:
            self.run_text(i, ran, None, "script", f"script:{ran.path}", chain)
            if ran.identity and ran.identity.lower() != name.lower():
                self.renamed(i, ev, ran, chain)
        if name in _EXTRACTORS:
            self.extract(ev)
        identity = ran.identity if ran is not None and ran.identity else name
        if getattr(ev, "informational", False) or self.inert(name, ev.argv):
            return  # `--help`, `ssh -G`, `make -n`: shows what would run, runs nothing
        self.configs_of(i, ev, identity, ran)
        from .flow_runners import RUNNERS, npm

        handler = RUNNERS.get(name)
        if handler is None and name in d.node_runners:
            handler = npm
        module = ""
        if name in d.pythons and "-m" in ev.argv[:-1]:
            module = ev.argv[ev.argv.index("-m") + 1]
            handler = handler or RUNNERS.get(module)
        if handler is not None:
            handler(self, i, ev, chain)
        elif module:
            stem = module.replace(".", "/")
            m = self.lookup(stem + ".py", by_name=False) or self.lookup(stem + "/__main__.py",
                                                                        by_name=False)
            if m is not None:
                self.run_text(i, m, "python", "script", f"script:{m.path}", chain)
        if name in d.pythons and "-c" in ev.argv[:-1]:
            # `python -c 'from pkg.mod import f; f()'`: written modules it imports run too
            code = ev.argv[ev.argv.index("-c") + 1]
            self.imports(i, TrackedFile("", code, [], ev.source, False), chain + 1)

    def extract(self, ev: Exec) -> None:
        """`tar x`, `unzip`, `gunzip`, `7z x` of an archive that names a tool (by its own name
        or the URL it came from): what is later run from the folder it went to is that tool."""
        args = list(ev.argv[1:])
        archive, dest = _archive_args(ev.name, args)
        if not archive:
            return
        f = self.lookup(archive, by_name=False)
        identity = (f.identity if f is not None else None) or self.hint(base_name(archive))
        if not identity:
            return
        origin = (f.origin if f is not None and f.origin else None) or archive
        if ev.name in ("gunzip", "gzip", "xz", "unxz", "bunzip2") and not dest:
            out = archive.rsplit(".", 1)[0]  # chisel_1.9.1_linux_amd64.gz -> ..._amd64
            self.put(out, TrackedFile(out, None, [], ev.source, False, identity, origin), -1)
            return
        if len(self.extracted) < 64:
            self.extracted.append((norm_path(dest), identity, origin))

    def from_archive(self, path: str) -> TrackedFile | None:
        """An untracked program under a folder an identified archive was extracted to (for the
        current folder: under a subfolder of it, as archives unpack into one)."""
        key = norm_path(path)
        for folder, identity, origin in reversed(self.extracted):
            if (folder and (key.startswith(folder + "/") or ("/" + folder + "/") in key)) or (
                    not folder and "/" in key and not key.startswith(("/", "~"))):
                return TrackedFile(path, None, [], Source(0, None, "", 0, 0), False, identity,
                                   origin)
        return None

    def interpreter_script(self, ev: Exec) -> str | None:
        """The first argument of a shell or Python interpreter that names a tracked script
        (by extension, or a shebang), before `-c`/`-m`: `python3 -W ignore x.py`, `sh -e ./x`
        (option values are not known per interpreter; a written script is)."""
        for a in ev.argv[1:16]:
            if a in ("-c", "-m", "--"):
                return None
            f = None if a.startswith("-") else self.lookup(a, by_name=False)
            if f is not None and (base_name(a).endswith((".py", ".sh", ".bash", ".zsh")) or (
                    "." not in base_name(a) and (f.content or "").startswith("#!"))):
                return a
        return None

    def inert(self, name: str, argv: tuple[str, ...]) -> bool:
        """An option that makes the runner print or check instead of run (`ssh -G`, `make -n`)."""
        options = self.data.inert_options.get(name)
        if not options:
            return False
        for a in argv[1:]:
            if a == "--":
                break
            if a in options or a.partition("=")[0] in options:
                return True
        return False

    def renamed(self, i: int, ev: Exec, f: TrackedFile, chain: int) -> None:
        """A known tool run under another name: the same process as that tool (its argv read
        by the tool readers under its real name)."""
        text = shlex.join([str(f.identity)] + list(ev.argv[1:]))
        top = {"path": ev.path, "launch": ev.launch, "wrappers": ev.wrappers,
               "background": ev.background, "argv": ev.argv,
               "reasons": ev.reasons + (f"renamed from {f.origin}",)}
        self.derive(text, "shell", ev.source, False, 0, None, i, ev.parent, None,
                    chain, top=top)

    def configs_of(self, i: int, ev: Exec, identity: str, ran: TrackedFile | None) -> None:
        """Config files the program reads: pool URLs, tunnel servers -> `connect` events.

        Named by a config flag (only files with a config extension: `-c` means other things to
        gcc, tar or ssh), implicit for the tool's identity, or a `.env` next to a run file."""
        d = self.data
        paths: list[str] = []
        args = ev.argv[1:]
        if ev.name not in d.code_flag_programs and ev.name not in d.shells \
                and ev.name not in d.pythons:
            for k, a in enumerate(args):
                flag, eq, value = a.partition("=")
                if flag in d.config_flags and eq:
                    paths.append(value)
                elif (a in d.config_flags or a == "--env-file") and k + 1 < len(args):
                    paths.append(args[k + 1])
            paths = [p for p in paths if _is_config_name(p, d.config_extensions)]
        where = dir_name(ran.path) if ran is not None else dir_name(ev.path)
        paths += [join_path(where, cfg) for cfg in d.implicit_configs.get(identity.lower(), ())]
        if ran is not None:
            paths.append(join_path(dir_name(ran.path), ".env"))
        seen: set[int] = set()
        for path in paths[:16]:
            f = self.lookup(path, by_name=False)
            if f is None or id(f) in seen or f.content is None:
                continue
            seen.add(id(f))
            self.use(f)
            key = ("config", f.path, f.content, identity)
            if key in self.derived:
                continue  # the same program read the same config before: same connects
            self.derived.add(key)
            docs = configs.structured(f.path, f.content)
            for _key, value, port in configs.endpoints(docs, d.host_keys, d.port_keys):
                self.connect_from(i, ev, identity, f.path, value, port)

    def connect_from(self, i: int, ev: Exec, tool: str, path: str, value: str,
                     port_text: str | None) -> None:
        target = parse_url(value)
        if target is not None:
            raw, port, scheme, url = target.raw_host, target.port, target.scheme, value
        else:
            raw, port = split_host_port(value.split("/", 1)[0])
            scheme, url = None, None
            if port is None and port_text and port_text.isdigit() and len(port_text) <= 5:
                port = int(port_text)
        if target is None and not ("." in raw or ":" in raw or raw.lower() == "localhost"):
            return  # `addr: 22` (a local port), `server: main`: not a destination
        host = normalize_host(raw)
        if not host or host.startswith(("$", "{")):
            return
        src = replace(ev.source, decoded_from=f"config:{path}")
        self.emit(i, Connect(src, host, port, scheme, tool, raw, None, "out", url, ev.depth, i))

    def emit(self, trigger: int, event: Event) -> None:
        if len(self.all) - self.n_input >= self.limit:
            if not self.full:
                self.full = True
                self.note(f"derived event cap {self.limit} reached")
            return
        self.all.append(event)
        self.triggers.append(trigger)


def resolve_flow(events: Sequence[Event], *, caps: Caps = Caps(), deadline: float | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> Flow:
    """What a trajectory's written files turn into when later steps run or load them.

    `events` are the trajectory's events in order (parents indexing this sequence). Returns
    the derived events (parents index `tuple(events) + flow.events`), the paths of written
    files that are run or loaded, the indices of writes nothing used, and reasons for what
    was cut or left unresolved. Past `deadline` (a `clock()` value) the walk stops with what it
    has and calls no write data (`mentions` empty). Never raises."""
    try:
        return Walker(events, caps, deadline, clock).run()
    except Exception as exc:  # noqa: BLE001 - the stage degrades to "no flow", never crashes
        return Flow(reasons=(f"flow failed: {type(exc).__name__}",))
