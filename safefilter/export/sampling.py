"""Benign step rows kept at a ratio to unsafe ones, stratified by tool, the same on every rerun."""
from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from typing import Any, Sequence

__all__ = ["sample_benign"]


def _key(row_id: str) -> bytes:
    return hashlib.sha256(row_id.encode("utf-8")).digest()


def sample_benign(rows: Sequence[dict[str, Any]], ratio: float | None) -> list[dict[str, Any]]:
    """All unsafe rows, and `ratio` safe rows per unsafe one (at least one when there are none).

    The quota is shared across tools in proportion to each tool's safe rows (largest remainder), so
    the sample keeps the mix of shell, editor and code steps a monitor meets; within a tool, rows are
    taken in SHA-256 order of their id, which does not depend on the run's order. Order is kept.
    """
    if ratio is None:
        return list(rows)
    unsafe = [r for r in rows if r["label"] != "safe"]
    safe = [r for r in rows if r["label"] == "safe"]
    quota = min(len(safe), math.ceil(ratio * max(len(unsafe), 1)))
    by_tool: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in safe:
        by_tool[r["tool"]].append(r)
    exact = {t: quota * len(rs) / len(safe) for t, rs in by_tool.items()} if safe else {}
    take = {t: int(x) for t, x in exact.items()}
    for t in sorted(exact, key=lambda t: (-(exact[t] - take[t]), t))[: quota - sum(take.values())]:
        take[t] += 1
    kept = set()
    for t, rs in by_tool.items():
        kept.update(r["id"] for r in sorted(rs, key=lambda r: _key(r["id"]))[: take[t]])
    return [r for r in rows if r["label"] != "safe" or r["id"] in kept]
