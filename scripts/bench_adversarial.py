"""Per-byte scan time of pathological records against ordinary ones, at 10 KB and at 1 MB.

Each case builds ONE trajectory of about the target size (JSON bytes) whose text is built to hurt
a backtracking regex, a decoder or the rule engine: the three inputs of issue 9 that took a
minute each, match-dense near-misses, deep nesting, decoys, one long line, many short tokens and
a variable bomb. The record goes through ``Scanner.scan_records`` (validation, extraction,
normalization and decoding, the rules, the policy) as a run would, repeated until at least
``--min-seconds`` have passed, best of ``--repeats``.

Reported per case and size: microseconds per KB, the ratio to the ordinary record of the same
size (target: within 10x) and the growth of the per-byte time from 10 KB to 1 MB (target: flat,
about 1x). Also shown: whether the record came out unsafe and which limits cut its analysis short
(``analysis_incomplete``). Only ratios measured in the same run mean anything; nothing asserts an
absolute speed.

Run::

    python scripts/bench_adversarial.py                  # 10 KB and 1 MB, about a minute on 2 cores
    python scripts/bench_adversarial.py --sizes 10000 100000 1000000 --json adv.json
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from typing import Any, Callable

import orjson

from safefilter import Scanner

Record = dict[str, Any]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _fill(unit: str, size: int) -> str:
    return (unit * (size // max(1, len(unit)) + 1))[:size]


def _record(*messages: Record) -> Record:
    return {"id": "bench", "messages": [{"role": "system", "content": "You are a coding agent."},
                                        {"role": "user", "content": "Fix the failing test in utils/dates.py"},
                                        *messages]}


def _bash(command: str, call_id: str = "c1") -> Record:
    return {"role": "assistant", "content": "", "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": "bash", "arguments": {"command": command}}}]}


def _tool(content: str, call_id: str = "c1") -> Record:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def _write(path: str, content: str, call_id: str = "w1") -> Record:
    return {"role": "assistant", "content": "", "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": "write_file",
                                                         "arguments": {"path": path, "content": content}}}]}


_ORDINARY_STEPS = [
    ("ls -la src/ tests/", "total 48\ndrwxr-xr-x 5 user user 4096 Jan  2 10:00 .\n-rw-r--r-- 1 user user 1234 dates.py\n"),
    ("python -m pytest -q tests/test_dates.py", "..F.\nFAILED tests/test_dates.py::test_parse - AssertionError\n1 failed, 3 passed in 0.12s\n"),
    ("grep -rn 'def parse' src/utils/", "src/utils/dates.py:12:def parse(value: str) -> date:\n"),
    ("sed -n 1,40p src/utils/dates.py", "from datetime import date\n\n\ndef parse(value):\n    y, m, d = value.split('-')\n"
                                        "    return date(int(y), int(m), int(d))\n"),
    ("git diff --stat", " src/utils/dates.py | 4 ++--\n 1 file changed, 2 insertions(+), 2 deletions(-)\n"),
    ("pip install -e . 2>&1 | tail -2", "Successfully built utils\nSuccessfully installed utils-0.1.0\n"),
]


def ordinary(size: int) -> Record:
    """An everyday coding rollout: commands and their outputs, step after step, to the size."""
    messages: list[Record] = []
    total, i = 0, 0
    while total < size:
        command, output = _ORDINARY_STEPS[i % len(_ORDINARY_STEPS)]
        messages += [_bash(command, f"c{i}"), _tool(output * 3, f"c{i}")]
        total += len(command) + 3 * len(output) + 120
        i += 1
    return _record(*messages)


def base64_then_60k(size: int) -> Record:
    return _record(_bash("base64" + _fill("A", size)))


def runs_after_write(size: int) -> Record:
    return _record(_write("/tmp/a.sh", "echo hi\n"), _tool("ok", "w1"), _bash(_fill("sudo ", size)))


def fence_blanks(size: int) -> Record:
    return _record({"role": "assistant", "content": "```" + _fill(" ", size) + "x"})


def match_dense(size: int) -> Record:
    unit = ("ssh -R 80:l nmap -p stratum+tcp:// xmrig --donate 169.254.169.254 curl|sh nc -e "
            "$'\\x78' \"x\"'m' ${IFS} %41%42%43 chr(1)+ ")
    return _record(_bash(_fill(unit, size // 2), "c1"), _tool(_fill(unit, size // 2), "c1"))


def deep_nesting(size: int) -> Record:
    text = "uname -a"
    while len(text) < size // 2:
        text = "echo " + _b64(text) + " | base64 -d | sh"
    subst = _fill("$(echo ", size // 4) + "x" + ")" * (size // 28)
    return _record(_bash(text, "c1"), _bash(subst, "c2"))


def many_decoys(size: int) -> Record:
    """Distinct harmless payloads, each piped to a decoder, then the one that runs."""
    decoys, total, i = [], 0, 0
    while total < size:
        decoys.append("echo " + _b64(f"harmless decoy {i} for the build log") + " | base64 -d; ")
        total += len(decoys[-1])
        i += 1
    return _record(_bash("".join(decoys) + "echo " + _b64("uname -a") + " | base64 -d | sh"))


def long_single_line(size: int) -> Record:
    return _record(_bash(_fill("cat src/utils/dates.py | grep -n parse && ", size)))


def many_short_tokens(size: int) -> Record:
    return _record(_bash(_fill("a 'b' \"c\" $d \\e ", size // 2), "c1"), _tool(_fill("x y z ", size // 2), "c1"))


def variable_bomb(size: int) -> Record:
    return _record(_bash("a=" + "x" * (size // 4) + "; " + _fill("$a", size - size // 4)))


CASES: dict[str, Callable[[int], Record]] = {
    "ordinary": ordinary,
    "base64+padding (issue 9)": base64_then_60k,
    "sudo runs after a write (issue 9)": runs_after_write,
    "blanks after ``` (issue 9)": fence_blanks,
    "match-dense near-misses": match_dense,
    "deep nesting (base64, $())": deep_nesting,
    "many decoys": many_decoys,
    "one long line": long_single_line,
    "many short tokens": many_short_tokens,
    "variable bomb": variable_bomb,
}


def measure(scanner: Scanner, record: Record, min_seconds: float, repeats: int) -> tuple[float, Any]:
    """Best seconds per scan of one record, and its verdict."""
    best = float("inf")
    verdict = None
    for _ in range(repeats):
        n, start = 0, time.perf_counter()
        while True:
            result = scanner.scan_records([(record, "bench")])[0]
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        best = min(best, elapsed / n)
        verdict = result.verdict if result.verdict is not None else result.error
    return best, verdict


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000], help="record sizes in bytes")
    ap.add_argument("--min-seconds", type=float, default=0.2, help="time each measurement at least this long")
    ap.add_argument("--repeats", type=int, default=3, help="best of this many measurements")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args(argv)
    scanner = Scanner.from_rules()
    scanner.scan_records([(match_dense(50_000), "warm-up")])  # RE2 builds its automata lazily
    rows: dict[str, dict[int, dict[str, Any]]] = {}
    for name, build in CASES.items():
        rows[name] = {}
        for size in args.sizes:
            record = build(size)
            nbytes = len(orjson.dumps(record))
            seconds, verdict = measure(scanner, record, args.min_seconds, args.repeats)
            rows[name][size] = {"bytes": nbytes, "seconds": seconds, "us_per_kb": seconds * 1e6 / (nbytes / 1000),
                                "unsafe": getattr(verdict, "unsafe", None),
                                "incomplete": sorted({i.reason for i in getattr(verdict, "analysis_incomplete", ())}),
                                "error": verdict if isinstance(verdict, str) else None}
            print(f"  {name:36s} {nbytes:>9,d} B  {rows[name][size]['us_per_kb']:9.1f} us/KB", file=sys.stderr)
    base = rows["ordinary"]
    small, large = args.sizes[0], args.sizes[-1]
    header = "| case | " + " | ".join(f"{s // 1000:,} KB us/KB | x ordinary" for s in args.sizes) + \
             f" | growth {small // 1000:,} KB -> {large // 1000:,} KB | unsafe | analysis_incomplete |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, by_size in rows.items():
        cells = []
        for size in args.sizes:
            r = by_size[size]
            r["x_ordinary"] = r["us_per_kb"] / base[size]["us_per_kb"]
            cells.append(f"{r['us_per_kb']:.1f} | {r['x_ordinary']:.2f}")
        growth = by_size[large]["us_per_kb"] / by_size[small]["us_per_kb"]
        last = by_size[large]
        print(f"| {name} | " + " | ".join(cells) + f" | {growth:.2f} | {last['unsafe']} | "
              f"{', '.join(last['incomplete']) or '-'} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
