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
import codecs
import re
import zlib
from dataclasses import dataclass
from typing import Iterator

from ..types import Segment

__all__ = ["Limits", "derive", "normalize_text", "link_scripts"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that keep deobfuscation linear and small on adversarial input."""

    max_depth: int = 3  # decode-of-decode levels
    max_derived: int = 64  # derived segments per original segment
    max_text: int = 1 << 20  # longest text (chars) that is normalized or decoded
    min_token: int = 16  # shortest base64 / hex token worth decoding


# Kinds whose text is deobfuscated. File contents are matched as written; a file is deobfuscated
# when it runs (see link_scripts), which keeps large source files off the expensive path.
DERIVE_KINDS = frozenset(("shell", "code", "args"))

_LINE_CONT = re.compile(r"\\\r?\n")
_HEX_ESC = re.compile(r"\\x([0-9a-fA-F]{2})")
_OCT_ESC = re.compile(r"(?:\\0?[0-7]{3}){2,}")
_UNI_ESC = re.compile(r"\\u([0-9a-fA-F]{4})")
_URL_ESC = re.compile(r"(?:%[0-9a-fA-F]{2}){3,}")
_CHR_CALL = re.compile(r"\b(?:chr|char)\(\s*(\d{1,3}|0x[0-9a-fA-F]{1,2})\s*\)")
_FROM_CHARCODE = re.compile(r"String\.fromCharCode\(([\d\s,]+)\)")
_ECHO_SUBST = re.compile(r"\$\(\s*(?:echo|printf)\s+(?:-[neE]+\s+)?([^()`]*)\)|`\s*(?:echo|printf)\s+(?:-[neE]+\s+)?([^`]*)`")
# $(echo <base64> | base64 -d) used inline: the decoded word takes its place in the command
_B64_SUBST = re.compile(
    r"""\$\(\s*(?:echo|printf)\s+(?:-\w+\s+)?['"]?([A-Za-z0-9+/]{2,}={0,2})['"]?\s*\|\s*base64\s+(?:-d|--decode|-D)\s*\)"""
    r"""|`\s*(?:echo|printf)\s+(?:-\w+\s+)?['"]?([A-Za-z0-9+/]{2,}={0,2})['"]?\s*\|\s*base64\s+(?:-d|--decode|-D)\s*`"""
)
# a short token explicitly piped to a decoder is worth decoding even below min_token
_B64_PIPED = re.compile(r"""([A-Za-z0-9+/]{4,}={0,2})['"]?\s*\|\s*base64\s+(?:-d|--decode|-D)\b""")
_IFS = re.compile(r"\$\{IFS\}|\$IFS\b|\$\{IFS%\?\?\}")
_EMPTY_EXPANSIONS = re.compile(r"\$@|\$\{\}|\$\*")
_CONCAT = re.compile(r"""(['"])\s*\+\s*(['"])|(['"])\s*\.\s*(['"])""")
_BACKSLASH = re.compile(r"\\(?=[A-Za-z0-9/.:_-])")
_QUOTES = str.maketrans("", "", "'\"`")
_ADJACENT_LITERALS = re.compile(r"""(?<=\w)(['"])\s*\1(?=\w)""")
_CODE_SINK = re.compile(r"system|popen|subprocess|exec|eval|spawn|connect|socket|urlopen|requests\.|run\(|call\(")
_SHELL_ASSIGN = re.compile(
    r"(?:^|[\s;&|(])(?:export\s+|local\s+|readonly\s+|declare\s+(?:-\w+\s+)?)?"
    r"([A-Za-z_][A-Za-z0-9_]{0,40})=(?:'([^'\n]*)'|\"([^\"\n]*)\"|([^\s;&|)'\"]*))"
)
_CODE_ASSIGN = re.compile(
    r"(?:^|[\s;])([A-Za-z_][A-Za-z0-9_]{0,40})\s*=\s*(?:'([^'\n]*)'|\"([^\"\n]*)\"|(\d{1,6})\b)"
)
_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")  # base64 (standard or url-safe) or hex candidates
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_PRINTABLE_BYTES = bytes(range(32, 127)) + b"\t\n\r"
_NON_TEXT = {c: None for c in range(32)} | {127: None}
_QUOTED = re.compile(r"'([^'\n]{3,})'|\"([^\"\n]{3,})\"")
_ROT13_HINT = re.compile(r"rot_?13|tr\s+['\"]?a-z[a-z-]*['\"]?\s+['\"]?n-z", re.I)
_REVERSE_HINT = re.compile(r"\|\s*rev\b|\[::-1\]|\.reverse\(\)|\breverse\(")


def _decode_printable(raw: bytes) -> str | None:
    """Return decoded text when the bytes look like text a human or a shell would read."""
    if len(raw) >= 2 and raw[:2] == b"\x1f\x8b":
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, 1 << 20)
        except zlib.error:
            return None
    if len(raw) < 6:
        return None
    if len(raw.translate(None, _PRINTABLE_BYTES)) > 0.05 * len(raw):  # what is left is not text
        return None
    text = raw.decode("ascii", "ignore")
    if sum(c.isalpha() for c in text) < 3 or " " not in text and "/" not in text and "." not in text:
        return None
    return text


_SHELL_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]{0,40})\}|\$([A-Za-z_][A-Za-z0-9_]{0,40})")
_IDENTIFIER = re.compile(r"(?<![\w.'\"])([A-Za-z_][A-Za-z0-9_]{0,40})(?![\w'\"]|\s*=[^=])")


