"""The one batch planner: how input files are cut into work units, whatever executor runs them.

A work unit is one input file, or one byte range of a large plain JSON Lines file (a line belongs
to the range its first byte is in, see `io.read_jsonl_range`). Units are numbered in input order,
and everything a unit writes is named by its number (`part-<unit>-<part>.*`, `_state/input-<unit>.json`),
so outputs sort in input order and are the same bytes whichever process, node or executor wrote
them. When no file is split, unit numbers are file numbers, as before ranges existed.

Inside a unit, `cut_batches` decides which records are scanned together and where a shard ends;
the sink is the only caller, so there is no second copy of this logic to keep in step.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from ..io import InputRecord, count_newlines, read_file, read_jsonl_range, splittable

__all__ = ["WorkUnit", "plan_units", "source_labels", "read_unit", "cut_batches", "count_here", "RangeCounter",
           "UNIT_BYTES"]

#: Plain JSON Lines files larger than this are read in ranges of this size by different workers:
#: small enough that two workers share a 100 MB file evenly, large enough that a unit's fixed costs
#: (a task, three shard files, a completion record) stay far below its scanning time. Part of the
#: output layout (shard names follow units), so it is a constant of the code, covered by the
#: manifest's code hash, not a setting that could differ between a run and its rerun.
UNIT_BYTES = 16 << 20
#: Shard names have five digits for the unit: a run this large gets proportionally larger ranges.
MAX_UNITS = 99_999


@dataclass(frozen=True, slots=True)
class WorkUnit:
    """One piece of input that one worker reads, scans and writes on its own.

    `start`/`end` are a byte range of `path` (None: the whole file), `lines_before` the newlines
    before `start` (so line numbers are the file's); `label` names the file in record ids
    (`label:line`) as in a whole-file run.
    """

    index: int
    file_index: int
    path: str
    label: str
    start: int | None = None
    end: int | None = None
    lines_before: int | None = None

    @property
    def name(self) -> str:
        """The unit's number as it appears in shard and completion record names."""
        return f"{self.index:05d}"

    @property
    def size(self) -> int:
        """Bytes of input this unit reads (for progress and scheduling)."""
        if self.start is None or self.end is None:
            return Path(self.path).stat().st_size
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "WorkUnit":
        return cls(**{k: data.get(k) for k in ("index", "file_index", "path", "label", "start", "end",
                                                 "lines_before")})


def source_labels(files: Sequence[Path]) -> list[str]:
    """Input file names relative to their common folder: stable across machines, used for ids."""
    if len(files) == 1:
        return [files[0].name]
    root = Path(os.path.commonpath([str(p.parent) for p in files]))
    return [str(p.relative_to(root)) for p in files]


#: Counts the newlines of byte ranges (path, start, end); executors pass one that runs on their workers.
RangeCounter = Callable[[Sequence[tuple[str, int, int]]], list[int]]


def count_here(ranges: Sequence[tuple[str, int, int]]) -> list[int]:
    """Newlines of each range, counted in this process."""
    return [count_newlines(path, start, end) for path, start, end in ranges]


def plan_units(files: Sequence[Path], *, unit_bytes: int | None = None,
               count: RangeCounter = count_here) -> list[WorkUnit]:
    """Work units of `files`, in input order: one per file, large plain JSONL files cut into byte ranges.

    The newlines of every range are counted first (`count`, in parallel on an executor's workers:
    one pass at memory speed, no parsing), so each range numbers its lines without reading what
    comes before it.
    """
    spare = MAX_UNITS - len(files)  # ranges beyond one per file that fit in the names
    total = sum(Path(p).stat().st_size for p in files)
    unit_bytes = max(unit_bytes or UNIT_BYTES, -(-total // spare) if spare > 0 else total + 1)
    pieces: list[tuple[int, Path, str, int | None, int | None]] = []
    for file_index, (path, label) in enumerate(zip(files, source_labels(files))):
        size = Path(path).stat().st_size
        if not splittable(path) or size <= unit_bytes:
            pieces.append((file_index, path, label, None, None))
            continue
        pieces.extend((file_index, path, label, start, min(start + unit_bytes, size))
                      for start in range(0, size, unit_bytes))
    to_count = [(str(path), start, end) for _, path, _, start, end in pieces if start is not None]
    newlines = iter(count(to_count))
    units: list[WorkUnit] = []
    before, last_file = 0, -1
    for file_index, path, label, start, end in pieces:
        if start is None:
            units.append(WorkUnit(len(units), file_index, str(path), label))
            continue
        if file_index != last_file:
            before, last_file = 0, file_index
        units.append(WorkUnit(len(units), file_index, str(path), label, start, end, before))
        before += next(newlines)
    return units


def read_unit(unit: WorkUnit) -> Iterator[InputRecord]:
    """The unit's records in file order, read errors included (they take their place in invalid/)."""
    if unit.start is None or unit.end is None:
        return read_file(unit.path)
    return read_jsonl_range(unit.path, unit.start, unit.end, unit.lines_before)


def cut_batches(items: Iterable[InputRecord], *, batch_size: int, per_shard: int
                ) -> Iterator[tuple[int, list[InputRecord]]]:
    """(shard part, batch) pairs: a batch holds at most `batch_size` readable records and never
    crosses a shard end (every `per_shard` records, unreadable ones included, start a new part).

    Unreadable records ride along in the batch at their place, so invalid/ keeps input order."""
    batch: list[InputRecord] = []
    part, in_part, valid = 0, 0, 0
    for item in items:
        if in_part >= per_shard:
            yield part, batch
            batch, valid = [], 0
            part, in_part = part + 1, 0
        in_part += 1
        batch.append(item)
        valid += item.error is None
        if valid >= batch_size:
            yield part, batch
            batch, valid = [], 0
    yield part, batch
