"""From an argv to events: strip wrappers, name the program, recurse into the code it is given.

Shared by the shell walker (a command's words after expansion) and the Python walker
(`subprocess.run([...])`). Wrappers (`sudo`, `env`, `nohup`, `setsid`, `timeout`, `nice`,
`stdbuf`, `busybox`, `command`, `exec`, `time`, `systemd-run`, `xargs`, `watch`, `screen`,
`tmux`, `torsocks`, `proxychains`) are recorded on the event and stripped before the program is
named; strings handed to a shell (`sh -c`, `su -c`, `watch`, `tmux new 'cmd'`) or to Python
(`python -c`) are parsed recursively through the same sink, so caps hold across levels.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import re2

from .context import Frame, Sink
from .emit import Emit
from .informational import informational
from .model import Exec
from .tools import SSH_VALUE_OPTIONS, positional, side_events

__all__ = ["Word", "exec_words", "join_words", "SHELLS", "PYTHONS"]


class Word(NamedTuple):
    """One argument after expansion. `start`/`end`: its span in the frame's text; `inner`: where
    its characters start in that text when they are a verbatim slice of it (else None);
    `reason`: why its value is not fully known (None when it is)."""

    text: str
    start: int
    end: int
    inner: int | None = None
    reason: str | None = None


SHELLS = frozenset(("sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "fish", "busybox-sh", "rbash"))
PYTHONS = frozenset(("python", "python2", "python3", "pypy", "pypy3", "ipython"))
_INLINE = {"perl": "-e", "ruby": "-e", "node": "-e", "nodejs": "-e", "php": "-r", "lua": "-e",
           "awk": "", "osascript": "-e", "pwsh": "-c", "powershell": "-c"}

# wrapper name -> options that take a value (the program starts at the first other word)
_WRAP_VALUE: dict[str, frozenset[str]] = {
    "sudo": frozenset(("-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user",
                       "--group", "--chdir", "--prompt")),
    "doas": frozenset(("-u", "-C")),
    "nohup": frozenset(), "setsid": frozenset(), "time": frozenset(("-f", "-o")),
    "nice": frozenset(("-n", "--adjustment")),
    "ionice": frozenset(("-c", "-n", "-p", "-P", "-u", "--class", "--classdata")),
    "stdbuf": frozenset(("-i", "-o", "-e")), "busybox": frozenset(), "command": frozenset(),
    "exec": frozenset(("-a",)), "chroot": frozenset(("--userspec", "--groups")),
    "torsocks": frozenset(("-a", "-P", "-u", "-p")), "proxychains": frozenset(("-f",)),
    "proxychains4": frozenset(("-f",)), "flock": frozenset(("-w", "-E", "-c")),
    "systemd-run": frozenset(("-u", "--unit", "-p", "--property", "-d", "--description",
                              "--slice", "-E", "--setenv", "--uid", "--gid", "-M", "--machine",
                              "-H", "--host", "--on-active", "--on-boot", "--on-calendar",
                              "--on-unit-active", "--working-directory")),
    "timeout": frozenset(("-s", "--signal", "-k", "--kill-after")),
    "xargs": frozenset(("-I", "-i", "-n", "-P", "-a", "-d", "-L", "-s", "-E", "--max-args",
                        "--max-procs", "--arg-file", "--delimiter", "--replace")),
    "env": frozenset(("-u", "--unset", "-C", "--chdir", "-S")),
    "watch": frozenset(("-n", "--interval", "-d")),
    "screen": frozenset(("-S", "-c", "-L", "-Logfile", "-t")),
    "unbuffer": frozenset(), "caffeinate": frozenset(), "strace": frozenset(("-o", "-e", "-p")),
    "ltrace": frozenset(("-o", "-e")),
}
_PRIVILEGE = {"sudo": "sudo", "doas": "doas", "pkexec": "pkexec"}


def _basename(path: str) -> str:
    return path.rstrip("/").rpartition("/")[2] or path


def _strip_options(name: str, words: list[Word]) -> tuple[list[Word], str | None]:
    """Skip a wrapper's options; returns the remaining words and the value of -u (sudo)."""
    table = _WRAP_VALUE[name]
    i, user = 0, None
    while i < len(words):
        w = words[i].text
        if w == "--":
            i += 1
            break
        if not w.startswith("-") or w == "-":
            if name == "env" and "=" in w:
                i += 1
                continue
            break
        if w in table and i + 1 < len(words):
            if w in ("-u", "--user"):
                user = words[i + 1].text
            i += 2
            continue
        if not w.startswith("--") and len(w) > 2 and "=" not in w and "-" + w[-1] in table:
            i += 2  # -dmS name: the last letter of a flag group takes the next word
            continue
        i += 1
    rest = words[i:]
    if name == "timeout" and rest:
        rest = rest[1:]  # the duration
    return rest, user


