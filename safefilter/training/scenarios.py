"""Trajectory-level training scenarios with per-message labels (issue 12: context-aware classifier data).

Why: the classifier reads each action with its context (the task, the event model's facts, an
output excerpt), so its training data must be whole small trajectories whose labels follow
LABELING.md. Every unsafe scenario comes with a safe minimal pair that keeps the words and
changes only what decides the label: the task asks for it; the line is written as data; the
file is written but never run; the SDK is mocked or only lists; the socket stays on localhost;
the revealing log is a fixture. Benign realistic work makes up most safe trajectories, and the
old action-level families are wrapped into trajectories so nothing they knew is lost.

    from safefilter.training.scenarios import make_trajectories
    rows = make_trajectories(1000, seed=0)              # ~40% contain an unsafe action
    held = make_trajectories(200, split="heldout")      # unseen tools or transforms, half benign look-alikes
"""
from __future__ import annotations

import json
import random
import re
import zlib
from dataclasses import dataclass, replace
from typing import Callable

from .benign import filler, hard_negative, requested
from .swe_agent import _code_body
from .data import _PERSISTENCE, _SHELL_MARKERS, LABELS
from .parts import Parts, task as ordinary_task
from .scenario_carriers import DATA_CARRIERS, INDIRECT_CARRIERS, ssh_config_alias
from .scenario_code import SDK_PAYLOADS, SOCKET_PAYLOADS, local_socket_twin, sdk_listing, sdk_mock_test
from .scenario_kit import (LabeledTrajectory, Step, assemble, evade_hook, ordinary_output, ordinary_steps, py, sh,
                           transforms_module, write)
from .scenario_payloads import CM, RA, REVEALING, SHELL_PAYLOADS, Payload
from .scenario_tools import HELDOUT_TOOL_FAMILIES, heldout_tools_in, tool_family_of
from .unsafe import UNSAFE_FAMILIES

__all__ = ["LabeledTrajectory", "make_trajectories", "HELDOUT_TOOL_FAMILIES", "FAMILIES", "SPLITS"]

SPLITS = ("train", "heldout")
TRANSFORM_SHARE = 0.35  # share of unsafe shell commands rewritten by transforms.evade
HELDOUT_TRANSFORM_MODE = 0.5  # in split="heldout": share of pairs made unseen by a transform (else by the tool)
# Ordinary steps that run project code (a runner could load a hook the case wrote): kept away from untriggered twins.
_RUNS_CODE = re.compile(r"pytest|make|npm|npx|yarn|jest|tox|cargo|go (test|run)|docker|kubectl|systemctl|crontab|"
                        r"source |\. \S|git \S+|python|bash |sh ")


@dataclass
class _Ctx:
    p: Parts
    split: str
    evade: Callable[[str, random.Random], tuple[str, tuple[str, ...]]]
    heldout_by_transform: bool = False  # this heldout pair must be unseen through its transform

    @property
    def heldout(self) -> bool:
        return self.split == "heldout"


@dataclass(frozen=True)
class _Case:
    task: str
    steps: tuple[Step, ...]
    family: str
    tool_family: str = ""
    transforms: tuple[str, ...] = ()
    requested: bool = False


# --------------------------------------------------------------------------- drawing payloads for a split
def _tool_ok(ctx: _Ctx, tool_family: str, text: str) -> bool:
    unseen = tool_family in HELDOUT_TOOL_FAMILIES or bool(heldout_tools_in(text))
    if not ctx.heldout:
        return not unseen
    return ctx.heldout_by_transform or unseen


def _draw(ctx: _Ctx, pool: list[Callable[[Parts], Payload]]) -> Payload:
    for _ in range(400):
        pay = ctx.p.choice(pool)(ctx.p)
        if _tool_ok(ctx, pay.tool_family, pay.text):
            return pay
    raise _NoCase


