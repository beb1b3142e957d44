"""Reading input files into records, streaming, without ever losing a line.

Every non-empty line (JSONL), row (Parquet) or document (JSON / `.traj`) becomes one
`InputRecord`: either parsed, or carrying the reason it could not be read. The run writes the
latter to invalid/, so input = clean + unsafe + invalid always holds.
"""
from __future__ import annotations

import glob
import gzip
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import orjson
import re2

from ..errors import InputError

__all__ = ["InputRecord", "expand_inputs", "read_file", "read_jsonl_range", "count_newlines", "splittable",
           "INPUT_SUFFIXES"]

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
    """An input file by its name: a known suffix in any case (`.JSONL` too), not hidden."""
    return path.name.lower().endswith(INPUT_SUFFIXES) and not path.name.startswith(".")


def expand_inputs(spec: str | Sequence[str], *, warnings: list[str] | None = None) -> list[Path]:
    """Files named by a path, a folder (searched recursively) or a glob, in a stable order.

    A spec that exists as a path is taken literally, so `data[1].jsonl` is that file even though
    it looks like a glob; only a spec that is not an existing path is expanded as a glob. Entries
    of a folder or glob that cannot be read (dangling symlinks) are not silently dropped: each is
    added to `warnings` (the run records them in manifest.json) and raised when named directly.
    """
    specs = [spec] if isinstance(spec, (str, Path)) else list(spec)
    found: list[Path] = []
    skipped: list[str] = []
    for item in specs:
        item = os.path.expanduser(str(item))
        if os.path.isdir(item):
            datasets_dirs, arrow_files = _saved_datasets(Path(item))
            entries = _folder_entries(Path(item), skipped)
            skipped.extend(_dangling(entries))
            files = sorted([p for p in entries if p.is_file() and not _is_datasets_metadata(p, datasets_dirs)]
                           + arrow_files)
            if not files:
                raise InputError(f"input folder {item!r} has no {', '.join(INPUT_SUFFIXES)} files "
                                 "and no dataset saved with datasets' save_to_disk"
                                 + (f" ({'; '.join(skipped)})" if skipped else ""))
            found.extend(files)
        elif os.path.isfile(item):
            found.append(Path(item))
        elif os.path.islink(item) and not os.path.exists(item):
            raise InputError(f"input {item!r} is a symlink to {os.readlink(item)!r}, which does not exist; "
                             "fix the link or give the file it should point to")
        elif os.path.exists(item):
            raise InputError(f"input {item!r} is not a regular file or a folder; give a file, a folder or a glob")
        elif any(ch in item for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(item, recursive=True))
            skipped.extend(_dangling(matches))
            found.extend(p for p in matches if p.is_file())
            if not matches:
                raise InputError(f"input glob {item!r} matches no files")
        else:
            raise InputError(f"input {item!r} does not exist; give a file, a folder or a glob")
    if warnings is not None:
        warnings.extend(skipped)
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique


def _folder_entries(folder: Path, skipped: list[str]) -> list[Path]:
    """Input-named entries under `folder`, recursively; what cannot be walked is added to `skipped`.

    Symlinked folders are not followed (a link back up would loop): each is named in `skipped`
    so the user can give it as an input of its own.
    """
    def unreadable(exc: OSError) -> None:
        skipped.append(f"input folder {exc.filename} skipped: it could not be listed ({exc.strerror or exc})")

    entries: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable):
        base = Path(dirpath)
        for name in dirnames:
            if (base / name).is_symlink():
                skipped.append(f"input folder {base / name} skipped: it is a symlink to a folder, which is not "
                               "followed; give it as an input of its own to read it")
        entries.extend(base / name for name in filenames if _is_input(base / name))
    return entries


def _dangling(paths: Sequence[Path]) -> list[str]:
    """One warning per entry among `paths` that looks like input but is not a file that can be read."""
    out = []
    for p in paths:
        if p.is_symlink() and not p.exists():
            out.append(f"input {p} skipped: it is a symlink to {os.readlink(p)!r}, which does not exist")
        elif p.exists() and not p.is_file() and not p.is_dir():
            out.append(f"input {p} skipped: it is not a regular file")
    return out


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
    name = path.name.lower()  # suffixes in any case: DATA.JSONL is JSON Lines
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
    return gzip.open(source, "rb") if source.lower().endswith(".gz") else open(source, "rb")


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
    seen = [0]  # line number reached, for the message when reading fails
    try:
        with _open(source) as fh:
            yield from _line_records(fh, source, 1, seen)
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        yield InputRecord(source, seen[0] + 1, b"", error=f"file could not be read past line {seen[0]}: {exc}")