def exec_words(words: list[Word], frame: Frame, sink: Sink, *, span: tuple[int, int],
               launch: str | None = None, background: bool = False, stdin: str | None = None,
               wrappers: tuple[str, ...] = (), parent: int | None = None,
               piped: bool = False, stdin_inner: int | None = None,
               env: dict[str, Any] | None = None) -> int | None:
    """Emit the `exec` for `words` (and its side events and nested code); returns its index.

    `env`: the variables the program starts with when known (exported, `X=v cmd`); a shell
    it starts reads them, and `sh -c CODE a b` gets `a b` as `$0 $1`.
    `stdin_inner`: where `stdin` starts in the frame's text when it is a verbatim slice of it
    (a quoted heredoc), so code a shell reads from it keeps exact spans. An informational call
    (`xmrig --help`, see informational.yaml) is an `exec` with `informational=True` and nothing
    else: the program prints and exits."""
    launch = launch or frame.launch
    em = Emit(frame, sink, span[0], span[1], parent if parent is not None else frame.parent)
    chain = list(wrappers)
    # strip wrappers, bounded by the number of words
    for _ in range(len(words)):
        if not words:
            break
        head = _basename(words[0].text)
        if head == "command" and len(words) > 1 and words[1].text in ("-v", "-V"):
            break  # `command -v x` looks x up; it does not run it
        if head in _PRIVILEGE:
            rest, user = _strip_options(head, words[1:]) if head != "pkexec" else (words[1:], None)
            em.privilege(_PRIVILEGE[head], user or "root")
        elif head in ("su",):
            return _su(words, frame, sink, span, em, tuple(chain), background)
        elif head in _WRAP_VALUE:
            rest, _ = _strip_options(head, words[1:])
            if head == "env":
                for w in words[1:len(words) - len(rest)]:
                    if "=" in w.text and not w.text.startswith("-"):
                        k, _, v = w.text.partition("=")
                        em.env(k, v, exported=True, scope="command")
            if head == "watch" and rest:
                chain.append(head)
                return _nested_shell(join_words(rest), frame, sink, span, tuple(chain), em, "sh -c")
            if head == "xargs":
                if stdin is not None and rest:
                    return _xargs(words[1:len(words) - len(rest)], rest, stdin, frame, sink, span,
                                  tuple(chain) + ("xargs",), em.parent)
                launch = "xargs"
        elif head == "tmux" and len(words) > 2 and words[1].text in ("new-session", "new", "new-window", "neww"):
            flags_with_value = {"-s", "-n", "-c", "-t", "-x", "-y", "-F", "-e"}
            cmd: list[Word] = []
            skip = False
            for k, w in enumerate(words[2:], start=2):
                if skip:
                    skip = False
                elif w.text in flags_with_value:
                    skip = True
                elif not w.text.startswith("-"):
                    cmd = words[k:]  # the command and its own options (`bash -c '...'`)
                    break
            if not cmd:
                break
            chain.append("tmux")
            if len(cmd) > 1:  # several words: tmux runs them as an argv, not through a shell
                return exec_words(cmd, frame, sink, span=span, launch=launch, background=background,
                                  wrappers=tuple(chain), parent=parent)
            return _nested_shell(cmd[0], frame, sink, span, tuple(chain), em, "sh -c")
        else:
            break
        chain.append(head)
        words = rest
    if not words:
        return None  # a bare wrapper (`exec 3<>/dev/tcp/...`, `sudo -v`): its effects are emitted
    argv = tuple(w.text for w in words)
    name = _basename(argv[0])
    if name == "busybox" and len(argv) > 1:
        chain.append("busybox")
        words, argv, name = words[1:], argv[1:], _basename(argv[1])
    reasons = tuple(dict.fromkeys(w.reason for w in words if w.reason))
    if launch == "xargs":
        reasons += ("xargs appends arguments read at run time",)
    script = _script_of(name, argv)
    info = informational(name, argv) if launch != "xargs" else None
    index = sink.add(Exec(frame.source(*span), argv, name, argv[0], launch, tuple(chain),  # type: ignore[arg-type]
                          script, background, frame.depth, em.parent, reasons, info is not None))
    if index is None or info is not None:
        return index
    em.parent = index
    em.unknown = tuple((w.text, w.reason) for w in words[1:] if w.reason)
    side_events(name, list(argv[1:]), em, stdin)
    _nested(name, words, frame, sink, span, index, em, stdin, piped, stdin_inner, env)
    return index