def _b64_text(token: str) -> str | None:
    try:
        raw = base64.b64decode(token + "=" * (-len(token.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None
    text = raw.decode("ascii", "ignore").strip()
    return text if text and len(text.translate(_NON_TEXT)) == len(text) else None


def _decoded_substitution(m: re.Match[str]) -> str:
    decoded = _b64_text(m.group(1) or m.group(2))
    return decoded if decoded is not None else m.group(0)


def _substitute_shell_vars(text: str) -> str:
    assigned: dict[str, str] = {}
    for m in _SHELL_ASSIGN.finditer(text):
        value = m.group(2) if m.group(2) is not None else m.group(3) if m.group(3) is not None else m.group(4)
        assigned[m.group(1)] = value or ""
    if not assigned:
        return text

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        return assigned.get(name, m.group(0))

    for _ in range(3):  # values may reference each other
        new = _SHELL_REF.sub(sub, text)
        if new == text or len(new) > 4 * len(text) + 4096:
            break
        text = new
    return text


def _substitute_code_vars(text: str) -> str:
    assigned: dict[str, str] = {}
    for m in _CODE_ASSIGN.finditer(text):
        value = next(g for g in m.groups()[1:] if g is not None)
        assigned[m.group(1)] = value
    if not assigned:
        return text
    # Replace uses only, not the assignments themselves: a name followed by '=' (not '==') is kept.
    new = _IDENTIFIER.sub(lambda m: assigned.get(m.group(1), m.group(0)), text)
    return new if len(new) <= 4 * len(text) + 4096 else text


def normalize_text(text: str, kind: str) -> str:
    """The text a shell or interpreter would effectively see, with quoting and escapes folded."""
    t = text
    if "\\\n" in t or "\\\r\n" in t:
        t = _LINE_CONT.sub("", t)
    if "\\" in t:
        t = _HEX_ESC.sub(lambda m: chr(int(m.group(1), 16)), t)
        t = _UNI_ESC.sub(lambda m: chr(int(m.group(1), 16)), t)
        t = _OCT_ESC.sub(lambda m: "".join(chr(int(o, 8)) for o in re.findall(r"\\0?([0-7]{3})", m.group(0))
                                             if int(o, 8) < 256), t)
    if "%" in t:
        t = _URL_ESC.sub(lambda m: bytes.fromhex(m.group(0).replace("%", "")).decode("latin-1"), t)
    if "chr(" in t or "char(" in t:
        t = _CHR_CALL.sub(lambda m: "'" + chr(int(m.group(1), 0) % 256) + "'", t)
    if "fromCharCode" in t:
        t = _FROM_CHARCODE.sub(lambda m: "'" + "".join(chr(int(n) % 0x110000) for n in m.group(1).split(",")
                                                        if n.strip().isdigit()) + "'", t)
    if "$'" in t:
        t = t.replace("$'", "'")
    if "=" in t:
        if kind != "code":
            if "$" in t:
                t = _substitute_shell_vars(t)
        elif _CODE_SINK.search(t):  # names only matter where a string reaches a shell, exec or socket
            t = _substitute_code_vars(t)
    if "$(" in t or "`" in t:
        if "base64" in t:
            t = _B64_SUBST.sub(_decoded_substitution, t)
        t = _ECHO_SUBST.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), t)
    if "IFS" in t:
        t = _IFS.sub(" ", t)
    if "$" in t:
        t = _EMPTY_EXPANSIONS.sub("", t)
    if "'" in t or '"' in t or "`" in t:
        if "+" in t or "." in t:
            t = _CONCAT.sub("", t)
        if kind != "code":
            t = t.translate(_QUOTES)
        elif _CODE_SINK.search(t):
            # argv lists handed to subprocess read as the command line they become
            t = t.replace("', '", " ").replace('", "', " ").translate(_QUOTES)
        else:
            t = _ADJACENT_LITERALS.sub("", t)  # 'xm' 'rig' -> 'xmrig'; other quotes are syntax
    if "\\" in t:
        t = _BACKSLASH.sub("", t)
    return t


def _payloads(text: str, limits: Limits) -> Iterator[tuple[int, int, str, str]]:
    """Encoded payloads in `text`: (start, end, decoded text, encoding)."""
    if len(text) > limits.max_text:
        return
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        if len(token) < limits.min_token:
            continue
        digits = token[2:] if token[:2] in ("0x", "0X") else token
        if len(digits) % 2 == 0 and _HEX_DIGITS.issuperset(digits):
            decoded = _decode_printable(bytes.fromhex(digits))
            if decoded is not None:
                yield m.start(), m.end(), decoded, "hex"
                continue
        core = token.rstrip("=")
        if ("+" in core or "/" in core) and ("-" in core or "_" in core):
            continue  # mixes both alphabets: a path or an identifier, not base64
        padded = core + "=" * (-len(core) % 4)
        try:
            raw = base64.urlsafe_b64decode(padded) if ("-" in core or "_" in core) else base64.b64decode(padded)
        except (binascii.Error, ValueError):
            continue
        decoded = _decode_printable(raw)
        if decoded is not None:
            yield m.start(), m.end(), decoded, "base64"
    # cheap substring checks first: most commands mention neither
    if "base64" in text:
        for m in _B64_PIPED.finditer(text):
            if len(m.group(1)) < limits.min_token:  # longer tokens were decoded above
                decoded = _b64_text(m.group(1))
                if decoded is not None:
                    yield m.start(1), m.end(1), decoded, "base64"
    if ("rot" in text or "tr " in text) and _ROT13_HINT.search(text):
        yield 0, len(text), codecs.decode(text, "rot13"), "rot13"
    if ("rev" in text or "[::-1]" in text) and _REVERSE_HINT.search(text):
        literals = [a or b for a, b in _QUOTED.findall(text)]
        flipped = "\n".join(s[::-1] for s in literals) if literals else text[::-1]
        yield 0, len(text), flipped, "reversed"


def derive(segment: Segment, limits: Limits = Limits()) -> list[Segment]:
    """All derived segments of an action segment (not including the segment itself)."""
    if segment.kind not in DERIVE_KINDS or len(segment.text) > limits.max_text:
        return []
    out: list[Segment] = []
    _derive_into(segment, limits, out, segment.depth)
    return out


def _derive_into(seg: Segment, limits: Limits, out: list[Segment], depth: int) -> None:
    if depth >= limits.max_depth or len(out) >= limits.max_derived:
        return
    # Span in the original field that a finding in a derived segment points at.
    span_start, span_end = (seg.start, seg.end) if seg.decoded_from else (seg.start, seg.start + len(seg.text))
    normalized = normalize_text(seg.text, seg.kind)
    views = [seg.text]
    if normalized != seg.text:
        how = f"{seg.decoded_from}+normalized" if seg.decoded_from else "normalized"
        view = seg._replace(text=normalized, start=span_start, end=span_end, decoded_from=how, depth=depth + 1)
        out.append(view)
        views.append(normalized)
    seen: set[str] = set()
    for view_text in views:
        for start, end, decoded, how in _payloads(view_text, limits):
            if decoded in seen or len(out) >= limits.max_derived:
                continue
            seen.add(decoded)
            if seg.decoded_from or view_text is not seg.text:
                o_start, o_end = span_start, span_end  # positions inside derived text are not original ones
            else:
                o_start, o_end = seg.start + start, seg.start + end
            tag = f"{seg.decoded_from}>{how}" if seg.decoded_from else how
            child = seg._replace(text=decoded, start=o_start, end=o_end, decoded_from=tag, depth=depth + 1)
            out.append(child)
            _derive_into(child, limits, out, depth + 1)


_RUNS_FILE = re.compile(
    r"(?:^|[\s;&|(])(?:sudo\s+|nohup\s+|exec\s+)*(?:(?:ba|z|da)?sh|source|\.|python[0-9.]*|perl|ruby|node|php)\s+"
    r"(?:-\S+\s+)*([^\s;&|]+)|(?:^|[;&|(]|\bthen|\bdo|sudo|nohup|exec)\s*([\w.~-]*/[^\s;&|)]+)",
)
_CODE_EXTS = (".py", ".pl", ".rb", ".js", ".php")
# Files the system runs by itself: writing one is as good as running it.
_AUTOSTART = re.compile(
    r"(^|/)(etc/cron[^/]*/|var/spool/cron/|etc/crontab$|etc/systemd/|\.config/systemd/|lib/systemd/|etc/init\.d/|"
    r"etc/rc\.local$|etc/profile(\.d/|$)|\.bashrc$|\.bash_profile$|\.profile$|\.zshrc$|\.bash_login$|"
    r"etc/update-motd\.d/|etc/ld\.so\.preload$|\.ssh/rc$|etc/xdg/autostart/|\.config/autostart/)"
)


def link_scripts(segments: list[Segment]) -> list[Segment]:
    """Files written by a tool and later executed, as the shell or code that runs.

    The derived segment takes the step of the execution (so sequence rules see it when it runs)
    and the location of the write (so evidence points at the script's text).
    """
    written: dict[str, Segment] = {}
    out: list[Segment] = []
    for seg in segments:
        if seg.kind == "file" and seg.path:
            written[seg.path.rsplit("/", 1)[-1]] = seg
            if _AUTOSTART.search(seg.path):
                out.append(seg._replace(kind="shell", decoded_from=f"script:{seg.path}",
                                   start=seg.start, end=seg.start + len(seg.text)))
        elif seg.kind == "shell" and written:
            for m in _RUNS_FILE.finditer(seg.text):
                target = (m.group(1) or m.group(2) or "").rsplit("/", 1)[-1]
                script = written.get(target)
                if script is None:
                    continue
                kind = "code" if script.path and script.path.endswith(_CODE_EXTS) else "shell"
                out.append(script._replace(kind=kind, decoded_from=f"script:{script.path}", step=seg.step,
                                   start=script.start, end=script.start + len(script.text)))
    return out
