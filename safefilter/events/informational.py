"""Which parts of a command line are data, from `informational.yaml` (knowledge lives in data).

Three questions the shell walker asks for every `exec` (argv after wrappers are stripped):
is the call informational (`--help`, `man x`, `pip show x`: the program does not do its job);
which arguments are text the program only reads (commit and PR messages, jq filters);
and which programs read stdin as text without running it (`cat`, `tee`, `grep`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import re2

__all__ = ["informational", "text_argument_indices", "stdin_is_text", "is_text_filter",
           "is_no_op", "is_data_file", "text_programs", "load_tables", "Tables"]

_FILE = Path(__file__).with_name("informational.yaml")
_TOP = {"informational", "text_arguments", "text_filters", "no_ops", "data_files"}
_DATA_FILES = {"suffixes", "dirs", "names"}
_INFO = {"only_flags", "always", "subcommands", "help_anywhere"}
_HELP = {"flags", "programs", "last_word"}
_TEXT = {"program", "subcommand", "options", "first_positional", "value_options",
         "two_value_options", "check", "stdin_options"}
# awk runs commands with system(), a pipe (`print | "sh"`, `"cmd" | getline`) or an extension.
_AWK_EXEC = re2.compile(r"system|\||getline|@load|PROCINFO")


@dataclass(frozen=True, slots=True)
class _TextArgs:
    programs: frozenset[str]
    subcommand: tuple[str, ...]
    options: frozenset[str]
    first_positional: bool
    value_options: frozenset[str]
    two_value_options: frozenset[str]
    check: str | None
    stdin_options: frozenset[str]


@dataclass(frozen=True, slots=True)
class Tables:
    only_flags: frozenset[str]
    always: frozenset[str]
    subcommands: dict[str, tuple[tuple[str, ...], ...]]
    help_flags: frozenset[str]
    help_programs: frozenset[str]
    help_last_word: dict[str, str]
    text_arguments: tuple[_TextArgs, ...]
    text_filters: frozenset[str]
    no_ops: frozenset[str]
    by_program: dict[str, tuple[_TextArgs, ...]]  # text_arguments indexed by program name
    named: frozenset[str]  # every program some informational rule names (a fast "no")
    data_suffixes: tuple[str, ...] = ()
    data_dirs: tuple[str, ...] = ()
    data_names: frozenset[str] = frozenset()


def _keys(where: str, value: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{_FILE.name}: {where} must be a mapping")
    bad = set(value) - allowed
    if bad:
        raise ValueError(f"{_FILE.name}: unknown key(s) {sorted(bad)} in {where}")
    return value


def _strs(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{_FILE.name}: {where} must be a list of strings")
    return tuple(value)


def load_tables(raw: Any) -> Tables:
    """Validate and index the YAML document (raises ValueError naming the bad key)."""
    top = _keys("the document", raw, _TOP)
    info = _keys("informational", top.get("informational", {}), _INFO)
    help_ = _keys("informational.help_anywhere", info.get("help_anywhere", {}), _HELP)
    subs = _keys("informational.subcommands", info.get("subcommands", {}),
                 set(info.get("subcommands", {}) or {}))
    texts = []
    for i, entry in enumerate(top.get("text_arguments", []) or []):
        where = f"text_arguments[{i}]"
        e = _keys(where, entry, _TEXT)
        check = e.get("check")
        if check not in (None, "sed", "awk"):
            raise ValueError(f"{_FILE.name}: unknown check {check!r} in {where}")
        texts.append(_TextArgs(
            frozenset(_strs(where + ".program", e.get("program", []))),
            _strs(where + ".subcommand", e.get("subcommand", [])),
            frozenset(_strs(where + ".options", e.get("options", []))),
            bool(e.get("first_positional", False)),
            frozenset(_strs(where + ".value_options", e.get("value_options", []))),
            frozenset(_strs(where + ".two_value_options", e.get("two_value_options", []))),
            check,
            frozenset(_strs(where + ".stdin_options", e.get("stdin_options", [])))))
    last_word = help_.get("last_word", {}) or {}
    if not isinstance(last_word, dict):
        raise ValueError(f"{_FILE.name}: informational.help_anywhere.last_word must be a mapping")
    files = _keys("data_files", top.get("data_files", {}) or {}, _DATA_FILES)
    by_program: dict[str, list[_TextArgs]] = {}
    for entry in texts:
        for name in entry.programs:
            by_program.setdefault(name, []).append(entry)
    return Tables(
        frozenset(_strs("informational.only_flags", info.get("only_flags", []))),
        frozenset(_strs("informational.always", info.get("always", []))),
        {name: tuple(tuple(v.split()) for v in _strs(f"informational.subcommands.{name}", vals))
         for name, vals in subs.items()},
        frozenset(_strs("informational.help_anywhere.flags", help_.get("flags", []))),
        frozenset(_strs("informational.help_anywhere.programs", help_.get("programs", []))),
        {str(k): str(v) for k, v in last_word.items()},
        tuple(texts),
        frozenset(_strs("text_filters", top.get("text_filters", []))),
        frozenset(_strs("no_ops", top.get("no_ops", []))),
        {k: tuple(v) for k, v in by_program.items()},
        frozenset(info.get("always", []) or []) | frozenset(subs) |
        frozenset(help_.get("programs", []) or []),
        tuple(s.lower() for s in _strs("data_files.suffixes", files.get("suffixes", []))),
        _strs("data_files.dirs", files.get("dirs", [])),
        frozenset(_strs("data_files.names", files.get("names", []))),
    )


_TABLES: Tables | None = None


def _tables() -> Tables:
    global _TABLES
    if _TABLES is None:
        import yaml

        _TABLES = load_tables(yaml.safe_load(_FILE.read_text(encoding="utf-8")))
    return _TABLES


def informational(name: str, argv: tuple[str, ...] | list[str]) -> str | None:
    """Why `argv` (program `name`) only prints information, or None when it does its job."""
    t = _TABLES or _tables()
    args = argv[1:]
    if not args and name not in t.always:
        return None
    if name not in t.named and args[0][:1] != "-":
        return None  # the common case: a program no rule names, with a first positional
    if name in t.always:
        return f"informational: {name}"
    if args[0] in t.only_flags and all(a in t.only_flags for a in args):
        return f"informational: {args[0]}"
    for sub in t.subcommands.get(name, ()):
        if tuple(args[:len(sub)]) == sub:
            return f"informational: {name} {' '.join(sub)}"
    if name in t.help_programs and args:
        cut = args.index("--") if "--" in args else len(args)  # after `--`: the program a pod runs
        hit = next((a for a in args[:cut] if a in t.help_flags), None)
        if hit is not None:
            return f"informational: {hit}"
        if t.help_last_word.get(name) == args[-1]:
            return f"informational: {name} ... {args[-1]}"
    return None


def _match_subcommand(entry: _TextArgs, args: list[str]) -> int | None:
    """Index in `args` just after the entry's subcommand words (global options skipped)."""
    i = 0
    for word in entry.subcommand:
        while i < len(args) and args[i].startswith("-") and args[i] != word:
            i += 2 if args[i] in entry.value_options and "=" not in args[i] else 1
        if i >= len(args) or args[i] != word:
            return None
        i += 1
    return i


