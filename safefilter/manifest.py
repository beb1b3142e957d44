"""manifest.json: everything needed to know what a run did and to reproduce it."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

from .config import config_sha256
from .rules.model import RulePack

__all__ = ["build_manifest", "write_manifest", "file_sha256", "package_versions"]

MANIFEST_VERSION = 1
TRACKED_PACKAGES = ("safefilter", "google-re2", "orjson", "pyarrow", "jsonschema", "pyyaml",
                    "datasets", "transformers", "torch", "ray")


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def build_manifest(*, config: dict[str, Any], overrides: Sequence[str], command: Sequence[str],
                   files: Sequence[Path], packs: Sequence[RulePack], counts: dict[str, Any],
                   shards: list[dict[str, Any]], warnings: list[str], started: float,
                   finished: float) -> dict[str, Any]:
    elapsed = max(finished - started, 1e-9)
    resolved = dict(config)
    resolved["input"] = [str(p) for p in files]
    resolved["output"] = str(Path(config["output"]).resolve())
    return {
        "manifest_version": MANIFEST_VERSION,
        "command": list(command),
        "config": resolved,
        "config_sha256": config_sha256(resolved),
        "overrides": list(overrides),
        "rule_packs": [{"name": p.name, "path": p.path, "sha256": p.sha256, "rules": len(p.rules)} for p in packs],
        "inputs": [{"path": str(p), "bytes": p.stat().st_size, "sha256": file_sha256(p)} for p in files],
        "shards": shards,
        "counts": counts,
        "warnings": warnings,
        "versions": package_versions(),
        "platform": {"system": platform.system(), "machine": platform.machine(), "cpus": os.cpu_count()},
        "timing": {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "seconds": round(elapsed, 3),
            "records_per_second": round(counts["input"] / elapsed, 1),
        },
    }


def write_manifest(root: Path, manifest: dict[str, Any]) -> Path:
    path = Path(root) / "manifest.json"
    tmp = path.with_name(".manifest.json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path
