"""Measure bashlex against tree-sitter-bash on the command corpus: robustness and speed.

Robustness: the fraction of lines each parser accepts (bashlex: no exception; tree-sitter: a tree
without ERROR or MISSING nodes, and separately a tree safefilter.events.shell accepts after its
recovery of bare brace expansions). Speed: microseconds per line and MB/s over the whole corpus,
best of a few repetitions. bashlex is optional (GPL-3.0, never a dependency of the package):
`pip install bashlex` to include it.

    python scripts/compare_shell_parsers.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_events import best_time as _best  # noqa: E402
from shell_corpus import commands  # noqa: E402


def main() -> None:
    lines = commands()
    data = [c.encode() for c in lines]
    total = sum(len(d) for d in data)
    print(f"corpus: {len(lines)} command lines, {total / 1024:.1f} KB")

    import tree_sitter_bash
    from tree_sitter import Language, Parser

    parser = Parser(Language(tree_sitter_bash.language()))
    clean = sum(not parser.parse(d).root_node.has_error for d in data)
    from safefilter.events import events_of_shell, Origin

    origin = Origin(message_index=0, tool_call_id=None, field="arguments.command")
    accepted = sum(events_of_shell(c, origin=origin).parsed for c in lines)
    t = _best(lambda: [parser.parse(d) for d in data])
    te = _best(lambda: [events_of_shell(c, origin=origin) for c in lines], reps=3)
    print(f"tree-sitter-bash: clean {clean}/{len(lines)} ({clean / len(lines):.1%}), "
          f"accepted after recovery {accepted}/{len(lines)} ({accepted / len(lines):.1%}); "
          f"parse {t / len(lines) * 1e6:.1f} us/line, {total / t / 1e6:.2f} MB/s "
          f"({t / (total / 1024) * 1e3:.2f} ms/KB); parse+events {te / len(lines) * 1e6:.1f} us/line, "
          f"{te / (total / 1024) * 1e3:.2f} ms/KB")
    try:
        import bashlex
    except ImportError:
        print("bashlex: not installed")
        return

    def parse_all() -> int:
        ok = 0
        for c in lines:
            try:
                bashlex.parse(c)
                ok += 1
            except Exception:  # bashlex raises its own errors and also NotImplementedError etc.
                pass
        return ok

    ok = parse_all()
    tb = _best(parse_all, reps=3)
    print(f"bashlex: parsed {ok}/{len(lines)} ({ok / len(lines):.1%}); "
          f"{tb / len(lines) * 1e6:.1f} us/line, {total / tb / 1e6:.3f} MB/s "
          f"({tb / (total / 1024) * 1e3:.2f} ms/KB)")
    fails = []
    for c in lines:
        try:
            bashlex.parse(c)
        except Exception as e:
            fails.append((type(e).__name__, c[:70].replace("\n", "\\n")))
    for name, c in fails[:15]:
        print(f"  bashlex fails ({name}): {c}")


if __name__ == "__main__":
    main()
