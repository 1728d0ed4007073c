"""``frankly batch``: files, a folder or a glob in; a folder of Parquet parts out, on every
core or on Spark; resumable."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, Any

from frankly.cli.common import (Progress, UsageError, add_analysis_options, add_format_option,
                                add_model_option, add_progress_option, add_subject_kind_option,
                                positive_int, want_progress)

EXAMPLES = """\
examples:
  frankly batch --input reviews.csv --output scored/ --model fast
  frankly batch --input 'exports/*.jsonl' --output scored/ --text-column body
  frankly batch --input exports/ --output scored/ --workers 4        # every CSV, JSONL, Parquet
  frankly batch --input reviews.parquet --output scored/ --engine spark --master 'local[2]'

The output folder holds Parquet parts (part-00000-000000.parquet, ...) with every input
column followed by the columns 'frankly analyze --output' adds; read it as one table with
pandas.read_parquet('scored/'), pyarrow, DuckDB or Spark. A job stopped at any point (Ctrl-C,
kill -9, a reboot) continues where it stopped when the same command is run again: parts
are written whole or not at all, and each input row ends up in the output exactly once.
A file edited since the last run is scored again; other settings, or files added or gone,
are refused (--restart starts over).
With --engine spark (pip install 'frankly[spark]'), Spark scores the rows; a Spark job that
was stopped runs again from the start.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch", help="score many files on every core or on Spark, resumably",
        description="Score a file, a folder or a glob of CSV, JSONL or Parquet files into a "
                    "folder of Parquet parts.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-i", "--input", required=True, metavar="PATH",
                   help="a file, a folder (its .csv, .jsonl and .parquet files, subfolders "
                        "too) or a quoted glob such as 'data/*.csv'")
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="the folder to write (made if missing); run the same command again "
                        "to resume a stopped job")
    add_format_option(p)
    p.add_argument("-t", "--text-column", default="text", metavar="COLUMN",
                   help="column holding the texts (default: text)")
    add_model_option(p)
    add_analysis_options(p, urgency=True)
    p.add_argument("--engine", choices=("local", "spark"), default="local",
                   help="local: a process pool on this machine (default); spark: Spark")
    p.add_argument("-w", "--workers", type=positive_int, metavar="N",
                   help="local engine: worker processes, each with its own model (default: "
                        "the number of cores; 1 scores in this process)")
    p.add_argument("--master", default="local[*]", metavar="URL",
                   help="spark engine: the Spark master (default: local[*])")
    p.add_argument("--spark-conf", action="append", type=_spark_setting, default=[],
                   metavar="KEY=VALUE",
                   help="spark engine: a Spark setting for the session this command starts, "
                        "such as spark.driver.memory=2g (repeat for several; a local master's "
                        "JVM heap is 512m unless set, so memory stays bounded)")
    p.add_argument("--chunk-rows", type=positive_int, metavar="N",
                   help="local engine: rows per part (default: about 1/16 of the input, "
                        "256 to 4,096)")
    p.add_argument("--batch-size", type=positive_int, default=64, metavar="N",
                   help="texts per model call (default: 64)")
    p.add_argument("--restart", action="store_true",
                   help="discard what an earlier job wrote to DIR and start over")
    p.add_argument("--json", action="store_true",
                   help="print the report as JSON instead of the summary")
    add_progress_option(p)
    add_subject_kind_option(p, protected="per-text results about employees or students "
                            "are refused")
    p.set_defaults(run=run)


def _spark_setting(value: str) -> tuple[str, str]:
    key, sep, setting = value.partition("=")
    if not sep or not key.strip() or not setting.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE such as spark.driver.memory=2g, "
                                         f"got {value!r}")
    return key.strip(), setting.strip()


def spec_from_args(args: argparse.Namespace) -> Any:
    from frankly.batch.spec import AnalyzerSpec

    if args.urgency_phrases and not args.urgency:
        raise UsageError("--urgency-phrases needs urgency on: drop --no-urgency")
    return AnalyzerSpec(args.model if isinstance(args.model, str) else str(args.model),
                        explain=args.evidence, sentences=args.sentences, urgency=args.urgency,
                        terms=args.terms, urgency_phrases=args.urgency_phrases)


def run(args: argparse.Namespace) -> int:
    from frankly import policy
    from frankly.batch.local import resolve_inputs

    policy.refuse_per_person(policy.check_subject_kind(args.subject_kind),
                             "per-text results (frankly batch)")
    if args.engine == "spark" and (args.workers or args.chunk_rows):
        raise UsageError("--workers and --chunk-rows are for --engine local; Spark's "
                         "cores come from --master")
    if args.engine == "local" and args.master != "local[*]":
        raise UsageError("--master is for --engine spark")
    if args.engine == "local" and args.spark_conf:
        raise UsageError("--spark-conf is for --engine spark")
    spec = spec_from_args(args)
    output = Path(args.output)
    inputs = resolve_inputs(args.input, args.format, exclude=output)
    show_bar = want_progress(args.progress)
    if args.engine == "spark":
        from frankly.batch.spark import run_spark

        report = run_spark(inputs, output, spec, text_column=args.text_column,
                           input_format=args.format, master=args.master,
                           batch_size=args.batch_size, restart=args.restart,
                           progress=show_bar, conf=dict(args.spark_conf))
    else:
        from frankly.batch.local import run_local

        bars: list[Progress] = []

        def make_bar(total: int | None) -> Progress:
            bars.append(Progress(total, label="scoring"))
            return bars[-1]

        try:
            report = run_local(inputs, output, spec, text_column=args.text_column,
                               input_format=args.format, workers=args.workers,
                               chunk_rows=args.chunk_rows, batch_size=args.batch_size,
                               restart=args.restart, progress=make_bar if show_bar else None)
        finally:
            for bar in bars:
                bar.close()
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        print_report(report, sys.stdout)
    return 0


def print_report(report: Any, out: IO[str]) -> None:
    """What was done, the counts, and the failed rows with their reasons."""
    from frankly.cli.analyze import print_summary

    s = report.summary
    if report.rows_this_run == 0 and report.resumed:
        head = f"{report.output} was already complete: nothing to do"
    else:
        rate = report.rows_this_run / report.seconds if report.seconds else 0.0
        head = (f"wrote {report.rows_this_run:,} rows in {report.parts_this_run:,} parts to "
                f"{report.output} in {report.seconds:,.1f} s ({rate:,.0f} rows/s, "
                f"{report.engine} engine, {report.workers} "
                f"{'worker' if report.workers == 1 else 'workers'})")
        if report.parts_skipped:
            head += f"; {report.parts_skipped:,} parts were done by an earlier run"
    out.write(head + "\n")
    if report.redone:
        shown = ", ".join(report.redone[:3]) + (" ..." if len(report.redone) > 3 else "")
        out.write(f"changed since the last run, so scored again: {shown}\n")
    out.write(f"{len(report.inputs):,} input file{'s' if len(report.inputs) != 1 else ''}, "
              f"{s.n:,} rows in {s.parts:,} parts\n")
    print_summary(s, out)
    if s.failed:
        out.write(f"\nfailed rows ({s.errors:,}; "
                  + ("the first shown" if s.errors > len(s.failed) else "all shown") + "):\n")
        for source, where, reason in s.failed:
            place = ", ".join(x for x in (source, where) if x)
            out.write(f"  {place}: {reason}\n")
