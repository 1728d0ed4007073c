"""``frankly aspects``: what customers talk about, and how, over a whole file."""

from __future__ import annotations

import argparse
import sys
from typing import IO, Any

from frankly.cli.common import (Progress, UsageError, add_format_option, add_model_option,
                                add_progress_option, positive_int, want_progress)

EXAMPLES = """\
examples:
  frankly aspects --input reviews.csv
  frankly aspects --input reviews.csv --output aspects.csv
  frankly aspects --input reviews.jsonl --target battery --target screen
  frankly aspects --input tickets.csv --taxonomy our_categories.csv --min-mentions 3
  frankly aspects "The waiter was rude but the pasta was great"

For each aspect category (and each term in it): mentions, the texts that mention it,
mentions by label, share negative (negative mentions / mentions) and net sentiment
((positive - negative) / mentions: +1 all praise, -1 all complaint). A --taxonomy file
holds 'category,term' rows (CSV or TSV) or a JSON object of category -> terms; a term no
seed names goes to the most similar category, or to "other".
"""
TERMS_SHOWN = 3  # per category in the table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "aspects", help="count aspects and their sentiment over a file of texts",
        description="Find what the texts talk about (aspects such as delivery, price or "
                    "staff) and how: mentions, share negative and net sentiment per "
                    "category and term.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("texts", nargs="*", metavar="TEXT",
                   help="texts to read; '-' reads one per line from stdin")
    p.add_argument("-i", "--input", metavar="FILE", help="a CSV, JSONL or Parquet file")
    add_format_option(p)
    p.add_argument("-t", "--text-column", default="text", metavar="COLUMN",
                   help="column of --input holding the texts (default: text)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="also write the table as CSV (one row per category and per term)")
    add_model_option(p)
    p.add_argument("--target", action="append", default=[], metavar="TERM",
                   help="a term to report wherever it occurs, found or not (repeatable)")
    p.add_argument("--taxonomy", metavar="FILE",
                   help="your own categories: 'category,term' rows or a JSON object")
    p.add_argument("--min-mentions", type=positive_int, default=1, metavar="N",
                   help="list terms mentioned at least N times (default: 1)")
    p.add_argument("--batch-size", type=positive_int, default=64, metavar="N",
                   help="texts per model call (default: 64)")
    add_progress_option(p)
    p.set_defaults(run=run, output_format=None, json=False)


def run(args: argparse.Namespace) -> int:
    from frankly.analyzer import Analyzer
    from frankly.aspects import check_targets
    from frankly.aspects.report import AspectReport
    from frankly.batch.job import analyze_chunks, require_columns
    from frankly.cli.analyze import _reader

    if args.output and not args.output.lower().endswith(".csv"):
        raise UsageError(f"--output writes CSV: give a .csv file name, got {args.output!r}")
    targets = check_targets(args.target)
    with _reader(args) as reader:
        require_columns(reader, {args.text_column: "--text-column"})
        analyzer = Analyzer(args.model, explain=False, urgency=False,
                            aspects=args.taxonomy or True)
        report = AspectReport()
        bar = (Progress(reader.total_rows, "reading aspects")
               if args.input and want_progress(args.progress) else None)
        try:
            for _, results in analyze_chunks(reader, analyzer, args.text_column,
                                             batch_size=args.batch_size, progress=bar,
                                             targets=targets):
                report.extend(results)
        finally:
            if bar is not None:
                bar.close()
    rows = report.rows(args.min_mentions)
    if args.output:
        write_csv(rows, args.output)
    show(report, rows, sys.stdout)
    return 0


def write_csv(rows: list[dict[str, Any]], path: str) -> None:
    from frankly.aspects.report import FIELDS
    from frankly.batch.tables import open_writer

    with open_writer(path, FIELDS, "csv") as writer:
        writer.write(rows)


def show(report: Any, rows: list[dict[str, Any]], out: IO[str]) -> None:
    out.write(f"{'category':<24} {'mentions':>8} {'texts':>6} {'negative':>8} {'net':>6}  "
              f"top terms (mentions, net)\n")
    terms: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["level"] == "term":
            terms.setdefault(row["category"], []).append(row)
    for row in rows:
        if row["level"] != "category":
            continue
        top = ", ".join(f"{t['term']} ({t['mentions']}, {t['net_sentiment']:+.2f})"
                        for t in terms.get(row["category"], [])[:TERMS_SHOWN])
        out.write(f"{row['category']:<24} {row['mentions']:>8,} {row['texts']:>6,} "
                  f"{row['share_negative']:>8.0%} {row['net_sentiment']:>+6.2f}  {top}\n")
    out.write(f"\n{report.with_aspects:,} of {report.texts:,} text"
              f"{'s' if report.texts != 1 else ''} mention an aspect\n")

