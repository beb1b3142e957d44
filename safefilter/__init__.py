"""safefilter: find unsafe behaviour in LLM-agent trajectories, keep clean data, label the rest.

Public API (everything else is internal):

    from safefilter import Scanner
    scanner = Scanner.from_rules()            # built-in rule packs, default policy
    verdict = scanner.scan(record)            # record: one trajectory as a dict
    verdict.unsafe, verdict.categories, verdict.safety_object()

`import safefilter` stays light: torch, Ray and datasets load only where they are used.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import ConfigError, InputError, RecordError, RuleError, SafeFilterError
from .policy import Policy
from .scanner import Scanner, ScanResult, record_id
from .types import CATEGORIES, Finding, Segment, Severity, Verdict

__all__ = [
    "__version__", "CATEGORIES", "ConfigError", "Finding", "InputError", "Policy", "RecordError", "RuleError",
    "SafeFilterError", "ScanResult", "Scanner", "Segment", "Severity", "Verdict", "record_id",
]
