"""``frankly evaluate``: measure a model on your own labelled data."""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

from frankly.cli.common import (Progress, add_analysis_options, add_format_option,
                                add_label_options, add_model_option, add_progress_option,
                                positive_int, want_progress)

EXAMPLES = """\
examples:
  frankly evaluate --input labelled.csv --text-column comment --label-column sentiment
  frankly evaluate --input tweets.jsonl --label-map 'good=positive,bad=negative' --json
  frankly evaluate --input reviews.csv --terms brand-terms.csv   # before and after the terms

Labels: positive/negative/neutral, pos/neg/neu and 0/1/2 (0 negative, 1 neutral,
2 positive, as in TweetEval) are understood in any case; name others with --label-map.
A row whose label is empty or unknown stops the run with an error naming the row and
the label, unless --skip-unknown is given: then such rows are left out and counted in
the report. Rows with an empty or invalid text are kept and count as the model's answer
for them (neutral, flagged for review), as in production.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="measure a model on your labelled CSV/JSONL/Parquet file",
        description="Accuracy, macro-F1, macro-recall, per-class precision/recall/F1, the\n"
                    "confusion matrix and the calibration error of a model on your data.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-i", "--input", required=True, metavar="FILE",
                   help="a CSV, JSONL or Parquet file with a text and a label column")
    add_format_option(p)
    add_label_options(p)
    add_model_option(p)
    add_analysis_options(p, evidence=False)
    p.add_argument("--batch-size", type=positive_int, default=64, metavar="N",
                   help="texts per model call (default: 64)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    add_progress_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from frankly.terms import Terms

    terms = Terms.from_file(args.terms) if args.terms else None
    report = _evaluate(args, None)
    if terms is None:
        if args.json:
            print(json.dumps(report, indent=None))
        else:
            print_report(report, sys.stdout)
        return 0
    with_terms = _evaluate(args, terms)
    if args.json:
        print(json.dumps({"without_terms": report, "with_terms": with_terms}, indent=None))
        return 0
    print(f"without the terms in {args.terms}:")
    print_report(report, sys.stdout)
    print(f"\nwith the {len(terms)} terms in {args.terms}:")
    print_report(with_terms, sys.stdout)
    print("\neffect of the terms: " + ", ".join(
        f"{name} {with_terms[key] - report[key]:+.3f}"
        for key, name in (("accuracy", "accuracy"), ("macro_f1", "macro-F1"),
                          ("macro_recall", "macro-recall"))))
    return 0


def _evaluate(args: argparse.Namespace, terms: Any) -> dict[str, Any]:
    from frankly.analyzer import Analyzer
    from frankly.batch.tables import open_table
    from frankly.training.evaluate import evaluate_table

    with open_table(args.input, args.format) as reader:
        bar = Progress(reader.total_rows, "evaluating") if want_progress(args.progress) else None
        model = args.model if terms is None else Analyzer(args.model, terms=terms,
                                                          explain=False)
        try:
            return evaluate_table(reader, model, text_column=args.text_column,
                                  label_column=args.label_column, label_map=args.label_map,
                                  skip_unknown=args.skip_unknown,
                                  batch_size=args.batch_size, progress=bar)
        finally:
            if bar is not None:
                bar.close()


def print_report(report: dict[str, Any], out: IO[str]) -> None:
    labels = report["confusion"]["labels"]
    n = report["n"]
    lines = [
        f"{report['input']}: {n:,} rows evaluated with {report['model']}",
        "",
        f"  accuracy                 {report['accuracy']:.3f}",
        f"  macro-F1                 {report['macro_f1']:.3f}",
        f"  macro-recall             {report['macro_recall']:.3f}",
        f"  calibration error (ECE)  {report['ece']:.3f}",
        f"  needs review             {report['needs_review']:,} "
        f"({report['needs_review'] / n:.1%})",
        f"  labelled mixed           {report.get('mixed', 0):,} "
        f"({report.get('mixed', 0) / n:.1%}; scored by their top label)",
    ]
    if report["skipped"]:
        shown = ", ".join(f"{k} ({v})" for k, v in report["skipped_labels"].items())
        lines.append(f"  skipped (unknown label)  {report['skipped']:,}: {shown}")
    lines += ["", f"  {'class':<10} {'precision':>9} {'recall':>7} {'F1':>7} {'support':>8}"]
    for name in labels:
        c = report["per_class"][name]
        lines.append(f"  {name:<10} {c['precision']:>9.3f} {c['recall']:>7.3f} "
                     f"{c['f1']:>7.3f} {c['support']:>8,}")
    lines += ["", "  confusion matrix (rows: true label, columns: predicted)",
              "  " + " " * 10 + "".join(f"{name:>10}" for name in labels)]
    for name, row in zip(labels, report["confusion"]["matrix"]):
        lines.append(f"  {name:<10}" + "".join(f"{v:>10,}" for v in row))
    out.write("\n".join(lines) + "\n")
