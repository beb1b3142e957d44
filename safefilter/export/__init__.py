"""Safety-training exports of a finished run: `steps`, `prefixes` and `trajectories` datasets.

    export_run("runs/r7", "steps", "exports/steps")     # Parquet shards + dataset_info.json + card

Each is a Hugging Face dataset split into train/validation/test by a hash of the record id.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from ..errors import ConfigError
from .card import render_export_card
from .labels import Judge, counting_policy, split_of
from .rescan import clean_findings
from .rows import ExportOptions, features_of, prefix_row, steps_rows, trajectory_row
from .runrecords import read_manifest_of, read_run
from .sampling import kept_benign
from .writer import write_dataset

__all__ = ["FORMATS", "ExportOptions", "ExportResult", "export_run", "options_from_config"]

FORMATS = ("steps", "prefixes", "trajectories")


@dataclasses.dataclass(frozen=True)
class ExportResult:
    output: Path
    sizes: dict[str, int]
    warnings: list[str]


def options_from_config(section: Mapping[str, Any] | None) -> ExportOptions:
    """ExportOptions from a config's `exports:` section (unknown keys are the schema's business)."""
    names = {f.name for f in dataclasses.fields(ExportOptions)}
    return ExportOptions(**{k: v for k, v in (section or {}).items() if k in names})


def _rows(run_dir: str | Path, fmt: str, judge: Judge, options: ExportOptions, outputs: tuple[str, ...],
          warnings: list[str], skipped: list[str], enrich: Callable[[Any], Any] = lambda item: item
          ) -> Iterator[dict[str, Any]]:
    for item in map(enrich, read_run(run_dir, outputs=outputs, warnings=warnings)):
        if fmt == "steps":
            yield from steps_rows(item, judge, options)
        elif fmt == "prefixes":
            row = prefix_row(item, judge, options)
            if row is None:
                skipped.append(item.id)
            else:
                yield row
        else:
            yield trajectory_row(item, judge)


def export_run(run_dir: str | Path, fmt: str, output: str | Path, *, options: ExportOptions | None = None,
               overwrite: bool = False, save_to_disk: bool = False,
               decisions: str | Path | None = None) -> ExportResult:
    """Write the `fmt` export of the run in `run_dir` to `output`, streaming (steps with a
    `benign_ratio` read the run twice: once to choose the safe rows, once to write).

    `decisions` (a review decisions JSONL) makes findings reviewers called false alarms not count
    and fills the `reviewed` column.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"export format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    options = options or ExportOptions()
    if not options.splits or any(v < 0 for v in options.splits.values()) or sum(options.splits.values()) <= 0:
        raise ConfigError(f"exports.splits must give non-negative shares that add up to more than 0, got {options.splits}")
    manifest = read_manifest_of(run_dir)
    review = None
    if decisions is not None:
        from ..review import ReviewAllowlist, read_decisions
        review = ReviewAllowlist.from_decisions(read_decisions(decisions))
    judge = Judge(counting_policy(manifest.get("config") or {}), review)
    outputs = ("unsafe", "clean") if fmt == "steps" or (fmt == "trajectories" and options.include_clean) \
        else ("unsafe",)
    warnings: list[str] = []
    skipped: list[str] = []
    keep = None
    enrich = clean_findings(manifest, warnings) if fmt == "steps" and options.rescan_clean else (lambda item: item)
    if fmt == "steps" and options.benign_ratio is not None:  # labels do not depend on the rescan: skip it here
        keep = kept_benign(((r["id"], r["label"], r["tool"])
                            for r in _rows(run_dir, fmt, judge, options, outputs, [], [])), options.benign_ratio)

    def split_rows() -> Iterator[tuple[str, dict[str, Any]]]:
        for row in _rows(run_dir, fmt, judge, options, outputs, warnings, skipped, enrich):
            if keep is None or row.get("label") != "safe" or row["id"] in keep:
                yield split_of(row.get("record_id", row["id"]), options.splits), row

    def card(sizes: dict[str, int]) -> str:
        notes = list(warnings)
        if skipped:
            notes.append(f"{len(skipped)} unsafe records have no prefix row: no counted finding points at an "
                         "action (analysis cut short, or findings only in text the agent did not run)")
        return render_export_card(fmt, sizes=sizes, manifest=manifest, options=dataclasses.asdict(options), notes=notes)

    sizes = write_dataset(Path(output), split_rows(), features_of(fmt), card, order=list(options.splits), overwrite=overwrite,
                          save_to_disk=save_to_disk)
    return ExportResult(Path(output), sizes, warnings)
