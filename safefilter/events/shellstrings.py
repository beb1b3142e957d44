"""What bash does to strings, statically: escapes, `$'...'`, brace expansion, arithmetic, the
parameter-expansion operators (`${v,,}`, `${v//a/b}`, `${v#p}`, `${v:1:2}`, ...), and the output
of the few commands that are pure string functions (`echo`, `printf`, `cat`, `base64 -d`, `rev`,
`xxd -r -p`, `tr`) or name a program (`which x`, `command -v x`, `type -P x`). Used by the shell
walker; nothing here runs anything.
"""
from __future__ import annotations

import ast
import base64
import binascii
import zlib
from functools import lru_cache
from typing import Any

import re2

from .argv import Word

__all__ = ["unescape", "ansi_c", "brace_expand", "arith", "static_output", "param_op", "LOOKUP_DIR"]

#: Where `which x` / `command -v x` / `type -P x` say program x is, statically: a standard bin
#: folder, so the data flow keeps the program's identity through copies and links of that path.
LOOKUP_DIR = "/usr/bin/"


def unescape(raw: str, escapable: str | None = None) -> str:
    """Drop backslashes as bash does: before any character when unquoted (`escapable` None),
    only before the `escapable` characters inside double quotes; backslash-newline joins lines."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw) and (escapable is None or raw[i + 1] in escapable):
            if raw[i + 1] != "\n":
                out.append(raw[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_C_ESC = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b",
          "f": "\f", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def ansi_c(raw: str, *, mode: str = "c") -> str:
    """Decode the escapes of `$'...'` and printf formats (\\xHH, \\NNN, \\uXXXX, \\n, ...). Mode
    "echo" (`echo -e`) and "b" (printf's `%b`): \\0NNN is octal (a zero, then up to three
    digits) and \\c ends the output; only "b" also reads \\NNN without the zero."""
    echo = mode != "c"
    out: list[str] = []
    i = 0
    n = len(raw)
    while i < n:
        ch = raw[i]
        if ch != "\\" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = raw[i + 1]
        if echo and nxt == "c":
            break
        if mode == "echo" and nxt in "1234567":
            out.append("\\" + nxt)
            i += 2
            continue
        if echo and nxt == "0":
            i += 1  # the leading zero; up to three digits follow
            nxt = raw[i + 1] if i + 1 < n and raw[i + 1] in "01234567" else ""
            if not nxt:
                out.append("\0")
                i += 1
                continue
        if nxt in _C_ESC:
            out.append(_C_ESC[nxt])
            i += 2
        elif nxt == "x":
            j = i + 2
            while j < n and j < i + 4 and raw[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(chr(int(raw[i + 2:j], 16)) if j > i + 2 else "\\x")
            i = j
        elif nxt in ("u", "U"):
            width = 4 if nxt == "u" else 8
            j = i + 2
            while j < n and j < i + 2 + width and raw[j] in "0123456789abcdefABCDEF":
                j += 1
            try:
                out.append(chr(int(raw[i + 2:j], 16)) if j > i + 2 else "\\" + nxt)
            except ValueError:
                out.append("?")
            i = j
        elif nxt in "01234567":
            j = i + 1
            while j < n and j < i + 4 and raw[j] in "01234567":
                j += 1
            out.append(chr(int(raw[i + 1:j], 8) & 0xFF))
            i = j
        else:
            out.append("\\" + nxt)
            i += 2
    return "".join(out)


def brace_expand(text: str, cap: int) -> list[str]:
    """Bash brace expansion (`a{b,c}d`, `{1..5}`, nested), at most `cap` words."""
    depth, start = 0, -1
    for i, ch in enumerate(text):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                body = text[start + 1:i]
                options = _brace_options(body)
                if options is None:
                    continue
                head, tail = text[:start], text[i + 1:]
                out: list[str] = []
                for opt in options:
                    for rest in brace_expand(opt + tail, cap):
                        out.append(head + rest)
                        if len(out) >= cap:
                            return out
                return out
    return [text]


def _brace_options(body: str) -> list[str] | None:
    if ".." in body and "," not in body:
        lo, _, hi = body.partition("..")
        if lo.lstrip("-").isdigit() and hi.lstrip("-").isdigit() and len(lo) < 7 and len(hi) < 7:
            a, b = int(lo), int(hi)
            step = 1 if b >= a else -1
            return [str(v) for v in range(a, b + step, step)[:256]]
        if len(lo) == 1 and len(hi) == 1 and lo.isalpha() and hi.isalpha():
            step = 1 if ord(hi) >= ord(lo) else -1
            return [chr(c) for c in range(ord(lo), ord(hi) + step, step)]
        return None
    parts, depth, cur = [], 0, []
    for ch in body:
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur.append(ch)
    parts.append("".join(cur))
    return parts if len(parts) > 1 else None


def arith(expr: str) -> str | None:
    """`$(( ... ))` of integer constants (+ - * / %), evaluated over its syntax tree; else None."""
    expr = expr.strip()
    if expr.isdigit():
        return expr
    if not expr or len(expr) > 64 or not set(expr) <= set("0123456789+-*/%() "):
        return None
    try:
        value = _int_expr(ast.parse(expr, mode="eval").body, 0)
    except (SyntaxError, ValueError, RecursionError, ZeroDivisionError):
        return None
    return str(value) if value is not None and abs(value) < 1 << 63 else None


def _int_expr(node: ast.AST, depth: int) -> int | None:
    if depth > 32:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _int_expr(node.operand, depth + 1)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    if isinstance(node, ast.BinOp):
        a, b = _int_expr(node.left, depth + 1), _int_expr(node.right, depth + 1)
        if a is None or b is None or abs(a) > 1 << 62 or abs(b) > 1 << 62:
            return None
        op = node.op
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, (ast.Div, ast.FloorDiv)):
            return int(a / b)  # bash truncates toward zero
        if isinstance(op, ast.Mod):
            return a - b * int(a / b)
    return None


def static_output(words: list[Word], stdin: str | None) -> str | None:
    """What a command prints, for the few that are pure string functions; else None."""
    if any(w.reason for w in words):
        return None
    name = words[0].text.rpartition("/")[2]
    args = [w.text for w in words[1:]]
    if name == "echo":
        newline, escapes = True, False
        while args and args[0].startswith("-") and set(args[0][1:]) <= set("neE") and len(args[0]) > 1:
            newline = newline and "n" not in args[0]
            escapes = "e" in args[0] or escapes
            args = args[1:]
        text = " ".join(args)
        if escapes and "\\c" in text:
            newline = False
        return (ansi_c(text, mode="echo") if escapes else text) + ("\n" if newline else "")
    if name == "printf" and args:
        fmt, rest = ansi_c(args[0]), args[1:]
        if "%" not in fmt:
            return fmt
        out, guard = [], 0
        while True:
            piece, rest = _format_once(fmt, rest)
            out.append(piece)
            guard += 1
            if not rest or guard > 64:
                break
        return "".join(out)
    if name == "cat" and (not args or args == ["-"]):
        return stdin
    if name in _LOOKUPS:
        return _lookup_output(name, args)
    if stdin is None:
        return None
    if name == "base64" and any(a in ("-d", "--decode", "-D") for a in args):
        try:
            raw = base64.b64decode("".join(stdin.split()) + "==", validate=False)
        except (binascii.Error, ValueError):
            return None
        return _text_of(raw)
    if name in ("gunzip", "zcat") or (name == "gzip" and any(a.startswith("-") and "d" in a for a in args)):
        return _gunzip(stdin)
    if name == "rev":
        return "\n".join(line[::-1] for line in stdin.split("\n"))
    if name == "xxd" and "-r" in args:
        try:
            return bytes.fromhex("".join(stdin.split())).decode("utf-8", "replace")
        except ValueError:
            return None
    if name == "tr" and len(args) == 2 and not args[0].startswith("-"):
        src, dst = _tr_set(args[0]), _tr_set(args[1])
        if src and dst:
            dst = dst + dst[-1] * (len(src) - len(dst))
            return stdin.translate(str.maketrans(src, dst[:len(src)]))
    return None


def _text_of(raw: bytes) -> str:
    """Bytes as text: UTF-8 when they are, else one character per byte (latin-1), so a binary
    payload (gzip) survives to the next stage of the pipeline."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _gunzip(stdin: str) -> str | None:
    """`gunzip` of a payload a decoder before it produced, at most 64 KiB of output."""
    try:
        data = stdin.encode("latin-1")
    except UnicodeEncodeError:
        return None
    try:
        inflater = zlib.decompressobj(wbits=31)
        out = inflater.decompress(data, 1 << 16)
    except zlib.error:
        return None
    return out.decode("utf-8", "replace")


