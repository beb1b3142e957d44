"""Hugging Face dataset cards for a run's clean and unsafe outputs.

A card is YAML front matter (machine-readable: counts, categories, detectors with their hashes,
the command that reproduces the run) followed by prose, rendered from the templates in
`safefilter/data_cards/` with `string.Template`. Cards are built from the manifest alone and
hold no timestamps, so a rerun writes the same cards (only the manifest path can differ).
They go to RUN_DIR/cards/{clean,unsafe}.md, outside the data folders, so readers that list or
load clean/ and unsafe/ see data files only; copy one to README.md when you publish a folder.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import yaml

from .atomic import atomic_write

__all__ = ["render_card", "write_cards", "CARD_KINDS", "front_matter"]

CARD_KINDS = ("clean", "unsafe")
_SIZE_BOUNDS = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"))


def _size_category(n: int) -> str:
    return next((label for bound, label in _SIZE_BOUNDS if n < bound), "n>100M")


def reproduce_command(manifest: dict[str, Any]) -> str:
    return f"safefilter run --from-manifest {Path(manifest['config']['output']) / 'manifest.json'}"


def _detectors(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [{"type": "rule_pack", "name": p["name"], "rules": p["rules"], "sha256": p["sha256"]}
                                   for p in manifest["rule_packs"]]
    if manifest.get("classifier"):
        c = manifest["classifier"]
        found.append({"type": "classifier", "name": c["model"], "sha256": c["sha256"]})
    return found


def front_matter(kind: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """The card's YAML metadata: Hugging Face keys plus a `safefilter` block that mirrors the manifest."""
    counts = manifest["counts"]
    suffix = "parquet" if manifest["config"]["output_format"] == "parquet" else "jsonl"
    block: dict[str, Any] = {
        "output": kind,
        "records": counts[kind],
        "run_counts": {k: counts[k] for k in ("input", "clean", "unsafe", "invalid")},
        "run_fingerprint": manifest["run_fingerprint"],
        "detectors": _detectors(manifest),
        "safefilter_version": manifest["versions"].get("safefilter"),
        "reproduce": reproduce_command(manifest),
    }
    if kind == "unsafe":
        block["categories"] = dict(counts["categories"])
    return {
        "pretty_name": f"safefilter {kind} trajectories",
        "tags": ["agent-trajectories", "reinforcement-learning", "safety", "safefilter"],
        "size_categories": [_size_category(counts[kind])],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": f"*.{suffix}"}]}],
        "safefilter": block,
    }


def _table(rows: list[tuple[str, Any]], header: tuple[str, str]) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "| --- | ---: |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines) if rows else "(none)"


def _detector_lines(manifest: dict[str, Any]) -> str:
    lines = []
    for d in _detectors(manifest):
        if d["type"] == "rule_pack":
            lines.append(f"- rule pack `{d['name']}`: {d['rules']} rules, sha256 `{d['sha256']}`")
        else:
            lines.append(f"- classifier `{d['name']}`, model directory sha256 `{d['sha256']}`")
    if not manifest.get("classifier"):
        lines.append("- classifier: not used in this run (rule packs only)")
    return "\n".join(lines)


def _policy_line(config: dict[str, Any]) -> str:
    policy = config["policy"]
    disabled = ", ".join(policy["disabled_rules"]) or "none"
    allow = config["allowlist"]
    return (f"minimum severity `{policy['min_severity']}`, behaviour the task asked for counts as unsafe: "
            f"`{str(policy['requested_is_unsafe']).lower()}`, disabled rules: {disabled}, allowlisted hosts: "
            f"{len(allow['hosts'])}, allowlisted command patterns: {len(allow['commands'])}")


def render_card(kind: str, manifest: dict[str, Any]) -> str:
    """The card for one output kind (`clean` or `unsafe`) of the run a manifest describes."""
    if kind not in CARD_KINDS:
        raise ValueError(f"no card for {kind!r}; choose one of {CARD_KINDS}")
    counts = manifest["counts"]
    template = Template(resources.files("safefilter").joinpath(f"data_cards/run_{kind}.md.tmpl").read_text())
    meta = yaml.safe_dump(front_matter(kind, manifest), sort_keys=False, allow_unicode=True, width=1000)
    top_rules = sorted(counts.get("rules", {}).items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    return template.substitute(
        front_matter=meta.rstrip("\n"),
        records=counts[kind],
        input=counts["input"], clean=counts["clean"], unsafe=counts["unsafe"], invalid=counts["invalid"],
        requested=counts.get("requested_findings", 0),
        format=manifest["config"]["output_format"],
        inputs=len(manifest["inputs"]),
        category_table=_table(sorted(counts["categories"].items()), ("category", "unsafe records")),
        rule_table=_table(top_rules, ("rule", "unsafe records")),
        detectors=_detector_lines(manifest),
        policy=_policy_line(manifest["config"]),
        fingerprint=manifest["run_fingerprint"],
        version=manifest["versions"].get("safefilter"),
        reproduce=reproduce_command(manifest),
    )


def write_cards(root: Path, manifest: dict[str, Any]) -> list[Path]:
    """Write RUN_DIR/cards/clean.md and unsafe.md; returns their paths."""
    folder = Path(root) / "cards"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in CARD_KINDS:
        path = folder / f"{kind}.md"
        paths.append(atomic_write(path, render_card(kind, manifest)))
    return paths
