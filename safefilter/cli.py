"""The `safefilter` command line."""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Sequence

from . import __version__
from .errors import SafeFilterError

EPILOG = """examples:
  safefilter run --config configs/default.yaml
  safefilter run --config configs/default.yaml --input data/rollouts/ --output runs/r7 --set policy.min_severity=medium
  safefilter scan examples/trajectories/chat.jsonl --unsafe-only
  safefilter rules list --category tunneling
  safefilter rules test --pack my_rules.yaml
  safefilter rules explain "kubectl run x --image=alpine --privileged"
  safefilter train --config configs/train.yaml
  safefilter eval --input examples/trajectories/chat.jsonl --labels examples/labels.jsonl
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="safefilter",
        description="Filter unsafe agent behaviour (tunneling, cryptomining, network probing, resource "
                    "acquisition) out of RL trajectories, and keep it labeled for safety training.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"safefilter {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser(
        "run", help="run the config-driven pipeline and write a run directory",
        description="Read trajectories, scan them, and write RUN_DIR/{clean,unsafe,invalid}/ and manifest.json. "
                    "Flags override the config file; every override is recorded in the manifest.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="config keys: input, output, output_format (jsonl|parquet), overwrite, batch_size,\n"
               "  max_records_per_shard, progress, rules.packs, rules.include_experimental,\n"
               "  policy.requested_is_unsafe, policy.min_severity, policy.disabled_rules,\n"
               "  allowlist.hosts, allowlist.commands, normalize.max_decode_depth, ... (see configs/default.yaml)")
    run.add_argument("--config", metavar="FILE",
                     help="YAML run config (see configs/); required unless --from-manifest or --resume --output")
    run.add_argument("--input", metavar="PATH", action="append",
                     help="file, folder or glob to read (repeatable); overrides `input`")
    run.add_argument("--output", metavar="DIR", help="run directory to write; overrides `output`")
    run.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides",
                     help="override one config key, e.g. --set policy.min_severity=high (repeatable)")
    run.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    run.add_argument("--executor", choices=["auto", "local", "ray"],
                     help="scan in this process, on Ray (RAY_ADDRESS or a local Ray), or auto by input size; "
                          "overrides `executor`")
    run.add_argument("--from-manifest", metavar="MANIFEST",
                     help="rerun exactly the run a RUN_DIR/manifest.json describes (same config and inputs); "
                          "stops if inputs, rules, model or versions changed")
    run.add_argument("--allow-changes", action="store_true",
                     help="with --from-manifest: rerun even though something changed (recorded in the manifest)")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted run in its output directory: finished input files are kept")

    scan = sub.add_parser("scan", help="scan one file and print verdicts (a quick look, no run directory)",
                          description="Scan one input file with the rule packs and print one JSON verdict "
                                      "per record: id, unsafe, categories, findings.")
    scan.add_argument("path", help="a .jsonl, .jsonl.gz, .json, .traj or .parquet file")
    scan.add_argument("--pack", action="append", metavar="PATH",
                      help="rule pack file or folder (repeatable; default: the built-in packs)")
    scan.add_argument("--output", "-o", metavar="FILE", help="write verdicts here instead of stdout (missing parent folders are created)")
    scan.add_argument("--unsafe-only", action="store_true", help="print only records judged unsafe")

    rules = sub.add_parser("rules", help="list, test or explain rule packs")
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="ACTION")
    rules_sub.required = True
    lst = rules_sub.add_parser("list", help="show the loaded rules", description="Show every rule: id, category, "
                               "severity, what it applies to, and its title.")
    lst.add_argument("--pack", action="append", metavar="PATH", help="rule pack file or folder (default: built-in)")
    lst.add_argument("--category", help="only this category")
    lst.add_argument("--json", action="store_true", help="print JSON instead of a table")
    tst = rules_sub.add_parser("test", help="check every rule's inline examples",
                               description="Scan each rule's examples.match (must fire) and examples.no_match "
                                           "(must not fire) through the full normalizer. Exit 1 on any failure.")
    tst.add_argument("--pack", action="append", metavar="PATH",
                     help="rule pack file or folder (default: built-in); built-in packs stay loaded alongside")
    tst.add_argument("--verbose", "-v", action="store_true", help="list passing examples too")
    exp = rules_sub.add_parser("explain", help="show a command's events and which rules fire on it",
                               description="Parse one shell command (or, with --python, Python code) as an agent's "
                                           "tool call, print its events with every field an event rule can test, "
                                           "and the rules (text and event) that fire. Nothing is run.")
    exp.add_argument("text", help="the command (or code) to explain; quote it, or - to read it from stdin")
    exp.add_argument("--python", action="store_true", help="the text is Python code, not a shell command")
    exp.add_argument("--task", default="", help="task prompt, to see which findings it marks as requested")
    exp.add_argument("--pack", action="append", metavar="PATH",
                     help="rule pack file or folder (default: built-in); built-in packs stay loaded alongside")

    train = sub.add_parser(
        "train", help="fine-tune the action classifier and write a model directory",
        description="Make (or reuse) the synthetic training set, fine-tune the base model (or a small student "
                    "built from it), calibrate one threshold per category on the validation split, and write "
                    "weights, tokenizer, labels, thresholds, training config with data hashes, and a model card.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  safefilter train --config configs/train.yaml\n"
               "  safefilter train --config configs/train.yaml --output models/try2 --set training.epochs=2")
    train.add_argument("--config", metavar="FILE", help="YAML training recipe (see configs/train.yaml)")
    train.add_argument("--output", metavar="DIR", help="model directory to write; overrides `output`")
    train.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides",
                       help="override one recipe key, e.g. --set training.epochs=2 (repeatable)")
    train.add_argument("--no-progress", action="store_true", help="do not show progress bars")

    data = sub.add_parser("data", help="make the classifier's training data")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    data_sub.required = True
    mk = data_sub.add_parser(
        "make-training", help="write the synthetic training set as Parquet splits",
        description="Write train.parquet and validation.parquet (a Hugging Face datasets dataset: text, action, "
                    "kind, task, previous, labels, family, disguise, source) and hashes.json. Deterministic "
                    "under --seed; never reads evaluation data.")
    mk.add_argument("--output", metavar="DIR", help="folder to write (default: data/training; required with --decisions)")
    mk.add_argument("--examples", type=int, default=40000, help="number of examples (default: %(default)s)")
    mk.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    mk.add_argument("--validation-share", type=float, default=0.1, help="share held out (default: %(default)s)")
    mk.add_argument("--no-rule-examples", action="store_true",
                    help="leave out the rule packs' inline examples (weakly labeled by the rule engine)")
    mk.add_argument("--decisions", metavar="FILE",
                    help="instead of synthetic rows: rows from review decisions (safefilter review) on --run's "
                         "flagged actions: confirmed findings as positives, false alarms as label-0 rows; writes "
                         "DIR/train.parquet, hashes.json and README.md (docs/review.md)")
    mk.add_argument("--run", metavar="RUN_DIR", help="with --decisions: the run the decisions were made on")
    mk.add_argument("--overwrite", action="store_true", help="with --decisions: replace a non-empty --output")

    ev = sub.add_parser(
        "eval", help="measure rules, classifier and each way of combining them against labeled trajectories",
        description="Scan labeled trajectories once (classifier on every trajectory) and judge the findings under "
                    "every policy.combine mode (rules, classifier, either, rules_then_classifier), replaying "
                    "the configured classifier gate: tp, fp, fn, tn, precision, recall, false-positive rate "
                    "and F1, overall and per category. Writes metrics.json and a precision-recall plot per "
                    "category.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  safefilter eval --input examples/trajectories/chat.jsonl --labels examples/labels.jsonl")
    ev.add_argument("--input", metavar="FILE", required=True, help="trajectories (.jsonl, .jsonl.gz, .parquet, ...)")
    ev.add_argument("--labels", metavar="FILE", required=True,
                    help='JSONL with one {"id", "unsafe", "categories"} per trajectory')
    ev.add_argument("--config", metavar="FILE", default=None,
                    help="run config whose rules, policy and classifier to use (default: built-in defaults)")
    ev.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="overrides",
                    help="override one config key, e.g. --set classifier.model=models/try2 (repeatable)")
    ev.add_argument("--output", metavar="DIR", default="runs/eval",
                    help="where metrics.json and pr_<category>.png go (default: %(default)s)")
    ev.add_argument("--json", action="store_true",
                    help="print the report (every mode, overall and per category) as JSON instead of the table")
    _add_issue11_commands(sub)
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from .rerun import plan_run
    from .run import run

    overrides = list(args.overrides)
    if args.input:
        overrides.append("input=" + json.dumps(args.input if len(args.input) > 1 else args.input[0]))
    if args.output:
        overrides.append("output=" + json.dumps(args.output))
    if args.no_progress:
        overrides.append("progress=false")
    if args.executor:
        overrides.append(f"executor={args.executor}")
    plan = plan_run(config_file=args.config, overrides=overrides, from_manifest=args.from_manifest,
                    resume=args.resume, output=args.output, allow_changes=args.allow_changes)
    summary = run(plan.config, overrides=plan.overrides, command=["safefilter", *sys.argv[1:]],
                  config_file=plan.config_file, resume=args.resume, from_manifest=plan.from_manifest)
    if summary.already_complete:
        print(f"safefilter: the run in {summary.output} is already complete (manifest.json); nothing to do",
              file=sys.stderr)
    c = summary.counts
    print(f"input {c['input']}  clean {c['clean']}  unsafe {c['unsafe']}  invalid {c['invalid']}")
    for category, n in c["categories"].items():
        print(f"  {category:22s} {n}")
    if c.get("analysis_incomplete"):
        print(f"  {'analysis cut short':22s} {c['analysis_incomplete']}  (a limit was reached: safety.analysis_incomplete)")
    for warning in summary.warnings[:5]:
        print(f"safefilter: warning: {warning}", file=sys.stderr)
    if len(summary.warnings) > 5:
        print(f"safefilter: warning: ... {len(summary.warnings) - 5} more in manifest.json (warnings)", file=sys.stderr)
    print(f"run directory: {summary.output}  (manifest: {summary.manifest_path})")
    return 0


def _scanner(packs: Sequence[str] | None):
    from .scanner import Scanner

    return Scanner.from_rules(packs or ["builtin"])


def _cmd_scan(args: argparse.Namespace) -> int:
    from .io import expand_inputs, read_file
    from .scanner import record_id

    files = expand_inputs(args.path)
    if len(files) != 1:
        raise SafeFilterError(f"scan reads one file; {args.path} names {len(files)}: use `safefilter run --input "
                              f"{args.path} --output RUN_DIR` for many")
    scanner = _scanner(args.pack).ready()
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    tally: Counter[str] = Counter()
    try:
        for item in read_file(files[0]):
            if item.error is not None:
                row = {"source": item.source, "line": item.line, "invalid": item.error}
                tally["invalid"] += 1
            else:
                rid = record_id(item.record, Path(item.source).name, item.line)
                result = scanner.scan_records([(item.record, rid)])[0]
                if result.error is not None:
                    row = {"id": rid, "line": item.line, "invalid": result.error}
                    tally["invalid"] += 1
                else:
                    tally["unsafe" if result.verdict.unsafe else "clean"] += 1
                    if args.unsafe_only and not result.verdict.unsafe:
                        continue
                    row = {"id": rid, **result.verdict.safety_object()}
            out.write(json.dumps(row) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"clean {tally['clean']}  unsafe {tally['unsafe']}  invalid {tally['invalid']}", file=sys.stderr)
    return 0


def _cmd_rules(args: argparse.Namespace) -> int:
    from .rules.model import load_packs

    if args.rules_command == "list":
        packs = load_packs(args.pack or ["builtin"])
        rows = [r for p in packs for r in p.rules if not args.category or r.category == args.category]
        if args.json:
            print(json.dumps([{"id": r.id, "category": r.category, "subcategory": r.subcategory,
                               "severity": r.severity.label, "status": r.status, "mitre": list(r.mitre),
                               "applies_to": list(r.applies_to), "title": r.title, "pack": r.source,
                               **({"event": {"kind": r.event.kind, "fields": sorted({t.field for t in r.event.tests()})}}
                                  if r.event else {})}
                              for r in rows], indent=2))
            return 0
        from .rules.explain import rule_summary

        for r in rows:
            print(f"{r.id:34s} {r.category:21s} {r.severity.label:8s} {rule_summary(r):24s} {r.title}")
        print(f"{len(rows)} rules in {len(packs)} packs", file=sys.stderr)
        return 0
    if args.rules_command == "explain":
        from .rules.explain import explain, render_explanation

        packs = load_packs(["builtin"] + [p for p in (args.pack or []) if p != "builtin"])
        text = sys.stdin.read() if args.text == "-" else args.text
        print(render_explanation(explain(text, [r for p in packs for r in p.rules], python=args.python,
                                         task=args.task)))
        return 0
    from .rules.testing import check_rules

    paths = ["builtin"] + [p for p in (args.pack or []) if p != "builtin"]
    packs = load_packs(paths)
    selected = {str(Path(p).resolve()) for p in args.pack or []}
    all_rules = [r for p in packs for r in p.rules]
    to_test = [r for p in packs for r in p.rules
               if not selected or str(Path(p.path).resolve()) in selected
               or any(str(Path(p.path).resolve()).startswith(s) for s in selected)]
    from .policy import Policy
    from .scanner import RuleDetector, Scanner

    scanner = Scanner([RuleDetector(all_rules)], Policy(requested_is_unsafe=True))
    results = check_rules(to_test, scanner)
    failed = [r for r in results if not r.passed]
    for r in results:
        if not r.passed or args.verbose:
            print(("PASS " if r.passed else "FAIL ") + r.describe())
    n_rules = len({r.rule_id for r in results})
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed ({len(results)} examples of {n_rules} rules)")
    return 1 if failed else 0


def _cmd_train(args: argparse.Namespace) -> int:
    from .classifier.recipe import load_recipe, train_from_recipe

    overrides = list(args.overrides) + ([f"output={json.dumps(args.output)}"] if args.output else [])
    recipe = load_recipe(args.config, overrides)
    summary = train_from_recipe(recipe, progress=not args.no_progress, log=lambda m: print(m, file=sys.stderr))
    val = summary.get("validation") or {}
    print(f"trained {summary['steps']} steps in {summary['seconds']} s on {summary['device']}; "
          f"model: {summary['out_dir']}")
    for c, th in summary["thresholds"].items():
        m = val.get("per_category", {}).get(c, {})
        print(f"  {c:22s} threshold {th:.3f}  validation P {m.get('precision', 0):.3f} R {m.get('recall', 0):.3f}")
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    if args.decisions or args.run:
        return _cmd_reviewed_data(args)
    from .classifier.recipe import make_training_data

    args.output = args.output or "data/training"
    hashes = make_training_data(args.output, examples=args.examples, seed=args.seed,
                                validation_share=args.validation_share,
                                generator={"rule_examples": not args.no_rule_examples})
    for name, digest in sorted(hashes.items()):
        print(f"{Path(args.output) / name}  sha256 {digest}")
    return 0


def _cmd_reviewed_data(args: argparse.Namespace) -> int:
    """`data make-training --decisions FILE --run RUN_DIR --output DIR`: reviewed rows, never over synthetic data."""
    from .training.decisions import write_decision_data

    if not (args.decisions and args.run):
        raise SafeFilterError("give both --decisions FILE and --run RUN_DIR (the run the decisions were made on)")
    if not args.output:
        raise SafeFilterError("with --decisions give --output DIR: the default data/training holds the synthetic set")
    result, hashes = write_decision_data(args.run, args.decisions, args.output, overwrite=args.overwrite)
    fams = Counter(r["family"] for r in result.rows)
    print(f"{len(result.rows)} rows from {result.records} decided records: confirmed {fams['review_confirmed']}  "
          f"false alarm {fams['review_false_alarm']}  requested {fams['review_requested']}  "
          f"left out {sum(result.skipped.values())}")
    for name, digest in sorted(hashes.items()):
        print(f"{Path(args.output) / name}  sha256 {digest}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from .config import load_config
    from .evaluate import evaluate, format_table, read_labels, records_of, write_report
    from .run import build_scanner

    for what, path in (("--input", args.input), ("--labels", args.labels)):
        if not Path(path).is_file():
            raise SafeFilterError(f"{what} {path}: no such file")
    # the config file's own reading and error messages; input/output are the eval's
    config, _ = load_config(args.config, [f"input={json.dumps(args.input)}", f"output={json.dumps(args.output)}",
                                          "classifier.enabled=true", *args.overrides])
    scanner = build_scanner(config)
    report = evaluate(scanner, records_of(args.input), read_labels(args.labels))
    written = write_report(report, args.output)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(format_table(report))
    print(f"\nwrote {', '.join(str(p) for p in written)}")
    return 0


# --- export, report, review (issue 11: safety-training exports, the run report, review feedback) ---

def _add_issue11_commands(sub: argparse._SubParsersAction) -> None:
    exp = sub.add_parser(
        "export", help="write a run as a safety-training dataset (steps, prefixes or trajectories)",
        description="Read a finished run directory and write a Hugging Face dataset (Parquet shards, "
                    "dataset_info.json, data card) split train/validation/test by a hash of the record id. "
                    "Options default to the run config's `exports:` section.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  safefilter export runs/sample --format steps --output exports/steps --benign-ratio 3\n"
               "  safefilter export runs/sample --format prefixes --output exports/dpo")
    exp.add_argument("run_dir", metavar="RUN_DIR", help="the --output of a finished `safefilter run`")
    exp.add_argument("--format", required=True, choices=["steps", "prefixes", "trajectories"])
    exp.add_argument("--output", required=True, metavar="DIR", help="folder to write (must be new or empty)")
    exp.add_argument("--benign-ratio", type=float, metavar="R",
                     help="steps: keep R safe rows per unsafe row, stratified by tool (default: all)")
    exp.add_argument("--context-chars", type=int, metavar="N", help="steps: context budget in characters")
    exp.add_argument("--include-clean", action="store_true", help="trajectories: the clean records too")
    exp.add_argument("--no-rescan", action="store_true",
                     help="steps: do not rescan clean records with the run's rules for requested/evidence (faster)")
    exp.add_argument("--chosen-template", metavar="TEXT",
                     help="prefixes: the `chosen` reply ({categories} is filled in); default empty")
    exp.add_argument("--splits", metavar="NAME=SHARE,...", help="e.g. train=0.9,test=0.1 (default 0.8/0.1/0.1)")
    exp.add_argument("--save-to-disk", action="store_true", help="also write DIR/arrow/ for datasets.load_from_disk")
    exp.add_argument("--decisions", metavar="FILE",
                     help="review decisions (safefilter review): false alarms do not count; fills `reviewed`")
    exp.add_argument("--overwrite", action="store_true", help="replace DIR if it exists")

    rep = sub.add_parser(
        "report", help="write a self-contained HTML report of a run",
        description="Counts, top rules, score histogram, a sortable table of unsafe trajectories and each "
                    "conversation with its evidence highlighted, in one HTML file with no network access.")
    rep.add_argument("run_dir", metavar="RUN_DIR")
    rep.add_argument("--labels", metavar="FILE", help='JSONL of {"id", "unsafe", "categories"}: adds precision/recall')
    rep.add_argument("--output", metavar="FILE", help="where to write (default: RUN_DIR/report.html)")
    rep.add_argument("--max-per-category", type=int, default=None, metavar="N",
                     help="conversations shown per category (default: the run config's report.max_per_category)")

    rev = sub.add_parser(
        "review", help="walk through flagged trajectories and record decisions (needs a terminal)",
        description="Show each unsafe trajectory's evidence and ask: correct, false alarm, skip or quit. "
                    "Decisions are appended to a JSONL file that a later run reads as review.decisions.")
    rev.add_argument("run_dir", metavar="RUN_DIR")
    rev.add_argument("--decisions", required=True, metavar="FILE", help="JSONL file to append decisions to")
    rev.add_argument("--reviewer", default="", help="name recorded with each decision")


def _cmd_issue11(args: argparse.Namespace) -> int:
    if args.command == "export":
        from .export import export_run, options_from_config
        from .export.runrecords import read_manifest_of

        options = options_from_config((read_manifest_of(args.run_dir).get("config") or {}).get("exports"))
        changes: dict = {}
        if args.benign_ratio is not None:
            changes["benign_ratio"] = args.benign_ratio
        if args.context_chars is not None:
            changes["context_chars"] = args.context_chars
        if args.include_clean:
            changes["include_clean"] = True
        if args.no_rescan:
            changes["rescan_clean"] = False
        if args.chosen_template is not None:
            changes["chosen_template"] = args.chosen_template
        if args.splits:
            try:
                changes["splits"] = {k.strip(): float(v) for k, v in (p.split("=", 1) for p in args.splits.split(","))}
            except ValueError:
                raise SafeFilterError(f"--splits {args.splits!r}: give NAME=SHARE pairs, e.g. train=0.9,test=0.1") from None
        import dataclasses
        result = export_run(args.run_dir, args.format, args.output, options=dataclasses.replace(options, **changes),
                            overwrite=args.overwrite, save_to_disk=args.save_to_disk, decisions=args.decisions)
        print("  ".join(f"{k} {v}" for k, v in result.sizes.items()) or "no rows")
        for warning in result.warnings[:5]:
            print(f"safefilter: warning: {warning}", file=sys.stderr)
        print(f"export: {result.output}")
        return 0
    if args.command == "report":
        from .report import write_report

        path = write_report(args.run_dir, output=args.output, labels=args.labels,
                            max_per_category=args.max_per_category)
        print(f"report: {path}")
        return 0
    from .review import review_cli

    return review_cli(args.run_dir, args.decisions, reviewer=args.reviewer)

# --- end of issue 11 block ---


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "scan":
            return _cmd_scan(args)
        if args.command == "train":
            return _cmd_train(args)
        if args.command == "data":
            return _cmd_data(args)
        if args.command == "eval":
            return _cmd_eval(args)
        if args.command in ("export", "report", "review"):
            return _cmd_issue11(args)
        return _cmd_rules(args)
    except SafeFilterError as exc:
        print(f"safefilter: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the environment (disk, permissions, paths), never a traceback
        where = f" {exc.filename}" if exc.filename is not None else ""
        print(f"safefilter: error: cannot use{where}: {exc.strerror or exc}; fix it and run again", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("safefilter: interrupted; finished input files are kept: rerun the same command with --resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
