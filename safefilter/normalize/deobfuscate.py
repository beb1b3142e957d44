"""See through the disguises agents and attackers put on commands, statically.

For each action segment this yields *derived* segments: a normalized view (quotes, escapes,
variables, line continuations folded) and decoded payloads (base64, hex, gzip, rot13, reversed
strings), recursively up to a bounded depth and size. Nothing is ever executed: every step is a
string transformation. A derived segment keeps the span of the original characters it came from
and names its derivation in `decoded_from`, so a finding in decoded text still points at the
encoded original.
"""
from __future__ import annotations

import base64
import binascii
import bisect
import codecs
import zlib
from dataclasses import dataclass
from typing import Callable, Iterator

from ..types import Segment
from .budget import Budget
from .linear_re import Match, Pattern

__all__ = ["Limits", "derive", "normalize_text", "link_scripts"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that keep deobfuscation linear and small on adversarial input."""

    max_depth: int = 3  # decode-of-decode levels
    max_derived: int = 64  # derived segments per original segment
    max_text: int = 1 << 20  # window (chars) a long text is normalized in, piece by piece
    min_token: int = 16  # shortest base64 / hex token worth decoding
    work_per_char: int = 16  # a record's work budget: this many characters per character of its text...
    work_floor: int = 1 << 20  # ...and at least this many, so short records are never cut short


# Kinds whose text is deobfuscated. File contents are matched as written; a file is deobfuscated
# when it runs (see link_scripts), which keeps large source files off the expensive path.
DERIVE_KINDS = frozenset(("shell", "code", "args"))

# Every pattern here sees record text, so every one is RE2 (linear time, no backtracking), run
# through linear_re's thin match loop. Where the Python originals used lookaround or
# backreferences, the check is done in Python on each match's neighbouring characters, which
# keeps the whole pass linear.
_HEX_ESC = Pattern(r"\\x([0-9a-fA-F]{2})")
_OCT_ESC = Pattern(r"(?:\\0?[0-7]{3}){2,}")
_OCT_ONE = Pattern(r"\\0?([0-7]{3})")
_UNI_ESC = Pattern(r"\\u([0-9a-fA-F]{4})")
_URL_ESC = Pattern(r"(?:%[0-9a-fA-F]{2}){3,}")
_CHR_CALL = Pattern(r"\b(?:chr|char)\(\s*(\d{1,3}|0x[0-9a-fA-F]{1,2})\s*\)")
_FROM_CHARCODE = Pattern(r"String\.fromCharCode\(([\d\s,]+)\)")
_ECHO_SUBST = Pattern(r"\$\(\s*(?:echo|printf)\s+(?:-[neE]+\s+)?([^()`]*)\)|`\s*(?:echo|printf)\s+(?:-[neE]+\s+)?([^`]*)`")
# $(echo <base64> | base64 -d) used inline: the decoded word takes its place in the command
_B64_SUBST = Pattern(
    r"""\$\(\s*(?:echo|printf)\s+(?:-\w+\s+)?['"]?([A-Za-z0-9+/]{2,}={0,2})['"]?\s*\|\s*base64\s+(?:-d|--decode|-D)\s*\)"""
    r"""|`\s*(?:echo|printf)\s+(?:-\w+\s+)?['"]?([A-Za-z0-9+/]{2,}={0,2})['"]?\s*\|\s*base64\s+(?:-d|--decode|-D)\s*`"""
)
# a short token explicitly piped to a decoder is worth decoding even below min_token
_B64_PIPED = Pattern(r"""([A-Za-z0-9+/]{4,}={0,2})['"]?\s*\|\s*base64\s+(?:-d|--decode|-D)\b""")
_IFS = Pattern(r"\$\{IFS\}(?:\$[1-9])?|\$IFS(?:\$[1-9]|\b)|\$\{IFS%\?\?\}")  # `$9` after it: an empty positional
_EMPTY_EXPANSIONS = Pattern(r"\$@|\$\{\}|\$\*")
_CONCAT = Pattern(r"""(['"])\s*\+\s*(['"])|(['"])\s*\.\s*(['"])""")
_BACKSLASH = Pattern(r"\\([A-Za-z0-9/.:_-])")  # a backslash before a plain character means nothing
_QUOTES = str.maketrans("", "", "'\"`")
_EMPTY_LITERAL = Pattern(r"""'\s*'|"\s*\"""")  # removed only between two word characters
_CODE_SINK = Pattern(r"system|popen|subprocess|exec|eval|spawn|connect|socket|urlopen|requests\.|run\(|call\(")
_SHELL_ASSIGN = Pattern(
    r"(?:^|[\s;&|(])(?:export\s+|local\s+|readonly\s+|declare\s+(?:-\w+\s+)?)?"
    r"([A-Za-z_][A-Za-z0-9_]{0,40})=(?:'([^'\n]*)'|\"([^\"\n]*)\"|([^\s;&|)'\"]*))"
)
_CODE_ASSIGN = Pattern(
    r"(?:^|[\s;])([A-Za-z_][A-Za-z0-9_]{0,40})\s*=\s*(?:'([^'\n]*)'|\"([^\"\n]*)\"|(\d{1,6})\b)"
)
_TOKEN = Pattern(r"[A-Za-z0-9+/_-]{16,}={0,2}")  # base64 (standard or url-safe) or hex candidates
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_BASE64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-"
_NOT_BASE64 = str.maketrans("", "", _BASE64_CHARS)
# base64 wrapped over lines inside quotes (`base64 -w 76` output pasted into a command)
_WRAPPED = Pattern(r"'([A-Za-z0-9+/=]{4,}(?:\s+[A-Za-z0-9+/=]{4,})+)\s*'"
                   r'|"([A-Za-z0-9+/=]{4,}(?:\s+[A-Za-z0-9+/=]{4,})+)\s*"')
_PRINTABLE_BYTES = bytes(range(32, 127)) + b"\t\n\r"
# A Python string prefix glued to its literal (`f"..."`, `rb'...'`): syntax, not a letter, so it
# must not join the next word (`print(f"RPC failed")` read as `fRPC`). In shell text the same
# shape can be a split word (`r"m" -rf`), so there it counts as a prefix only where Python puts
# one (after `(`, `,`, `=`, ...) or when the literal holds a space or `{`, which a split command
# word cannot.
_STR_PREFIX = Pattern(r"""(?i:^|[^a-z0-9_$\\])((?i:rb|br|fr|rf|[fbur]))("[^"\n]*"|'[^'\n]*')""")
_PY_BEFORE_PREFIX = frozenset("(,=[{:+%")
# A quoted literal; inside one, `\n` `\t` `\r` are white space (Python) or a literal backslash
# (bash), never the letter after it (`print("\nMap saved")` must not read as `nMap`).
_QUOTED_ESC = Pattern(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'""")
_WS_ESC = Pattern(r"\\\\|\\[ntr]")
_NON_TEXT = {c: None for c in range(32)} | {127: None}
_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_QUOTED = Pattern(r"'([^'\n]{3,})'|\"([^\"\n]{3,})\"")
# tr from A-Z to N-Z encodes, from N-Z to A-Z decodes: both are rot13
_ROT13_HINT = Pattern(r"(?i)rot_?13|tr\s+['\"]?(?:a-z[a-z-]*['\"]?\s+['\"]?n-z|n-za-m[a-z-]*['\"]?\s+['\"]?a-z)")
# rev reading a pipe, a here-string or a file, or a reversing call in code
_REVERSE_HINT = Pattern(r"\|\s*rev\b|(?:^|[\s;&|(])rev\s+<|\[::-1\]|\.reverse\(\)|\breverse\(")
# Where decoded text would be executed or decoded further: tokens nearest these are decoded first,
# so decoys elsewhere in the text cannot spend the decode budget before the payload that runs.
_SINK = Pattern(
    r"base(?:64|32)\s+(?:-\w*d\w*|--decode)|b(?:64|32|16)decode|xxd\s+-r|openssl\s+(?:enc|base64)|"
    r"\beval\b|\b(?:ba|z|da|k)?sh\s+-\w*c|\bpython[0-9.]*\s+-\w*c|\b(?:perl|ruby|node)\s+-\w*e|"
    r"\bexec\s*\(|os\.system|subprocess|popen|\$\(|`|\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b|"
    r"fromhex|unhexlify|decompress|gunzip|zcat|\bsource\b"
)
_SHELL_REF = Pattern(r"\$\{([A-Za-z_][A-Za-z0-9_]{0,40})\}|\$([A-Za-z_][A-Za-z0-9_]{0,40})")
_WORD = Pattern(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_NAME = 41  # names longer than this are not variables we track (as in _SHELL_ASSIGN)
_GZIP_OUT = 1 << 20  # most bytes one gzip payload may inflate to


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _decode_printable(raw: bytes, max_out: int = _GZIP_OUT) -> str | None:
    """Return decoded text when the bytes look like text a human or a shell would read."""
    if len(raw) >= 2 and raw[:2] == b"\x1f\x8b":
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, max(1, min(_GZIP_OUT, max_out)))
        except zlib.error:
            return None
    if len(raw) < 6:
        return None
    if len(raw.translate(None, _PRINTABLE_BYTES)) > 0.05 * len(raw):  # what is left is not text
        return None
    if len(raw) - len(raw.translate(None, _LETTERS)) < 3:
        return None
    text = raw.decode("ascii", "ignore")
    if " " not in text and "/" not in text and "." not in text and not _is_encoded(text):
        return None
    return text


def _is_encoded(text: str) -> bool:
    """True for text that is itself one base64 token (base64 of base64 is decoded again)."""
    core = text.strip()
    return len(core) >= 16 and not core.translate(_NOT_BASE64)


def _b64_text(token: str) -> str | None:
    try:
        raw = base64.b64decode(token + "=" * (-len(token.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None
    text = raw.decode("ascii", "ignore").strip()
    return text if text and len(text.translate(_NON_TEXT)) == len(text) else None


def _decoded_substitution(m: Match) -> str:
    decoded = _b64_text(m.group(1) or m.group(2))
    return decoded if decoded is not None else m.group(0)


def _sub_capped(pattern: Pattern, replace: Callable[[Match], str | None], text: str,
                cap: int) -> tuple[str, bool]:
    """`pattern.sub` that stops, leaving the rest as it is, once the text would grow past `cap`.

    Returns the new text and whether the cap stopped it (with references left unreplaced).
    """
    pieces: list[str] = []
    last, size = 0, len(text)
    for m in pattern.finditer(text):
        new = replace(m)
        if new is None:
            continue
        start, end = m.span()
        size += len(new) - (end - start)
        if size > cap:
            pieces.append(text[last:])
            return "".join(pieces), True
        pieces.append(text[last:start])
        pieces.append(new)
        last = end
    if not pieces:
        return text, False
    pieces.append(text[last:])
    return "".join(pieces), False


def _substitute_shell_vars(text: str, cap: int) -> tuple[str, bool]:
    assigned: dict[str, str] = {}
    for m in _SHELL_ASSIGN.finditer(text):
        value = m.group(2) if m.group(2) is not None else m.group(3) if m.group(3) is not None else m.group(4)
        assigned[m.group(1)] = value or ""
    if not assigned:
        return text, False

    def lookup(m: Match) -> str | None:
        return assigned.get(m.group(1) or m.group(2))  # type: ignore[arg-type]

    for _ in range(3):  # values may reference each other
        new, capped = _sub_capped(_SHELL_REF, lookup, text, cap)
        if new == text or capped:
            return new, capped
        text = new
    return text, False


def _substitute_code_vars(text: str, cap: int) -> tuple[str, bool]:
    assigned: dict[str, str] = {}
    for m in _CODE_ASSIGN.finditer(text):
        value = next(g for g in m.groups()[1:] if g is not None)
        assigned[m.group(1)] = value
    if not assigned:
        return text, False
    # Replace uses only, not the assignments themselves: a name followed by '=' (not '==') is kept.
    pieces: list[str] = []
    last, size, n = 0, len(text), len(text)
    for m in _WORD.finditer(text):
        start, end = m.span()
        value = assigned.get(m.group(0))
        if value is None or end - start > _MAX_NAME:
            continue
        if start and (_is_word(text[start - 1]) or text[start - 1] in ".'\""):
            continue  # part of a longer word, an attribute or a string
        if end < n and (_is_word(text[end]) or text[end] in "'\""):
            continue
        after = _skip_space(text, end)
        if after + 1 < n and text[after] == "=" and text[after + 1] != "=":
            continue  # the assignment itself
        size += len(value) - (end - start)
        if size > cap:
            return "".join(pieces) + text[last:], True
        pieces.append(text[last:start])
        pieces.append(value)
        last = end
    pieces.append(text[last:])
    return "".join(pieces), False


def _skip_space(text: str, k: int) -> int:
    """Index of the first non-whitespace character at or after k (linear in the whitespace run)."""
    n = len(text)
    while k < n:
        chunk = text[k:k + 256]
        stripped = chunk.lstrip()
        k += len(chunk) - len(stripped)
        if stripped:
            break
    return k


def _remove_empty_literals(t: str) -> str:
    """'xm' 'rig' -> 'xmrig': an empty pair of quotes between two word characters goes."""
    pieces: list[str] = []
    last = 0
    for m in _EMPTY_LITERAL.finditer(t):
        start, end = m.span()
        if start and end < len(t) and _is_word(t[start - 1]) and _is_word(t[end]):
            pieces.append(t[last:start])
            last = end
    if not pieces:
        return t
    pieces.append(t[last:])
    return "".join(pieces)


def _escapes_as_spaces(t: str) -> str:
    """`\\n`, `\\t`, `\\r` inside quoted literals become spaces (see _QUOTED_ESC)."""
    def literal(m: Match) -> str:
        body = m.group(0)
        if "\\n" not in body and "\\t" not in body and "\\r" not in body:
            return body
        return _WS_ESC.sub(lambda e: e.group(0) if e.group(0) == "\\\\" else " ", body)
    return _QUOTED_ESC.sub(literal, t)


def _prefixes_as_spaces(t: str, kind: str) -> str:
    """Python string prefixes become spaces (see _STR_PREFIX); split shell words are kept."""
    pieces: list[str] = []
    last, n = 0, len(t)
    for m in _STR_PREFIX.finditer(t):
        start, end = m.span(1)
        literal = m.group(2) or ""
        after = m.end(2)
        if after < n and _is_word(t[after]):
            continue  # `r"m"ig`: a word split by quotes, not a prefixed literal
        if kind != "code":
            k = start - 1
            while k >= 0 and start - k <= 16 and t[k] in " \t":
                k -= 1
            before = t[k] if k >= 0 else ""
            if before not in _PY_BEFORE_PREFIX and not any(c in literal for c in " \t{"):
                continue
        pieces.append(t[last:start])
        pieces.append(" " * (end - start))
        last = end
    if not pieces:
        return t
    pieces.append(t[last:])
    return "".join(pieces)


def _octal(m: Match) -> str:
    return "".join(chr(int(o, 8)) for o in (o.group(1) for o in _OCT_ONE.finditer(m.group(0))) if int(o, 8) < 256)


def _char_codes(m: Match) -> str:
    return "'" + "".join(chr(int(n) % 0x110000) for n in m.group(1).split(",") if n.strip().isdigit()) + "'"


def normalize_text(text: str, kind: str, window: int = 1 << 20) -> str:
    """The text a shell or interpreter would effectively see, with quoting and escapes folded."""
    return _normalize(text, kind, window)[0]


def _normalize(text: str, kind: str, window: int) -> tuple[str, bool]:
    """Normalized text, windowed when long (linear either way); True when a size cap cut it short."""
    if len(text) <= window:
        return _normalize_piece(text, kind)
    pieces: list[str] = []
    capped = False
    for start, end in _windows(text, window):
        piece, hit = _normalize_piece(text[start:end], kind)
        pieces.append(piece)
        capped = capped or hit
    return "".join(pieces), capped


def _windows(text: str, window: int) -> Iterator[tuple[int, int]]:
    """Spans of at most `window` chars, cut after a newline when there is one in the second half."""
    start, n = 0, len(text)
    while start < n:
        end = min(n, start + window)
        if end < n:
            newline = text.rfind("\n", start + window // 2, end)
            if newline != -1:
                end = newline + 1
        yield start, end
        start = end


def _normalize_piece(text: str, kind: str) -> tuple[str, bool]:
    t = text
    capped = False
    cap = 2 * len(text) + 4096  # variable substitution may grow the text this much, no more
    if "\\\n" in t or "\\\r\n" in t:
        t = t.replace("\\\r\n", "").replace("\\\n", "")
    if "\\" in t and ("'" in t or '"' in t):
        t = _escapes_as_spaces(t)
    if "\\" in t:
        t = _HEX_ESC.sub(lambda m: chr(int(m.group(1), 16)), t)
        t = _UNI_ESC.sub(lambda m: chr(int(m.group(1), 16)), t)
        t = _OCT_ESC.sub(_octal, t)
    if "%" in t:
        t = _URL_ESC.sub(lambda m: bytes.fromhex(m.group(0).replace("%", "")).decode("latin-1"), t)
    if "chr(" in t or "char(" in t:
        t = _CHR_CALL.sub(lambda m: "'" + chr(int(m.group(1), 0) % 256) + "'", t)
    if "fromCharCode" in t:
        t = _FROM_CHARCODE.sub(_char_codes, t)
    if "$'" in t:
        t = t.replace("$'", "'")
    if "=" in t:
        if kind != "code":
            if "$" in t:
                t, capped = _substitute_shell_vars(t, cap)
        elif _CODE_SINK.search(t):  # names only matter where a string reaches a shell, exec or socket
            t, capped = _substitute_code_vars(t, cap)
    if "$(" in t or "`" in t:
        if "base64" in t:
            t = _B64_SUBST.sub(_decoded_substitution, t)
        t = _ECHO_SUBST.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), t)
    if "IFS" in t:
        t = _IFS.sub(" ", t)
    if "$" in t:
        t = _EMPTY_EXPANSIONS.sub("", t)
    if "'" in t or '"' in t or "`" in t:
        t = _prefixes_as_spaces(t, kind)
        if "+" in t or "." in t:
            t = _CONCAT.sub("", t)
        if kind != "code":
            t = t.translate(_QUOTES)
        elif _CODE_SINK.search(t):
            # argv lists handed to subprocess read as the command line they become
            t = t.replace("', '", " ").replace('", "', " ").translate(_QUOTES)
        else:
            t = _remove_empty_literals(t)
    if "\\" in t:
        t = _BACKSLASH.sub(lambda m: m.group(1), t)
    return t, capped


# A candidate payload: (distance to the nearest sink in strides, view number, start, end, token or "",
# hint: token | piped | rot13 | reversed). Sorting candidates puts what flows into a sink first.
_Candidate = tuple[int, int, int, int, str, str]
_FAR = 1 << 62
_SINK_STRIDE = 64  # sink positions are kept at this granularity: nearness, not exact places


def _candidates(text: str, view: int, limits: Limits) -> list[_Candidate]:
    """Encoded payloads that may be in `text`, not yet decoded (finding them is one linear pass each)."""
    found: list[_Candidate] = []
    for m in _TOKEN.finditer(text):
        start, end = m.span()
        if end - start >= limits.min_token:
            found.append((_FAR, view, start, end, m.group(0), "token"))
    # cheap substring checks first: most commands mention neither
    if "\n" in text and ("base64" in text or "b64decode" in text):
        for m in _WRAPPED.finditer(text):
            group = 1 if m.group(1) is not None else 2
            joined = "".join(m.group(group).split())  # type: ignore[union-attr]
            if len(joined) >= limits.min_token:
                found.append((_FAR, view, m.start(group), m.end(group), joined, "token"))
    if "base64" in text:
        for m in _B64_PIPED.finditer(text):
            if len(m.group(1)) < limits.min_token:  # longer tokens were found above
                found.append((0, view, m.start(1), m.end(1), m.group(1), "piped"))
    if ("rot" in text or "tr " in text or "TR " in text) and _ROT13_HINT.search(text):
        found.append((0, view, 0, len(text), "", "rot13"))
    if ("rev" in text or "[::-1]" in text) and _REVERSE_HINT.search(text):
        found.append((0, view, 0, len(text), "", "reversed"))
    if not found:
        return found
    sinks = _SINK.starts(text, _SINK_STRIDE)
    if not sinks:
        return found

    def distance(start: int, end: int) -> int:
        i = bisect.bisect_left(sinks, start)
        after = sinks[i] - end if i < len(sinks) else _FAR
        before = start - sinks[i - 1] if i else _FAR
        # near is near: within a bucket ties go to the original view, then to text order
        return max(0, min(after, before)) // _SINK_STRIDE

    return [(distance(s, e) if d == _FAR else d, v, s, e, tok, hint) for d, v, s, e, tok, hint in found]


def _decode(candidate: _Candidate, text: str, budget: Budget) -> tuple[str, str] | None:
    """(decoded text, encoding) of one candidate, or None when it is not an encoded text."""
    *_, token, hint = candidate
    if hint == "rot13":
        return codecs.decode(text, "rot13"), "rot13"
    if hint == "reversed":
        literals = [m.group(1) or m.group(2) for m in _QUOTED.finditer(text)]
        return ("\n".join(s[::-1] for s in literals) if literals else text[::-1]), "reversed"
    if hint == "piped":
        decoded = _b64_text(token)
        return (decoded, "base64") if decoded is not None else None
    digits = token[2:] if token[:2] in ("0x", "0X") else token
    if len(digits) % 2 == 0 and _HEX_DIGITS.issuperset(digits):
        decoded = _decode_printable(bytes.fromhex(digits), budget.remaining)
        if decoded is not None:
            return decoded, "hex"
    core = token.rstrip("=")
    if _BASE32.issuperset(core):  # upper case and 2-7 only: base32 (`base32 -d`) before base64
        try:
            decoded = _decode_printable(base64.b32decode(core + "=" * (-len(core) % 8)), budget.remaining)
        except (binascii.Error, ValueError):
            decoded = None
        if decoded is not None:
            return decoded, "base32"
    if ("+" in core or "/" in core) and ("-" in core or "_" in core):
        return None  # mixes both alphabets: a path or an identifier, not base64
    padded = core + "=" * (-len(core) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded) if ("-" in core or "_" in core) else base64.b64decode(padded)
    except (binascii.Error, ValueError):
        return None
    decoded = _decode_printable(raw, budget.remaining)
    return (decoded, "base64") if decoded is not None else None


def derive(segment: Segment, limits: Limits = Limits(), budget: Budget | None = None) -> list[Segment]:
    """All derived segments of an action segment (not including the segment itself).

    `budget` is the record's work budget (see `Budget`); where a limit cuts the analysis short it
    notes why, so the caller can refuse to call the record clean.
    """
    if segment.kind not in DERIVE_KINDS:
        return []
    if budget is None:
        budget = Budget.for_texts((segment.text,), limits.work_per_char, limits.work_floor)
    out: list[Segment] = []
    if budget.exhausted:
        budget.note("work_budget", segment)
    else:
        _derive_into(segment, limits, out, segment.depth, budget)
    return out


def _derive_into(seg: Segment, limits: Limits, out: list[Segment], depth: int, budget: Budget) -> None:
    if depth >= limits.max_depth:
        if _first_decodable(_candidates(seg.text, 0, limits), [seg.text], budget) is not None:
            budget.note("decode_depth", seg)
        return
    if len(out) >= limits.max_derived:
        return
    if not budget.spend(len(seg.text)):
        budget.note("work_budget", seg)
        return
    # Span in the original field that a finding in a derived segment points at.
    span_start, span_end = (seg.start, seg.end) if seg.decoded_from else (seg.start, seg.start + len(seg.text))
    normalized, capped = _normalize(seg.text, seg.kind, limits.max_text)
    if capped:
        budget.note("substitution_cap", seg)
    views = [seg.text]
    if normalized != seg.text:
        if not budget.spend(len(normalized)):
            budget.note("work_budget", seg)
            return
        how = f"{seg.decoded_from}+normalized" if seg.decoded_from else "normalized"
        view = seg._replace(text=normalized, start=span_start, end=span_end, decoded_from=how, depth=depth + 1)
        out.append(view)
        views.append(normalized)
    candidates = sorted(c for v, text in enumerate(views) for c in _candidates(text, v, limits))
    seen: set[str] = set()
    for k, candidate in enumerate(candidates):
        if len(out) >= limits.max_derived:
            # Left undecoded: only what flows into a sink makes the analysis incomplete (sinks are
            # decoded first, so a payload that runs cannot hide behind harmless constants).
            if _first_decodable([c for c in candidates[k:] if c[0] == 0], views, budget, seen) is not None:
                budget.note("decode_budget", seg)
            return
        _, v, start, end, token, _ = candidate
        if not budget.spend(len(token) or len(views[v])):
            budget.note("work_budget", seg)
            return
        result = _decode(candidate, views[v], budget)
        if result is None or result[0] in seen:
            continue
        decoded, how = result
        seen.add(decoded)
        if not budget.spend(len(decoded)):
            budget.note("work_budget", seg)
            return
        if seg.decoded_from or v:
            o_start, o_end = span_start, span_end  # positions inside derived text are not original ones
        else:
            o_start, o_end = seg.start + start, seg.start + end
        tag = f"{seg.decoded_from}>{how}" if seg.decoded_from else how
        child = seg._replace(text=decoded, start=o_start, end=o_end, decoded_from=tag, depth=depth + 1)
        out.append(child)
        _derive_into(child, limits, out, depth + 1, budget)
        if budget.exhausted:
            return


def _first_decodable(candidates: list[_Candidate], views: list[str], budget: Budget,
                     seen: set[str] = frozenset()) -> tuple[str, str] | None:  # type: ignore[assignment]
    """The first candidate that decodes to new text (spending budget on the tries), or None."""
    for candidate in sorted(candidates):
        if candidate[5] in ("rot13", "reversed"):
            continue  # always "decode"; only a real encoded token left behind counts
        if not budget.spend(len(candidate[4])):
            return None
        result = _decode(candidate, views[candidate[1]], budget)
        if result is not None and result[0] not in seen:
            return result
    return None


_RUNS_FILE = Pattern(
    r"(?:^|[\s;&|(])(?:sudo\s+|nohup\s+|exec\s+)*(?:(?:ba|z|da)?sh|source|\.|python[0-9.]*|perl|ruby|node|php)\s+"
    r"(?:-\S+\s+)*([^\s;&|]+)|(?:^|[;&|(]|\bthen|\bdo|sudo|nohup|exec)\s*([\w.~-]*/[^\s;&|)]+)",
)
# A written file decoded into another (`base64 -d blob.txt > job.sh`, `cat blob | base64 -d > x`):
# the output is treated as written with the decoded text, so running it is seen for what it is.
_DECODES_TO_FILE = Pattern(
    r"(?:\bcat\s+([^\s;&|<>]+)\s*\|\s*)?\bbase64\s+(?:-d|--decode|-D)(?:\s+-\w+)*\s*(?:<\s*)?([^\s;&|<>]+)?"
    r"\s*>\s*([^\s;&|<>]+)"
)
_CODE_EXTS = (".py", ".pl", ".rb", ".js", ".php")
# Files the system runs by itself: writing one is as good as running it.
_AUTOSTART = Pattern(
    r"(^|/)(etc/cron[^/]*/|var/spool/cron/|etc/crontab$|etc/systemd/|\.config/systemd/|lib/systemd/|etc/init\.d/|"
    r"etc/rc\.local$|etc/profile(\.d/|$)|\.bashrc$|\.bash_profile$|\.profile$|\.zshrc$|\.bash_login$|"
    r"etc/update-motd\.d/|etc/ld\.so\.preload$|\.ssh/rc$|etc/xdg/autostart/|\.config/autostart/)"
)


def link_scripts(segments: list[Segment]) -> list[Segment]:
    """Files written by a tool and later executed, as the shell or code that runs.

    The derived segment takes the step of the execution (so sequence rules see it when it runs)
    and the location of the write (so evidence points at the script's text). A script run many
    times is linked at its first and its last run only: the same text twice more would add work
    (a 400 KB script run in a loop) and nothing a rule could see.
    """
    written: dict[str, Segment] = {}
    out: list[Segment] = []
    runs: dict[int, list[Segment]] = {}  # id of the write -> [linked at first run, linked at last run]
    for seg in segments:
        if seg.kind == "file" and seg.path:
            written[seg.path.rsplit("/", 1)[-1]] = seg
            if _AUTOSTART.search(seg.path):
                out.append(seg._replace(kind="shell", decoded_from=f"script:{seg.path}",
                                   start=seg.start, end=seg.start + len(seg.text)))
        elif seg.kind == "shell" and written:
            if "base64" in seg.text:
                _decoded_writes(seg, written)
            for m in _RUNS_FILE.finditer(seg.text):
                target = (m.group(1) or m.group(2) or "").rsplit("/", 1)[-1]
                script = written.get(target)
                if script is None:
                    continue
                kind = "code" if script.path and script.path.endswith(_CODE_EXTS) else "shell"
                how = f"script:{script.path}" + (f">{script.decoded_from}" if script.decoded_from else "")
                linked = script._replace(kind=kind, decoded_from=how, step=seg.step, start=script.start,
                                         end=script.end if script.decoded_from else script.start + len(script.text))
                seen = runs.setdefault(id(script), [])
                if not seen:
                    seen.append(linked)
                    out.append(linked)
                elif seen[0].step != seg.step:
                    seen[1:] = [linked]
    out.extend(linked for first, *last in runs.values() for linked in last)
    return out


def _decoded_writes(seg: Segment, written: dict[str, Segment]) -> None:
    """Files a command makes by base64-decoding a written file, added to `written` as decoded text."""
    for m in _DECODES_TO_FILE.finditer(seg.text):
        source = (m.group(1) or m.group(2) or "").rsplit("/", 1)[-1]
        blob = written.get(source)
        if blob is None or blob.decoded_from:
            continue
        try:
            decoded = _decode_printable(base64.b64decode("".join(blob.text.split()), validate=True))
        except (binascii.Error, ValueError):
            continue
        if decoded is None:
            continue
        target = m.group(3) or ""
        written[target.rsplit("/", 1)[-1]] = blob._replace(
            text=decoded, path=target, decoded_from="base64", end=blob.start + len(blob.text))
