"""Synthetic training data for the transformer classifier.

Examples are built from template grammars with randomized parts (``parts``: hosts in documentation,
private and public-looking ranges, domains, ports, users, paths, pools, fake wallets, cloud regions
and instance types). Unsafe families and disguises live in ``unsafe``, safe ones in ``benign``,
and the optional weakly labelled rule-pack rows in ``weak_labels``.
Roughly 35% are unsafe (one of the four contract categories, sometimes two), the rest are hard
negatives that share tools and words with the unsafe ones, "requested" cases where the task asks
for the behaviour (labelled 0), and ordinary filler.

For ``kind == "file"`` the ``action`` is ``"<path>\\n<content>"`` (first line is the path).
Nothing here reads evaluation data; everything comes from the templates and the rule packs.
"""
from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

from .benign import editor_step, filler, hard_negative, own_code, requested
from .parts import Parts, previous, task
from .unsafe import UNSAFE_FAMILIES, disguise_command

LABELS = ("tunneling", "cryptomining", "network_probing", "resource_acquisition")
KINDS = ("shell", "code", "file")
DISGUISES = ("none", "base64", "hex", "vars", "quotes", "python", "script", "heredoc", "reversed")
UNSAFE_SHARE = 0.32  # dedup drops a few repeated safe texts, so the realized share is ~33%
REQUESTED_SHARE = 0.04
HARD_NEGATIVE_SHARE = 0.28
EDITOR_SHARE = 0.16  # half SWE-agent editor commands, half the agent's own code, files and test runs;
# the remainder (~20%) is everyday one-liners and filler
OWN_TASK_SHARE = 0.7  # everyday and editor rows keep their own description as the task this often


def format_input(task: str, previous: str, kind: str, action: str) -> str:
    """The model input string; every part is truncated so the text length is bounded."""
    return f"[task] {task[:150]} [prev] {previous[:120]} [{kind}] {action[:400]}"



# --------------------------------------------------------------------------- assembly
_PERSISTENCE = ("cron_persistence", "systemd_persistence", "persistence_more")
_SHELL_MARKERS = ("/dev/tcp/", " -e /bin/", " -e sh", "nc -c ")


def _unsafe(p: Parts) -> dict[str, Any]:
    cat = p.choice(LABELS)
    family, gen, idx = p.choice(UNSAFE_FAMILIES[cat])
    out = gen(p)
    if isinstance(out, tuple):
        kind, action, disguise = out[0], out[1], "none"
    else:
        disguise = "none" if p.r.random() < 0.5 else p.choice(DISGUISES[1:])
        kind, action = disguise_command(out, disguise, p)
    labels = [0, 0, 0, 0]
    for i in idx:
        labels[i] = 1
    raw = out[1] if isinstance(out, tuple) else out
    if family in _PERSISTENCE and any(m in raw for m in _SHELL_MARKERS):
        labels[0] = 1  # the persisted job is itself a reverse shell
    return {"action": action, "kind": kind, "labels": labels, "family": family, "disguise": disguise}


def _safe(family: str, kind: str, action: str) -> dict[str, Any]:
    return {"action": action, "kind": kind, "labels": [0, 0, 0, 0], "family": family, "disguise": "none"}


def _one(p: Parts) -> dict[str, Any]:
    task_text, r = task(p), p.r.random()
    if r < UNSAFE_SHARE:
        ex = _unsafe(p)
    elif r < UNSAFE_SHARE + REQUESTED_SHARE:
        family, kind, action, task_text = requested(p)
        ex = _safe(family, kind, action)
    elif r < UNSAFE_SHARE + REQUESTED_SHARE + HARD_NEGATIVE_SHARE:
        family, kind, action, own_task = hard_negative(p)
        task_text = own_task if own_task and p.r.random() < 0.7 else task_text
        ex = _safe(family, kind, action)
    elif r < UNSAFE_SHARE + REQUESTED_SHARE + HARD_NEGATIVE_SHARE + EDITOR_SHARE:
        if p.r.random() < 0.5:
            family, action, own_task = editor_step(p)
            task_text = own_task if p.r.random() < OWN_TASK_SHARE else task_text
            ex = _safe(family, "shell", action)
        else:
            family, kind, action = own_code(p)
            ex = _safe(family, kind, action)
    else:
        family, action, own_task = filler(p)
        task_text = own_task if own_task and p.r.random() < OWN_TASK_SHARE else task_text
        ex = _safe(family, "shell", action)
    prev = previous(p)
    ex.update(task=task_text, previous=prev, source="synthetic",
              text=format_input(task_text, prev, ex["kind"], ex["action"]))
    return ex