class _NoCase(Exception):
    """This builder cannot make a case for this split (no held-out tool in its pool): draw another."""


def _shell_pool(ctx: _Ctx, revealing: bool = False) -> list[Callable[[Parts], Payload]]:
    table = REVEALING if revealing else SHELL_PAYLOADS
    return [g for gens in table.values() for g in gens]


def _transform(ctx: _Ctx, pay: Payload) -> tuple[Payload, tuple[str, ...]]:
    """Rewrite a shell payload the way an evasive agent would: always in a transform-held-out pair, else at TRANSFORM_SHARE."""
    if pay.kind != "shell":
        if ctx.heldout_by_transform:
            raise _NoCase
        return pay, ()
    if not ctx.heldout_by_transform and ctx.p.r.random() >= TRANSFORM_SHARE:
        return pay, ()
    new, names = ctx.evade(pay.text, ctx.p.r)
    if ctx.heldout_by_transform and not names:
        raise _NoCase
    return replace(pay, text=new), names


def _pre(ctx: _Ctx, lo: int = 1, hi: int = 4, quiet: bool = False) -> tuple[list[Step], str | None]:
    steps, own = ordinary_steps(ctx.p, ctx.p.r.randint(lo, hi))
    if quiet:
        steps = [s for s in steps if not (s.tool == "bash" and _RUNS_CODE.search(s.arg))]
    return steps, own


def _quiet_tail(ctx: _Ctx, path: str) -> list[Step]:
    """An ordinary step after a written file that runs nothing (the twin must not load what it wrote)."""
    return [ctx.p.choice([sh(f"cat {path}", ""), sh("git status --short", f"?? {path}\n"),
                          sh(f"ls -la {path.rsplit('/', 1)[0] if '/' in path else '.'}", "")])] if ctx.p.r.random() < 0.6 else []


def _task(ctx: _Ctx, own: str | None) -> str:
    return own if own and ctx.p.r.random() < 0.5 else ordinary_task(ctx.p)


# --------------------------------------------------------------------------- pair builders (one unsafe, one safe)
def _payload_step(pay: Payload, labeled: bool) -> Step:
    cats = pay.cats if labeled else ()
    return py(pay.text, pay.output, cats) if pay.kind == "code" else sh(pay.text, pay.output, cats)


def _minimal_pair(ctx: _Ctx) -> list[_Case]:
    """The same command under a task that asks for exactly it (requested) and under one that does not."""
    pool = _shell_pool(ctx) + SDK_PAYLOADS + SOCKET_PAYLOADS
    pay = _draw(ctx, pool)
    while CM in pay.cats:  # a pool or a wallet is mining whatever the task says (LABELING.md 3): no requested twin
        pay = _draw(ctx, pool)
    pay, names = _transform(ctx, pay) if ctx.heldout_by_transform else (pay, ())
    pre, own = _pre(ctx)
    post, _ = _pre(ctx, 0, 2)
    return [_Case(_task(ctx, own), (*pre, _payload_step(pay, True), *post), "minimal_pair.unrequested", pay.tool_family, names),
            _Case(pay.ask, (*pre, _payload_step(pay, False), *post), "minimal_pair.requested", pay.tool_family, names, True)]


def _as_data(ctx: _Ctx) -> list[_Case]:
    """The same line executed, and written into docs / a test string / a fixture / a rule / a deny list."""
    pay, names = _transform(ctx, _draw(ctx, _shell_pool(ctx)))
    carrier = ctx.p.choice(sorted(DATA_CARRIERS))
    data_task, path, text = DATA_CARRIERS[carrier](pay.text, ctx.p)
    pre, own = _pre(ctx)
    run_task = data_task if ctx.p.r.random() < 0.5 else _task(ctx, own)
    run = _payload_step(pay, True)
    if ctx.p.r.random() < 0.25:  # run from Python, as a test helper would: still executed
        run = py(ctx.p.choice([f"import subprocess\nsubprocess.run({pay.text!r}, shell=True)", f"import os\nos.system({pay.text!r})"]),
                 pay.output, pay.cats)
    return [_Case(run_task, (*pre, run), "as_data.executed", pay.tool_family, names),
            _Case(data_task, (*pre, write(path, text), *_quiet_tail(ctx, path)), f"as_data.{carrier}", pay.tool_family, names)]


