"""A run directory that knows it is one: checks before a run writes, the marker, and what a run may delete.

A run claims its `--output` by writing RUN_DIR/.safefilter-run.json (tool, version, created) into a
new or empty folder. `overwrite` and `--resume` act only on folders that carry the marker, and they
delete only what a run writes: the shards the manifest and `_state/` list, files with the run's
own shard names, the fixed names (manifest.json, cards/clean.md, cards/unsafe.md, `_state/*.json`,
`dataset/` as written by `datasets`) and the run's temporaries. Anything else in the folder is
left alone. An output that is an input file, an input folder, inside one or contains an input is
refused before anything is written.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path, PurePath
from typing import Any, Iterable, Iterator, Sequence

from . import __version__
from .atomic import atomic_write
from .errors import OutputError
from .runlock import LOCK_NAME

__all__ = ["MARKER_NAME", "check_output", "claim", "is_run_dir", "clear_run", "remove_temporaries",
           "run_files", "has_run_outputs"]

MARKER_NAME = ".safefilter-run.json"
DATA_DIRS = ("clean", "unsafe", "invalid")
CARD_FILES = ("cards/clean.md", "cards/unsafe.md")
FIXED_FILES = ("manifest.json", *CARD_FILES, "_state/run.json", "report.html")
#: Export folders a run writes after its manifest (`exports.formats`); removed on overwrite only
#: when they hold what `safefilter export` writes (a `dataset_info.json`).
EXPORT_FORMATS = ("steps", "prefixes", "trajectories")
_SHARD = re.compile(r"part-\d{5}-\d{5}(?:_\d{3,})?\.(?:jsonl|parquet)")  # _001...: Parquet roll-over files
_STATE_FILE = re.compile(r"input-\d{5}\.json")
# `.NAME.PID.tmp` (atomic_write, the shard writers) and the older `.manifest.json.tmp`
_TEMPORARY = re.compile(r"\.(?:part-\d{5}-\d{5}(?:_\d{3,})?\.(?:jsonl|parquet)|manifest\.json|clean\.md|unsafe\.md|run\.json|report\.html|"
                        r"input-\d{5}\.json|\.safefilter-run\.json)(?:\.\d+)?\.tmp")
_OUTPUT_HINT = "choose another --output (a new or empty folder)"


def _real(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.path.expanduser(str(path))))


def _specs(spec: str | Sequence[str]) -> list[str]:
    return [os.path.expanduser(str(item)) for item in ([spec] if isinstance(spec, (str, os.PathLike)) else spec)]


def _input_folders(spec: str | Sequence[str]) -> list[Path]:
    """Folders an input spec reads recursively: folders named, and the fixed part of a `**` glob."""
    folders = []
    for item in _specs(spec):
        if os.path.isdir(item):
            folders.append(_real(item))
        elif "**" in item and not os.path.exists(item):
            fixed = item.split("**", 1)[0]
            folders.append(_real(fixed.rsplit("/", 1)[0] if "/" in fixed else "."))
    return folders


def _glob_reads(spec: str | Sequence[str], out: Path) -> str | None:
    """The first glob of `spec` that would match the shards a run writes into `out`, if any."""
    for item in _specs(spec):
        if os.path.exists(item) or not any(ch in item for ch in "*?[") or "**" in item:
            continue
        parts = Path(item).parts
        fixed = next(i for i, part in enumerate(parts) if any(ch in part for ch in "*?["))
        pattern = str(_real(Path(*parts[:fixed]) if fixed else ".").joinpath(*parts[fixed:]))
        if any(PurePath(out, kind, f"part-00000-00000.{ext}").match(pattern)
               for kind in DATA_DIRS for ext in ("jsonl", "parquet")):
            return item
    return None


def check_output(root: Path, input_spec: str | Sequence[str], files: Iterable[Path]) -> None:
    """Refuse an output that overlaps the inputs or is not a folder; raise OutputError."""
    out = _real(root)
    named = [Path(item) for item in _specs(input_spec) if os.path.isfile(item)]
    for path in [*named, *files]:
        real = _real(path)
        if real == out:
            raise OutputError(f"--output {root} is the input file {path}; {_OUTPUT_HINT}")
        if real.is_relative_to(out):
            raise OutputError(f"--output {root} contains the input file {path}: the run could overwrite or later "
                              f"read back its own outputs; {_OUTPUT_HINT} outside the inputs")
    for folder in _input_folders(input_spec):
        if out == folder or out.is_relative_to(folder):
            what = "is" if out == folder else "is inside"
            raise OutputError(f"--output {root} {what} the input folder {folder}: its outputs would be read "
                              f"as input next time; {_OUTPUT_HINT} outside the inputs")
    pattern = _glob_reads(input_spec, out)
    if pattern is not None:
        raise OutputError(f"the input glob {pattern!r} would read the outputs of --output {root} back as input "
                          f"next time; {_OUTPUT_HINT} the glob does not match")
    if root.exists() and not root.is_dir():
        raise OutputError(f"--output {root} is {'a file' if root.is_file() else 'not a folder'}; "
                          "the run directory must be a folder: give a new or empty folder, e.g. runs/NAME")


def is_run_dir(root: Path) -> bool:
    """Whether `root` carries the marker of a safefilter run directory."""
    return (root / MARKER_NAME).is_file()


_MARKER_TEMPORARY = re.compile(r"\.\.safefilter-run\.json\.\d+\.tmp")


def _foreign_entries(root: Path) -> list[str]:
    """What is in `root` besides the lock, the marker and a marker half-written by a killed run."""
    return sorted(name for name in os.listdir(root)
                  if name not in (LOCK_NAME, MARKER_NAME) and not _MARKER_TEMPORARY.fullmatch(name))


def refuse_foreign(root: Path) -> None:
    """Before any write: a non-empty folder that is not a run directory is refused, untouched."""
    if root.is_dir() and not is_run_dir(root):
        entries = _foreign_entries(root)
        if entries:
            shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
            manifest = _json(root / "manifest.json")
            if isinstance(manifest, dict) and "run_fingerprint" in manifest:
                raise OutputError(f"--output {root} looks like a run directory written by an older safefilter "
                                  f"(manifest.json, no {MARKER_NAME}); nothing was changed: delete it yourself or "
                                  "choose another --output")
            raise OutputError(f"--output {root} is not empty ({shown}) and is not a safefilter run directory "
                              f"(no {MARKER_NAME}); nothing was changed: {_OUTPUT_HINT}")


def claim(root: Path, *, overwrite: bool, resume: bool, dataset_output: bool = False) -> None:
    """Make `root` this run's directory (call with its lock held): mark it, or clear an earlier run."""
    refuse_foreign(root)
    if dataset_output and (root / "dataset").exists() and _run_dataset(root) is None:
        raise OutputError(f"{root / 'dataset'} exists and was not written by safefilter; dataset_output would "
                          "replace it: move it away or choose another --output")
    if resume:
        if not is_run_dir(root):
            raise OutputError(f"{root} is not a safefilter run directory (no {MARKER_NAME}); nothing to resume: "
                              "run without --resume")
        return
    remove_temporaries(root)  # left by a crash; under the lock nobody else is writing them
    if has_run_outputs(root):
        if not overwrite:
            found = ", ".join(sorted({p.relative_to(root).parts[0] for p in run_files(root) if p.exists()}))
            raise OutputError(f"output directory {root} already holds a run ({found}); choose another --output "
                              "or pass --set overwrite=true to replace it")
        clear_run(root)
    if not is_run_dir(root):
        marker = {"tool": "safefilter", "version": __version__,
                  "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        atomic_write(root / MARKER_NAME, json.dumps(marker, indent=1) + "\n")


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _listed_outputs(root: Path, record: Any) -> Iterator[Path]:
    """Output paths a manifest's or state record's shard entries list, kept inside `root`."""
    shards = record.get("shards", []) if isinstance(record, dict) else []
    if isinstance(record, dict) and "shard" in record:
        shards = [record["shard"]]
    for shard in shards if isinstance(shards, list) else []:
        outputs = shard.get("outputs") if isinstance(shard, dict) else None
        for paths in outputs.values() if isinstance(outputs, dict) else []:
            for rel in paths if isinstance(paths, list) else []:
                path = root / str(rel)
                if _real(path).is_relative_to(_real(root)) and path.parent.name in DATA_DIRS:
                    yield path


def _names(folder: Path, pattern: re.Pattern[str]) -> Iterator[Path]:
    try:
        names = os.listdir(folder)
    except OSError:  # missing or unreadable: nothing of the run's to find there
        return
    for name in names:
        if pattern.fullmatch(name):
            yield folder / name


def run_files(root: Path, *, with_temporaries: bool = True) -> list[Path]:
    """The ledger: every file in `root` a run wrote (or may have started to write)."""
    found = [root / name for name in FIXED_FILES]
    found += _listed_outputs(root, _json(root / "manifest.json"))
    for state in _names(root / "_state", _STATE_FILE):
        found += [state, *_listed_outputs(root, _json(state))]
    for kind in DATA_DIRS:
        found += _names(root / kind, _SHARD)
    if with_temporaries:
        found += temporaries(root)
    return list(dict.fromkeys(found))


def has_run_outputs(root: Path) -> bool:
    """Whether an earlier run left outputs or state here (temporaries alone do not count)."""
    return any(p.exists() for p in run_files(root, with_temporaries=False)) or _run_dataset(root) is not None


def temporaries(root: Path) -> list[Path]:
    """Temporary files a run leaves only when interrupted."""
    return [p for folder in (root, root / "cards", root / "_state", *(root / k for k in DATA_DIRS))
            for p in _names(folder, _TEMPORARY)]


def _run_dataset(root: Path) -> Path | None:
    """RUN_DIR/dataset/ if it is what `datasets` wrote for the run (a DatasetDict), else None."""
    folder = root / "dataset"
    return folder if (folder / "dataset_dict.json").is_file() else None


def remove_temporaries(root: Path) -> list[Path]:
    """Delete the run's temporaries (call with the lock held); returns what was removed."""
    removed = []
    for path in temporaries(root):
        try:
            path.unlink(missing_ok=True)
        except OSError:  # cleaning up after a failure must not hide that failure; --resume retries
            continue
        removed.append(path)
    if (root / ".dataset.tmp").is_dir():
        shutil.rmtree(root / ".dataset.tmp", ignore_errors=True)
        removed.append(root / ".dataset.tmp")
    return removed


def clear_run(root: Path) -> None:
    """Delete what an earlier run wrote in `root` (overwrite), leaving any other file in place."""
    for path in run_files(root):
        path.unlink(missing_ok=True)
    remove_temporaries(root)
    dataset = _run_dataset(root)
    if dataset is not None:
        shutil.rmtree(dataset)
    for fmt in EXPORT_FORMATS:
        folder = root / "exports" / fmt
        if (folder / "dataset_info.json").is_file():
            shutil.rmtree(folder)
    for folder in ("_state", "cards", "exports", *DATA_DIRS):
        try:
            (root / folder).rmdir()
        except OSError:  # missing, or holds files the run did not write: keep them
            pass
