"""Hugging Face `datasets` adapter: safety columns for `Dataset.map`, a one-call split, run output.

Detection is the `Scanner` every other runtime uses (built from a run config through
`executors.scanners.build_scanner`); this module only turns dataset rows into records and verdicts into columns.

    from safefilter.hf import SafetyColumns, split_safety
    scored = ds.map(SafetyColumns(), batched=True, with_indices=True)   # or add_safety_columns(ds)
    parts = split_safety(ds, num_proc=2)        # DatasetDict: clean, unsafe, invalid

Scanners are cached per process, keyed by the resolved config, so a worker compiles the rules once
no matter how many batches it maps; `SafetyColumns` pickles without its scanner.
`datasets` is imported only inside these functions: `import safefilter` stays light.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

import orjson

from . import __version__
from .config import config_sha256, load_config, resolve_config
from .errors import SafeFilterError
from .executors.scanners import cached_scanner
from .faults import is_system_fault
from .scanner import Scanner, ScanResult, record_id

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict, Features

__all__ = ["SAFETY_COLUMNS", "SafetyColumns", "add_safety_columns", "split_safety", "scanner_config",
           "save_run_dataset"]

#: Columns `SafetyColumns` adds (before any prefix), in order.
SAFETY_COLUMNS = ("unsafe", "categories", "severity", "first_unsafe_message", "findings", "analysis_incomplete",
                  "error")

def scanner_config(config: str | os.PathLike[str] | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A complete run config for scanning only: None (defaults), a YAML path, or a (partial) dict.

    `input` and `output` are not needed to scan a dataset, so they get placeholders when absent.
    """
    placeholders = {"input": "<datasets>", "output": "<datasets>"}
    if config is None:
        return resolve_config(placeholders)[0]
    if isinstance(config, (str, os.PathLike)):
        import yaml

        try:
            raw = yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise SafeFilterError(f"cannot read config {config}: {exc.strerror}") from None
        if not isinstance(raw, dict):
            return load_config(config)[0]  # raises the usual "must be a mapping" error
        return resolve_config({**placeholders, **raw})[0]
    return resolve_config({**placeholders, **dict(config)})[0]


def _cached_scanner(config: dict[str, Any]) -> Scanner:
    """This process's scanner for `config`: the cache Ray and multi-process workers use too."""
    return cached_scanner(config)


