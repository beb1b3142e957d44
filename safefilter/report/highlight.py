"""Record text as HTML with evidence spans marked in place; every character of it escaped.

Record text is hostile input: it is only ever emitted through `html.escape`, pieces cut at span
edges. Long blocks are shown as windows around the spans so one 1 MB tool output cannot blow the
page up.
"""
from __future__ import annotations

from html import escape
from typing import Any, Sequence

__all__ = ["highlight", "SHOW_CHARS"]

SHOW_CHARS = 3000   # a block longer than this is cut to windows around its spans
WINDOW = 300        # characters kept on each side of a span in a cut block


def _merge(spans: list[tuple[int, int, dict[str, Any]]]) -> list[tuple[int, int, list[dict[str, Any]]]]:
    merged: list[tuple[int, int, list[dict[str, Any]]]] = []
    for start, end, f in sorted(spans, key=lambda s: (s[0], s[1])):
        if merged and start < merged[-1][1]:
            s0, e0, fs = merged[-1]
            merged[-1] = (s0, max(e0, end), fs + [f])
        else:
            merged.append((start, end, [f]))
    return merged


def _mark(text: str, findings: list[dict[str, Any]]) -> str:
    requested = all(bool(f.get("requested")) for f in findings)
    rules = ", ".join(sorted({str(f.get("rule_id", "")) for f in findings}))
    cats = " ".join(sorted({str(f.get("category", "")) for f in findings}))
    title = f"{rules} ({cats})" + (" - requested by the task" if requested else "")
    cls = "ev req" if requested else "ev"
    return f'<mark class="{cls}" title="{escape(title)}">{escape(text)}</mark>'


def _keep(n: int, spans: Sequence[tuple[int, int, Any]]) -> list[tuple[int, int]]:
    """Character ranges of a long block worth showing: its head and windows around the spans."""
    ranges = [(0, min(n, SHOW_CHARS // 3))] + [(max(0, s - WINDOW), min(n, e + WINDOW)) for s, e, _ in spans]
    out: list[tuple[int, int]] = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def highlight(text: str, findings: Sequence[dict[str, Any]]) -> str:
    """`text` as escaped HTML with each finding's [start, end) marked; spans outside the text are dropped."""
    n = len(text)
    spans = []
    for f in findings:
        start, end = f.get("start"), f.get("end")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= n:
            spans.append((start, end, f))
    merged = _merge(spans)
    shown = _keep(n, merged) if n > SHOW_CHARS else [(0, n)]
    parts: list[str] = []
    for r_start, r_end in shown:
        if r_start > 0:
            parts.append(f'<span class="cut">[... {r_start} chars ...]</span>' if not parts else
                         '<span class="cut">[...]</span>')
        pos = r_start
        for s, e, fs in merged:
            if e <= r_start or s >= r_end:
                continue
            s, e = max(s, r_start), min(e, r_end)
            parts.append(escape(text[pos:s]))
            parts.append(_mark(text[s:e], fs))
            pos = e
        parts.append(escape(text[pos:r_end]))
    if shown and shown[-1][1] < n:
        parts.append(f'<span class="cut">[... {n - shown[-1][1]} more chars]</span>')
    return "".join(parts)
