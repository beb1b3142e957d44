"""What durability costs: a run with its fsyncs against the same run with fsync stubbed out.

    python scripts/bench_rundir.py --files 200 --records 20

Each input file ends with fsyncs of its shards, of the three data folders and of its `_state`
record, so many small input files are the worst case. Prints seconds of both and their ratio
(best of `--repeat`); on a loaded machine compare ratios, not seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from unittest import mock

from safefilter.config import load_config
from safefilter.run import run


def make_inputs(folder: Path, files: int, records: int) -> None:
    folder.mkdir(parents=True)
    for f in range(files):
        lines = [json.dumps({"id": f"f{f}-{i}", "messages": [{"role": "user", "content": f"echo {i}"}]})
                 for i in range(records)]
        (folder / f"part{f:05d}.jsonl").write_text("\n".join(lines) + "\n")


def timed(inputs: Path, out: Path, stub_fsync: bool) -> float:
    config, applied = load_config(None, [f"input={inputs}", f"output={out}", "progress=false",
                                         "classifier.enabled=false"])
    started = time.perf_counter()
    if stub_fsync:
        with mock.patch.object(os, "fsync", lambda fd: None):
            run(config, overrides=applied)
    else:
        run(config, overrides=applied)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--records", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "in"
        make_inputs(inputs, args.files, args.records)
        best = {True: float("inf"), False: float("inf")}
        for n in range(args.repeat):
            for stub in (True, False):
                best[stub] = min(best[stub], timed(inputs, Path(tmp) / f"run-{stub}-{n}", stub))
    print(f"{args.files} files x {args.records} records: with fsync {best[False]:.2f} s, "
          f"fsync stubbed {best[True]:.2f} s, ratio {best[False] / best[True]:.2f}")


if __name__ == "__main__":
    main()
