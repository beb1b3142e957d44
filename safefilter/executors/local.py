"""The local executor: work units one after another, in this process, with one scanner."""
from __future__ import annotations

from typing import Any, Iterator, Sequence

from ..scanner import Scanner
from .planner import WorkUnit
from .sink import UnitOptions, process_unit

__all__ = ["run_local"]


def run_local(units: Sequence[WorkUnit], scanner: Scanner, options: UnitOptions) -> Iterator[dict[str, Any]]:
    """Completion records of `units`, in order, each written by the sink before it is yielded."""
    for unit in units:
        yield process_unit(unit, scanner, options)
