"""Read a finished run directory back as records, whichever shape and output format it holds.

clean/ holds the input records byte for byte and unsafe/ the record plus `safety` (CONTRACT.md);
both are read with the package's own readers and extractor, so every input shape and both output
formats (JSONL, Parquet) work, and an export sees exactly what the run judged.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..errors import InputError, RecordError
from ..io.readers import read_file
from ..normalize.extract import ShapeError, Trajectory, extract
from ..scanner import record_id

__all__ = ["RunRecord", "read_manifest_of", "read_run"]

_SUFFIXES = (".jsonl", ".parquet", ".jsonl.gz")


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One scanned record: its id, the input record (without `safety`), the verdict and its segments."""

    id: str
    output: str  # "clean" or "unsafe"
    record: dict[str, Any]
    safety: dict[str, Any] | None
    trajectory: Trajectory
    shard: str  # e.g. "unsafe/part-00000-00000.jsonl"
    line: int


def read_manifest_of(run_dir: str | Path) -> dict[str, Any]:
    """The run's manifest.json; a folder without one is not a finished run and is refused."""
    path = Path(run_dir) / "manifest.json"
    if not path.is_file():
        raise InputError(f"{run_dir} is not a finished safefilter run directory (no manifest.json); "
                         "give the --output of a completed `safefilter run`")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid JSON ({exc}); the run directory is damaged") from None


def _shards(root: Path, kind: str) -> list[Path]:
    folder = root / kind
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(_SUFFIXES)
                  and not p.name.startswith("."))


#: Columns a Parquet shard may hold as JSON text (mixed types or deep nesting within one shard; see
#: io.writers): read back as the lists and objects they were.
_STRUCTURED = ("messages", "trajectory", "steps", "history", "safety")


def _json_columns(record: dict[str, Any]) -> dict[str, Any]:
    """A Parquet row as the record it was: JSON-text columns decoded, and the nulls Parquet gives a
    row for the columns other rows have (`"task": null` in a chat record) dropped."""
    record = {k: v for k, v in record.items() if v is not None}
    for key in _STRUCTURED:
        value = record.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                record[key] = json.loads(value)
            except ValueError:
                pass  # a string that only looks like JSON: the extractor says what is wrong with it
    return record


def read_run(run_dir: str | Path, *, outputs: tuple[str, ...] = ("unsafe", "clean"),
             warnings: list[str] | None = None) -> Iterator[RunRecord]:
    """Every record of the run's `outputs`, in shard order; unreadable rows are added to `warnings`.

    A clean record without its own id gets `clean/<shard>:<line>`: the run named it after its input
    file, which the byte-for-byte clean output no longer carries, but the shard names are stable
    across reruns of the same run, so the id is too.
    """
    root = Path(run_dir)
    for kind in outputs:
        for shard in _shards(root, kind):
            label = f"{kind}/{shard.name}"
            for item in read_file(shard):
                if item.error is not None or not isinstance(item.record, dict):
                    if warnings is not None:
                        warnings.append(f"{label}:{item.line} skipped: {item.error or 'not a JSON object'}")
                    continue
                record = _json_columns(dict(item.record)) if shard.name.endswith(".parquet") else dict(item.record)
                safety = record.pop("safety", None) if kind == "unsafe" else None
                rid = record_id(record, label, item.line)
                try:
                    trajectory = extract(record, rid)
                except (ShapeError, RecordError) as exc:
                    if warnings is not None:
                        warnings.append(f"{label}:{item.line} skipped: its shape cannot be read ({exc})")
                    continue
                yield RunRecord(rid, kind, record, safety if isinstance(safety, dict) else None,
                                trajectory, label, item.line)