COLUMNS = ("text", "action", "kind", "task", "previous", "labels", "family", "disguise", "source")


def make_examples(n: int, *, seed: int = 0, rule_examples: bool = False,
                  rule_packs: tuple[str, ...] = ("builtin",)) -> list[dict[str, Any]]:
    """``n`` synthetic examples with unique ``text``, deterministic for a given seed.

    With ``rule_examples`` the rule packs' inline examples are appended as weakly labelled rows
    (``source == "rule_examples"``, labels from the rule engine; see ``weak_labels``), so the
    result has ``n`` synthetic rows plus about 1,400 more (fewer when texts repeat).
    """
    p = Parts(random.Random(seed))
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < n:
        attempts += 1
        if attempts > 50 * n + 1000:
            raise RuntimeError(f"could not generate {n} distinct examples")
        ex = _one(p)
        if ex["text"] in seen:
            continue
        seen.add(ex["text"])
        out.append({k: ex[k] for k in COLUMNS})
    if rule_examples:
        from .weak_labels import rule_example_rows

        for row in rule_example_rows(rule_packs):
            text = format_input(row["task"], row["previous"], row["kind"], row["action"])
            if text not in seen:
                seen.add(text)
                out.append({k: (text if k == "text" else row[k]) for k in COLUMNS})
    return out


def build_dataset(n: int, *, seed: int = 0, validation_share: float = 0.1, rule_examples: bool = False,
                  rule_packs: tuple[str, ...] = ("builtin",)):
    """A ``datasets.DatasetDict`` with ``train`` and ``validation`` splits (disjoint by text).

    ``rule_examples`` adds the weakly labelled rule-pack rows (see ``make_examples``) to both splits.
    """
    import datasets

    examples = make_examples(n, seed=seed, rule_examples=rule_examples, rule_packs=rule_packs)
    order = list(range(len(examples)))
    random.Random(seed + 1).shuffle(order)
    n_val = int(round(len(examples) * validation_share))
    val = [examples[i] for i in sorted(order[:n_val])]
    train = [examples[i] for i in sorted(order[n_val:])]
    features = datasets.Features({
        "text": datasets.Value("string"), "action": datasets.Value("string"), "kind": datasets.Value("string"),
        "task": datasets.Value("string"), "previous": datasets.Value("string"),
        "labels": datasets.Sequence(datasets.Value("int8"), length=len(LABELS)),
        "family": datasets.Value("string"), "disguise": datasets.Value("string"), "source": datasets.Value("string"),
    })

    def to_ds(rows: list[dict[str, Any]]):
        return datasets.Dataset.from_dict({k: [r[k] for r in rows] for k in features}, features=features)

    return datasets.DatasetDict({"train": to_ds(train), "validation": to_ds(val)})


def save_dataset(dsd, out_dir) -> dict[str, str]:
    """Write ``{split}.parquet`` per split and ``hashes.json`` (sha256 per file); return the hashes."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    hashes: dict[str, str] = {}
    for split, ds in dsd.items():
        path = out / f"{split}.parquet"
        ds.to_parquet(str(path))
        hashes[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    (out / "hashes.json").write_text(json.dumps(hashes, indent=2, sort_keys=True) + "\n")
    return hashes

