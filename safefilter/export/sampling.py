"""Benign step rows kept at a ratio to unsafe ones, stratified by tool, the same on every rerun."""
from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from typing import Any, Iterable

__all__ = ["kept_benign", "sample_benign"]


def _key(row_id: str) -> bytes:
    return hashlib.sha256(row_id.encode("utf-8")).digest()


def kept_benign(rows: Iterable[tuple[str, str, str]], ratio: float) -> set[str]:
    """Ids of the safe rows to keep, from `(id, label, tool)` of every row.

    `ratio` safe rows per unsafe one (at least one when there are none); the quota is shared across
    tools in proportion to each tool's safe rows (largest remainder), so the sample keeps the mix of
    shell, editor and code steps a monitor meets; within a tool, rows are taken in SHA-256 order of
    their id, which does not depend on the run's order.
    """
    unsafe = 0
    by_tool: dict[str, list[str]] = defaultdict(list)
    for row_id, label, tool in rows:
        if label == "safe":
            by_tool[tool].append(row_id)
        else:
            unsafe += 1
    n_safe = sum(len(v) for v in by_tool.values())
    quota = min(n_safe, math.ceil(ratio * max(unsafe, 1)))
    exact = {t: quota * len(ids) / n_safe for t, ids in by_tool.items()} if n_safe else {}
    take = {t: int(x) for t, x in exact.items()}
    for t in sorted(exact, key=lambda t: (-(exact[t] - take[t]), t))[: quota - sum(take.values())]:
        take[t] += 1
    kept: set[str] = set()
    for t, ids in by_tool.items():
        kept.update(sorted(ids, key=_key)[: take[t]])
    return kept


def sample_benign(rows: list[dict[str, Any]], ratio: float | None) -> list[dict[str, Any]]:
    """All unsafe rows and the kept safe ones (`kept_benign`), in their order; None keeps all."""
    if ratio is None:
        return list(rows)
    kept = kept_benign(((r["id"], r["label"], r["tool"]) for r in rows), ratio)
    return [r for r in rows if r["label"] != "safe" or r["id"] in kept]
