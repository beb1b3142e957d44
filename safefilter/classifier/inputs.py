"""The text the classifier reads for each action, shared by training and inference.

Training (`safefilter.training.examples`) and the detector (`ClassifierDetector._inputs`) both
call `action_inputs`, so they build exactly the same strings. A model's `training_config.json`
`input_context` picks the context:

- ``"none"`` (old models): ``[kind] action``; the same command gives the same text everywhere.
- ``"task_previous"`` (old models): `format_input(task, previous, kind, action)`.
- ``"events"`` (new models, `NEW_MODEL_CONTEXT`): what decides an action's meaning -- the facts
  the event model derives for it (`facts.py`: executed or written and run, launched how,
  resolved program, targets, persistence, cloud, privilege), and, for a *notable* action, the
  task request and an excerpt of the output the action produced. An action whose facts are all
  ordinary (`context.yaml`) leaves task and output out, so repeated everyday commands keep one
  text across trajectories and the score cache serves them.

Every part is bounded, so a text's length is bounded whatever the record's size.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..training.data import format_input
from ..types import Segment
from .facts import LIMITS, FactIndex, SegmentFacts, squash

__all__ = ["CONTEXTS", "INPUTS", "NEW_MODEL_CONTEXT", "ACTION_KINDS", "ActionInput", "action_inputs", "model_input",
           "events_text"]

# Which action inputs a model scores: all of them, or only the notable ones (ordinary actions --
# plain runs of everyday programs with no network, persistence, cloud or privilege facts -- then
# score 0 without a forward pass; the rules still read them).
INPUTS = ("all", "notable")
CONTEXTS = ("none", "task_previous", "events")
#: The context new models are trained with; a model without `input_context` is read as "none".
NEW_MODEL_CONTEXT = "events"
ACTION_KINDS = frozenset({"shell", "code", "file", "args"})
_ACTION_CHARS = 400
_TASK_CHARS = 150  # what format_input keeps of the task

# Views the model does not read: a quote-folded copy of a command reads the same to it, and rot13 or
# reversed readings are guesses the rules can afford (exact patterns) but a classifier cannot
# (it scores the gibberish they make of ordinary text). Decoded base64/hex/gzip payloads and
# scripts written then run are read.
_GUESSED_VIEWS = frozenset({"normalized", "rot13", "reversed"})


@dataclass(frozen=True, slots=True)
class ActionInput:
    """One action segment and the model text built for it; the parts are kept for training rows."""

    segment: Segment
    text: str
    notable: bool = True
    facts: str = ""
    task: str = ""
    output: str = ""
    action: str = ""


def model_input(kind: str, action: str, *, task: str = "", previous: str = "", context: str = "none",
                facts: str = "", output: str = "", notable: bool = True) -> str:
    """One model input string; bounded length whatever the size of its parts."""
    if context == "none":
        return f"[{kind}] {action[:_ACTION_CHARS]}"
    if context == "task_previous":
        return format_input(task, previous, kind, action)
    if context == "events":
        return events_text(kind, action, facts=facts, task=task, output=output, notable=notable)
    raise ValueError(f"input context must be one of {CONTEXTS}, got {context!r}")


def events_text(kind: str, action: str, *, facts: str, task: str = "", output: str = "",
                notable: bool = True) -> str:
    """The "events" text: ``[task] .. [facts] .. [kind] action [output] ..``; task and output only
    when the action is notable. Whitespace is squashed (the tokenizer ignores it; bounds go further)."""
    body = f"[facts] {squash(facts, LIMITS['facts'])} [{kind}] {squash(action, LIMITS['action'])}"
    if not notable:
        return body
    return f"[task] {squash(task, LIMITS['task'], tail=True)} {body} [output] {_excerpt(output)}"


def _excerpt(text: str) -> str:
    """Head and tail of an output (banners and launch messages open or close it); reads only the ends."""
    limit = LIMITS["output"]
    head = squash(text, limit + 1)
    if len(head) <= limit and len(text) <= 8 * limit:
        return head
    tail = squash(text, limit // 3, tail=True)
    return f"{head[:limit - len(tail) - 4]} .. {tail}"


def _guessed_view(decoded_from: str) -> bool:
    return re.split(r"[>+]", decoded_from)[-1] in _GUESSED_VIEWS


def _action_text(seg: Segment) -> str:
    if seg.kind == "file" and seg.path:
        return f"{seg.path}\n{seg.text}"
    return seg.text


def _task(prepared: Any, task_view: str) -> str:
    task = prepared.trajectory.task or ""
    if task_view == "tail" and len(task) > _TASK_CHARS:
        return task[-_TASK_CHARS:]
    return task


def action_inputs(prepared: Any, *, context: str, task_view: str = "tail", include_decoded: bool = True,
                  previous: str = "action") -> list[ActionInput]:
    """One `ActionInput` per action segment of a prepared trajectory (`safefilter.scanner.Prepared`).

    Original segments and, with `include_decoded`, the decoded views that are not guesses. Files
    the event stage found to be data are not in `prepared.segments`, so they get no input.
    `previous` ("action" or "observation") only matters for the old "task_previous" context.
    """
    if context not in CONTEXTS:
        raise ValueError(f"input context must be one of {CONTEXTS}, got {context!r}")
    if previous not in ("action", "observation"):
        raise ValueError(f"previous must be 'action' or 'observation', got {previous!r}")
    task = _task(prepared, task_view)
    chosen = [seg for seg in prepared.segments if seg.kind in ACTION_KINDS and (
        seg.decoded_from is None or include_decoded and not _guessed_view(seg.decoded_from))]
    if context == "events":
        return _events_inputs(prepared, chosen, task)
    return _old_inputs(prepared, chosen, task, context, previous)


def _events_inputs(prepared: Any, chosen: list[Segment], task: str) -> list[ActionInput]:
    index = FactIndex(prepared)
    out: list[ActionInput] = []
    for seg in chosen:
        facts: SegmentFacts = index.facts(seg)
        action = _action_text(seg)
        output = facts.output if facts.notable else ""
        shown_task = task if facts.notable else ""
        text = events_text(seg.kind, action, facts=facts.text, task=shown_task, output=output,
                           notable=facts.notable)
        out.append(ActionInput(seg, text, facts.notable, facts.text, shown_task, output, action))
    return out


def _old_inputs(prepared: Any, chosen: list[Segment], task: str, context: str, previous_mode: str) -> list[ActionInput]:
    """The "none" and "task_previous" texts, exactly as models trained with them read them."""
    keep = {id(seg) for seg in chosen}
    out: list[ActionInput] = []
    previous = ""
    last_step_text: tuple[int, str] | None = None  # (step, text) of the latest original action
    observation = ""
    for seg in prepared.segments:
        if seg.kind == "observation" and seg.decoded_from is None:
            observation = seg.text
            continue
        if id(seg) not in keep:
            continue
        original = seg.decoded_from is None
        if original and last_step_text is not None and last_step_text[0] < seg.step:
            previous = last_step_text[1]
        action = _action_text(seg)
        prev = observation if previous_mode == "observation" else previous
        out.append(ActionInput(seg, model_input(seg.kind, action, task=task, previous=prev, context=context),
                               True, "", task if context == "task_previous" else "", "", action))
        if original:
            last_step_text = (seg.step, action)
    return out