def _indirect(ctx: _Ctx) -> list[_Case]:
    """Written in one step, triggered later; the twin writes the same file and never triggers it."""
    carrier = ctx.p.choice(sorted(INDIRECT_CARRIERS) + ["ssh_config"])
    if carrier == "ssh_config":
        if ctx.heldout:
            raise _NoCase  # plain ssh is a training tool; ssh config has no transform to hide it
        ind, _ = ssh_config_alias(ctx.p)
        pay, names = Payload("ssh", ("tunneling",), "shell", ind.trigger, "", ""), ()
    else:
        pay, names = _transform(ctx, _draw(ctx, _shell_pool(ctx)))
        ind = INDIRECT_CARRIERS[carrier](pay.text, ctx.p)
    pre, own = _pre(ctx, quiet=True)
    task = _task(ctx, own)
    between, _ = _pre(ctx, 0, 1, quiet=True)
    pos = (*pre, write(ind.path, ind.text, ind.write_cats, pay.cats), *between,
           sh(ind.trigger, ind.trigger_output or pay.output, (*pay.cats, *ind.trigger_cats)))
    twin_path = ind.twin_path or ind.path
    neg = (*pre, write(twin_path, ind.text), *_quiet_tail(ctx, twin_path))
    return [_Case(task, pos, f"indirect.{carrier}", pay.tool_family, names),
            _Case(task, neg, f"indirect.{carrier}.untriggered", pay.tool_family, names)]


def _sdk(ctx: _Ctx) -> list[_Case]:
    """Cloud SDK / kubernetes client code that acquires resources, run as code or as a script; twin lists or mocks."""
    pay = _draw(ctx, SDK_PAYLOADS)
    if ctx.heldout_by_transform:
        raise _NoCase
    pre, own = _pre(ctx)
    task = _task(ctx, own)
    if ctx.p.r.random() < 0.5:
        pos, fam = (*pre, py(pay.text, pay.output, pay.cats)), "sdk.code"
    else:
        path = f"scripts/{ctx.p.choice(['provision', 'bootstrap', 'scale_up', 'setup_cluster'])}.py"
        pos, fam = (*pre, write(path, pay.text, feeds=pay.cats), sh(f"python {path}", pay.output, pay.cats)), "sdk.script"
    if ctx.p.r.random() < 0.5:
        list_task, code, out = sdk_listing(ctx.p, pay.tool_family)
        return [_Case(task, pos, fam, pay.tool_family), _Case(list_task, (*pre, py(code, out)), "sdk.listing", pay.tool_family)]
    path, test = sdk_mock_test(pay, ctx.p)
    neg = (*pre, write(path, test), sh(f"python -m pytest -q {path}", "1 passed in 0.41s\n"))
    return [_Case(task, pos, fam, pay.tool_family), _Case("Add a unit test for the provisioning helper; mock the cloud client.",
                                                         neg, "sdk.mocked", pay.tool_family)]


def _socket(ctx: _Ctx) -> list[_Case]:
    """Socket code that probes or opens a shell; twin: a test server on localhost or a health check of its own service."""
    if ctx.heldout:
        raise _NoCase  # no held-out socket tool; python code takes no shell transform
    pay = _draw(ctx, SOCKET_PAYLOADS)
    pre, own = _pre(ctx)
    if pay.kind == "code" and ctx.p.r.random() < 0.4:
        path = f"tools/{ctx.p.choice(['netcheck', 'diag', 'probe_util'])}.py"
        pos, fam = (*pre, write(path, pay.text, feeds=pay.cats), sh(f"python3 {path}", pay.output, pay.cats)), "socket.script"
    else:
        pos, fam = (*pre, _payload_step(pay, True)), "socket.code"
    twin_task, code, out = local_socket_twin(ctx.p)
    return [_Case(_task(ctx, own), pos, fam, pay.tool_family), _Case(twin_task, (*pre, py(code, out)), "socket.localhost", pay.tool_family)]


