"""Atomic output shards for clean/, unsafe/ and invalid/.

A shard is written under a hidden temporary name and renamed into place when it is complete,
so a crash never leaves a partial file that looks finished. Clean records are written as the
exact bytes that were read; unsafe records are the input record with a `safety` object added.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson

from ..atomic import fsync_file
from .readers import InputRecord

__all__ = ["ShardWriter", "unsafe_bytes", "unsafe_record", "invalid_row", "OUTPUT_KINDS"]

OUTPUT_KINDS = ("clean", "unsafe", "invalid")


def unsafe_record(record: dict[str, Any], safety: dict[str, Any], record_id: str) -> tuple[dict[str, Any], bool]:
    """The unsafe output of `record`: the input fields, the run's id and `safety` last.

    An id the run could not use (`""`, null, not a string or integer) is replaced by the generated
    one, so ids never repeat; a non-empty unusable value is kept as `input_id`. A `safety` field the
    input already had is kept as `input_safety` (the second value of the pair says so).
    """
    out: dict[str, Any] = {}
    moved = False
    for key, value in record.items():
        if key == "safety":
            out[_free_name(record, "input_safety")] = value
            moved = True
        else:
            out[key] = value
    if not _own_id(record, record_id):
        old = record.get("id")
        if old not in ("", None):
            out[_free_name(record, "input_id")] = old
        out["id"] = record_id
    out["safety"] = safety
    return out, moved


def unsafe_bytes(item: InputRecord, safety: dict[str, Any], record_id: str) -> bytes:
    """The input record plus `safety`, keeping every original byte of the record when possible."""
    record = item.record
    raw = item.raw.rstrip()
    if not item.whole_file and raw.endswith(b"}") and "safety" not in record and _own_id(record, record_id):
        return raw[:-1] + b',"safety":' + orjson.dumps(safety) + b"}"
    return orjson.dumps(unsafe_record(record, safety, record_id)[0])


def _own_id(record: dict[str, Any], record_id: str) -> bool:
    """Whether the record's own `id` is the one the run uses (not empty, not generated)."""
    rid = record.get("id")
    return isinstance(rid, (str, int)) and not isinstance(rid, bool) and str(rid) == record_id


def _free_name(record: dict[str, Any], base: str) -> str:
    """`base`, or `base_2`, `base_3`, ... whichever the record does not use yet."""
    name, n = base, 1
    while name in record:
        n += 1
        name = f"{base}_{n}"
    return name


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
    """One output shard, JSONL or Parquet, created on first write and renamed into place on close.

    A Parquet shard is usually one file. When a later row group cannot take the file's column
    types (a `reward` that was an integer becomes text or an object), the writer closes that file
    and continues in `part-X_001.parquet`, `_002`, ... (names sort in write order) with a warning,
    so no record is lost and outputs stay deterministic; `paths` lists every file written. In the
    new file the columns that changed are JSON text, so each column causes at most one roll-over.
    """

    def __init__(self, path: Path, fmt: str = "jsonl", *, parquet_rows_per_group: int = 2048) -> None:
        self.path = Path(path)
        self.fmt = fmt
        self.count = 0
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self._fh = None
        self._rows: list[dict[str, Any]] = []
        self._rows_per_group = parquet_rows_per_group
        self._parquet = None
        self._files: list[tuple[Path, Path]] = []  # (temporary, final) of every file opened, in order
        self._json_columns: set[str] = set()  # columns of the open Parquet file stored as JSON text
        self._rows_written = 0
        self._kept_safety = 0
        self._warnings: list[str] = []

    @property
    def paths(self) -> list[Path]:
        """Every file this shard wrote (none if it got no record), in order; complete after `close`."""
        if self.fmt == "jsonl":
            return [self.path] if self.count else []
        return [final for _, final in self._files]

    @property
    def warnings(self) -> list[str]:
        """What the run should know about this shard (mixed column types, kept input fields), counted."""
        kept = [f"{self.path.name}: {self._kept_safety} records already had a 'safety' field; "
                "it is kept as 'input_safety'"] if self._kept_safety else []
        return self._warnings + kept

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
        self.write_bytes(orjson.dumps(row) if self.fmt == "jsonl" else b"", row)  # Parquet takes the row itself

    def write_unsafe(self, item: InputRecord, safety: dict[str, Any], record_id: str) -> None:
        """Write an unsafe record: the input plus `safety` (see `unsafe_record` for the id and kept fields)."""
        if isinstance(item.record, dict) and "safety" in item.record:
            self._kept_safety += 1
        if self.fmt == "jsonl":
            self.write_bytes(unsafe_bytes(item, safety, record_id))
        else:
            self.write_row(unsafe_record(item.record, safety, record_id)[0])

    def _next_path(self) -> Path:
        n = len(self._files)
        return self.path if n == 0 else self.path.with_name(f"{self.path.stem}_{n:03d}{self.path.suffix}")

    def _open_parquet(self, schema) -> None:
        import pyarrow.parquet as pq

        final = self._next_path()
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp") if self._files else self._tmp
        final.parent.mkdir(parents=True, exist_ok=True)
        self._parquet = pq.ParquetWriter(tmp, schema)
        self._files.append((tmp, final))

    def _flush_parquet(self) -> None:
        """Write the pending rows as one row group, in the open file if its column types hold them."""
        if not self._rows:
            return
        fitted = None
        if self._parquet is not None:
            table, encoded = _table(self._rows, self._json_columns)
            if encoded <= self._json_columns:
                fitted = _conform(table, self._parquet.schema)
            if fitted is None:  # the file's column types cannot hold these rows: continue in a new file
                changed = _differences(table.schema, self._parquet.schema)
                self._parquet.close()
                self._parquet = None
                self._warnings.append(
                    f"{self._files[-1][1].name}: records from {self._rows_written + 1} on have columns of "
                    f"other types ({', '.join(f'{k}: {v}' for k, v in changed.items())}); they continue in "
                    f"{self._next_path().name}")
                # a column that changed is JSON text from now on, so no column can cause a second roll-over
                self._json_columns = self._json_columns | set(changed)
        if fitted is None:
            fitted, encoded = _table(self._rows, self._json_columns)
            self._json_columns = self._json_columns | encoded
            for column in sorted(self._json_columns):
                self._warnings.append(f"{self._next_path().name}: column {column!r} has values of mixed types "
                                      "or shapes; stored as JSON text")
            self._open_parquet(fitted.schema)
        self._parquet.write_table(fitted)
        self._rows_written += len(self._rows)
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
            for tmp, final in self._files:
                if tmp.exists():
                    fsync_file(tmp)  # durable before the rename says it is finished (slice A)
                    os.replace(tmp, final)

    def abort(self) -> None:
        for closer in (self._fh, self._parquet):
            if closer is not None:
                closer.close()
        self._fh = self._parquet = None
        for tmp in [self._tmp] + [tmp for tmp, _ in self._files]:
            if tmp.exists():
                tmp.unlink()


