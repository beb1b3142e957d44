"""Top-level words of a one-line shell command: just enough reading for the evasion transforms.

Why: a transform that rewrites a command name (`ssh` -> `s''sh`) or joins a simple command's words
(`${IFS}`, `{a,b}`) must know where words and operators are without changing what bash runs; this
reader follows quotes, escapes and substitutions, and says None for what it does not follow
(newlines, comments, heredocs), so the caller leaves such a line alone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Token", "command_words", "defined_functions", "lex", "simple_words"]

# Words that are syntax, not commands, and declaration builtins whose `x=(...)` arguments bash only
# parses after the literal name: a transform never rewrites them.
_RESERVED = frozenset({"!", "[[", "]]", "{", "}", "case", "coproc", "do", "done", "elif", "else", "esac", "fi",
                       "for", "function", "if", "in", "select", "then", "time", "until", "while",
                       "declare", "typeset", "local", "export", "readonly"})
_LEADING = frozenset({"!", "time", "if", "then", "elif", "else", "do", "while", "until", "{"})
_STARTS_COMMAND = frozenset({";", "&", "&&", "||", "|", "|&", "(", ")", ";;"})  # ")": a case pattern or f()
_OPERATORS = ("&&", "||", ";;", "|&", ">>", "<<", "&>", ">&", "<&", "<>", ">|", "|", "&", ";", "<", ">", "(", ")")
_NAME = re.compile(r"/?[A-Za-z0-9_.+-]+(?:/[A-Za-z0-9_.+-]+)*")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_FUNCTION = re.compile(r"(?:^|[\s;&|(])(?:function\s+)?([\w.-]+)\s*\(\)|\bfunction\s+([\w.-]+)")


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int
    op: bool


def _skip(s: str, i: int) -> int:
    """Index just after the quoted or substituted unit that starts at s[i] (one plain character otherwise)."""
    if s[i] == "\\":
        if i + 1 >= len(s):
            raise IndexError("trailing backslash")
        return i + 2
    if s[i] == "'":
        return s.index("'", i + 1) + 1
    if s.startswith("$'", i) or s[i] == "`":
        close, j = s[i + 1] if s[i] == "$" else "`", i + (2 if s[i] == "$" else 1)
        while s[j] != close:
            j += 2 if s[j] == "\\" else 1
        return j + 1
    if s[i] == '"':
        j = i + 1
        while s[j] != '"':
            j = j + 2 if s[j] == "\\" else _skip(s, j) if s[j] == "`" or s.startswith(("$(", "${"), j) else j + 1
        return j + 1
    if s.startswith(("$(", "${"), i):
        opener, close, depth, j = s[i + 1], ")" if s[i + 1] == "(" else "}", 1, i + 2
        while depth:
            depth += (s[j] == opener) - (s[j] == close)
            j = _skip(s, j) if s[j] in "\\'\"`$" else j + 1
        return j
    return i + 1


def lex(cmd: str) -> tuple[Token, ...] | None:
    """Top-level words and operators of a one-line command, or None for what this reader does not
    follow (newlines, comments, heredocs, unbalanced quotes): word-level transforms then stay away."""
    out: list[Token] = []
    i, n = 0, len(cmd)
    try:
        while i < n:
            c = cmd[i]
            if c in " \t":
                i += 1
            elif c in "\n#":
                return None
            elif c in "|&;<>()":
                op = next(o for o in _OPERATORS if cmd.startswith(o, i))
                if op == "<<":
                    return None
                out.append(Token(op, i, i + len(op), True))
                i += len(op)
            else:
                j = i
                while j < n and cmd[j] not in " \t\n|&;<>()":
                    j = _skip(cmd, j)
                out.append(Token(cmd[i:j], i, j, False))
                i = j
    except (IndexError, ValueError):
        return None
    return tuple(out)


def command_words(tokens: tuple[Token, ...]) -> list[Token]:
    """The plain command names of a command line (`ssh` in `a=1 ssh ...`, `bash` in `... | bash`)."""
    found: list[Token] = []
    at_start = True
    for k, t in enumerate(tokens):
        if t.op:
            at_start = t.text in _STARTS_COMMAND
            continue
        if not at_start or t.text in _LEADING:
            continue
        if _ASSIGNMENT.match(t.text):
            continue
        at_start = False
        after = tokens[k + 1] if k + 1 < len(tokens) else None
        glued = after is not None and after.op and (after.text == "(" or after.start == t.end)  # f() or 2>x
        if (t.text not in _RESERVED and not glued and _NAME.fullmatch(t.text) and len(t.text) >= 2
                and re.search("[A-Za-z]", t.text)):
            found.append(t)
    return found


def simple_words(cmd: str) -> tuple[str, ...] | None:
    """The words of a simple command (a program and its arguments, nothing else), else None."""
    tokens = lex(cmd)
    if not tokens or any(t.op for t in tokens):
        return None
    words = command_words(tokens)
    return tuple(t.text for t in tokens) if words and words[0] is tokens[0] else None


def defined_functions(cmd: str) -> set[str]:
    """Names the line defines as shell functions (`f() {...}`, `function f {...}`)."""
    return {a or b for a, b in _FUNCTION.findall(cmd)}
