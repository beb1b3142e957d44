"""Findings of clean records, for the `steps` export's `requested` and `evidence` columns.

clean/ keeps records byte for byte, so the findings a run saw there (requested behaviour, findings
under `min_severity`) are not stored. They matter for a step monitor: a requested tunnel is the
example that teaches "asked for" apart from "did on its own". The run's rules and policy are
rebuilt from its manifest (the classifier is left out: slow, and the labels stay the run's).
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Any, Callable, Mapping

from .runrecords import RunRecord

__all__ = ["clean_findings"]


def clean_findings(manifest: Mapping[str, Any], warnings: list[str]) -> Callable[[RunRecord], RunRecord]:
    """A function that gives a clean record the findings the run's rules see in it (label unchanged).

    When the run's rules cannot be rebuilt (a pack file moved), clean records keep no findings and
    one warning says so.
    """
    try:
        from ..config import resolve_config
        from ..executors.scanners import cached_scanner  # the process's scanner cache: built once per config

        config, _ = resolve_config(copy.deepcopy(dict(manifest.get("config") or {})), ["classifier.enabled=false"])
        scanner = cached_scanner(config)
    except Exception as exc:  # noqa: BLE001 - an export without these columns is still an export
        warnings.append(f"clean steps have no evidence or requested flags: the run's rules could not be rebuilt "
                        f"({type(exc).__name__}: {exc})")
        return lambda item: item

    def add(item: RunRecord) -> RunRecord:
        if item.output != "clean":
            return item
        try:
            verdict = scanner.scan(item.record, item.id)
        except Exception:  # noqa: BLE001 - the run judged this record; an export does not re-judge it
            return item
        findings = [f.to_dict() for f in verdict.findings]
        return dataclasses.replace(item, safety={"findings": findings, "categories": []}) if findings else item

    return add


