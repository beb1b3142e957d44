"""Every error safefilter raises on purpose, in one tree.

    SafeFilterError
    ├── ConfigError      (ValueError)  a run config that does not validate; names the key
    ├── RuleError        (ValueError)  a rule pack that does not load; carries file and rule id
    ├── InputError       (ValueError)  an input path that cannot be read at all
    └── RecordError      (ValueError)  one record that cannot be read; it goes to invalid/

Problems with single records never stop a run: the reader and the scanner catch
RecordError and write the record to invalid/ with the message.
"""
from __future__ import annotations

__all__ = ["SafeFilterError", "ConfigError", "RuleError", "InputError", "RecordError"]


class SafeFilterError(Exception):
    """Root of safefilter's own errors."""


class ConfigError(SafeFilterError, ValueError):
    """A run configuration is invalid; the message names the key and what was expected."""


class RuleError(SafeFilterError, ValueError):
    """A rule pack failed to load or compile."""

    def __init__(self, message: str, *, path: str | None = None, rule_id: str | None = None) -> None:
        where = ", ".join(p for p in (path and f"in {path}", rule_id and f"rule {rule_id}") if p)
        super().__init__(f"{message} ({where})" if where else message)
        self.path = path
        self.rule_id = rule_id


class InputError(SafeFilterError, ValueError):
    """An input path does not exist or has no readable files."""


class RecordError(SafeFilterError, ValueError):
    """One input record is malformed; the run continues and the record goes to invalid/."""
