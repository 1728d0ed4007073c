"""``frankly report``: an analysed file in, one self-contained HTML report out."""

from __future__ import annotations

import argparse

from frankly.cli.common import (Progress, UsageError, add_format_option, add_progress_option,
                                add_subject_kind_option, positive_int, want_progress)

EXAMPLES = """\
examples:
  frankly analyze --input reviews.csv --output analysed.csv
  frankly report --input analysed.csv --output report.html
  frankly batch --input 'exports/*.csv' --output scored/
  frankly report --input scored/ --output report.html       # a folder of batch parts
  frankly report --input analysed.parquet --output report.html --time-column sent_at
  frankly report --input survey.csv --output report.html \
                 --subject-kind employee --subject-column person   # aggregates only

The report is one HTML file that opens offline from disk (Chart.js and the chart script
are inside it; it fetches nothing): the dashboard's overview (volume and label shares over
time with 95% bands), aspects (categories ranked by negative share, with the change against
the previous period and example texts), the urgent list (by urgency score, with reasons
and sentiment) and alerts (significant spikes only). Times come from --time-column, or
created_at when the file has it; without one the file is one period, and the report says
so. Rows that could not be analysed, or whose time or scores cannot be read, are counted
and listed in the report. For employees and students the report holds aggregates only,
over at least 10 distinct people, with no text.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="write a self-contained HTML report of an analysed file",
        description="Write one self-contained HTML file (charts inline, no server) with the\n"
                    "dashboard's overview, aspects, urgent list and alerts, for a file\n"
                    "written by 'frankly analyze --output' or a folder written by 'frankly "
                    "batch'.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-i", "--input", required=True, metavar="FILE",
                   help="an analysed CSV, JSONL or Parquet file, or a folder of Parquet "
                        "parts from 'frankly batch'")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="the HTML file to write (written whole, or not at all)")
    add_format_option(p)
    p.add_argument("-t", "--text-column", default="text", metavar="COLUMN",
                   help="column holding the texts (default: text)")
    p.add_argument("--time-column", metavar="COLUMN",
                   help="column holding each row's time, ISO 8601 like 2026-11-20T09:00:00Z "
                        "(default: created_at if the file has it, else the whole file is "
                        "one period)")
    p.add_argument("--source-column", metavar="COLUMN",
                   help="column naming each row's source (default: source, if present)")
    p.add_argument("--brand-column", metavar="COLUMN",
                   help="column naming each row's brand (default: brand, if present)")
    p.add_argument("--compare-days", type=positive_int, metavar="N",
                   help="aspects: the last N days against the N days before (default: the "
                        "later half of the file's time span against the earlier half)")
    p.add_argument("--alert-period", choices=("day", "week"),
                   help="alerts test the latest day against 28, or the latest week against "
                        "8 (default: weeks when the file spans over 120 days, else days)")
    p.add_argument("--urgent-limit", type=positive_int, default=50, metavar="N",
                   help="list the N most urgent rows, at most 500 (default: 50)")
    p.add_argument("--redact", action=argparse.BooleanOptionalAction, default=True,
                   help="replace personal data in the texts shown (e-mail addresses, phone "
                        "numbers, cards, IBANs, IPs, URLs with secrets) by placeholders such "
                        "as [EMAIL] (default: on; --no-redact shows texts as they are)")
    add_subject_kind_option(p, protected="for employees and students the report holds "
                            "aggregates only")
    p.add_argument("--subject-column", metavar="COLUMN",
                   help="column naming who wrote each row (an id), to count distinct people "
                        "(needed for employees and students)")
    add_progress_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from frankly import policy
    from frankly.dashboard.report import URGENT_MAX, write_report

    if policy.is_protected(args.subject_kind) and not args.subject_column:
        raise UsageError(f"a report about {args.subject_kind}s needs --subject-column COLUMN, "
                         f"to count the distinct people behind its aggregates")
    if args.urgent_limit > URGENT_MAX:
        raise UsageError(f"--urgent-limit must be at most {URGENT_MAX}, got {args.urgent_limit}")
    bar = Progress(None, "reading") if want_progress(args.progress) else None
    try:
        summary = write_report(
            args.input, args.output, input_format=args.format, text_column=args.text_column,
            time_column=args.time_column, source_column=args.source_column,
            brand_column=args.brand_column, subject_kind=args.subject_kind,
            subject_column=args.subject_column, compare_days=args.compare_days,
            alert_period=args.alert_period, urgent_limit=args.urgent_limit, progress=bar,
            redact=args.redact)
    finally:
        if bar is not None:
            bar.close()
    print(f"wrote {summary.output} ({summary.bytes:,} bytes): {summary.stored:,} of "
          f"{summary.rows:,} rows in the report, {summary.urgent:,} urgent")
    if summary.time_column is None:
        print("  no time column (created_at, or --time-column): the whole file is one period")
    if summary.people is not None:
        print(f"  aggregates only, over {summary.people:,} distinct {args.subject_kind}s")
    for note in summary.notes:
        print(f"  note: {note}")
    if summary.failed:
        print(f"  {summary.failed:,} rows failed and are left out (listed in the report):")
        for place, reason in summary.failed_rows[:5]:
            print(f"    {place}: {reason}")
        if summary.failed > 5:
            print(f"    ... and {summary.failed - 5:,} more")
    return 0
