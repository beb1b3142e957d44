"""Every error safefilter raises on purpose, in one tree.

    SafeFilterError
    ├── ConfigError      (ValueError)    a run config that does not validate; names the key
    ├── RuleError        (ValueError)    a rule pack that does not load; carries file and rule id
    ├── InputError       (ValueError)    an input path that cannot be read at all
    ├── OutputError      (OSError)       the run directory cannot be used or written (not a run
    │                                    directory, locked by another run, disk full, read-only)
    ├── DetectorError    (RuntimeError)  a detector cannot work at all (model, device, rules) or
    │                                    fails on too many records: a broken system, not a record
    └── RecordError      (ValueError)    one record that cannot be read; it goes to invalid/

Two kinds of fault, two outcomes. A problem with one record never stops a run: the reader and
the scanner catch it and write the record to invalid/ with the reason. A problem with the system
(OutputError, DetectorError, ConfigError, RuleError, InputError) stops the run before or as soon
as it is seen, with one line that says what to do; the CLI prints it and exits 2.
"""
from __future__ import annotations

__all__ = ["SafeFilterError", "ConfigError", "RuleError", "InputError", "OutputError", "DetectorError",
           "RecordError"]


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


class OutputError(SafeFilterError, OSError):
    """The run directory is not safe to use or cannot be written; nothing outside the run was touched."""


class DetectorError(SafeFilterError, RuntimeError):
    """A detector cannot be built or keeps failing: model, device or rules are broken, not one record."""


class RecordError(SafeFilterError, ValueError):
    """One input record is malformed; the run continues and the record goes to invalid/."""