def _entries(name: str, args: list[str]) -> list[tuple[_TextArgs, int]]:
    out = []
    for entry in (_TABLES or _tables()).by_program.get(name, ()):
        start = _match_subcommand(entry, args)
        if start is not None:
            out.append((entry, start))
    return out


def text_argument_indices(name: str, argv: tuple[str, ...] | list[str]) -> list[int]:
    """Indices in `argv` of arguments that are text the program only reads (message, pattern)."""
    if name not in (_TABLES or _tables()).by_program:
        return []
    args = list(argv[1:])
    found: list[int] = []
    for entry, start in _entries(name, args):
        picked: list[int] = []
        positional_seen = False
        explicit = False
        i = start
        while i < len(args):
            a = args[i]
            if a == "--":
                if entry.first_positional and not explicit and i + 1 < len(args):
                    picked.append(i + 1)
                break
            if a in entry.options:
                explicit = True
                if i + 1 < len(args):
                    picked.append(i + 1)
                i += 2
                continue
            if a.startswith("--") and "=" in a and a.split("=", 1)[0] in entry.options:
                explicit = True
                picked.append(i)
                i += 1
                continue
            if a.startswith("-") and not a.startswith("--") and len(a) > 2:
                flag = "-" + a[1]
                last = "-" + a[-1]
                if flag in entry.options:  # -m"message" glued
                    explicit = True
                    picked.append(i)
                    i += 1
                    continue
                if last in entry.options and i + 1 < len(args):  # -am "message"
                    explicit = True
                    picked.append(i + 1)
                    i += 2
                    continue
                i += 2 if last in entry.value_options else 1
                continue
            if a in entry.two_value_options:
                i += 3
                continue
            if a in entry.value_options:
                i += 2
                continue
            if a.startswith("-") and a != "-":
                i += 1
                continue
            if entry.first_positional and not positional_seen and not explicit:
                picked.append(i)
            positional_seen = True
            i += 1
        if entry.first_positional and explicit:
            picked = [p for p in picked if p >= 0]
        if entry.check and any(_executes(entry.check, args[p]) for p in picked):
            return []  # the script runs something: none of this program's text is data
        found.extend(p + 1 for p in picked)
    return sorted(set(found))