def _line_records(lines: Iterable[bytes], source: str, first: int, seen: list[int]) -> Iterator[InputRecord]:
    """One record per non-empty line, numbered from `first`; `seen[0]` follows the line number."""
    for line_no, line in enumerate(lines, start=first):
        seen[0] = line_no
        if line_no == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        has_newline = line.endswith(b"\n")
        data = line.rstrip(b"\r\n")
        if not data.strip():
            continue  # empty lines are not records
        yield _parse(data, source, line_no, last_without_newline=not has_newline)


def splittable(path: str | Path) -> bool:
    """Whether a file can be read in byte ranges: plain JSON Lines (one record per line, no compression)."""
    return Path(path).name.lower().endswith((".jsonl", ".ndjson"))


_COUNT_CHUNK = 8 << 20


def count_newlines(path: str | Path, start: int, end: int) -> int:
    """Newline bytes in [start, end) of a file: what `read_jsonl_range` needs to number a later range's lines."""
    count = 0
    with open(path, "rb") as fh:
        fh.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = fh.read(min(_COUNT_CHUNK, remaining))
            if not chunk:
                break
            count += chunk.count(b"\n")
            remaining -= len(chunk)
    return count


def read_jsonl_range(path: str | Path, start: int, end: int, lines_before: int | None = None
                     ) -> Iterator[InputRecord]:
    """Records of the lines of a JSON Lines file that begin in bytes [start, end), numbered as in the file.

    A line belongs to the range its first byte falls in, so ranges that tile a file read every
    line exactly once, whoever reads them. `lines_before` is the number of newlines before `start`
    (see `count_newlines`; counted here when not given), so ids and invalid/ rows are the same as a
    whole-file read.
    """
    source = str(Path(path))
    seen = [0]
    try:
        if lines_before is None:
            lines_before = count_newlines(source, 0, start)
        seen[0] = lines_before
        with open(source, "rb") as fh:
            first = start
            if start > 0:
                fh.seek(start - 1)
                if fh.read(1) != b"\n":
                    seen[0] += bool(fh.readline().endswith(b"\n"))  # a line that began in the range before
                first = fh.tell()
            if first >= end:
                return
            yield from _line_records(_lines_until(fh, first, end), source, seen[0] + 1, seen)
    except OSError as exc:
        yield InputRecord(source, seen[0] + 1, b"", error=f"file could not be read past line {seen[0]}: {exc}")


def _lines_until(fh, pos: int, end: int) -> Iterator[bytes]:
    """Lines of `fh` (at byte `pos`) that begin before byte `end`."""
    while pos < end:
        line = fh.readline()
        if not line:
            return
        pos += len(line)
        yield line


def _read_json_document(source: str) -> Iterator[InputRecord]:
    """A JSON document: a list is streamed item by item (never held whole); anything else is one record."""
    try:
        with _open(source) as fh:
            head = _skip_space(fh)
            if head == b"[":
                yield from _read_json_list(source, fh)
                return
            data = head + fh.read()
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        yield InputRecord(source, 1, b"", error=f"file could not be read: {exc}")
        return
    parsed = _parse(data, source, 1)
    parsed.whole_file = True
    yield parsed


def _skip_space(fh) -> bytes:
    """The first byte after a UTF-8 byte-order mark and whitespace (b"" at end of file); it is consumed."""
    first = fh.read(1)
    if first == b"\xef":
        rest = fh.read(2)
        if rest != b"\xbb\xbf":
            return first + rest
        first = fh.read(1)
    while first in (b" ", b"\t", b"\r", b"\n"):
        first = fh.read(1)
    return first


# Items nested deeper than this are invalid rows, as a JSONL line nested deeper than orjson's limit is.
MAX_LIST_ITEM_DEPTH = 1024


