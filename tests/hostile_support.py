"""Shared tools of the hostile-tester suite (test_fuzz.py, test_hostile.py).

What a JSONL input file *is* (which lines are records), what a run directory holds, and the one
check every hostile test ends with: every input record landed exactly once in clean/, unsafe/ or
invalid/, clean records byte-for-byte, invalid rows with source, line and a reason.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import traceback
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import orjson
import pytest

DATA_KINDS = ("clean", "unsafe", "invalid")


def jsonl_records(data: bytes) -> list[tuple[int, bytes]]:
    """(line number, record bytes) of a JSONL file, as the contract defines a record.

    Lines end at b"\\n"; a trailing "\\r" is not part of the record; a UTF-8 byte-order mark at
    the start of the file is not either; a line of only whitespace is not a record.
    """
    out = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if number == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        line = line.rstrip(b"\r")
        if line.strip():
            out.append((number, line))
    return out


def output_lines(run_dir: Path, kind: str) -> list[bytes]:
    """Every record line under RUN_DIR/kind/, in file order."""
    lines: list[bytes] = []
    for part in sorted((run_dir / kind).glob("*.jsonl")) if (run_dir / kind).is_dir() else []:
        lines += [ln for ln in part.read_bytes().split(b"\n") if ln]
    return lines


def run_files(run_dir: Path) -> dict[str, bytes]:
    """Every data file of a run (clean/, unsafe/, invalid/) by relative path, with its bytes."""
    return {str(p.relative_to(run_dir)): p.read_bytes()
            for kind in DATA_KINDS if (run_dir / kind).is_dir()
            for p in sorted((run_dir / kind).rglob("*")) if p.is_file()}


def temporaries(root: Path) -> list[Path]:
    """Files a run writes only while working: hidden `.tmp` files and anything named *.tmp."""
    return [p for p in root.rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under root with (size, mtime_ns): to see that nothing outside a run was touched."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(root))] = (st.st_size if p.is_file() else -1, st.st_mtime_ns if p.is_file() else 0)
    return out


def _parse(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def _pop_renamed(row: dict[str, Any], base: str, value: Any) -> bool:
    """Remove the field `base` or `base_N` that holds `value` (a kept input field the run renamed)."""
    for key in list(row):
        if (key == base or key.startswith(base + "_")) and row[key] == value:
            del row[key]
            return True
    return False


def _is_unsafe_copy(original: Any, row: dict[str, Any], line: int) -> bool:
    """Whether `row` (without `safety`) is `original` as the contract lets an unsafe output change it.

    Every input field is kept with its value; an input `safety` is kept under `input_safety`; an
    id the run cannot use (missing, "", null, not a string or integer) is replaced by the
    generated `<file>:<line>`, a non-empty old value kept under `input_id`.
    """
    if not isinstance(original, dict):
        return False
    expected, row = dict(original), dict(row)
    if "safety" in expected and not _pop_renamed(row, "input_safety", expected.pop("safety")):
        return False
    if expected.get("id", object()) != row.get("id"):
        rid = row.pop("id", None)
        if not (isinstance(rid, str) and rid.endswith(f":{line}")):
            return False
        old = expected.pop("id", None)
        if old not in ("", None) and not _pop_renamed(row, "input_id", old):
            return False
    return expected == row


def check_conservation(inputs: dict[str, bytes], run_dir: Path) -> Counter[str]:
    """Every record of every JSONL input is in exactly one output; returns the counts per kind.

    `inputs` maps an input file's path (as given to the run) to its bytes. Clean lines must be
    input lines byte-for-byte; an unsafe row must be its input record plus `safety` (and an `id`
    of the form `<file>:<line>` when it had none); an invalid row must name the file and line and
    say why.
    """
    unclaimed: dict[tuple[str, int], bytes] = {}
    for path, data in inputs.items():
        for number, line in jsonl_records(data):
            unclaimed[(str(Path(path).resolve()), number)] = line
    total = len(unclaimed)
    counts: Counter[str] = Counter()

    by_bytes: dict[bytes, list[tuple[str, int]]] = {}
    for key, line in unclaimed.items():
        by_bytes.setdefault(line, []).append(key)

    def claim(key: tuple[str, int], how: str) -> None:
        assert key in unclaimed, f"{how}: input record {key} accounted for twice or never existed"
        line = unclaimed.pop(key)
        by_bytes[line].remove(key)

    for row_bytes in output_lines(run_dir, "invalid"):
        row = json.loads(row_bytes)
        assert isinstance(row.get("error"), str) and row["error"].strip(), f"invalid row without a reason: {row}"
        assert isinstance(row.get("line"), int), f"invalid row without a line number: {row}"
        source = str(Path(row["source"]).resolve())
        assert any(source == str(Path(p).resolve()) for p in inputs), f"invalid row names an unknown source: {row}"
        assert "\n" not in row["error"], f"a reason is one line: {row['error']!r}"
        claim((source, row["line"]), "invalid")
        counts["invalid"] += 1

    for line in output_lines(run_dir, "clean"):
        keys = by_bytes.get(line)
        assert keys, f"clean line is not byte-identical to any unclaimed input line: {line[:200]!r}"
        claim(keys[0], "clean")
        counts["clean"] += 1

    for row_bytes in output_lines(run_dir, "unsafe"):
        row = orjson.loads(row_bytes)
        safety = row.pop("safety")
        assert safety["unsafe"] is True and (safety["categories"] or safety.get("analysis_incomplete")), \
            f"unsafe row that says neither what was found nor where analysis stopped: {safety}"
        match = next((key for key, line in unclaimed.items() if _is_unsafe_copy(_parse(line), row, key[1])), None)
        assert match is not None, f"unsafe row is not an input record plus safety: {row_bytes[:300]!r}"
        claim(match, "unsafe")
        counts["unsafe"] += 1

    assert not unclaimed, f"input records lost (in no output): {sorted(unclaimed)[:10]}"
    assert sum(counts.values()) == total
    manifest = run_dir / "manifest.json"
    if manifest.exists():
        m = json.loads(manifest.read_text())
        assert {k: m["counts"][k] for k in DATA_KINDS} == {k: counts[k] for k in DATA_KINDS}
        assert m["counts"]["input"] == total
    return counts


@contextlib.contextmanager
def cached_rule_packs() -> Iterator[None]:
    """Parse each rule pack file once per process: YAML parsing is most of a tiny run's time.

    The cache is keyed on the file's path, size and mtime, so an edited pack is read again; the
    rules, engine, scanner and run are built as usual every time.
    """
    from safefilter.rules import model

    original = model.load_pack
    cache: dict[tuple[str, int, int], Any] = {}

    def load_pack(path):
        st = os.stat(path)
        key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)
        if key not in cache:
            cache[key] = original(path)
        return cache[key]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(model, "load_pack", load_pack)
        yield


def cli(argv: list[str]) -> tuple[int, str, str]:
    """Run `safefilter argv` in-process: (exit code, stdout, stderr). Any exception is a failure."""
    from safefilter.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException as exc:  # noqa: BLE001 - the point of the suite
            pytest.fail(f"safefilter {' '.join(argv)} raised instead of exiting:\n"
                        + "".join(traceback.format_exception(exc)))
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(code: int, err: str) -> None:
    """A system fault: exit 2 and one `safefilter: error:` line, no traceback."""
    assert code == 2, f"expected exit 2, got {code}; stderr: {err}"
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("safefilter: error: "), f"not one error line: {err!r}"


def write_config(path: Path, inputs: str | list[str], output: Path, **extra: Any) -> Path:
    """A minimal run config: built-in rules, no classifier, no progress bar."""
    import yaml

    config = {"input": inputs, "output": str(output), "rules": {"packs": ["builtin"]}, "progress": False, **extra}
    path.write_text(yaml.safe_dump(config))
    return path