def _executes(check: str, script: str) -> bool:
    if check == "awk":
        return _AWK_EXEC.search(script) is not None
    return _sed_executes(script)


_SED_SIMPLE = frozenset("pPdDnNgGhHxlq=QzF")
_SED_TO_EOL = frozenset("rRwWbtT:aic")


def _skip_delimited(script: str, i: int, delim: str) -> int:
    """Index just after the next unescaped `delim` at or after i (len(script) when none)."""
    n = len(script)
    while i < n:
        if script[i] == "\\":
            i += 2
            continue
        if script[i] == delim:
            return i + 1
        i += 1
    return n


def _sed_executes(script: str) -> bool:
    """True when a sed script can run a command (the `e` command, the `e` flag of `s`) or when
    it is not understood (unknown commands count as running: data only when sure)."""
    i, n = 0, len(script)
    while i < n:
        c = script[i]
        if c in " \t\n;{}!,~+$" or c.isdigit():
            i += 1
        elif c == "/":
            i = _skip_delimited(script, i + 1, "/")
        elif c == "\\" and i + 1 < n:
            i = _skip_delimited(script, i + 2, script[i + 1])
        elif c in "sy":
            if i + 1 >= n or script[i + 1] in "\n\\":
                return True
            d = script[i + 1]
            j = _skip_delimited(script, i + 2, d)
            j = _skip_delimited(script, j, d)
            if j >= n and not script.endswith(d):
                return True
            while c == "s" and j < n and script[j] not in ";\n}":
                if script[j] == "e":
                    return True
                if script[j] == "w":  # `s///w file`: a write; the rest of the line is the path
                    j = n if script.find("\n", j) < 0 else script.find("\n", j)
                    break
                j += 1
            i = j
        elif c == "e":
            return True
        elif c in _SED_TO_EOL:
            nl = script.find("\n", i)
            i = n if nl < 0 else nl + 1
        elif c in _SED_SIMPLE:
            i += 1
        else:
            return True
    return False


def stdin_is_text(name: str, argv: tuple[str, ...] | list[str]) -> bool:
    """True when the program reads stdin as text it does not run: a text filter (`cat`, `tee`,
    `grep`), or a message read from `-` (`git commit -F -`, `gh pr create --body-file -`)."""
    t = _TABLES or _tables()
    if name in t.text_filters:
        return True
    args = list(argv[1:])
    for entry, start in _entries(name, args):
        for i in range(start, len(args)):
            a = args[i]
            if a in entry.stdin_options and (i + 1 == len(args) or args[i + 1] == "-"):
                return True  # (tree-sitter-bash drops a `-` right before `<<EOF`)
            if "=" in a and a.split("=", 1)[0] in entry.stdin_options and a.endswith("=-"):
                return True
    return False


def text_programs() -> frozenset[str]:
    """Programs that have text arguments (a fast "no" for every other command)."""
    return frozenset((_TABLES or _tables()).by_program)


def is_data_file(path: str) -> bool:
    """True when a file's name says its content is data (documentation, a test fixture), so
    text written to it is a data span; see `data_files` in informational.yaml."""
    t = _TABLES or _tables()
    p = path.strip().strip("'\"")
    if not p or "$" in p or "`" in p:
        return False
    if p.startswith("/dev/"):
        return True  # /dev/null, /dev/tcp/...: discarded or sent, never loaded
    base = p.rpartition("/")[2]
    if base.lower().endswith(t.data_suffixes) or base in t.data_names or \
            base.rpartition(".")[0] in t.data_names:
        return True
    rel = p[2:] if p.startswith("./") else p
    return any(rel.startswith(d) or f"/{d}" in rel for d in t.data_dirs)


def is_text_filter(name: str) -> bool:
    """A program that reads its stdin as text and runs none of it (`text_filters`)."""
    return name in (_TABLES or _tables()).text_filters


def is_no_op(name: str) -> bool:
    """A command that ignores its arguments (`:`, `true`)."""
    return name in (_TABLES or _tables()).no_ops