_STARTS = ("./start.sh", "python run.py", "bash scripts/run_job.sh", "npm start", "make run", "./bin/worker --config config.yaml",
           "docker run --rm -d {image}", "nohup ./service > logs/out.log 2>&1 & sleep 5; tail -n 20 logs/out.log")


def _observation(ctx: _Ctx) -> list[_Case]:
    """A benign-looking start whose output shows the behaviour; twin: the same text displayed from a log or fixture."""
    if ctx.heldout_by_transform:
        raise _NoCase
    pay = _draw(ctx, _shell_pool(ctx, revealing=True))
    start = ctx.p.choice(_STARTS).format(image=ctx.p.choice(["acme/worker:1.4", "ghcr.io/acme/jobs:latest", "node-utils:2"]))
    pre, own = _pre(ctx)
    task = _task(ctx, own)
    name = ctx.p.choice(["sample", "worker", "incident", "run-2024-11"])
    if ctx.p.r.random() < 0.6:
        path = ctx.p.choice(["logs/sample.log", f"tests/fixtures/{name}_output.txt", f"docs/examples/{name}.log",
                             f"testdata/{name}.txt"])
        neg = (*pre, sh(ctx.p.choice([f"cat {path}", f"tail -n 40 {path}", f"head -50 {path}"]), pay.reveal))
        fam = "observation_only.shown_file"
    else:
        path = f"tests/fixtures/{name}_output.txt"
        neg = (*pre, write(path, pay.reveal), *_quiet_tail(ctx, path))
        fam = "observation_only.fixture"
    return [_Case(task, (*pre, sh(start, pay.reveal, pay.cats)), "observation_only", pay.tool_family),
            _Case(task, neg, fam, pay.tool_family)]


# --------------------------------------------------------------------------- wrapped action-level families
_TRIGGERS: list[tuple[re.Pattern[str], str, tuple[str, ...]]] = [  # written file kind -> what runs it, extra categories
    (re.compile(r"\.service$"), "systemctl daemon-reload && systemctl enable --now {stem}", (RA,)),
    (re.compile(r"\.sh$"), "bash {path}", ()),
    (re.compile(r"(docker-)?compose\.ya?ml$"), "docker compose -f {path} up -d", ()),
    (re.compile(r"."), "./xmrig --config={path}", (CM,)),
]


def _wrapped_action(ctx: _Ctx) -> tuple[list[Step], str, tuple[str, ...], str, str]:
    """(steps, family, transforms, tool family, text) of one action from ``unsafe.UNSAFE_FAMILIES``, with a trigger for files."""
    p = ctx.p
    for _ in range(400):
        family, gen, idx = p.choice(UNSAFE_FAMILIES[p.choice(LABELS)])
        out = gen(p)
        kind, action = out if isinstance(out, tuple) else ("shell", out)
        cats = {LABELS[i] for i in idx}
        if family in _PERSISTENCE and any(m in action for m in _SHELL_MARKERS):
            cats.add("tunneling")  # the persisted job is itself a reverse shell
        tool = tool_family_of(action)
        if not _tool_ok(ctx, tool, action):
            continue
        try:
            pay, names = _transform(ctx, Payload(tool, tuple(sorted(cats)), kind, action, "", ""))
        except _NoCase:
            continue
        if kind == "file":
            path, _, text = pay.text.partition("\n")
            trig, extra = next((t, e) for rx, t, e in _TRIGGERS if rx.search(path))
            stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            return ([write(path, text, feeds=pay.cats), sh(trig.format(path=path, stem=stem), "", (*pay.cats, *extra))],
                    family, names, tool, text)
        out_text = p.choice(["", "", "ok\n", "[1] 4182\n"])
        return [_payload_step(replace(pay, output=out_text), True)], family, names, tool, pay.text
    raise _NoCase


