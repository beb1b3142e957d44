"""Telling a broken system from a bad record, and stopping a run whose detectors keep failing.

A detector that raises on one record is that record's problem: the record goes to invalid/ with
the reason and the run goes on. Some exceptions are never about one record: a model that cannot
load, a device that is gone or out of memory, the process out of memory. `is_system_fault` names
those; the scanner lets them through so the run stops at once with one clear line.

Between the two sits a detector that fails on many records: each failure alone looks like a
record fault, but together they mean the detector is broken and the outputs would be mostly
invalid/. `FailureBudget` counts them in the run loop and stops the run (DetectorError) once more
than `limits.max_detector_failure_share` of the scanned records failed, after at least
`limits.min_detector_failures` failures (so one odd record early in a run does not stop it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import DetectorError, RecordError, SafeFilterError

__all__ = ["is_system_fault", "FailureBudget"]

# torch's own error types for a device that is gone or out of memory (matched by name: torch is optional here)
_DEVICE_ERROR_TYPES = frozenset({"OutOfMemoryError", "AcceleratorError", "CudaError", "DeferredCudaCallError"})
# RuntimeError messages torch raises for a broken device, where it has no type of its own
_DEVICE_MARKERS = ("CUDA error", "CUDA out of memory", "cuDNN error", "CUBLAS_STATUS", "device-side assert",
                   "no CUDA GPUs are available", "Found no NVIDIA driver", "MPS backend out of memory")


def is_system_fault(exc: BaseException) -> bool:
    """Whether `exc` is a fault of the system (stop the run) rather than of the record being scanned."""
    if isinstance(exc, RecordError):
        return False
    if isinstance(exc, (SafeFilterError, MemoryError)):
        return True
    if any(t.__name__ in _DEVICE_ERROR_TYPES for t in type(exc).__mro__):
        return True
    if isinstance(exc, RuntimeError):
        text = str(exc)[:2000]
        return any(marker in text for marker in _DEVICE_MARKERS)
    return False


@dataclass
class FailureBudget:
    """How many detector failures a run tolerates, and the running count of one run.

    `max_share` of the records scanned so far may fail once `min_failures` have failed; one more
    and `add` raises DetectorError. `max_share=1` never stops a run.
    """

    max_share: float = 0.01
    min_failures: int = 10
    scanned: int = 0
    failures: int = 0
    last_error: str = ""

    @classmethod
    def from_config(cls, limits: dict[str, Any]) -> "FailureBudget":
        return cls(max_share=float(limits["max_detector_failure_share"]),
                   min_failures=int(limits["min_detector_failures"]))

    def add(self, scanned: int, errors: list[str]) -> None:
        """Count one batch: `scanned` records went to the detectors, `errors` are their failures."""
        self.scanned += scanned
        self.failures += len(errors)
        if errors:
            self.last_error = errors[-1]
        if self.exceeded():
            raise DetectorError(
                f"detectors failed on {self.failures} of {self.scanned} records scanned "
                f"({self.failures / max(self.scanned, 1):.1%}, more than limits.max_detector_failure_share="
                f"{self.max_share:g}); the last: {self.last_error[:300]}. The detector or its model is broken: fix "
                "it, or raise limits.max_detector_failure_share (1 never stops) to set such records aside in invalid/")

    def exceeded(self) -> bool:
        return (self.failures >= max(self.min_failures, 1)
                and self.failures > self.max_share * self.scanned)
