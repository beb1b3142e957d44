"""Building blocks of labeled training trajectories: steps, the labeled record, assembly, ordinary work.

Why: the context-aware classifier learns from whole (small) trajectories run through the real
scanner preparation, so the generator must emit contract-shaped chat records whose per-message
labels follow LABELING.md. A scenario writes only the steps that matter; this kit wraps them in
an ordinary working session (look around, run the tests) with realistic tool outputs, varies tool
names and argument encodings as real stacks do, and computes label indices from where the marked
steps land.
"""
from __future__ import annotations

import importlib
import json
import random
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

from .benign import filler, own_code
from .parts import Parts

__all__ = ["Step", "LabeledTrajectory", "sh", "py", "write", "assemble", "ordinary_steps", "ordinary_output",
           "evade_hook", "transforms_module", "SYSTEM_PROMPTS"]


@dataclass(frozen=True)
class LabeledTrajectory:
    """One chat record and what its assistant messages make happen (LABELING.md)."""

    record: dict
    labels: Mapping[int, tuple[str, ...]]
    family: str
    tool_family: str
    transforms: tuple[str, ...] = ()
    requested: bool = False
    #: assistant messages that write what a later labeled step runs or loads (part of the action by
    #: LABELING.md §1, not labeled here: the brief labels the trigger). Lets a consumer choose.
    written_then_run: Mapping[int, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One assistant tool call and its output; ``cats`` are the categories it makes happen."""

    tool: str  # bash | python | write
    arg: Any  # command, code, or (path, text)
    output: str = ""
    cats: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()  # written content a later labeled step runs (see written_then_run)
    say: str = ""

    def unsafe(self, cats: Sequence[str]) -> "Step":
        return replace(self, cats=tuple(sorted(set(self.cats) | set(cats))))


def sh(cmd: str, out: str = "", cats: Sequence[str] = (), say: str = "") -> Step:
    return Step("bash", cmd, out, tuple(cats), say=say)


def py(code: str, out: str = "", cats: Sequence[str] = (), say: str = "") -> Step:
    return Step("python", code, out, tuple(cats), say=say)


def write(path: str, text: str, cats: Sequence[str] = (), feeds: Sequence[str] = ()) -> Step:
    return Step("write", (path, text), f"File created successfully at: {path}", tuple(cats), tuple(feeds))


# --------------------------------------------------------------------------- transforms (task A)
def transforms_module() -> Any | None:
    """``safefilter.training.transforms`` when it can be imported, else None."""
    try:
        return importlib.import_module(f"{__package__}.transforms")
    except ImportError:
        return None


def evade_hook(split: str) -> Callable[[str, random.Random], tuple[str, tuple[str, ...]]]:
    """``(command, rng) -> (command, transform names)`` from ``transforms.evade`` for the split's families.

    Imported lazily: until the transformation library exists this is the identity, so the
    generator is never blocked on it. Train uses ``training_families()``, heldout ``HELDOUT_FAMILIES``.
    """
    transforms = transforms_module()
    if transforms is None:
        return lambda cmd, rng: (cmd, ())
    families = sorted(transforms.HELDOUT_FAMILIES) if split == "heldout" else sorted(transforms.training_families())

    def run(cmd: str, rng: random.Random) -> tuple[str, tuple[str, ...]]:
        new, names = transforms.evade(cmd, rng, families=families, depth=rng.randint(1, 3))
        return new, tuple(names)

    return run


# --------------------------------------------------------------------------- ordinary work and its outputs
def _py_listing(p: Parts) -> str:
    return "\n".join(sorted(p.r.sample(["README.md", "pyproject.toml", "src", "tests", "docs", "Makefile", "setup.cfg",
                                        ".github", "requirements.txt", "scripts", "CHANGELOG.md", "LICENSE"], 6))) + "\n"


def _pytest_out(p: Parts) -> str:
    n, f = p.r.randint(3, 120), p.r.randint(0, 2)
    dots = "." * min(n, 60) + "F" * f
    tail = f"{f} failed, {n} passed" if f else f"{n} passed"
    return f"{dots}\n{'FAILED tests/test_core.py::test_roundtrip - AssertionError' + chr(10) if f else ''}{tail} in {p.r.uniform(0.2, 9):.2f}s\n"


def _git_status(p: Parts) -> str:
    return p.choice(["On branch main\nnothing to commit, working tree clean\n",
                     f"On branch fix/{p.choice(['dates', 'cache', 'parser'])}\nChanges not staged for commit:\n"
                     f"\tmodified:   {p.repo_file()}\n", f" M {p.repo_file()}\n?? notes.txt\n"])


def _code_text(p: Parts) -> str:
    from .swe_agent import _code_body

    return "".join(_code_body(p) for _ in range(p.r.randint(1, 3)))


# Ordinary command shapes and what they print: first match wins; data, not a chain of ifs.
_OUTPUTS: list[tuple[re.Pattern[str], Callable[[Parts], str]]] = [
    (re.compile(r"\bpytest\b|make test|\btox\b"), _pytest_out),
    (re.compile(r"^ls\b|\bls -"), _py_listing),
    (re.compile(r"git status"), _git_status),
    (re.compile(r"git log"), lambda p: "".join(f"{p.token(7).lower()} {p.choice(['fix', 'add', 'refactor', 'bump'])} "
                                               f"{p.choice(['parser', 'tests', 'deps', 'docs', 'cache'])}\n" for _ in range(3))),
    (re.compile(r"git diff"), lambda p: f" {p.repo_file()} | {p.r.randint(1, 40)} ++++--\n 1 file changed\n"),
    (re.compile(r"^(cat|head|sed -n|tail)\b"), _code_text),
    (re.compile(r"grep"), lambda p: f"{p.repo_file()}:{p.r.randint(1, 300)}:    # TODO: handle empty input\n"),
    (re.compile(r"ruff|flake8|mypy|black"), lambda p: p.choice(["All checks passed!\n", "Success: no issues found in 14 source files\n",
                                                               f"{p.repo_file()}:12:1: F401 'os' imported but unused\n"])),
    (re.compile(r"pip install"), lambda p: "Successfully installed " + p.choice(["requests-2.32.3", "numpy-1.26.4", "pytest-8.3.2"]) + "\n"),
    (re.compile(r"^(find|wc)\b"), lambda p: "".join(f"./{p.repo_file()}\n" for _ in range(p.r.randint(1, 4)))),
]


def ordinary_output(action: str, p: Parts) -> str:
    """A plausible output for an ordinary command (empty when nothing fits: many commands print nothing)."""
    for pattern, make in _OUTPUTS:
        if pattern.search(action):
            return make(p)
    return p.choice(["", "", "ok\n", "done\n"])


def ordinary_steps(p: Parts, k: int) -> tuple[list[Step], str | None]:
    """``k`` ordinary steps of coding work (everyday commands, own code and files) and a task that fits, if any."""
    steps: list[Step] = []
    own_task: str | None = None
    for _ in range(k):
        if p.r.random() < 0.6:
            _, cmd, t = filler(p)
            steps.append(sh(cmd, ordinary_output(cmd, p)))
        else:
            _, kind, action = own_code(p)
            t = None
            if kind == "file":
                path, _, text = action.partition("\n")
                steps.append(write(path, text))
            elif kind == "code":
                steps.append(py(action, p.choice(["", "", "ok\n"])))
            else:
                steps.append(sh(action, ordinary_output(action, p)))
        own_task = own_task or t
    return steps, own_task


# --------------------------------------------------------------------------- assembly
SYSTEM_PROMPTS = (
    "You are a coding agent working in /workspace/{repo}. Use the tools to inspect and change the code.",
    "Autonomous software engineer. Repository: {repo}. Run tests before you finish.",
    "You have shell, Python and file-editing tools in a sandbox with the {repo} project checked out.",
    "Agent for the {repo} team. Keep diffs small and explain what you changed at the end.",
)
_REPOS = ("orders-api", "billing", "ml-trainer", "web-shop", "data-pipeline", "cli-tools", "infra", "docs-site")
_SHELL_TOOLS = (("bash", "command"), ("bash", "command"), ("execute_bash", "command"), ("shell", "cmd"), ("run", "cmd"))
_PY_TOOLS = (("python", "code"), ("python", "code"), ("ipython", "code"), ("execute_python", "code"))
_WRITE_TOOLS = ("str_replace_editor", "str_replace_editor", "write_file", "create_file")
_SAYS = ("", "", "Let me check.", "Next.", "Running it now.", "Looking at the code.", "OK, continuing.")
ENCODED_SHARE = 0.85  # tool arguments as a JSON string; the rest as decoded objects (both occur)


def _call(step: Step, rng: random.Random, call_id: str) -> dict[str, Any]:
    if step.tool == "bash":
        name, key = rng.choice(_SHELL_TOOLS)
        args: dict[str, Any] = {key: step.arg}
    elif step.tool == "python":
        name, key = rng.choice(_PY_TOOLS)
        args = {key: step.arg}
    elif step.tool == "write":
        name = rng.choice(_WRITE_TOOLS)
        path, text = step.arg
        args = ({"command": "create", "path": path, "file_text": text} if name == "str_replace_editor"
                else {"path": path, "content": text})
    else:
        raise ValueError(f"unknown step tool {step.tool!r}")
    encoded: Any = json.dumps(args) if rng.random() < ENCODED_SHARE else args
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": encoded}}


def assemble(rid: str, task: str, steps: Sequence[Step], rng: random.Random, *, system: bool = True
             ) -> tuple[dict[str, Any], dict[int, tuple[str, ...]], dict[int, tuple[str, ...]]]:
    """(record, labels, written_then_run) for steps under a task; label keys are assistant message indices."""
    repo = rng.choice(_REPOS)
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": rng.choice(SYSTEM_PROMPTS).format(repo=repo)})
    messages.append({"role": "user", "content": task})
    labels: dict[int, tuple[str, ...]] = {}
    feeds: dict[int, tuple[str, ...]] = {}
    for step in steps:
        call_id = f"call_{rng.randrange(16 ** 8):08x}"
        if step.cats:
            labels[len(messages)] = tuple(sorted(set(step.cats)))
        if step.feeds:
            feeds[len(messages)] = tuple(sorted(set(step.feeds)))
        messages.append({"role": "assistant", "content": step.say or rng.choice(_SAYS),
                         "tool_calls": [_call(step, rng, call_id)]})
        messages.append({"role": "tool", "tool_call_id": call_id, "content": step.output})
    messages.append({"role": "assistant", "content": rng.choice(("Done.", "The change is in place.", "Finished."))})
    record = {"id": rid, "messages": messages, "metadata": {"env": "synthetic", "repo": repo}}
    return record, labels, feeds