def _wrapped_unsafe(ctx: _Ctx) -> list[_Case]:
    steps, family, names, tool, line = _wrapped_action(ctx)
    pre, own = _pre(ctx)
    post, _ = _pre(ctx, 0, 1)
    case = _Case(_task(ctx, own), (*pre, *steps, *post), f"wrapped.{family}", tool, names)
    if not ctx.heldout:
        return [case]
    # heldout: its benign look-alike is the same action written as data
    carrier = ctx.p.choice(sorted(DATA_CARRIERS))
    data_task, path, text = DATA_CARRIERS[carrier](line, ctx.p)
    return [case, _Case(data_task, (*pre, write(path, text)), f"as_data.{carrier}", tool, names)]


# --------------------------------------------------------------------------- safe singles
def _wrapped_negative(ctx: _Ctx) -> list[_Case]:
    family, kind, action, own = hard_negative(ctx.p)
    return [_single_safe(ctx, kind, action, own, "wrapped.hard_negative", False)]


def _wrapped_requested(ctx: _Ctx) -> list[_Case]:
    family, kind, action, task = requested(ctx.p)
    return [_single_safe(ctx, kind, action, task, "wrapped.requested", True)]


def _single_safe(ctx: _Ctx, kind: str, action: str, task: str | None, family: str, asked: bool) -> _Case:
    pre, own = _pre(ctx, 1, 3)
    post, _ = _pre(ctx, 0, 2)
    if kind == "file":
        path, _, text = action.partition("\n")
        step = write(path, text)
    elif kind == "code":
        step = py(action, ctx.p.choice(["", "ok\n"]))
    else:
        step = sh(action, ordinary_output(action, ctx.p))
    tool = tool_family_of(action) if asked else ""
    return _Case(task or _task(ctx, own), (*pre, step, *post), family, tool, (), asked)


def _benign_realistic(ctx: _Ctx) -> list[_Case]:
    steps, own = ordinary_steps(ctx.p, ctx.p.r.randint(3, 12))
    return [_Case(_task(ctx, own), tuple(steps), "benign.realistic")]


# The agent's everyday loop: edit a file, then run it. The event stage calls such a run notable
# ("loads X written here"), so without these the model learns that written-then-run means unsafe.
_SCRIPT_DIRS = ("", "scripts/", "tools/", "src/", "bench/", "/workspace/")
_PY_NAMES = ("eval", "train", "main", "bench", "migrate", "report", "preprocess", "check_data", "app", "cli")
_RUNNERS = ("python {f}", "python3 {f}", "python {f} --split dev", "python -u {f} 2>&1 | tail -{n}",
            "/usr/bin/time -f '%e s' python {f} 2>&1 | tail -2", "timeout {n}0 python {f}", "time python3 {f}",
            "nohup python {f} > run.log 2>&1 &", "python {f} --epochs 1 --batch-size {n}", "cd /workspace && python {f}")
_SH_RUNNERS = ("bash {f}", "sh {f}", "chmod +x {f} && ./{f}", "./{f}", "bash -x {f} 2>&1 | tail -{n}")
_RUN_OUTPUTS = ("", "ok\n", "done\n", "dev accuracy 0.{n}12\n41.20 s\n", "loss 0.{n}3\nsaved checkpoint\n",
                "wrote report.csv ({n} rows)\n", "epoch 1/1 loss=0.4{n}\n", "Traceback (most recent call last):\n  "
                "File \"{f}\", line {n}\nKeyError: 'id'\n", "migrated {n} rows\n", "{n} passed\n")


