"""Write one export as a Hugging Face dataset folder: Parquet shards, dataset_info.json, README.md.

Layout `data/<split>-00000-of-00001.parquet`, which `datasets` finds by itself, so both
`load_dataset("parquet", data_files=...)` and `load_dataset(folder)` read it; `save_to_disk` adds
`arrow/` for `load_from_disk`. Rows are streamed to the Parquet files in row groups, so memory does
not grow with the run; the folder is built under a temporary name and renamed into place.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..errors import OutputError

__all__ = ["write_dataset", "ROW_GROUP"]

ROW_GROUP = 5000  # rows buffered per split before they are written as one Parquet row group


class _SplitFile:
    def __init__(self, path: Path, features: Any) -> None:
        self.path, self.features, self.rows, self.count, self.writer = path, features, [], 0, None

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= ROW_GROUP:
            self.flush()

    def flush(self) -> None:
        import pyarrow.parquet as pq
        from datasets import Dataset

        if not self.rows:
            return
        table = Dataset.from_list(self.rows, features=self.features).data.table
        if self.writer is None:
            self.writer = pq.ParquetWriter(str(self.path), table.schema)
        self.writer.write_table(table)
        self.count += len(self.rows)
        self.rows = []

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()


def write_dataset(out: Path, rows: Iterable[tuple[str, dict[str, Any]]], features: Any,
                  card: Callable[[dict[str, int]], str], *, order: Sequence[str] = (), overwrite: bool = False,
                  save_to_disk: bool = False) -> dict[str, int]:
    """Write `(split, row)` pairs under `out`; `card(sizes)` gives README.md. Returns rows per split in
    `order` (a split without rows has no file)."""
    from datasets import Dataset, DatasetDict, DatasetInfo, SplitDict, SplitInfo
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise OutputError(f"{out} exists and is not empty; give another --output or --overwrite")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "data").mkdir(parents=True)
    bars_were_on = not are_progress_bars_disabled()
    disable_progress_bars()  # one bar per tiny shard is noise
    files: dict[str, _SplitFile] = {}
    try:
        for split, row in rows:
            if split not in files:
                files[split] = _SplitFile(tmp / "data" / f"{split}-00000-of-00001.parquet", features)
            files[split].add(row)
        for f in files.values():
            f.close()
        names = [n for n in order if n in files] + sorted(n for n in files if n not in set(order))
        sizes = {name: files[name].count for name in names}
        split_dict = SplitDict()
        for name, n in sizes.items():
            split_dict.add(SplitInfo(name=name, num_examples=n))
        DatasetInfo(features=features, splits=split_dict, builder_name="parquet").write_to_directory(str(tmp))
        (tmp / "README.md").write_text(card(sizes), encoding="utf-8")
        if save_to_disk and files:
            cache = tmp / ".cache"
            parts = {name: Dataset.from_parquet(str(f.path), features=features, cache_dir=str(cache))
                     for name, f in files.items()}
            DatasetDict(parts).save_to_disk(str(tmp / "arrow"))
            del parts
            shutil.rmtree(cache, ignore_errors=True)
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        os.replace(tmp, out)
    finally:
        for f in files.values():
            if f.writer is not None:
                try:
                    f.writer.close()
                except Exception:  # noqa: BLE001 - already closed, or the error being raised matters more
                    pass
        shutil.rmtree(tmp, ignore_errors=True)
        if bars_were_on:
            enable_progress_bars()
    return sizes
