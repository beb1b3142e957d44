"""Reading input files into records, streaming, without ever losing a line.

Every non-empty line (JSONL), row (Parquet) or document (JSON / `.traj`) becomes one
`InputRecord`: either parsed, or carrying the reason it could not be read. The run writes the
latter to invalid/, so input = clean + unsafe + invalid always holds.
"""
from __future__ import annotations

import glob
import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import orjson

from ..errors import InputError

__all__ = ["InputRecord", "expand_inputs", "read_file", "INPUT_SUFFIXES"]

INPUT_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".json", ".json.gz", ".traj", ".parquet")


@dataclass(slots=True)
class InputRecord:
    """One record as read: the original bytes, the parsed object, or why it is invalid."""

    source: str
    line: int
    raw: bytes
    record: Any = None
    error: str | None = None
    whole_file: bool = False  # raw is a whole (possibly pretty-printed) JSON document


def _is_input(path: Path) -> bool:
    return path.name.endswith(INPUT_SUFFIXES) and not path.name.startswith(".")


def expand_inputs(spec: str | Sequence[str]) -> list[Path]:
    """Files named by a path, a folder (searched recursively) or a glob, in a stable order."""
    specs = [spec] if isinstance(spec, (str, Path)) else list(spec)
    found: list[Path] = []
    for item in specs:
        item = os.path.expanduser(str(item))
        if any(ch in item for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(item, recursive=True))
            found.extend(p for p in matches if p.is_file())
            if not matches:
                raise InputError(f"input glob {item!r} matches no files")
        elif os.path.isdir(item):
            datasets_dirs, arrow_files = _saved_datasets(Path(item))
            files = sorted([p for p in Path(item).rglob("*")
                            if p.is_file() and _is_input(p) and not _is_datasets_metadata(p, datasets_dirs)]
                           + arrow_files)
            if not files:
                raise InputError(f"input folder {item!r} has no {', '.join(INPUT_SUFFIXES)} files "
                                 "and no dataset saved with datasets' save_to_disk")
            found.extend(files)
        elif os.path.isfile(item):
            found.append(Path(item))
        else:
            raise InputError(f"input {item!r} does not exist; give a file, a folder or a glob")
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique


def _saved_datasets(folder: Path) -> tuple[set[Path], list[Path]]:
    """Folders under `folder` written by `Dataset.save_to_disk`, and their Arrow files."""
    dirs: set[Path] = set()
    files: list[Path] = []
    for state in folder.rglob("state.json"):
        if not (state.parent / "dataset_info.json").is_file():
            continue
        try:
            listed = orjson.loads(state.read_bytes()).get("_data_files", [])
            files.extend(state.parent / entry["filename"] for entry in listed)
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError) as exc:
            raise InputError(f"{state} is not a datasets state.json ({exc}); re-save the dataset with "
                             "save_to_disk") from None
        dirs.add(state.parent)
    return dirs, files


def _is_datasets_metadata(path: Path, datasets_dirs: set[Path]) -> bool:
    """state.json, dataset_info.json and a DatasetDict's dataset_dict.json describe data; they are not data."""
    if path.parent in datasets_dirs:
        return True
    return path.name == "dataset_dict.json" and any(d.parent == path.parent for d in datasets_dirs)


def read_file(path: str | Path) -> Iterator[InputRecord]:
    """Records of one input file, in file order."""
    path = Path(path)
    name = path.name
    source = str(path)
    if name.endswith(".parquet"):
        yield from _read_parquet(source)
    elif name.endswith(".arrow"):
        yield from _read_arrow(source)
    elif name.endswith((".json", ".traj", ".json.gz")):
        yield from _read_json_document(source)
    else:
        yield from _read_jsonl(source)


def _open(source: str):
    return gzip.open(source, "rb") if source.endswith(".gz") else open(source, "rb")


def _utf8_problem(data: bytes) -> str | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"line is not valid UTF-8 (byte {exc.start}: {data[exc.start:exc.start + 1]!r}); re-encode the file as UTF-8"
    return None


def _parse(data: bytes, source: str, line: int, *, last_without_newline: bool = False) -> InputRecord:
    try:
        return InputRecord(source, line, data, orjson.loads(data))
    except orjson.JSONDecodeError as exc:
        reason = _utf8_problem(data)
        if reason is None:
            reason = f"not valid JSON: {exc}"
            if last_without_newline:
                reason = "truncated last line (no final newline, JSON incomplete): " + reason
        return InputRecord(source, line, data, error=reason)


def _read_jsonl(source: str) -> Iterator[InputRecord]:
    line_no = 0
    try:
        with _open(source) as fh:
            for line_no, line in enumerate(fh, start=1):
                if line_no == 1 and line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
                has_newline = line.endswith(b"\n")
                data = line.rstrip(b"\r\n")
                if not data.strip():
                    continue  # empty lines are not records
                yield _parse(data, source, line_no, last_without_newline=not has_newline)
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        yield InputRecord(source, line_no + 1, b"", error=f"file could not be read past line {line_no}: {exc}")


def _read_json_document(source: str) -> Iterator[InputRecord]:
    try:
        with _open(source) as fh:
            data = fh.read()
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        yield InputRecord(source, 1, b"", error=f"file could not be read: {exc}")
        return
    parsed = _parse(data, source, 1)
    if parsed.error is not None or not isinstance(parsed.record, list):
        parsed.whole_file = True
        yield parsed
        return
    for i, item in enumerate(parsed.record, start=1):
        yield InputRecord(source, i, orjson.dumps(item), item)


def _read_parquet(source: str) -> Iterator[InputRecord]:
    import pyarrow.parquet as pq

    def batches():
        reader = pq.ParquetFile(source)
        if b"huggingface" not in (reader.schema_arrow.metadata or {}):
            yield from (batch.to_pylist() for batch in reader.iter_batches(batch_size=512))
            return
        # written by datasets (`to_parquet`): decode its features, e.g. Json columns stored as text
        from datasets import Features

        features = Features.from_arrow_schema(reader.schema_arrow)
        for batch in reader.iter_batches(batch_size=512):
            yield [_present(features.decode_example(row)) for row in batch.to_pylist()]

    yield from _read_rows(source, "parquet file", batches)


def _read_arrow(source: str) -> Iterator[InputRecord]:
    """One Arrow file of a `save_to_disk` dataset, memory-mapped, decoded with the dataset's features."""
    def batches():
        from datasets import Dataset

        for batch in Dataset.from_file(source).iter(batch_size=512):
            yield [_present(dict(zip(batch, values))) for values in zip(*batch.values())]

    yield from _read_rows(source, "dataset arrow file", batches)


def _present(row: dict[str, Any]) -> dict[str, Any]:
    """A datasets row without its null cells: columns are shared, so null means the record has no such field."""
    return {name: value for name, value in row.items() if value is not None}


def _read_rows(source: str, what: str, batches) -> Iterator[InputRecord]:
    """Rows of a columnar file as records; a file that breaks partway gives one invalid record."""
    row = 0
    try:
        for rows in batches():
            for item in rows:
                row += 1
                try:
                    raw = orjson.dumps(item, default=str)
                except TypeError as exc:
                    yield InputRecord(source, row, b"", error=f"row cannot be represented as JSON: {exc}")
                    continue
                yield InputRecord(source, row, raw, item)
    except Exception as exc:  # pyarrow and datasets raise many types for damaged files
        yield InputRecord(source, row + 1, b"", error=f"{what} could not be read past row {row}: {exc}")