def _tr_set(spec: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            a, b = ord(spec[i]), ord(spec[i + 2])
            if a <= b and b - a < 256:
                out.extend(chr(c) for c in range(a, b + 1))
            i += 3
        else:
            out.append(spec[i])
            i += 1
    return "".join(out)


def _format_once(fmt: str, args: list[str]) -> tuple[str, list[str]]:
    out: list[str] = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            j = i + 1
            while j < len(fmt) and fmt[j] in "-+ #0123456789.":
                j += 1
            conv = fmt[j] if j < len(fmt) else ""
            if conv == "%":
                out.append("%")
            elif conv in "sbdiqcxXo":
                value = args[0] if args else ""
                args = args[1:]
                out.append(ansi_c(value, mode="b") if conv == "b" else value)
            else:
                out.append(fmt[i:j + 1])
            i = j + 1
            continue
        out.append(ch)
        i += 1
    return "".join(out), args



_LOOKUPS = frozenset(("which", "command", "type"))


def _lookup_output(name: str, args: list[str]) -> str | None:
    """`which x`, `command -v x`, `type -P x`: where x is, as a path in LOOKUP_DIR (one line per
    name). The real folder is not known statically; which program it is, is."""
    if name == "which":
        names = [a for a in args if not a.startswith("-")]
    elif name == "command" and args[:1] in (["-v"], ["-V"]):
        names = args[1:]
    elif name == "type" and args[:1] in (["-P"], ["-p"], ["-fP"], ["-Pf"]):
        names = args[1:]
    else:
        return None
    if not names or any(not n or "/" in n or n.startswith("-") for n in names):
        return None
    return "".join(f"{LOOKUP_DIR}{n}\n" for n in names)


_CASE_OPS = {",,": str.lower, "^^": str.upper,
             ",": lambda v: v[:1].lower() + v[1:], "^": lambda v: v[:1].upper() + v[1:]}
_MAX_PATTERN_VALUE = 4096  # longer values are not matched against glob patterns


def param_op(value: str, op: str) -> str | None:
    """`${v<op>}` for a known value: case (`,,` `^^` `,` `^`), substring (`:off`, `:off:len`),
    prefix and suffix removal (`#p` `##p` `%p` `%%p`) and substitution (`/p/r` `//p/r` `/#p/r`
    `/%p/r`) with glob patterns. None when the operator or its pattern is not one read here
    (quotes, expansions inside it, `&` in a replacement)."""
    if op in _CASE_OPS:
        return _CASE_OPS[op](value)
    if op.startswith(":"):
        return _substring(value, op[1:])
    if any(c in op for c in "$`'\"\\") or len(value) > _MAX_PATTERN_VALUE:
        return None
    if op.startswith("/"):
        return _substitute(value, op[1:])
    for mark, longest, suffix in (("##", True, False), ("#", False, False), ("%%", True, True),
                                  ("%", False, True)):
        if op.startswith(mark):
            return _remove(value, op[len(mark):], longest, suffix)
    return None


def _substring(value: str, spec: str) -> str | None:
    off_text, _, len_text = spec.partition(":")
    off = arith(off_text) if off_text.strip() else "0"
    length = arith(len_text) if len_text.strip() else None
    if off is None or (len_text.strip() and length is None):
        return None
    start = int(off)
    start = max(0, len(value) + start) if start < 0 else start
    if length is None:
        return value[start:]
    n = int(length)
    end = len(value) + n if n < 0 else start + n
    return value[start:end] if end >= start else None


def _remove(value: str, pattern: str, longest: bool, suffix: bool) -> str | None:
    regex = _glob(pattern, longest, anchor="$" if suffix else "^")
    if regex is None:
        return None
    if suffix and not longest:  # the shortest suffix is the shortest prefix of the reversed text
        flipped = _reversed_glob(pattern)
        cut = None if flipped is None else _remove(value[::-1], flipped, False, False)
        return None if cut is None else cut[::-1]
    m = regex.search(value)
    if m is None:
        return value
    return value[:m.start()] if suffix else value[m.end():]


def _substitute(value: str, spec: str) -> str | None:
    every = spec.startswith("/")
    anchor = spec[:1] if spec[:1] in "#%" else ""
    spec = spec[1:] if every or anchor else spec
    pattern, _, replacement = spec.partition("/")
    if "&" in replacement or not pattern:
        return None if "&" in replacement else value
    regex = _glob(pattern, True, anchor={"#": "^", "%": "$"}.get(anchor, ""))
    if regex is None:
        return None
    if every:
        return regex.sub(lambda _m: replacement, value)
    return regex.sub(lambda _m: replacement, value, count=1)


def _reversed_glob(pattern: str) -> str | None:
    """The glob that matches the reversed strings (`[...]` classes kept whole), or None."""
    tokens: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                return None
            tokens.append(pattern[i:end + 1])
            i = end + 1
        else:
            tokens.append(pattern[i])
            i += 1
    return "".join(reversed(tokens))


@lru_cache(maxsize=256)
def _glob(pattern: str, longest: bool, anchor: str = "") -> Any:
    """A bash glob (`*`, `?`, `[...]`) as an RE2 pattern (linear time on any value), or None."""
    if len(pattern) > 256:
        return None
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            parts.append(".*" if longest else ".*?")
        elif ch == "?":
            parts.append(".")
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                return None
            body = pattern[i + 1:end]
            body = "^" + body[1:] if body[:1] in "!^" else body
            parts.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            parts.append(re2.escape(ch))
        i += 1
    body = "".join(parts)
    regex = f"^(?:{body})" if anchor == "^" else f"(?:{body})$" if anchor == "$" else body
    options = re2.Options()
    options.longest_match = longest
    options.dot_nl = True
    try:
        return re2.compile(regex, options)
    except re2.error:
        return None
