"""Building the scanner a config describes, and the one per-process cache every runtime shares.

The local executor, the multi-process and Ray workers and the `datasets` adapter all get their
scanner here, so a worker process compiles the rules (and loads the model) once however many work
units or batches it serves.
"""
from __future__ import annotations

import hashlib
import pickle
from typing import Any

import orjson

from ..config import config_sha256
from ..faults import FailureBudget
from ..normalize import Limits
from ..policy import Policy
from ..review import with_review
from ..scanner import EventOptions, Scanner
from ..types import Severity

__all__ = ["build_scanner", "build_classifier", "cached_scanner", "scanner_key", "SCANNER_SECTIONS"]

#: Config sections a scanner is built from (the rest says where and how a run executes).
SCANNER_SECTIONS = ("rules", "policy", "allowlist", "normalize", "classifier", "limits", "events", "review")

_CACHE: dict[str, Scanner] = {}


def build_scanner(config: dict[str, Any]) -> Scanner:
    """The scanner a config describes, ready: every runtime builds it through here, before its first record.

    `Scanner.ready()` loads the model, checks the device and that rules are loaded, so a broken
    system fails here with one DetectorError (or RuleError), not once per record.
    """
    policy_cfg, allow = config["policy"], config["allowlist"]
    policy = Policy(
        requested_is_unsafe=policy_cfg["requested_is_unsafe"],
        min_severity=Severity.parse(policy_cfg["min_severity"]),
        disabled_rules=frozenset(policy_cfg["disabled_rules"]),
        allow_hosts=tuple(allow["hosts"]),
        allow_commands=tuple(allow["commands"]),
        combine=policy_cfg["combine"],
        incomplete_is_unsafe=policy_cfg["incomplete_is_unsafe"],
    )
    policy = with_review(policy, config)  # reviewers' false alarms, scoped to rule and evidence
    norm = config["normalize"]
    limits = Limits(max_depth=norm["max_decode_depth"], max_derived=norm["max_derived_per_segment"],
                    max_text=norm["max_text_chars"], work_per_char=norm["work_per_char"])
    events = EventOptions(enabled=config["events"]["enabled"],
                          seconds_per_record=config["events"]["seconds_per_record"])
    scanner = Scanner.from_rules(config["rules"]["packs"], policy=policy, limits=limits,
                                 include_experimental=config["rules"]["include_experimental"], events=events)
    if config["classifier"]["enabled"]:
        scanner.detectors.append(build_classifier(config["classifier"]))
    scanner.failure_budget = FailureBudget.from_config(config["limits"])
    return scanner.ready()


def build_classifier(cfg: dict[str, Any]) -> Any:
    """The classifier detector a config's `classifier` section describes; fails early if the model is missing.

    Not yet loaded: `Scanner.ready()` (called by `build_scanner`) loads and checks it.
    """
    from ..classifier import ClassifierDetector, resolve_model

    return ClassifierDetector(
        resolve_model(cfg["model"]), gate=cfg["gate"], device=cfg["device"], batch_size=cfg["batch_size"],
        max_length=cfg["max_length"], inputs=cfg.get("inputs"), cache_size=cfg["cache_size"], include_decoded=cfg["include_decoded"],
        thresholds=cfg["thresholds"], severity=Severity.parse(cfg["severity"]))


def scanner_key(config: dict[str, Any], *, detectors: dict[str, Any] | None = None,
                shipped: bytes | None = None) -> str:
    """Same key, same scanner: the sections it is built from, plus the rule pack and model hashes when
    known (a long-lived worker must not reuse rules compiled from an older pack file)."""
    if shipped is not None:
        return "shipped:" + hashlib.sha256(shipped).hexdigest()
    described = {k: config.get(k) for k in SCANNER_SECTIONS}
    described["detectors"] = detectors
    return hashlib.sha256(orjson.dumps(described, option=orjson.OPT_SORT_KEYS)).hexdigest()


def cached_scanner(config: dict[str, Any], *, key: str | None = None, shipped: bytes | None = None) -> Scanner:
    """This process's scanner for `config` (or for `shipped`, a pickled scanner), built on first use.

    One entry per key; a worker that serves a new run drops the scanners of earlier ones once it
    holds more than a few, so memory does not grow with the runs it has served.
    """
    key = key or (scanner_key(config, shipped=shipped) if shipped is not None else config_sha256(config))
    scanner = _CACHE.get(key)
    if scanner is None:
        if len(_CACHE) >= 4:
            _CACHE.clear()
        scanner = pickle.loads(shipped) if shipped is not None else build_scanner(config)
        _CACHE[key] = scanner
    return scanner
