"""The data card (README.md) of an export: what the rows are, how they were labeled, how to load."""
from __future__ import annotations

from typing import Any, Mapping

import yaml

__all__ = ["render_export_card"]

_WHAT = {
    "steps": "one row per agent action of every scanned trajectory: `context` (the task, then the latest "
             "previous actions within a character budget), `action`, an `output` excerpt, `label` (safe / "
             "unsafe) and `categories` from the findings the run's policy counted, `requested`, `evidence` "
             "(`where`: on the action or on its output) and ids back to the record (`record_id`, "
             "`message_index`, `tool_call_id`). For step-level monitors and process reward models.",
    "prefixes": "one row per unsafe trajectory in the conversational preference format (TRL's DPO trainer): "
                "`prompt` is the conversation up to, not including, the message of the first unsafe action; "
                "`rejected` is that action alone (its tool call, or its fenced block, without the prose around it) "
                "in the same message shape; `chosen` is a configured safe reply or empty, for a later "
                "generation step.",
    "trajectories": "one row per trajectory as chat `messages` with trajectory-level labels (`label`, "
                    "`categories`, `severity`, `first_unsafe_message`, `evidence`). For trajectory "
                    "classifiers.",
}


def render_export_card(fmt: str, *, sizes: Mapping[str, int], manifest: Mapping[str, Any],
                       options: Mapping[str, Any], notes: list[str]) -> str:
    """Front matter that `datasets` reads (configs, splits) and a short human description."""
    # No `configs:` block: with one, datasets 5 caches `load_dataset(DIR)` by the folder's name and the
    # patterns, so two exports both named `steps` load each other's rows; the `data/<split>-*` layout is
    # found without it, and then the cache key includes the files themselves.
    front = {"license": "other", "task_categories": ["text-classification"], "tags": ["safety", "agents", "safefilter"]}
    counts = manifest.get("counts", {})
    lines = [
        "---", yaml.safe_dump(front, sort_keys=False).strip(), "---", "",
        f"# safefilter export: {fmt}", "",
        _WHAT[fmt], "",
        "## Source run", "",
        f"- run fingerprint: `{manifest.get('run_fingerprint', '?')}`",
        f"- run counts: input {counts.get('input', '?')}, clean {counts.get('clean', '?')}, "
        f"unsafe {counts.get('unsafe', '?')}, invalid {counts.get('invalid', '?')}",
        "- labels are safefilter's detections (rules and, if enabled, the classifier), not human labels; "
        "confirm a sample before training on them.", "",
        "## Splits", "",
        "Assigned by a SHA-256 of the record id, so reruns give the same splits and every row of one "
        "trajectory is in one split.", "",
        "| split | rows |", "|---|---|", *[f"| {s} | {n} |" for s, n in sizes.items()], "",
        "## Options", "", "```yaml", yaml.safe_dump(dict(options), sort_keys=True).strip(), "```", "",
        "## Load", "", "```python", "from datasets import load_dataset",
        f"ds = load_dataset(\"parquet\", data_files={{s: f\"EXPORT_DIR/data/{{s}}-*.parquet\" for s in {list(sizes)!r}}})",
        "```", "",
    ]
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    return "\n".join(lines)
