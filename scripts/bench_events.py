"""Throughput of the event parsers (safefilter.events) per MB, as a ratio to plain orjson parsing.

On a synthetic corpus from ``scripts/corpus.py`` (deterministic, seeded; ~30 tool calls per
trajectory, large tool outputs), in one process and one run:

1. **baseline**: ``orjson.loads`` of every JSONL line (best of three passes);
2. **events**: for every record, ``events_of_shell`` on each ``bash`` command and
   ``events_of_python`` on each ``python`` code argument (the actions; outputs and file contents
   are not parsed: they are data), plus ``orjson.loads`` of the line, since the stage needs the
   record. Reported as MB/s of JSONL input and the ratio to the baseline; also per MB of action
   text, and the tree-sitter parse alone (no evaluation) for comparison.

Only ratios from the same run mean anything; absolute figures depend on the machine.

    python scripts/bench_events.py --mb 20 [--seed 0] [--adversarial]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import generate  # noqa: E402

from safefilter.events import Origin, events_of_python, events_of_shell  # noqa: E402


def _actions(lines: list[bytes]) -> list[tuple[list[str], list[str]]]:
    """Per record: its bash commands and its python code arguments."""
    out = []
    for line in lines:
        shell, code = [], []
        for m in orjson.loads(line).get("messages", ()):
            for tc in m.get("tool_calls") or ():
                fn = tc.get("function", {})
                args = fn.get("arguments")
                args = orjson.loads(args) if isinstance(args, str) else (args or {})
                if fn.get("name") == "bash" and isinstance(args.get("command"), str):
                    shell.append(args["command"])
                elif fn.get("name") == "python" and isinstance(args.get("code"), str):
                    code.append(args["code"])
        out.append((shell, code))
    return out


def best_time(fn, reps: int = 3) -> float:
    """The fastest of `reps` runs of `fn`, in seconds."""
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--adversarial", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.jsonl"
        generate(path, args.mb, seed=args.seed, adversarial=args.adversarial)
        lines = path.read_bytes().splitlines()
    total = sum(len(x) + 1 for x in lines)
    mb = total / (1 << 20)
    actions = _actions(lines)
    shell = [s for sh, _ in actions for s in sh]
    code = [c for _, cs in actions for c in cs]
    action_mb = (sum(len(s.encode()) for s in shell) + sum(len(c.encode()) for c in code)) / (1 << 20)
    origin = Origin(0, "call", "arguments.command")

    def baseline() -> None:
        for line in lines:
            orjson.loads(line)

    counts = {"events": 0, "unparsed": 0}

    def stage() -> None:
        n = unparsed = 0
        for line, (commands, snippets) in zip(lines, actions):
            orjson.loads(line)
            for text in commands:
                r = events_of_shell(text, origin=origin)
                n += len(r.events)
                unparsed += not r.parsed
            for text in snippets:
                r = events_of_python(text, origin=origin)
                n += len(r.events)
                unparsed += not r.parsed
        counts["events"], counts["unparsed"] = n, unparsed

    import tree_sitter_bash
    from tree_sitter import Language, Parser

    parser = Parser(Language(tree_sitter_bash.language()))
    encoded = [s.encode() for s in shell]

    def parse_only() -> None:
        for data in encoded:
            parser.parse(data)

    t_base = best_time(baseline, 3)
    stage()  # warm-up: imports, parser construction
    t_stage = best_time(stage, 2)
    t_parse = best_time(parse_only, 3)
    print(f"corpus: {len(lines)} trajectories, {mb:.1f} MB JSONL, {len(shell)} shell commands and "
          f"{len(code)} python snippets ({action_mb:.2f} MB of action text)"
          f"{' [adversarial]' if args.adversarial else ''}")
    print(f"baseline orjson.loads:          {mb / t_base:8.1f} MB/s")
    print(f"events stage (loads + parsers): {mb / t_stage:8.1f} MB/s of JSONL  ratio {t_base / t_stage:.3f}; "
          f"{action_mb / t_stage:.2f} MB/s of action text; {len(lines) / t_stage:.0f} trajectories/s; "
          f"{counts['events']} events, {counts['unparsed']} texts did not parse")
    print(f"tree-sitter parse alone:        {sum(map(len, encoded)) / (1 << 20) / t_parse:8.1f} MB/s of shell text "
          f"({t_parse / max(len(encoded), 1) * 1e6:.1f} us per command)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