def _conform(table, schema):
    """`table` with exactly `schema`'s columns and types, or None if a value would change type.

    Missing columns become nulls; the only casts are from null and from integer to float (what
    Arrow itself does to a column mixing both); anything else (a number to text, a struct with
    other fields) does not fit.
    """
    import pyarrow as pa
    import pyarrow.types as pt

    if not set(table.column_names) <= set(schema.names):
        return None
    columns = []
    for field in schema:
        if field.name not in table.column_names:
            columns.append(pa.nulls(len(table), field.type))
            continue
        column = table.column(field.name)
        if column.type != field.type:
            if not (pt.is_null(column.type) or (pt.is_integer(column.type) and pt.is_floating(field.type))):
                return None
            try:
                column = column.cast(field.type)  # safe cast: an integer too large for the float fails
            except (pa.ArrowException, TypeError, ValueError):
                return None
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def _differences(new, old) -> dict[str, str]:
    """Columns of schema `new` that schema `old` lacks or types otherwise, e.g. {"reward": "int64 -> string"}."""
    out = {}
    for field in new:
        if field.name not in old.names:
            out[field.name] = f"new column of {field.type}"
        elif old.field(field.name).type != field.type:
            out[field.name] = f"{old.field(field.name).type} -> {field.type}"
    return out


def _table(rows: list[dict[str, Any]], json_columns: set[str] = frozenset()) -> tuple[Any, set[str]]:
    """Rows as an Arrow table, and the columns stored as JSON text: those in `json_columns` and any
    whose values Arrow cannot hold in one type (mixed types within these rows)."""
    import pyarrow as pa

    if not json_columns:
        try:
            table = pa.Table.from_pylist(rows)
            if all(_depth(t) <= _MAX_DEPTH for t in table.schema.types):
                return table, set()
        except (pa.ArrowException, TypeError, ValueError, OverflowError, RecursionError):
            pass
    columns = list(dict.fromkeys(k for row in rows for k in row))
    data, encoded = {}, set()
    for col in columns:
        values = [row.get(col) for row in rows]
        if col not in json_columns:
            try:
                array = pa.array(values)
                if _depth(array.type) <= _MAX_DEPTH:
                    data[col] = array
                    continue
            except (pa.ArrowException, TypeError, ValueError, OverflowError, RecursionError):
                pass
        data[col] = pa.array([None if v is None else _json_text(v) for v in values], pa.string())
        encoded.add(col)
    return pa.table(data), encoded


# pyarrow will not read back a Parquet schema nested deeper than 100 levels (a list takes 2 or 3):
# deeper columns are stored as JSON text
_MAX_DEPTH = 30


def _depth(t: Any) -> int:
    """How deeply an Arrow type nests (0 for a scalar)."""
    import pyarrow.types as pt

    if pt.is_struct(t):
        return 1 + max((_depth(t.field(i).type) for i in range(t.num_fields)), default=0)
    if pt.is_map(t):
        return 1 + max(_depth(t.key_type), _depth(t.item_type))
    if pt.is_list(t) or pt.is_large_list(t) or pt.is_fixed_size_list(t):
        return 1 + _depth(t.value_type)
    return 0


def _json_text(value: Any) -> str:
    """`value` as JSON text; orjson stops at 255 levels, the standard library goes deeper."""
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:
        return json.dumps(value, default=str)
