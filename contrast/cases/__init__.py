"""Case material of the contrast set, one module per family of phenomena (see contrast/README.md).

`PHENOMENA` maps a phenomenon name to a function `(rng) -> list[Case]`; scripts/make_contrast.py
turns the cases into chat records and labels with a fixed seed.
"""
from __future__ import annotations

from typing import Callable

from . import asks, code, data_text, indirect
from .kit import Case

__all__ = ["PHENOMENA"]

PHENOMENA: dict[str, Callable[..., list[Case]]] = {**data_text.PHENOMENA, **indirect.PHENOMENA, **code.PHENOMENA, **asks.PHENOMENA}