def _xargs(options: list[Word], command: list[Word], stdin: str, frame: Frame, sink: Sink,
           span: tuple[int, int], chain: tuple[str, ...], parent: int | None) -> int | None:
    """xargs with known input: `-I R` substitutes each item, else the items are appended; items
    are blank-separated, or NUL-separated with `-0` (a whole text with no NUL is one item)."""
    opts = [w.text for w in options]
    null = "-0" in opts or "--null" in opts
    items = [x for x in stdin.split("\0") if x][:8] if null else stdin.split()[:8]
    replace = None
    for i, o in enumerate(opts):
        if o in ("-I", "--replace") and i + 1 < len(opts):
            replace = opts[i + 1]
        elif o.startswith("-I") and len(o) > 2:
            replace = o[2:]
    runs = ([[Word(w.text.replace(replace, item), w.start, w.end, None, w.reason) for w in command]
             for item in items] if replace else [command + [Word(x, span[0], span[1]) for x in items]])
    first = None
    for argv in runs:
        index = exec_words(argv, frame, sink, span=span, launch="xargs", wrappers=chain, parent=parent)
        first = index if first is None else first
    return first


def join_words(words: list[Word]) -> Word:
    """Several words as one command string (`watch ls -l`, `eval a b`); its events get the span
    of the words, not inner offsets (the joined text is not a slice of the input)."""
    text = " ".join(w.text for w in words)
    return Word(text, words[0].start, words[-1].end, None,
                next((w.reason for w in words if w.reason), None))


def _script_of(name: str, argv: tuple[str, ...]) -> str | None:
    base = name.rstrip("0123456789.")
    if name in SHELLS or name in PYTHONS or base in PYTHONS or name in _INLINE:
        for a in argv[1:]:
            if a in ("-c", "-e", "-m", "-r") or a.startswith("-c"):
                return None
            if not a.startswith("-"):
                return a
    return None


def _option_value(words: list[Word], flag: str) -> Word | None:
    """The word after `flag`, also when it ends a flag group (`bash -lc 'cmd'`)."""
    for i, w in enumerate(words[1:], start=1):
        if w.text == flag or (len(w.text) > 2 and w.text.startswith("-") and not w.text.startswith("--")
                              and w.text.endswith(flag[1:]) and flag != "-e"):
            return words[i + 1] if i + 1 < len(words) else None
    return None


