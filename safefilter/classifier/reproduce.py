"""Settings that make a training run rebuild the same weights bit for bit on the same platform.

Every source of run-to-run variation is pinned here, in one place: the python, numpy and torch
generators, torch's deterministic kernels, the CPU thread count (a float sum split over a
different number of threads rounds differently, so the count is part of the recipe), and the
tokenizers' own thread pool. `portable_path` keeps machine paths out of what a model records.
"""
from __future__ import annotations

import os
import random
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

__all__ = ["deterministic", "portable_path", "package_version", "mixed_precision"]


@contextmanager
def deterministic(seed: int, threads: int | None) -> Iterator[dict[str, Any]]:
    """Seed every generator, force deterministic kernels and pin the thread count; restore on exit.

    Yields what was set ({"seed", "threads", "deterministic_algorithms"}) for training_config.json.
    """
    import torch

    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # the Rust pool must not race with torch's threads
    if torch.cuda.is_available():
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS needs it for deterministic mode
    was_threads = torch.get_num_threads()
    was_det = torch.are_deterministic_algorithms_enabled()
    if threads:
        torch.set_num_threads(int(threads))
    # CPU: strict. CUDA: warn instead of failing on an op without a deterministic kernel (bit-exactness
    # is promised per platform, and the CPU recipe is the one that ships)
    torch.use_deterministic_algorithms(True, warn_only=torch.cuda.is_available())
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
        torch.backends.cudnn.benchmark = False
    try:
        yield {"seed": seed, "threads": torch.get_num_threads(), "deterministic_algorithms": True}
    finally:
        torch.set_num_threads(was_threads)
        torch.use_deterministic_algorithms(was_det)


def mixed_precision(device: Any, setting: str | bool | None) -> str | None:
    """The autocast dtype name for `device` ("bfloat16" / "float16"), or None for full float32.

    ``auto`` turns it on for CUDA only (bf16 where the GPU has it, else fp16 with a GradScaler):
    the CPU path stays float32 and bit-reproducible.
    """
    import torch

    if setting in (None, False, "off", "none", "no"):
        return None
    if getattr(device, "type", str(device)) != "cuda":
        return None
    if setting in ("auto", True, "on"):
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if setting in ("bf16", "bfloat16", "fp16", "float16"):
        return "bfloat16" if setting.startswith("b") else "float16"
    raise ValueError(f"mixed_precision must be auto, off, bf16 or fp16, got {setting!r}")


def portable_path(path: str | os.PathLike[str] | None) -> str | None:
    """`path` relative to the working directory when it lies under it, else its last component.

    What a model directory records must mean the same on every machine: never /home/alice/...
    """
    if path is None:
        return None
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.name


def package_version(name: str) -> str | None:
    """Installed version of distribution `name`, or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None
