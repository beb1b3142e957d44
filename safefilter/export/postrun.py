"""What a run writes after its manifest: the configured exports and report.html.

Both are conveniences derived from the finished outputs, so neither may fail the run: a problem
is one warning line on stderr that says how to redo it by hand.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Mapping

__all__ = ["write_run_extras"]


def _warn(message: str) -> str:
    print(f"safefilter: warning: {message}", file=sys.stderr)
    return message


def write_run_extras(run_dir: str | Path, config: Mapping[str, Any]) -> list[str]:
    """Write RUN_DIR/exports/<format>/ for `exports.formats` and RUN_DIR/report.html unless
    `report.enabled` is false; returns the warnings (also printed)."""
    root = Path(run_dir)
    problems: list[str] = []
    section = config.get("exports") or {}
    for fmt in section.get("formats") or ():
        try:
            from . import export_run, options_from_config

            export_run(root, fmt, root / "exports" / fmt, options=options_from_config(section), overwrite=True,
                       decisions=(config.get("review") or {}).get("decisions"))
        except Exception as exc:  # noqa: BLE001 - the run's outputs are complete; this is derived data
            problems.append(_warn(f"the {fmt} export could not be written ({type(exc).__name__}: {exc}); "
                                  f"run `safefilter export {root} --format {fmt} --output DIR`"))
    report = config.get("report") or {}
    if report.get("enabled", True):
        try:
            from ..report import write_report

            write_report(root, max_per_category=report.get("max_per_category"))
        except Exception as exc:  # noqa: BLE001
            problems.append(_warn(f"the run report could not be written ({type(exc).__name__}: {exc}); "
                                  f"run `safefilter report {root}`"))
    return problems