class SafetyColumns:
    """A batched `Dataset.map` function that adds safety columns and keeps every other column.

    Columns added (names get `prefix` in front):
      unsafe (bool or None), categories (list of str), severity (str or None),
      first_unsafe_message (int or None), findings (list of structs, the contract's finding
      fields), error (str or None).
    A row that cannot be read as a trajectory gets unsafe=None, empty verdict columns and the
    reason in `error`; it never stops the map. Clean rows may carry findings with
    requested=true (behaviour the task asked for).

    The record scanned is the row itself, with `messages_column` renamed to `messages`, so rows
    in the `steps` or SWE-agent `trajectory` shape work too. Null cells are dropped first (a
    columnar dataset fills fields a record lacks with null), and a messages column holding JSON
    text is decoded. The row's id comes from `id_column`, else `label:index` (pass
    `with_indices=True` to `map` for stable indices).
    """

    def __init__(self, config: str | os.PathLike[str] | Mapping[str, Any] | None = None, *,
                 messages_column: str = "messages", id_column: str = "id", prefix: str = "",
                 label: str = "dataset") -> None:
        self.config = scanner_config(config)
        self.messages_column = messages_column
        self.id_column = id_column
        self.prefix = prefix
        self.label = label
        # Built now so a bad config fails here, and forked workers inherit the compiled scanner.
        scanner = _cached_scanner(self.config)
        self.fingerprint = _fingerprint(self.config, scanner)

    def __getstate__(self) -> dict[str, Any]:
        # What datasets hashes for its cache and what workers receive: no compiled state.
        return {k: getattr(self, k) for k in ("config", "messages_column", "id_column", "prefix", "label",
                                              "fingerprint")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def columns(self) -> list[str]:
        return [self.prefix + name for name in SAFETY_COLUMNS]

    def features(self, base: Mapping[str, Any] | None = None) -> "Features":
        """Features of `map`'s output: `base` (the dataset's features) plus the fixed safety columns.

        Pass them to `map(features=...)`: a batch without findings would otherwise type
        `findings` as a list of nulls.
        """
        from datasets import Features, Value

        types = {"unsafe": Value("bool"), "categories": [Value("string")], "severity": Value("string"),
                 "first_unsafe_message": Value("int64"), "findings": [finding_features()],
                 "analysis_incomplete": [incomplete_features()], "error": Value("string")}
        return Features({**(base or {}), **{self.prefix + name: types[name] for name in SAFETY_COLUMNS}})

    def __call__(self, batch: Mapping[str, Sequence[Any]], indices: Sequence[int] | None = None
                 ) -> dict[str, list[Any]]:
        size = len(next(iter(batch.values()))) if batch else 0
        positions = list(indices) if indices is not None else list(range(size))
        pairs = []
        for i, index in enumerate(positions):
            row = {name: values[i] for name, values in batch.items()}
            pairs.append((self._record(row), record_id({"id": row.get(self.id_column)}, self.label, index)))
        out: dict[str, list[Any]] = {name: [] for name in self.columns}
        for result in _scan(_cached_scanner(self.config), pairs):
            for name, value in zip(self.columns, _row_columns(result)):
                out[name].append(value)
        return out

    def _record(self, row: dict[str, Any]) -> dict[str, Any]:
        # A null cell is how a columnar dataset says "this record has no such field".
        row = {name: value for name, value in row.items() if value is not None}
        if self.messages_column in row:
            messages = row.pop(self.messages_column)
            if isinstance(messages, (str, bytes)):
                try:
                    messages = orjson.loads(messages)
                except orjson.JSONDecodeError:
                    pass  # left as text: the scanner reports the shape problem
            row["messages"] = messages
        return row


def _scan(scanner: Scanner, pairs: list[tuple[dict[str, Any], str]]) -> list[ScanResult]:
    """scan_records, but an unexpected failure on one odd row is reported on that row only.

    System faults (a broken model or device, out of memory) are not a row's problem: they stop the map.
    """
    try:
        return scanner.scan_records(pairs)
    except Exception as exc:  # noqa: BLE001 - narrowed below, row by row
        if is_system_fault(exc):
            raise
        results = []
        for record, rid in pairs:
            try:
                results.extend(scanner.scan_records([(record, rid)]))
            except Exception as exc:  # noqa: BLE001 - becomes this row's `error` value
                if is_system_fault(exc):
                    raise
                results.append(ScanResult(rid, error=f"row could not be scanned: {type(exc).__name__}: {exc}"))
        return results


def _row_columns(result: ScanResult) -> tuple[Any, ...]:
    """One row's values, in SAFETY_COLUMNS order."""
    verdict = result.verdict
    if verdict is None:
        return None, [], None, None, [], [], result.error
    findings = [{k: v for k, v in f.to_dict().items() if k in FINDING_FIELDS} for f in verdict.findings]
    severity = verdict.severity.label if verdict.severity else None
    cut_short = [i.to_dict() for i in verdict.analysis_incomplete]
    return verdict.unsafe, list(verdict.categories), severity, verdict.first_unsafe_message, findings, cut_short, None


#: Fields of one finding, as in the contract's `safety.findings` (and `Finding.to_dict`).
FINDING_FIELDS = ("category", "subcategory", "detector", "rule_id", "score", "severity", "mitre",
                  "message_index", "tool_call_id", "field", "start", "end", "evidence", "decoded_from",
                  "requested")


def finding_features() -> dict[str, Any]:
    """The `datasets` struct of one finding."""
    from datasets import Value

    string, integer = Value("string"), Value("int64")
    types = {"score": Value("float64"), "mitre": [string], "message_index": integer, "start": integer,
             "end": integer, "requested": Value("bool")}
    return {name: types.get(name, string) for name in FINDING_FIELDS}


def incomplete_features() -> dict[str, Any]:
    """The `datasets` struct of one `analysis_incomplete` entry (a limit that cut analysis short)."""
    from datasets import Value

    return {"reason": Value("string"), "message_index": Value("int64"), "field": Value("string")}


def safety_features() -> dict[str, Any]:
    """The `datasets` struct of the contract's `safety` object (`analysis_incomplete` empty unless a limit hit)."""
    from datasets import Value

    return {"unsafe": Value("bool"), "categories": [Value("string")], "severity": Value("string"),
            "first_unsafe_message": Value("int64"), "findings": [finding_features()],
            "analysis_incomplete": [incomplete_features()]}


def _fingerprint(config: dict[str, Any], scanner: Scanner) -> str:
    """Changes when the config, a rule pack's content or the package version changes."""
    packs = [p.sha256 for p in scanner.packs]
    text = json.dumps([config_sha256(config), packs, __version__])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def add_safety_columns(dataset: "Dataset", config: str | os.PathLike[str] | Mapping[str, Any] | None = None, *,
                       messages_column: str = "messages", id_column: str = "id", prefix: str = "",
                       num_proc: int | None = None, batch_size: int = 64) -> "Dataset":
    """`dataset` with the safety columns of `SafetyColumns` added; all other columns kept."""
    fn = SafetyColumns(config, messages_column=messages_column, id_column=id_column, prefix=prefix)
    clash = [c for c in fn.columns if c in dataset.column_names]
    if clash:
        raise SafeFilterError(f"dataset already has column(s) {clash}; pass prefix='safety_' (or another) "
                              "so the safety columns get different names")
    return dataset.map(fn, batched=True, batch_size=batch_size, with_indices=True, num_proc=num_proc,
                       features=fn.features(dataset.features), desc="safefilter scan")


def _flags_are(value: bool | None):
    def keep(flags: list[bool | None]) -> list[bool]:
        return [flag is value for flag in flags]
    return keep


def split_safety(dataset: "Dataset", config: str | os.PathLike[str] | Mapping[str, Any] | None = None, *,
                 messages_column: str = "messages", id_column: str = "id", prefix: str = "",
                 num_proc: int | None = None, batch_size: int = 64) -> "DatasetDict":
    """Scan `dataset` and split it: DatasetDict with `clean`, `unsafe` and `invalid` (always all three).

    clean: the original columns only. unsafe: original columns plus the verdict columns (no
    `error`). invalid: original columns plus `error`.
    """
    from datasets import DatasetDict

    scored = add_safety_columns(dataset, config, messages_column=messages_column, id_column=id_column,
                                prefix=prefix, num_proc=num_proc, batch_size=batch_size)
    flag, error = prefix + "unsafe", prefix + "error"
    added = [prefix + name for name in SAFETY_COLUMNS]

    def part(value: bool | None, drop: list[str]) -> "Dataset":
        kept = scored.filter(_flags_are(value), batched=True, input_columns=[flag], num_proc=num_proc,
                             desc=f"safefilter split ({value})")
        return kept.remove_columns(drop)

    return DatasetDict({
        "clean": part(False, added),
        "unsafe": part(True, [error]),
        "invalid": part(None, [c for c in added if c != error]),
    })


# --- run output as a DatasetDict ---------------------------------------------------------------

#: Columns of the invalid split, as the run writes them to invalid/.
INVALID_FIELDS = ("source", "line", "error", "raw", "raw_base64")


def save_run_dataset(root: str | os.PathLike[str]) -> Path:
    """Save a finished run's outputs as RUN_DIR/dataset/, a DatasetDict (`load_from_disk` reads it).

    Splits `clean`, `unsafe` (with the contract's `safety` struct) and `invalid`, built from the
    shards in clean/, unsafe/ and invalid/, streamed twice (once to learn each column's type,
    once to write), so memory does not grow with the run. A column whose values are all strings,
    booleans, integers or numbers gets that type; any other column is stored as `datasets.Json`.
    """
    from datasets import Dataset, DatasetDict

    root = Path(root)
    target, tmp = root / "dataset", root / ".dataset.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        splits = {}
        for kind in ("clean", "unsafe", "invalid"):
            shards = sorted(p for p in (root / kind).glob("part-*") if p.suffix in (".jsonl", ".parquet"))
            features = _infer_features(shards, kind)
            if not features:  # an empty output: datasets cannot write a split without columns
                features = _empty_features(kind)
            if not shards:
                splits[kind] = Dataset.from_dict({name: [] for name in features}, features=features)
                continue
            splits[kind] = Dataset.from_generator(
                _rows, features=features, cache_dir=str(tmp / "cache"),
                gen_kwargs={"shards": [str(p) for p in shards], "columns": tuple(features)})
        # An empty split needs num_shards=1, or DatasetDict.save_to_disk writes no Arrow file for it
        # and load_from_disk then fails.
        empty = {name: 1 for name, split in splits.items() if len(split) == 0}
        DatasetDict(splits).save_to_disk(str(tmp / "dataset"), num_shards=empty)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp / "dataset", target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _records(shards: Sequence[str]) -> Iterator[dict[str, Any]]:
    from .io import read_file

    for shard in shards:
        for item in read_file(shard):
            if item.error is not None or not isinstance(item.record, dict):
                raise SafeFilterError(f"{shard} line {item.line}: {item.error or 'not a JSON object'}; "
                                      "the run's outputs were changed after it wrote them")
            yield item.record


def _rows(shards: list[str], columns: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    for record in _records(shards):
        yield {name: record.get(name) for name in columns}


def _infer_features(shards: list[Path], kind: str) -> "Features":
    from datasets import Features, Json, Value

    if kind == "invalid":
        string = Value("string")
        return Features({name: Value("int64") if name == "line" else string for name in INVALID_FIELDS})
    seen: dict[str, set[str]] = {}
    for row in _records([str(p) for p in shards]):
        for name, value in row.items():
            seen.setdefault(name, set()).add(_kind_of(value))
    scalar = {frozenset({"str"}): Value("string"), frozenset({"bool"}): Value("bool"),
              frozenset({"int"}): Value("int64"), frozenset({"float"}): Value("float64"),
              frozenset({"int", "float"}): Value("float64"), frozenset({"list"}): [Json()]}
    features = {}
    for name, kinds in seen.items():
        if name == "safety" and kind == "unsafe":
            features[name] = safety_features()
        else:
            features[name] = scalar.get(frozenset(kinds - {"null"}), Json())
    return Features(features)


def _empty_features(kind: str) -> "Features":
    """Columns of a split the run wrote nothing to: the id, and the safety object for unsafe."""
    from datasets import Features, Value

    columns: dict[str, Any] = {"id": Value("string")}
    if kind == "unsafe":
        columns["safety"] = safety_features()
    return Features(columns)


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if -(1 << 63) <= value < (1 << 63) else "big"
    return {float: "float", str: "str", list: "list", dict: "dict"}.get(type(value), "other")
