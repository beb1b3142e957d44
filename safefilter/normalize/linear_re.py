"""RE2 patterns with a thin match loop, for the normalizer's many small substitutions.

RE2 matches in time linear in the text, so no record can make a pattern backtrack. Its Python
wrapper, though, costs about 30 microseconds per match (offset bookkeeping for non-ASCII text,
generators per group), which match-dense text (`$a$a$a...`, `\\a\\a\\a...`) turns into a
hundred times the cost of ordinary text. This loop calls RE2 directly on an ASCII view of the
text, where byte offsets are character offsets: every character outside ASCII becomes one
`\\x1a` byte, which none of the normalizer's patterns mention, so matches (spans) are those of
the original text and groups are sliced from it.
"""
from __future__ import annotations

import codecs
from typing import Callable, Iterator

import re2

__all__ = ["Match", "Pattern", "ascii_view"]

_UNANCHORED = re2._re2.RE2.Anchor.UNANCHORED
_PLACEHOLDER = "\x1a"


def _replace_non_ascii(exc: UnicodeError) -> tuple[str, int]:
    assert isinstance(exc, UnicodeEncodeError)
    return _PLACEHOLDER * (exc.end - exc.start), exc.end


codecs.register_error("safefilter.ascii_view", _replace_non_ascii)


def ascii_view(text: str) -> bytes:
    """`text` as bytes with one byte per character (non-ASCII characters become \\x1a)."""
    return text.encode("ascii", "safefilter.ascii_view")


class Match:
    """One match: its group spans over the original string (the subset of `re.Match` used here)."""

    __slots__ = ("string", "_spans")

    def __init__(self, string: str, spans: list[tuple[int, int]]) -> None:
        self.string = string
        self._spans = spans

    def group(self, index: int = 0) -> str | None:
        start, end = self._spans[index]
        return None if start < 0 else self.string[start:end]

    def groups(self) -> tuple[str | None, ...]:
        return tuple(None if s < 0 else self.string[s:e] for s, e in self._spans[1:])

    def start(self, index: int = 0) -> int:
        return self._spans[index][0]

    def end(self, index: int = 0) -> int:
        return self._spans[index][1]

    def span(self, index: int = 0) -> tuple[int, int]:
        return self._spans[index]


class Pattern:
    """An RE2 pattern (ASCII-only syntax) with finditer / search / sub over str."""

    __slots__ = ("pattern", "_regexp")

    def __init__(self, pattern: str) -> None:
        if not pattern.isascii() or _PLACEHOLDER in pattern:
            raise ValueError("linear_re patterns must be ASCII and must not mention \\x1a")
        self.pattern = pattern
        self._regexp = re2.compile(pattern)._regexp

    def finditer(self, text: str) -> Iterator[Match]:
        data = ascii_view(text)
        match, end, pos = self._regexp.Match, len(data), 0
        while pos <= end:
            spans = match(_UNANCHORED, data, pos, end)
            start, stop = spans[0]
            if start < 0:
                return
            yield Match(text, spans)
            pos = stop if stop > start else stop + 1

    def starts(self, text: str, stride: int) -> list[int]:
        """Where matches start, at most one per `stride` characters: at most len/stride calls into RE2.

        For places where dense matches add nothing (how near is a sink), so their cost stays
        well below one call per character however dense the text is.
        """
        data = ascii_view(text)
        match, end, pos = self._regexp.Match, len(data), 0
        found: list[int] = []
        while pos <= end:
            start = match(_UNANCHORED, data, pos, end)[0][0]
            if start < 0:
                break
            found.append(start)
            pos = start + stride
        return found

    def search(self, text: str) -> Match | None:
        return next(self.finditer(text), None)

    def sub(self, repl: Callable[[Match], str] | str, text: str) -> str:
        pieces: list[str] = []
        last = 0
        for m in self.finditer(text):
            start, stop = m._spans[0]
            pieces.append(text[last:start])
            pieces.append(repl(m) if callable(repl) else repl)
            last = stop
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)