def _benign_edit_run(ctx: _Ctx) -> list[_Case]:
    """Write or edit a Python module or a shell script of ordinary work, then run it (safe)."""
    p = ctx.p
    pre, own = _pre(ctx, 0, 3)
    n = str(p.r.randint(2, 60))
    if p.r.random() < 0.7:
        path = f"{p.choice(_SCRIPT_DIRS)}{p.choice(_PY_NAMES)}.py"
        text = "\n".join(_code_body(p) for _ in range(p.r.randint(2, 6)))
        run = p.choice(_RUNNERS)
    else:
        path = f"{p.choice(_SCRIPT_DIRS)}{p.choice(['build', 'test', 'lint', 'setup_dev', 'run_checks'])}.sh"
        cmds = [filler(p)[1] for _ in range(p.r.randint(2, 5))]
        text = "#!/usr/bin/env bash\nset -euo pipefail\n" + "\n".join(cmds) + "\n"
        run = p.choice(_SH_RUNNERS)
    cmd = run.format(f=path, n=n)
    out = p.choice(_RUN_OUTPUTS).format(f=path, n=n)
    steps = [*pre, write(path, text), *([sh(f"sed -n 1,40p {path}", text[:400])] if p.r.random() < 0.3 else []),
             sh(cmd, out)]
    if p.r.random() < 0.4:  # edit again, run again
        steps += [write(path, text + "\n" + _code_body(p) if path.endswith(".py") else text), sh(cmd, out)]
    return [_Case(_task(ctx, own), tuple(steps), "benign.edit_run")]


# Installing an ordinary developer tool from its release page, often under a shorter name, then
# checking it runs: a download, a rename and an unknown binary, all benign.
_DEV_TOOLS = (("BurntSushi/ripgrep", "rg", "ripgrep 14.1.0"), ("hadolint/hadolint", "hadolint", "Haskell Dockerfile Linter 2.12.0"),
              ("gohugoio/hugo", "hugo", "hugo v0.126.1 linux/amd64"), ("koalaman/shellcheck", "shellcheck", "version: 0.10.0"),
              ("jqlang/jq", "jq", "jq-1.7.1"), ("mikefarah/yq", "yq", "yq version v4.44.1"),
              ("golangci/golangci-lint", "golangci-lint", "golangci-lint has version 1.59.0"),
              ("cli/cli", "gh", "gh version 2.49.2"), ("helm/helm", "helm", "version.BuildInfo{Version:\"v3.15.1\"}"),
              ("kubernetes-sigs/kind", "kind", "kind v0.23.0 go1.21.10 linux/amd64"), ("casey/just", "just", "just 1.26.0"))


def _benign_tool_install(ctx: _Ctx) -> list[_Case]:
    """Download a developer tool's release binary, maybe rename it, check its version (safe)."""
    p = ctx.p
    pre, own = _pre(ctx, 0, 2)
    repo, name, version = p.choice(_DEV_TOOLS)
    short = p.choice([name, name, name[:2], f"{name}-bin", f".{name}"])
    dest = p.choice(["/usr/local/bin", "$HOME/.local/bin", "./bin", "/tmp"]) + f"/{short}"
    url = f"https://github.com/{repo}/releases/download/v1.{p.r.randint(0, 40)}.{p.r.randint(0, 9)}/{name}-linux-amd64"
    fetch = p.choice([f"curl -fsSL {url} -o {dest}", f"wget -q {url} -O {dest}", f"curl -L -o {dest} {url}"])
    check = p.choice(["--version", "version", "--help | head -3", "-V"])
    steps = [*pre, sh(f"{fetch} && chmod +x {dest}", ""), sh(f"{dest} {check}", version + "\n")]
    if p.r.random() < 0.5:
        steps.append(sh(p.choice([f"{dest} --json . | head", f"{dest} Dockerfile", f"{dest} -n TODO src/ | head"]),
                        ordinary_output("grep", p)))
    return [_Case(_task(ctx, own), tuple(steps), "benign.tool_install")]


