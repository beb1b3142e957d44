"""manifest.json: everything needed to know what a run did and to reproduce it.

The manifest holds the resolved config (defaults filled in), the command-line overrides, the
versions of safefilter and its dependencies, a hash of safefilter's own source, and sha256
hashes of the config file, every rule pack, the classifier model directory (when the
classifier is on) and every input file, plus counts per output, category and shard, and
timings. Timestamps live here only, never in the data files, so reruns are byte-identical.
`safefilter run --from-manifest` reads it back (see rerun.py and docs/reruns.md).
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

from .atomic import atomic_write
from .config import config_sha256
from .resume import run_fingerprint
from .rules.model import RulePack

__all__ = ["build_manifest", "write_manifest", "read_manifest", "file_sha256", "model_sha256", "code_sha256",
           "classifier_record", "package_versions", "detector_hashes", "MANIFEST_VERSION"]

MANIFEST_VERSION = 2
TRACKED_PACKAGES = ("safefilter", "google-re2", "orjson", "pyarrow", "jsonschema", "pyyaml", "tqdm", "numpy",
                    "datasets", "transformers", "tokenizers", "safetensors", "torch", "ray")


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _tree_sha256(root: Path, files: Sequence[Path]) -> str:
    """One hash over relative file names and contents, in sorted order, so a rename also changes it."""
    h = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        name = path.relative_to(root).as_posix().encode()
        h.update(len(name).to_bytes(8, "big") + name)
        h.update(bytes.fromhex(file_sha256(path)))
    return h.hexdigest()


def model_sha256(model_dir: str | Path) -> str:
    """Hash of a model directory: every file's relative name and content, in sorted order."""
    root = Path(model_dir)
    return _tree_sha256(root, [p for p in root.rglob("*") if p.is_file()])


def code_sha256() -> str:
    """Hash of safefilter's own source and packaged data: catches code changes a version number hides."""
    root = Path(__file__).resolve().parent
    files = [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
             and p.suffix in (".py", ".json", ".yaml", ".tmpl")]
    return _tree_sha256(root, files)


def classifier_record(config: dict[str, Any]) -> dict[str, Any] | None:
    """The classifier model a config uses and its hash, or None when the classifier is off."""
    section = config.get("classifier") or {}
    if not section.get("enabled"):
        return None
    from .classifier.model import resolve_model

    model_dir = resolve_model(section["model"])
    digest = model_sha256(model_dir) if model_dir.is_dir() else None
    return {"model": section["model"], "path": str(model_dir.resolve()), "sha256": digest}


def detector_hashes(packs: Sequence[RulePack], config: dict[str, Any]) -> dict[str, Any]:
    """The rule packs' and the classifier model's hashes: `--resume` refuses when they changed."""
    from .review import load_review_allowlist

    model = classifier_record(config)
    review = load_review_allowlist(config)
    return {"rule_packs": {str(Path(p.path).resolve()): p.sha256 for p in packs},
            "classifier": model["sha256"] if model else None,
            "review": review.manifest_entry() if review is not None else None}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _absolute_paths(config: dict[str, Any], files: Sequence[Path]) -> dict[str, Any]:
    """The config with every path made absolute, so a rerun from another directory reads the same files."""
    resolved = copy.deepcopy(config)
    resolved["input"] = [str(p) for p in files]
    resolved["output"] = str(Path(config["output"]).resolve())
    rules = resolved.get("rules", {})
    rules["packs"] = [p if p == "builtin" else str(Path(p).expanduser().resolve()) for p in rules.get("packs", [])]
    review = resolved.get("review") or {}
    if review.get("decisions"):
        review["decisions"] = str(Path(review["decisions"]).expanduser().resolve())
    classifier = resolved.get("classifier") or {}
    if classifier.get("model") not in (None, "builtin"):
        classifier["model"] = str(Path(classifier["model"]).expanduser().resolve())
    return resolved


def _review_record(config: dict[str, Any]) -> dict[str, Any] | None:
    """The reviewers' decisions the run applied: file, hash, allowlisted (rule, evidence) pairs."""
    from .review import load_review_allowlist

    review = load_review_allowlist(config)
    if review is None:
        return None
    return {"path": (config.get("review") or {}).get("decisions"), **review.manifest_entry()}


def build_manifest(*, config: dict[str, Any], overrides: Sequence[str], command: Sequence[str],
                   files: Sequence[Path], packs: Sequence[RulePack], counts: dict[str, Any],
                   shards: list[dict[str, Any]], warnings: list[str], started: float,
                   finished: float, config_file: str | Path | None = None,
                   from_manifest: dict[str, Any] | None = None, resumed: bool = False) -> dict[str, Any]:
    """The manifest of a finished run; `shards` carry per-input counts and seconds."""
    elapsed = max(finished - started, 1e-9)
    resolved = _absolute_paths(config, files)
    source = None
    if config_file is not None:
        source = {"path": str(Path(config_file).resolve()), "sha256": file_sha256(config_file)}
    return {
        "manifest_version": MANIFEST_VERSION,
        "command": list(command),
        "config": resolved,
        "config_sha256": config_sha256(resolved),
        "run_fingerprint": run_fingerprint(resolved),
        "config_file": source,
        "overrides": list(overrides),
        "from_manifest": from_manifest,
        "rule_packs": [{"name": p.name, "path": str(Path(p.path).resolve()), "sha256": p.sha256,
                        "rules": len(p.rules)} for p in packs],
        "classifier": classifier_record(resolved),
        "review": _review_record(resolved),
        "inputs": [{"path": str(p), "bytes": p.stat().st_size, "sha256": file_sha256(p)} for p in files],
        "shards": shards,
        "counts": counts,
        "warnings": warnings,
        "versions": package_versions(),
        "code_sha256": code_sha256(),
        "platform": {"system": platform.system(), "machine": platform.machine(), "cpus": os.cpu_count()},
        "timing": {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(finished)),
            "seconds": round(elapsed, 3),
            "records_per_second": round(counts["input"] / elapsed, 1),
            "scan_seconds": round(sum(s.get("seconds", 0.0) for s in shards), 3),
            "resumed": resumed,
        },
    }


def write_manifest(root: Path, manifest: dict[str, Any]) -> Path:
    """Write RUN_DIR/manifest.json atomically: it is the mark of a finished run."""
    return atomic_write(Path(root) / "manifest.json", json.dumps(manifest, indent=2, sort_keys=False) + "\n")


def read_manifest(path: str | Path) -> dict[str, Any]:
    """A manifest.json as a dict, or SafeFilterError saying what is wrong with the file."""
    from .errors import SafeFilterError

    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SafeFilterError(f"cannot read manifest {path}: {exc.strerror}; give RUN_DIR/manifest.json") from None
    except json.JSONDecodeError as exc:
        raise SafeFilterError(f"manifest {path} is not valid JSON ({exc}); was the run finished?") from None
    if not isinstance(manifest, dict) or "config" not in manifest:
        raise SafeFilterError(f"{path} is not a safefilter manifest (no 'config')")
    return manifest
