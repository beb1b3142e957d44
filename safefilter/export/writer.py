"""Write one export as a Hugging Face dataset folder: Parquet shards, dataset_info.json, README.md.

Layout `data/<split>-00000-of-00001.parquet` with `configs:` in the card's front matter, so both
`load_dataset("parquet", data_files=...)` and `load_dataset(folder)` read it; `save_to_disk` adds
`arrow/` for `load_from_disk`. The folder is built under a temporary name and renamed into place.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import OutputError

__all__ = ["write_dataset"]


def write_dataset(out: Path, splits: Mapping[str, Sequence[dict[str, Any]]], features: Any, card: str, *,
                  overwrite: bool = False, save_to_disk: bool = False) -> dict[str, int]:
    """Write `splits` (name -> rows) under `out`; returns rows per split. Empty splits are left out."""
    from datasets import Dataset, DatasetDict, DatasetInfo, SplitDict, SplitInfo
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise OutputError(f"{out} exists and is not empty; give another --output or --overwrite")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "data").mkdir(parents=True)
    sizes: dict[str, int] = {}
    parts = {}
    bars_were_on = not are_progress_bars_disabled()
    disable_progress_bars()  # one bar per tiny shard is noise
    try:
        for name, rows in splits.items():
            if not rows:
                continue
            ds = Dataset.from_list(list(rows), features=features)
            ds.to_parquet(str(tmp / "data" / f"{name}-00000-of-00001.parquet"))
            sizes[name] = len(ds)
            parts[name] = ds
        split_dict = SplitDict()
        for name, n in sizes.items():
            split_dict.add(SplitInfo(name=name, num_examples=n))
        info = DatasetInfo(features=features, splits=split_dict, builder_name="parquet")
        info.write_to_directory(str(tmp))  # dataset_info.json, as `datasets` writes it
        (tmp / "README.md").write_text(card, encoding="utf-8")
        if save_to_disk and parts:
            DatasetDict(parts).save_to_disk(str(tmp / "arrow"))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if bars_were_on:
            enable_progress_bars()
    return sizes
