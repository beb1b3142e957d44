"""The text the classifier reads for one action, shared by training and inference.

Training and the detector must build exactly the same string, so both go through
`model_input`. The default context is ``"none"``: the action alone, prefixed by its kind. That
keeps the text identical wherever the same command recurs (RL rollouts repeat `ls`, `pytest` and
`cat` endlessly), so the score cache serves most actions, and leaves "did the task ask for this?"
to the rule packs' ``requested_when`` phrases, which mark classifier findings as requested too.
``"task_previous"`` adds the task prompt and the previous action (`format_input`), for models
trained that way.
"""
from __future__ import annotations

from ..training.data import format_input

__all__ = ["CONTEXTS", "model_input"]

CONTEXTS = ("none", "task_previous")
_ACTION_CHARS = 400


def model_input(kind: str, action: str, *, task: str = "", previous: str = "", context: str = "none") -> str:
    """One model input string; bounded length whatever the action's size."""
    if context == "none":
        return f"[{kind}] {action[:_ACTION_CHARS]}"
    if context == "task_previous":
        return format_input(task, previous, kind, action)
    raise ValueError(f"input context must be one of {CONTEXTS}, got {context!r}")