def _read_json_list(source: str, fh) -> Iterator[InputRecord]:
    """Items of a top-level JSON list as records numbered 1, 2, ...; `[` is already read.

    ijson parses incrementally (its C backend when built), so memory holds one item at a time.
    Items are built from ijson's flat event stream with a depth bound: its own item builder keeps a
    path string per level, so memory grows with the square of the nesting (measured: 30,000
    levels, 200 KB of brackets, took 2 GB), and an item deeper than MAX_LIST_ITEM_DEPTH is skipped
    as one invalid row while the items after it are still read.
    Floats come as float, not Decimal, so numbers round-trip exactly as orjson writes them. A
    syntax error ends the stream: the items before it are records, and one invalid row names the
    item where reading stopped (the parser cannot find item boundaries past a broken one).
    The C backend garbles a lone UTF-16 surrogate escape (`"\\ud800"` becomes `"?"`): when the
    text has one, the rest of the file is read with ijson's exact pure-Python backend instead.
    """
    import ijson

    read = 0
    try:
        try:
            events = ijson.basic_parse(_Prefixed(b"[", _SurrogateGuard(fh)), use_float=True)
            for read, item in enumerate(_bounded_items(events), start=1):
                yield _list_item(source, read, item)
            return
        except _LoneSurrogate:
            pass
        with _open(source) as again:
            _skip_space(again)
            exact = ijson.get_backend("python").basic_parse(_Prefixed(b"[", again), use_float=True)
            for n, item in enumerate(_bounded_items(exact), start=1):
                if n > read:  # items 1..read came before the surrogate and are already yielded
                    read = n
                    yield _list_item(source, n, item)
    except (ijson.JSONError, ValueError) as exc:
        yield _list_error(source, read, exc)
    except (EOFError, zlib.error, OSError) as exc:  # a damaged .json.gz, an I/O error
        yield InputRecord(source, read + 1, b"", error=f"file could not be read past item {read}: {exc}")


class _TooDeep:
    """Stands for a list item nested deeper than MAX_LIST_ITEM_DEPTH (never built)."""


_TOO_DEEP = _TooDeep()
_OPENS = frozenset(("start_map", "start_array"))
_CLOSES = frozenset(("end_map", "end_array"))


def _bounded_items(events: Iterator[tuple[str, Any]]) -> Iterator[Any]:
    """The items of the top-level list that `events` (ijson basic_parse) describe; too deep ones as _TOO_DEEP."""
    from ijson.common import ObjectBuilder

    depth = 0  # 1 inside the top-level list
    builder: ObjectBuilder | None = None
    for event, value in events:
        if event in _OPENS:
            depth += 1
            if depth == 1:
                continue
            if depth == 2:
                builder = ObjectBuilder()
            if depth > MAX_LIST_ITEM_DEPTH + 1:
                builder = None
        elif event in _CLOSES:
            depth -= 1
            if depth == 0:
                for _ in events:  # the parser reports text after the list as an error
                    pass
                return
            if depth == 1:
                if builder is None:
                    yield _TOO_DEEP
                else:
                    builder.event(event, value)
                    yield builder.value
                builder = None
                continue
        elif depth == 1:  # a scalar item
            yield value
            continue
        if builder is not None:
            builder.event(event, value)


def _list_item(source: str, index: int, item: Any) -> InputRecord:
    if item is _TOO_DEEP:
        return InputRecord(source, index, b"", error=(
            f"item is nested more than {MAX_LIST_ITEM_DEPTH} levels deep; it was skipped, the items after it "
            "were read"))
    try:
        return InputRecord(source, index, orjson.dumps(item), item)
    except TypeError as exc:  # e.g. a lone surrogate in a string
        return InputRecord(source, index, _loose_json(item), error=f"item cannot be written as JSON: {exc}")


def _list_error(source: str, index: int, exc: BaseException) -> InputRecord:
    return InputRecord(source, index + 1, b"", error=(
        f"JSON list is broken or truncated after item {index} ({_first_line(exc)}); "
        + (f"items 1-{index} were read, the rest of the file could not be" if index else "no item could be read")))


class _LoneSurrogate(Exception):
    """The text has a UTF-16 surrogate escape that is not half of a pair."""


_SURROGATE_ESCAPE = re2.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class _SurrogateGuard:
    """Passes a binary file through, raising _LoneSurrogate before it hands on text with a lone
    surrogate escape. Bytes that cannot be judged yet (an escape whose other half may be in the
    next chunk) are held back until they can. Linear in the bytes read."""

    def __init__(self, fh) -> None:
        self._fh, self._pending = fh, b""

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        while True:
            data = self._fh.read(size)
            buf, at_end = self._pending + data, not data
            cut = len(buf) if at_end else max(0, len(buf) - 5)  # an escape cut by the boundary starts here
            matches = iter(_SURROGATE_ESCAPE.finditer(buf))
            for m in matches:
                start = m.start()
                if start + 12 > len(buf) and not at_end:  # its low half may be in the next chunk
                    cut = min(cut, start)
                    break
                pair = _SURROGATE_ESCAPE.fullmatch(buf, start + 6, start + 12)
                if buf[start + 3:start + 4] not in b"89abAB" or pair is None or \
                        buf[start + 9:start + 10] not in b"cdefCDEF":
                    raise _LoneSurrogate()
                next(matches, None)  # the low half just checked
            out, self._pending = buf[:cut], buf[cut:]
            if out or at_end:
                return out