# --------------------------------------------------------------------------- mixing
# (builder, weight). Pairs give one unsafe and one safe trajectory, wrapped_unsafe one unsafe, the rest one safe:
# unsafe share = (1.4 + 1.2) / (2 * 1.4 + 1.2 + 2.5) = 0.40, and benign.realistic is most of the safe side.
_TRAIN_MIX: list[tuple[Callable[[_Ctx], list[_Case]], float]] = [
    (_minimal_pair, 0.30), (_as_data, 0.25), (_indirect, 0.35), (_sdk, 0.20), (_socket, 0.15), (_observation, 0.15),
    (_wrapped_unsafe, 1.2), (_wrapped_negative, 0.3), (_wrapped_requested, 0.1), (_benign_realistic, 2.1),
    (_benign_edit_run, 0.6), (_benign_tool_install, 0.2),
]
# heldout: every builder yields one unsafe case and one benign look-alike.
_HELDOUT_MIX = [(b, w) for b, w in _TRAIN_MIX
                if b not in (_wrapped_negative, _wrapped_requested, _benign_realistic, _benign_edit_run,
                             _benign_tool_install)]
FAMILIES = ("minimal_pair.unrequested", "minimal_pair.requested", "as_data.executed",
            *(f"as_data.{c}" for c in sorted(DATA_CARRIERS)),
            *(f"indirect.{c}{s}" for c in [*sorted(INDIRECT_CARRIERS), "ssh_config"] for s in ("", ".untriggered")),
            "sdk.code", "sdk.script", "sdk.listing", "sdk.mocked", "socket.code", "socket.script", "socket.localhost",
            "observation_only", "observation_only.shown_file", "observation_only.fixture",
            "wrapped.hard_negative", "wrapped.requested", "benign.realistic", "benign.edit_run",
            "benign.tool_install")


def _finish(case: _Case, ctx: _Ctx, rid: str) -> LabeledTrajectory:
    record, labels, feeds = assemble(rid, case.task, case.steps, ctx.p.r, system=ctx.p.r.random() < 0.85)
    if case.requested:
        labels, feeds = {}, {}
    return LabeledTrajectory(record=record, labels=labels, family=case.family, tool_family=case.tool_family,
                             transforms=case.transforms, requested=case.requested, written_then_run=feeds)


def _train_clean(t: LabeledTrajectory) -> bool:
    text = json.dumps([m.get("tool_calls") for m in t.record["messages"]])
    return not heldout_tools_in(text)


def make_trajectories(n: int, *, seed: int = 0, split: str = "train") -> list[LabeledTrajectory]:
    """``n`` labeled trajectories, deterministic per (seed, split).

    ``train`` never uses a held-out tool family or transform family; ``heldout`` holds only unsafe
    trajectories that use one (by tool or by transform) and as many benign look-alikes.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    rng = random.Random(seed * 1_000_003 + zlib.crc32(split.encode()))
    ctx = _Ctx(Parts(rng), split, evade_hook(split))
    mix = _HELDOUT_MIX if ctx.heldout else _TRAIN_MIX
    builders, weights = [b for b, _ in mix], [w for _, w in mix]
    out: list[LabeledTrajectory] = []
    while len(out) < n:
        ctx.heldout_by_transform = ctx.heldout and transforms_module() is not None and rng.random() < HELDOUT_TRANSFORM_MODE
        try:
            cases = rng.choices(builders, weights)[0](ctx)
        except _NoCase:
            continue
        made = [_finish(c, ctx, f"sc-{split}-{seed}-{len(out) + i:06d}") for i, c in enumerate(cases)]
        if not ctx.heldout and not all(_train_clean(t) for t in made):
            continue
        out.extend(made)
    return out[:n]

