"""Run configuration: YAML in, validated against a JSON Schema, overrides applied and recorded.

Defaults live here in one dict; a config file only states what differs. Errors name the key and
what was expected, and suggest the closest known key for typos.
"""
from __future__ import annotations

import copy
import difflib
import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import jsonschema
import yaml

from .errors import ConfigError

__all__ = ["DEFAULTS", "load_config", "resolve_config", "apply_override", "config_sha256"]

DEFAULTS: dict[str, Any] = {
    "output_format": "jsonl",
    "dataset_output": False,
    "overwrite": False,
    "batch_size": 256,
    "max_records_per_shard": 100_000,
    "progress": "auto",
    "rules": {"packs": ["builtin"], "include_experimental": False},
    "policy": {"requested_is_unsafe": False, "min_severity": "low", "disabled_rules": [], "combine": "either",
               "incomplete_is_unsafe": True},
    "allowlist": {"hosts": [], "commands": []},
    "normalize": {"max_decode_depth": 3, "max_derived_per_segment": 64, "max_text_chars": 1 << 20,
                  "work_per_char": 16},
    "classifier": {"enabled": False, "model": "builtin", "gate": "undecided", "device": "auto",
                   "batch_size": 64, "max_length": None, "inputs": None, "cache_size": 100_000, "include_decoded": True,
                   "thresholds": {}, "severity": "medium"},
    "limits": {"max_detector_failure_share": 0.01, "min_detector_failures": 10},
    "events": {"enabled": True, "seconds_per_record": 2.0},
    "executor": "auto",
    "ray": {"address": None, "num_cpus": None, "num_workers": None, "num_cpus_per_worker": 1,
            "num_gpus_per_worker": 0, "max_retries": 3, "min_bytes": 256 << 20},
    # issue 11: safety-training exports, the run report, review feedback
    "exports": {"formats": [], "splits": {"train": 0.8, "validation": 0.1, "test": 0.1}, "context_chars": 4000,
                "output_chars": 1000, "benign_ratio": None, "include_clean": False, "chosen_template": ""},
    "report": {"enabled": True, "max_per_category": 25},
    "review": {"decisions": None},
}


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return json.loads(resources.files("safefilter").joinpath("schemas/config.schema.json").read_text())


def _known_keys(schema: dict[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for name, sub in schema.get("properties", {}).items():
        keys.append(prefix + name)
        keys.extend(_known_keys(sub, prefix + name + "."))
    return keys


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_override(config: dict[str, Any], assignment: str) -> str:
    """Apply one `key.sub=value` override in place (value parsed as YAML); return the key."""
    if "=" not in assignment:
        raise ConfigError(f"override {assignment!r} is not key=value (e.g. --set policy.min_severity=high)")
    key, _, text = assignment.partition("=")
    key = key.strip()
    try:
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"override {key}: value {text!r} is not valid YAML: {yaml_problem(exc)}") from None
    node = config
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {key}: {part!r} is not a section")
    node[parts[-1]] = value
    return key


def _validate(config: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(_schema())
    errors = list(validator.iter_errors(config))
    if not errors:
        return
    err = jsonschema.exceptions.best_match(errors)
    where = ".".join(str(p) for p in err.absolute_path)
    if err.validator == "additionalProperties":
        known = _known_keys(_schema())
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        bad = f"{where}.{extra[0]}" if where else extra[0]
        hint = difflib.get_close_matches(bad, known, n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        raise ConfigError(f"unknown config key '{bad}'{suggestion}")
    if err.validator == "required":
        raise ConfigError(f"config is missing {err.message.split(' is a')[0]} (set it in the file or on the "
                          "command line, e.g. --input PATH / --output DIR)")
    expected = err.schema.get("description") or err.schema.get("enum") or err.schema.get("type")
    raise ConfigError(f"config key '{where or '(top level)'}': {err.message} (expected: {expected})")


def resolve_config(raw: dict[str, Any], overrides: Sequence[str] = ()) -> tuple[dict[str, Any], list[str]]:
    """Defaults + file + overrides, validated. Returns the config and the override strings applied."""
    if not isinstance(raw, dict):
        raise ConfigError("config must be a YAML mapping of keys to values")
    config = _merge(DEFAULTS, raw)
    applied = []
    for assignment in overrides:
        apply_override(config, assignment)
        applied.append(assignment)
    _validate(config)
    return config, applied


def yaml_problem(exc: yaml.YAMLError) -> str:
    """The YAML parser's complaint on one line, with where it is (its message draws a caret diagram)."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{problem}{where}"


def load_config(path: str | Path | None, overrides: Sequence[str] = ()) -> tuple[dict[str, Any], list[str]]:
    """Read a YAML config file (or none) and resolve it with overrides."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config {path} is not valid YAML: {yaml_problem(exc)}") from None
    return resolve_config(raw, overrides)


def config_sha256(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
