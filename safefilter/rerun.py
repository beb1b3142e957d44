"""Where a run's config comes from: a config file, a past run's manifest, or an interrupted run.

`safefilter run --from-manifest RUN_DIR/manifest.json` reruns a past run with its resolved config
(defaults, overrides and input file list included). Before anything is written it compares the
manifest with today's inputs, rule packs, classifier model, safefilter source and package
versions, prints every difference, and refuses to run unless `--allow-changes` is given: a rerun
that cannot be exact should not pass for one. The differences allowed are recorded in the new
manifest under `from_manifest.changes`. A rerun never inherits the past run's `overwrite`: without
`--output` it targets the original directory and is refused unless `--set overwrite=true` is given.
"""
from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .config import load_config, resolve_config
from .errors import SafeFilterError
from .manifest import classifier_record, code_sha256, file_sha256, package_versions, read_manifest
from .resume import EXECUTION_KEYS, RunState

__all__ = ["RunPlan", "plan_run", "find_changes"]


@dataclass(frozen=True)
class RunPlan:
    """A resolved config and what to record about where it came from."""

    config: dict[str, Any]
    overrides: list[str]
    config_file: str | None = None
    from_manifest: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def plan_run(*, config_file: str | None, overrides: Sequence[str], from_manifest: str | None = None,
             resume: bool = False, output: str | None = None, allow_changes: bool = False,
             report: Callable[[str], None] | None = None) -> RunPlan:
    """Resolve the config for `safefilter run` from whichever source the flags name."""
    report = report or (lambda line: print(line, file=sys.stderr))
    if from_manifest is not None:
        if config_file is not None:
            raise SafeFilterError("give either --config or --from-manifest, not both: the manifest holds the config")
        if any(o.startswith("input=") for o in overrides):
            raise SafeFilterError("--input cannot change a rerun: --from-manifest reads exactly the manifest's inputs")
        return _plan_rerun(Path(from_manifest), overrides, allow_changes, report)
    if config_file is None:
        if not resume:
            raise SafeFilterError("give --config FILE, --from-manifest RUN_DIR/manifest.json, "
                                  "or --resume --output RUN_DIR")
        if output is None:
            raise SafeFilterError("--resume without --config needs --output RUN_DIR (the interrupted run)")
        state = RunState(Path(output))
        if state.complete():  # nothing to resume; run() says so and exits 0
            manifest = read_manifest(Path(output) / "manifest.json")
            config, applied = resolve_config(copy.deepcopy(manifest["config"]), overrides)
            return RunPlan(config, [*manifest.get("overrides", []), *applied])
        saved = state.saved_run()
        config, applied = resolve_config(copy.deepcopy(saved["config"]), overrides)
        return RunPlan(config, [*saved["overrides"], *applied])
    config, applied = load_config(config_file, overrides)
    return RunPlan(config, applied, config_file=config_file)


def _plan_rerun(path: Path, overrides: Sequence[str], allow_changes: bool,
                report: Callable[[str], None]) -> RunPlan:
    manifest = read_manifest(path)
    recorded = copy.deepcopy(manifest["config"])
    recorded["overwrite"] = False  # the past run's overwrite never carries over: replacing a run is asked for
    config, applied = resolve_config(recorded, overrides)
    changes = find_changes(manifest, config)
    source = {"path": str(path.resolve()), "sha256": file_sha256(path), "changes": changes}
    if changes:
        report(f"safefilter: {len(changes)} change(s) since the run in {path}:")
        for change in changes:
            report(f"  - {change}")
        if not allow_changes:
            raise SafeFilterError("the rerun would not be exact (changes listed above); pass --allow-changes "
                                  "to rerun anyway (they are recorded in the new manifest)")
        report("safefilter: warning: rerunning with these changes (--allow-changes)")
    return RunPlan(config, [*manifest.get("overrides", []), *applied], from_manifest=source, notes=changes)


def find_changes(manifest: dict[str, Any], config: dict[str, Any]) -> list[str]:
    """What differs today from the run a manifest describes: inputs, rules, model, code, versions, config."""
    return [*_input_changes(manifest), *_pack_changes(manifest, config), *_model_changes(manifest, config),
            *_code_changes(manifest), *_config_changes(manifest["config"], config)]


def _input_changes(manifest: dict[str, Any]) -> list[str]:
    changes = []
    for entry in manifest.get("inputs", []):
        path = Path(entry["path"])
        if not path.is_file():
            changes.append(f"input {path} is missing")
        elif path.stat().st_size != entry["bytes"] or file_sha256(path) != entry["sha256"]:
            changes.append(f"input {path} changed (sha256 {entry['sha256'][:12]} -> {file_sha256(path)[:12]})")
    return changes


def _pack_changes(manifest: dict[str, Any], config: dict[str, Any]) -> list[str]:
    from .rules.model import load_packs

    try:
        current = {str(Path(p.path).resolve()): p for p in load_packs(config["rules"]["packs"])}
    except SafeFilterError as exc:
        return [f"rule packs cannot be loaded: {exc}"]
    changes = []
    recorded = {p["path"]: p for p in manifest.get("rule_packs", [])}
    for path, old in recorded.items():
        new = current.get(path)
        if new is None:
            changes.append(f"rule pack {old['name']} ({path}) is gone")
        elif new.sha256 != old["sha256"]:
            changes.append(f"rule pack {old['name']} ({path}) changed (sha256 {old['sha256'][:12]} -> "
                           f"{new.sha256[:12]}, {old['rules']} -> {len(new.rules)} rules)")
    changes += [f"rule pack {p.name} ({path}) is new" for path, p in current.items() if path not in recorded]
    return changes


def _model_changes(manifest: dict[str, Any], config: dict[str, Any]) -> list[str]:
    old, new = manifest.get("classifier"), classifier_record(config)
    if old is None and new is None or old == new:
        return []
    if new is not None and new["sha256"] is None:
        return [f"classifier model directory {new['path']} does not exist"]
    if old is None or new is None:
        return ["classifier was " + ("off" if old is None else "on") + " in the manifest's run"]
    return [f"classifier model {new['path']} changed (sha256 {str(old['sha256'])[:12]} -> {new['sha256'][:12]})"]


def _code_changes(manifest: dict[str, Any]) -> list[str]:
    changes = []
    recorded = manifest.get("versions", {})
    for name, version in package_versions().items():
        if name in recorded and recorded[name] != version:
            changes.append(f"{name} version {recorded[name]} -> {version}")
    if manifest.get("code_sha256") and manifest["code_sha256"] != code_sha256():
        changes.append("safefilter's source code changed since the run (code_sha256 differs)")
    return changes


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def _config_changes(recorded: dict[str, Any], config: dict[str, Any]) -> list[str]:
    old, new = _flatten(recorded), _flatten(config)
    changes = []
    for key in sorted(set(old) | set(new)):
        if key.split(".")[0] in EXECUTION_KEYS or old.get(key) == new.get(key):
            continue
        if key not in old:
            changes.append(f"config key {key} is not in the manifest; today's default {new[key]!r} applies")
        else:
            changes.append(f"config key {key}: {old[key]!r} in the manifest, {new.get(key)!r} now")
    return changes