def _nested(name: str, words: list[Word], frame: Frame, sink: Sink, span: tuple[int, int],
            index: int, em: Emit, stdin: str | None, piped: bool,
            stdin_inner: int | None = None, env: dict[str, Any] | None = None) -> None:
    """Recurse into code handed to a shell, Python, find -exec, nc -e, kubectl/docker exec."""
    base = name.rstrip("0123456789.")
    if name in SHELLS:
        code = _option_value(words, "-c")
        if code is not None:
            after = words[next(i for i, w in enumerate(words) if w is code) + 1:]
            args = (tuple(w.text for w in after) or (name,)) if not any(w.reason for w in after) else None
            _nested_shell(code, frame, sink, span, (), em, "sh -c", parent=index, args=args, env=env)
        elif len(words) == 1 or all(w.text.startswith("-") for w in words[1:]):
            if stdin:
                _nested_shell(Word(stdin, span[0], span[1], stdin_inner), frame, sink, span, (),
                              em, "sh -c", parent=index)
            elif piped:
                _nested_shell(Word("?", span[0], span[1], None, "script read from a pipe"),
                              frame, sink, span, (), em, "sh -c", parent=index)
    elif name in PYTHONS or base in PYTHONS:
        code = _option_value(words, "-c")
        if code is not None:
            _nested_python(code, frame, sink, span, em, parent=index)
    elif name in ("ssh", "autossh"):
        for i, w in enumerate(words[:-1]):
            value = words[i + 1].text
            if w.text == "-o" and value.lower().startswith("proxycommand"):
                command = value.split("=", 1)[1] if "=" in value else value.partition(" ")[2]
                _nested_shell(Word(command, span[0], span[1], None, words[i + 1].reason), frame, sink,
                              span, ("ssh ProxyCommand",), em, "sh -c", parent=index)
        pos = positional([w.text for w in words[1:]], SSH_VALUE_OPTIONS)
        if len(pos) > 1:  # a remote command: it runs too, on the destination
            cmd = words[len(words) - (len(pos) - 1):]
            _nested_shell(cmd[0] if len(cmd) == 1 else join_words(cmd), frame, sink, span,
                          (f"ssh {pos[0]}",), em, "sh -c", parent=index)
    elif name in _INLINE and _INLINE[name] and any(w.text == _INLINE[name] for w in words) or (
            name in ("perl", "ruby") and any(w.text[:1] == "-" and w.text[-1:] == "e" for w in words[1:])) or (
            name in _AWKS and len(words) > 1):
        if not _inline_calls(name, words, frame, sink, span, index, em):
            sink.note(f"inline {name} code is not analysed")
    elif name == "find":
        for i, w in enumerate(words):
            if w.text in ("-exec", "-execdir", "-ok", "-okdir"):
                end = next((j for j in range(i + 1, len(words)) if words[j].text in (";", "+")),
                           len(words))
                inner = words[i + 1:end]
                if inner:
                    exec_words(inner, frame, sink, span=span, launch="find -exec",
                               wrappers=("find",), parent=index)
    elif name in ("nc", "ncat", "netcat"):
        prog = _option_value(words, "-e") or _long(words, "--exec")
        if prog is not None:
            exec_words([prog], frame, sink, span=span, wrappers=(name,), parent=index)
        code = _option_value(words, "-c") or _long(words, "--sh-exec")
        if code is not None:
            _nested_shell(code, frame, sink, span, (name,), em, "sh -c", parent=index)
    elif name in ("kubectl", "oc") and len(words) > 2 and words[1].text in ("run", "debug") \
            and "--" in [w.text for w in words]:
        inner = words[[w.text for w in words].index("--") + 1:]
        if inner:  # the pod's command
            exec_words(inner, frame, sink, span=span, wrappers=(f"{name} {words[1].text}",), parent=index)
    elif name in ("kubectl", "oc", "docker", "podman") and len(words) > 2 and words[1].text == "exec":
        if "--" in [w.text for w in words]:
            cut = [w.text for w in words].index("--")
            inner = words[cut + 1:]
        else:
            vals = {"-e", "-u", "-w", "--env", "--user", "--workdir", "-c", "--container", "-n",
                    "--namespace"}
            i, inner = 2, []
            while i < len(words):
                if words[i].text in vals:
                    i += 2
                elif words[i].text.startswith("-"):
                    i += 1
                else:
                    inner = words[i + 1:]
                    break
        if inner:
            exec_words(inner, frame, sink, span=span, wrappers=(f"{name} exec",), parent=index)


# A process call in inline perl/ruby/node/php code with literal string arguments: one string is a
# command line for a shell, several are an argv (`exec('bash','-c','...')`). RE2: linear on any text.
_STRING_RE = r"'(?:[^'\\]|\\.)*'" + r'|"(?:[^"\\]|\\.)*"'
_INLINE_CALL = re2.compile(
    r"\b(?:system|exec|spawn|spawnSync|execSync|execFileSync|popen|shell_exec|passthru)\s*\(\s*\[?\s*"
    rf"((?:{_STRING_RE})(?:\s*,\s*\[?\s*(?:{_STRING_RE}))*)\s*\]?\s*[,)]")
_STRING = re2.compile(_STRING_RE)


def _literal(quoted: str) -> str:
    """A perl/ruby/JS string literal's text: `\\'` and `\\\\` in single quotes, C escapes in double."""
    body = quoted[1:-1]
    if quoted[0] == "'":
        return body.replace("\\\\", "\x00").replace("\\'", "'").replace("\x00", "\\")
    from .shellstrings import ansi_c  # local import: shellstrings imports this module

    return ansi_c(body.replace('\\"', '"'))


_AWKS = frozenset(("awk", "gawk", "mawk", "nawk", "busybox-awk"))


