"""Shared builders: trajectories in test code read like the agent's actions."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from safefilter import Scanner


def call(name: str, args: dict[str, Any] | str, call_id: str = "c1", *, as_string: bool = True) -> dict[str, Any]:
    """One assistant message with one tool call (arguments as a JSON string by default)."""
    arguments = json.dumps(args) if as_string and not isinstance(args, str) else args
    return {"role": "assistant", "content": "", "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]}


def bash(command: str, call_id: str = "c1") -> dict[str, Any]:
    return call("bash", {"command": command}, call_id)


def tool(content: Any, call_id: str = "c1") -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def traj(*messages: dict[str, Any], task: str = "Fix the failing test in utils/dates.py",
         rid: str = "t1") -> dict[str, Any]:
    return {"id": rid, "messages": [{"role": "system", "content": "You are a coding agent."},
                                    {"role": "user", "content": task}, *messages]}


@pytest.fixture(scope="session")
def scanner() -> Scanner:
    return Scanner.from_rules()


def rule_ids(verdict) -> set[str]:
    return {f.rule_id for f in verdict.findings}


ROOT = Path(__file__).resolve().parent.parent


def sample_run(out: Path, *overrides: str) -> Path:
    """A rules-only run of the bundled sample (or of `input=...` in `overrides`) into `out`, no report."""
    from safefilter.config import load_config
    from safefilter.run import run

    config, applied = load_config(ROOT / "configs" / "rules-only.yaml",
                                  [f"output={out}", "progress=false", "report.enabled=false", *overrides])
    run(config, overrides=applied)
    return out