def _first_line(exc: BaseException) -> str:
    """ijson's message without the multi-line excerpt of the text that follows it."""
    msg = exc.args[0] if exc.args else exc
    text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
    return " ".join(text.split("\n", 1)[0].split())


class _Prefixed:
    """A binary file object that first returns `prefix`, then the rest of `fh`."""

    def __init__(self, prefix: bytes, fh) -> None:
        self._prefix, self._fh = prefix, fh

    def read(self, size: int = -1) -> bytes:
        if self._prefix and size != 0:  # ijson probes with read(0) for bytes versus text
            out, self._prefix = self._prefix, b""
            return out
        return self._fh.read(size)


def _read_parquet(source: str) -> Iterator[InputRecord]:
    import pyarrow.parquet as pq

    def batches():
        reader = pq.ParquetFile(source)
        if b"huggingface" not in (reader.schema_arrow.metadata or {}):
            yield from (_batch_rows(batch) for batch in reader.iter_batches(batch_size=512))
            return
        # written by datasets (`to_parquet`): decode its features, e.g. Json columns stored as text
        from datasets import Features

        features = Features.from_arrow_schema(reader.schema_arrow)
        for batch in reader.iter_batches(batch_size=512):
            yield [row if isinstance(row, _RowError) else _decoded(features, row) for row in _batch_rows(batch)]

    yield from _read_rows(source, "parquet file", batches)


def _read_arrow(source: str) -> Iterator[InputRecord]:
    """One Arrow file of a `save_to_disk` dataset, memory-mapped, decoded with the dataset's features."""
    def batches():
        from datasets import Dataset

        for batch in Dataset.from_file(source).iter(batch_size=512):
            yield [_present(dict(zip(batch, values))) for values in zip(*batch.values())]

    yield from _read_rows(source, "dataset arrow file", batches)


@dataclass(slots=True)
class _RowError:
    """Why one row of a columnar file could not be decoded, and its undecoded cells; other rows still read."""

    reason: str
    raw: bytes


def _batch_rows(batch: Any) -> list[Any]:
    """A record batch as Python rows; if it cannot be converted whole, row by row, so one bad value
    (a timestamp out of Python's range, say) costs only its own row."""
    try:
        return batch.to_pylist()
    except Exception:  # pyarrow raises many types for a value Python cannot hold
        pass
    rows: list[Any] = []
    for i in range(batch.num_rows):
        try:
            rows.extend(batch.slice(i, 1).to_pylist())
        except Exception as exc:  # noqa: BLE001 - reported as this row's error
            rows.append(_RowError(f"row cannot be converted: {type(exc).__name__}: {exc}",
                                  _loose_json(_cells_as_text(batch.slice(i, 1)))))
    return rows


def _cells_as_text(row: Any) -> dict[str, Any]:
    """One row's cells for an invalid/ row: as Python values where possible, else as Arrow's text."""
    import pyarrow as pa

    cells: dict[str, Any] = {}
    for name, column in zip(row.schema.names, row.columns):
        try:
            cells[name] = column.to_pylist()[0]
        except Exception:  # noqa: BLE001 - the value Python cannot hold: keep Arrow's rendering
            try:
                cells[name] = column.cast(pa.string()).to_pylist()[0]
            except Exception:  # noqa: BLE001
                cells[name] = f"<{column.type} value that cannot be shown>"
    return cells


def _decoded(features: Any, row: dict[str, Any]) -> dict[str, Any] | _RowError:
    """A datasets row decoded with its features, or the reason it cannot be (a value that breaks its type)."""
    try:
        return _present(features.decode_example(row))
    except Exception as exc:  # datasets raises many types for a value that does not fit its feature
        return _RowError(f"row does not match the file's features: {type(exc).__name__}: {exc}", _loose_json(row))


def _loose_json(value: Any) -> bytes:
    """`value` as JSON for an invalid/ row, whatever it holds (unknown types as text); b"" if even that fails."""
    try:
        return json.dumps(value, default=str).encode()
    except (TypeError, ValueError, RecursionError):  # RecursionError: nested deeper than Python recurses
        return b""


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
                if isinstance(item, _RowError):
                    yield InputRecord(source, row, item.raw, error=item.reason)
                    continue
                try:
                    raw = orjson.dumps(item, default=str)
                except TypeError as exc:
                    yield InputRecord(source, row, b"", error=f"row cannot be represented as JSON: {exc}")
                    continue
                yield InputRecord(source, row, raw, item)
    except Exception as exc:  # pyarrow and datasets raise many types for damaged files
        yield InputRecord(source, row + 1, b"", error=f"{what} could not be read past row {row}: {exc}")