def _awk_program(words: list[Word]) -> Word | None:
    """The program text of an awk command line (None when it comes from a file, `-f`)."""
    i = 1
    while i < len(words):
        w = words[i].text
        if w in ("-f", "--file") or w.startswith("-f"):
            return None
        if w in ("-F", "-v", "--assign", "--field-separator"):
            i += 2
        elif w == "--":
            return words[i + 1] if i + 1 < len(words) else None
        elif w.startswith("-") and w != "-":
            i += 1
        else:
            return words[i]
    return None


def _inline_calls(name: str, words: list[Word], frame: Frame, sink: Sink, span: tuple[int, int],
                  index: int, em: Emit) -> bool:
    """Commands inline interpreter code starts with literal strings; False when it has none."""
    flag = _INLINE.get(name, "")
    code = _awk_program(words) if name in _AWKS else next(
        (words[i + 1] for i, w in enumerate(words[1:-1], start=1)
         if w.text == flag or (name in ("perl", "ruby") and w.text[:1] == "-"
                               and w.text[-1:] == "e" and not w.text.startswith("--"))), None)
    if code is None or code.reason:
        return False
    found = False
    for m in _INLINE_CALL.finditer(code.text[:sink.caps.max_value]):
        args = [_literal(q.group(0)) for q in _STRING.finditer(m.group(1))][:64]
        if not args:
            continue
        found = True
        if len(args) == 1:
            _nested_shell(Word(args[0], span[0], span[1]), frame, sink, span, (name,), em, "sh -c", parent=index)
        else:
            exec_words([Word(a, span[0], span[1]) for a in args], frame, sink, span=span, launch="subprocess",
                       wrappers=(name,), parent=index)
    return found


def _long(words: list[Word], flag: str) -> Word | None:
    for i, w in enumerate(words):
        if w.text == flag and i + 1 < len(words):
            return words[i + 1]
        if w.text.startswith(flag + "="):
            return Word(w.text[len(flag) + 1:], w.start, w.end, None, w.reason)
    return None


def _su(words: list[Word], frame: Frame, sink: Sink, span: tuple[int, int], em: Emit,
        chain: tuple[str, ...], background: bool) -> int | None:
    user = next((w.text for w in words[1:] if not w.text.startswith("-")), "root")
    code = _option_value(words, "-c") or _long(words, "--command")
    if code is not None and code.text == user:
        user = "root"
    em.privilege("su", user)
    if code is not None:
        return _nested_shell(code, frame, sink, span, chain + ("su",), em, "sh -c")
    return sink.add(Exec(frame.source(*span), tuple(w.text for w in words), "su", words[0].text,  # type: ignore[arg-type]
                         frame.launch, chain, None, background, frame.depth, em.parent))


def _nested_shell(code: Word, frame: Frame, sink: Sink, span: tuple[int, int],
                  chain: tuple[str, ...], em: Emit, launch: str, parent: int | None = None, *,
                  args: tuple[str, ...] | None = ("sh",), env: dict[str, Any] | None = None) -> int | None:
    """Parse a string a shell will run, one level deeper, through the same sink; `args` are
    its positional parameters (`$0` first; None: not known), `env` its starting variables."""
    from .shell import parse_into  # local import: shell imports this module

    if code.reason:
        sink.note(f"{launch} of an unresolved string ({code.reason})")
        return sink.add(Exec(frame.source(*span), (code.text,), "?", code.text, launch,  # type: ignore[arg-type]
                             chain, None, False, frame.depth + 1,
                             parent if parent is not None else em.parent, (code.reason,)))
    sub = frame.nested(launch=launch, span=(code.start, code.end), inner_offset=code.inner,
                       decoded_from=None, parent=parent if parent is not None else em.parent)
    if sub.depth > sink.caps.max_depth:
        sink.note(f"depth cap {sink.caps.max_depth} reached")
        return None
    parse_into(code.text, sub, sink, wrappers=chain, args=args, env=env)
    return None


def _nested_python(code: Word, frame: Frame, sink: Sink, span: tuple[int, int], em: Emit,
                   parent: int) -> None:
    from .python import parse_into  # local import: python imports this module

    if code.reason:
        sink.note(f"python -c of an unresolved string ({code.reason})")
        return
    sub = frame.nested(launch="python -c", span=(code.start, code.end), inner_offset=code.inner,
                       decoded_from=None, parent=parent)
    if sub.depth > sink.caps.max_depth:
        sink.note(f"depth cap {sink.caps.max_depth} reached")
        return
    parse_into(code.text, sub, sink)
