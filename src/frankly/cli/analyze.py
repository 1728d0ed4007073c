"""``frankly analyze`` and ``frankly demo``: texts, stdin or files in; a table, JSON lines
or a file out."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from typing import IO, Any

from frankly.cli.common import (Progress, UsageError, add_analysis_options, add_format_option,
                                add_model_option, add_progress_option, add_subject_kind_option,
                                analyzer_options, build_analyzer, positive_int, want_progress)

EXAMPLES = """\
examples:
  frankly analyze "The refund took three weeks" "Lovely staff, quick delivery"
  cat comments.txt | frankly analyze -                # one text per line
  frankly analyze --input reviews.csv --output scored.parquet --text-column comment
  frankly analyze --input tickets.jsonl --json --model fast
  frankly analyze -- "-1 star, never again"           # -- before a text starting with -
  frankly analyze --input survey.csv --subject-kind employee --subject-column person
                                                      # aggregates only (see below)

With --output, every input column is kept and these are added: label (positive,
negative, neutral, or mixed when the text holds confidently positive and confidently
negative sentences), score_negative, score_neutral, score_positive, confidence,
needs_review, review_reason, error (empty unless the row could not be analysed),
language, evidence (the spans that drove the label, with signed weights), urgent,
urgency_score (calibrated probability that the message needs a person now),
urgency_category and urgency_reasons ("billing: charged twice; deadline: today"). A column
the input already has (say its own "label") keeps its name and the new one is prefixed:
frankly_label. Every input row
gets one output row; an empty or invalid text gets needs_review and the reason. The
output is written to a temporary file and renamed at the end.
"""
TEXT_WIDTH_MIN = 20  # the text column never gets narrower than this on a small terminal


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze", help="analyse texts, stdin, or a CSV/JSONL/Parquet file",
        description="Analyse the sentiment of texts: arguments, stdin (-) or a file.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("texts", nargs="*", metavar="TEXT",
                   help="texts to analyse; '-' reads one text per line from stdin")
    p.add_argument("-i", "--input", metavar="FILE",
                   help="a CSV, JSONL or Parquet file of texts (Parquet needs pyarrow)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the input rows plus the prediction columns to FILE (.csv, "
                        ".jsonl or .parquet) instead of printing a table")
    add_format_option(p)
    p.add_argument("--output-format", choices=("csv", "jsonl", "parquet"),
                   help="format of --output (default: from its extension)")
    p.add_argument("-t", "--text-column", default="text", metavar="COLUMN",
                   help="column of --input holding the texts (default: text)")
    add_model_option(p)
    add_analysis_options(p, urgency=True)
    p.add_argument("--batch-size", type=positive_int, default=64, metavar="N",
                   help="texts per model call (default: 64)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per text (Result.to_dict()) instead of the table")
    add_progress_option(p)
    add_subject_options(p)
    p.set_defaults(run=run)


def add_subject_options(parser: argparse.ArgumentParser) -> None:
    add_subject_kind_option(parser, protected="for employees and students only aggregates "
                            "are given")
    parser.add_argument("--subject-column", metavar="COLUMN",
                        help="column of --input naming who wrote each row (an id), to count "
                             "distinct people for aggregates")


def add_demo_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="analyse a small sample of customer feedback shipped with Frankly",
        description="Analyse 20 invented pieces of customer feedback that ship with Frankly\n"
                    "and print the table and summary.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_option(p)
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per text instead of the table")
    p.set_defaults(run=run_demo)


def _reader(args: argparse.Namespace):
    from frankly.batch.tables import TextsReader, open_table, stdin_lines

    if args.input and args.texts:
        raise UsageError("give texts or --input FILE, not both")
    if args.format and not args.input:
        raise UsageError("--format applies to --input FILE")
    if args.output_format and not args.output:
        raise UsageError("--output-format applies to --output FILE")
    if args.json and args.output:
        raise UsageError("--json prints to the terminal; with --output the file format "
                         "comes from its extension or --output-format")
    if args.input:
        return open_table(args.input, args.format)
    if not args.texts:
        raise UsageError("nothing to analyse: give texts, '-' to read them from stdin, or "
                         "--input FILE")
    if "-" in args.texts:
        if len(args.texts) > 1:
            raise UsageError("'-' reads the texts from stdin: give it alone")
        stream = getattr(sys.stdin, "buffer", sys.stdin)
        return TextsReader(stdin_lines(stream), "<stdin>", unit="line")
    return TextsReader(args.texts, "<arguments>", unit="text")


def run(args: argparse.Namespace) -> int:
    from frankly import policy
    from frankly.batch.job import analyze_table, require_columns

    if policy.is_protected(args.subject_kind):
        return run_aggregate(args)
    with _reader(args) as reader:
        show_bar = bool(args.input) and want_progress(args.progress)
        if args.output:
            progress = Progress(reader.total_rows) if show_bar else None
            try:
                summary = analyze_table(reader, args.output, args.model,
                                        analyzer_options=analyzer_options(args),
                                        text_column=args.text_column,
                                        output_format=args.output_format,
                                        batch_size=args.batch_size, progress=progress)
            finally:
                if progress is not None:
                    progress.close()
            print(f"wrote {summary.n:,} rows to {args.output}")
            print_summary(summary, sys.stdout)
            return 0
        require_columns(reader, {args.text_column: "--text-column"})
        # The bar shares the terminal with the table only when stdout goes elsewhere.
        show_bar = show_bar and (args.progress or not _isatty(sys.stdout))
        return show(reader, build_analyzer(args), text_column=args.text_column,
                    as_json=args.json, batch_size=args.batch_size, progress=show_bar)


def run_aggregate(args: argparse.Namespace) -> int:
    """Texts about employees or students: the summary only, over at least k people."""
    from frankly import policy
    from frankly.batch.job import Summary, analyze_chunks, require_columns

    kind = policy.check_subject_kind(args.subject_kind)
    if args.output or args.json:
        policy.refuse_per_person(kind, "per-text results (--output, --json)")
    if not args.input or not args.subject_column:
        raise UsageError(f"aggregates about {kind}s need --input FILE and --subject-column "
                         f"COLUMN, to count the distinct people behind them")
    people: set[str] = set()
    summary = Summary()
    with _reader(args) as reader:
        require_columns(reader, {args.text_column: "--text-column",
                                 args.subject_column: "--subject-column"})
        analyzer = build_analyzer(args)
        bar = Progress(reader.total_rows) if want_progress(args.progress) else None
        try:
            for chunk, results in analyze_chunks(reader, analyzer, args.text_column,
                                                 batch_size=args.batch_size, progress=bar):
                for row, result in zip(chunk.rows, results):
                    summary.add(result)
                    who = row.get(args.subject_column)
                    # A row that names nobody counts as one unknown person: anonymous rows
                    # cannot prove that they come from many people.
                    people.add("" if who is None else str(who).strip())
        finally:
            if bar is not None:
                bar.close()
    if not policy.aggregate_allowed(len(people)):
        raise policy.PolicyError(f"{len(people)} distinct {kind}s: "
                                 f"{policy.SUPPRESSED_REASON}")
    print(f"aggregate over {len(people):,} distinct {kind}s (no per-text results: "
          f"see the use policy)")
    print_summary(summary, sys.stdout)
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from importlib import resources

    from frankly.batch.tables import open_table

    from frankly.analyzer import Analyzer

    sample = resources.files("frankly") / "resources" / "sample_feedback.csv"
    analyzer = Analyzer(args.model)  # first, so a model that fails to load says so at once
    with resources.as_file(sample) as path, open_table(path) as reader:
        if not args.json:
            print(f"Frankly demo: {reader.total_rows} pieces of invented customer feedback "
                  f"({sample.name}), model {analyzer.model.id}\n")
        return show(reader, analyzer, text_column="text", as_json=args.json)


def show(reader: Any, model: Any, *, text_column: str = "text", as_json: bool = False,
         batch_size: int = 64, progress: bool = False, out: IO[str] | None = None) -> int:
    """Print one line per row of ``reader`` (a table or JSON), then the summary."""
    from frankly.analyzer import Analyzer
    from frankly.batch.job import Summary, analyze_chunks

    out = out or sys.stdout
    analyzer = model if isinstance(model, Analyzer) else Analyzer(model)
    bar = Progress(reader.total_rows) if progress else None
    summary = Summary()
    width = shutil.get_terminal_size((120, 24)).columns if _isatty(out) else None
    try:
        if not as_json:
            out.write(_line("label", "confidence", "review", "text", width,
                            urgent="urgent" if analyzer.urgency is not None else None))
        for _, results in analyze_chunks(reader, analyzer, text_column,
                                         batch_size=batch_size, progress=bar):
            for result in results:
                summary.add(result)
                if as_json:
                    out.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
                else:
                    text = " ".join(result.text.split()) or "(no text)"
                    u = result.urgency
                    out.write(_line(result.label, f"{result.confidence:.2f}",
                                    "yes" if result.needs_review else "-", text, width,
                                    urgent=None if u is None else
                                    (u.category or "yes") if u.urgent else "-"))
    finally:
        if bar is not None:
            bar.close()
    if not as_json:
        out.write("\n")
        print_summary(summary, out)
    return 0


def _line(label: str, confidence: str, review: str, text: str, width: int | None,
          urgent: str | None = None) -> str:
    head = f"{label:<9} {confidence:>10}  {review:<6}  "
    if urgent is not None:
        head += f"{urgent:<10}  "
    if width is not None:
        room = max(TEXT_WIDTH_MIN, width - len(head) - 1)
        if len(text) > room:
            text = text[:room - 3] + "..."
    return head + text + "\n"


def print_summary(summary: Any, out: IO[str]) -> None:
    """Counts and shares per label, and how many texts need a person's review."""
    n = summary.n

    def share(k: int) -> str:
        return f"{k / n:6.1%}" if n else "     -"

    lines = [f"{n:,} text{'s' if n != 1 else ''}" + (f" ({summary.model})" if n else "")]
    lines += [f"  {label:<13} {count:>7,}  {share(count)}"
              for label, count in summary.counts.items()]
    review = summary.needs_review
    lines.append(f"  {'needs review':<13} {review:>7,}  {share(review)}")
    if summary.urgent is not None:
        lines.append(f"  {'urgent':<13} {summary.urgent:>7,}  {share(summary.urgent)}"
                     "  (frankly triage lists them, most urgent first)")
    if summary.errors:
        lines.append(f"  {'errors':<13} {summary.errors:>7,}  {share(summary.errors)}"
                     "  (could not be analysed: see the error field)")
    out.write("\n".join(lines) + "\n")


def _isatty(stream: object) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())
