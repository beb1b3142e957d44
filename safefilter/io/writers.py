"""Atomic output shards for clean/, unsafe/ and invalid/.

A shard is written under a hidden temporary name and renamed into place when it is complete,
so a crash never leaves a partial file that looks finished. Clean records are written as the
exact bytes that were read; unsafe records are the input record with a `safety` object added.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from .readers import InputRecord

__all__ = ["ShardWriter", "unsafe_bytes", "invalid_row", "OUTPUT_KINDS"]

OUTPUT_KINDS = ("clean", "unsafe", "invalid")


def unsafe_bytes(item: InputRecord, safety: dict[str, Any], record_id: str) -> bytes:
    """The input record plus `safety`, keeping every original byte of the record when possible."""
    record = item.record
    raw = item.raw.rstrip()
    if not item.whole_file and raw.endswith(b"}") and "safety" not in record and "id" in record:
        return raw[:-1] + b',"safety":' + orjson.dumps(safety) + b"}"
    out = dict(record)
    out.setdefault("id", record_id)
    out["safety"] = safety
    return orjson.dumps(out)


def invalid_row(item: InputRecord, error: str | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"source": item.source, "line": item.line, "error": error or item.error}
    try:
        row["raw"] = item.raw.decode("utf-8")
    except UnicodeDecodeError:
        import base64

        row["raw"] = item.raw.decode("utf-8", "replace")
        row["raw_base64"] = base64.b64encode(item.raw).decode()
    return row


class ShardWriter:
    """One output file, JSONL or Parquet, created on first write and renamed into place on close."""

    def __init__(self, path: Path, fmt: str = "jsonl", *, parquet_rows_per_group: int = 2048) -> None:
        self.path = Path(path)
        self.fmt = fmt
        self.count = 0
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self._fh = None
        self._rows: list[dict[str, Any]] = []
        self._rows_per_group = parquet_rows_per_group
        self._parquet = None
        self.warnings: list[str] = []

    def write_bytes(self, line: bytes, row: dict[str, Any] | None = None) -> None:
        """Write one record given as JSON bytes (and, for Parquet, the row it encodes)."""
        self.count += 1
        if self.fmt == "jsonl":
            if self._fh is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = open(self._tmp, "wb", buffering=1 << 20)
            self._fh.write(line)
            self._fh.write(b"\n")
        else:
            self._rows.append(row if row is not None else orjson.loads(line))
            if len(self._rows) >= self._rows_per_group:
                self._flush_parquet()

    def write_row(self, row: dict[str, Any]) -> None:
        self.write_bytes(orjson.dumps(row), row)

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._rows:
            return
        table = _table(self._rows, self.warnings)
        if self._parquet is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._parquet = pq.ParquetWriter(self._tmp, table.schema)
        elif table.schema != self._parquet.schema:
            try:
                table = table.cast(self._parquet.schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
                table = _table(self._rows, self.warnings, force_json=True)
                table = table.cast(self._parquet.schema) if table.schema == self._parquet.schema else table
        self._parquet.write_table(table)
        self._rows = []

    def close(self) -> None:
        if self.fmt == "jsonl":
            if self._fh is not None:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
                self._fh = None
                os.replace(self._tmp, self.path)
        else:
            self._flush_parquet()
            if self._parquet is not None:
                self._parquet.close()
                self._parquet = None
                os.replace(self._tmp, self.path)

    def abort(self) -> None:
        for closer in (self._fh, self._parquet):
            if closer is not None:
                closer.close()
        self._fh = self._parquet = None
        if self._tmp.exists():
            self._tmp.unlink()


def _table(rows: list[dict[str, Any]], warnings: list[str], force_json: bool = False):
    """Rows as an Arrow table; columns whose values disagree in type are stored as JSON text."""
    import pyarrow as pa

    if not force_json:
        try:
            return pa.Table.from_pylist(rows)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    columns = list(dict.fromkeys(k for row in rows for k in row))
    data = {}
    for col in columns:
        values = [row.get(col) for row in rows]
        if any(isinstance(v, (dict, list)) for v in values):
            values = [None if v is None else orjson.dumps(v).decode() for v in values]
            note = f"column {col!r} has values of mixed types; stored as JSON text"
            if note not in warnings:
                warnings.append(note)
        data[col] = values
    return pa.table(data)
