"""Parse the command line and run one command; errors become one line and an exit status.

Exit status: 0 on success, 1 when the data or the model is wrong (a missing column, a
bad file, an unknown model), 2 when the command line is wrong, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn, Sequence

from frankly import __version__
from frankly.cli import (analyze, aspects, audit, batch, evaluate, explain, report, serve,
                         train, triage)
from frankly.cli.common import UsageError
from frankly.errors import FranklyError

DESCRIPTION = "Honest, calibrated sentiment for customer feedback, offline."
EPILOG = """\
examples:
  frankly demo                                   # analyse a sample shipped with Frankly
  frankly analyze "Support never answered my emails"
  frankly analyze --input reviews.csv --output scored.csv
  frankly batch --input 'exports/*.csv' --output scored/   # millions of rows, resumable
  frankly explain "Delivery was late. The blender itself is superb."
  frankly triage --input tickets.csv             # the urgent queue, most urgent first
  frankly aspects --input reviews.csv            # what customers talk about, and how
  frankly report --input analysed.csv --output report.html   # one HTML file, opens offline
  frankly evaluate --input labelled.csv --label-column sentiment
  frankly train --input labelled.csv --output my-model
  frankly audit --data ../shared/data            # bias, robustness and calibration report
  frankly keys create --scope write && frankly serve   # the REST service

Run 'frankly COMMAND --help' for the options of a command.
"""


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line: ``frankly: error: ...``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"frankly: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> Parser:
    parser = Parser(prog="frankly", description=DESCRIPTION, epilog=EPILOG,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"frankly {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    analyze.add_parser(sub)
    analyze.add_demo_parser(sub)
    batch.add_parser(sub)
    evaluate.add_parser(sub)
    explain.add_parser(sub)
    train.add_parser(sub)
    triage.add_parser(sub)
    aspects.add_parser(sub)
    audit.add_parser(sub)
    report.add_parser(sub)
    serve.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    args.argv = argv
    try:
        return args.run(args)
    except UsageError as exc:
        return _fail(f"{exc} (see 'frankly {args.command} --help')", 2)
    except FranklyError as exc:
        return _fail(str(exc), 1)
    except BrokenPipeError:
        # The reader of our output went away (| head): stop quietly, as Unix tools do.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc}", 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


def _fail(message: str, status: int) -> int:
    sys.stderr.write(f"frankly: error: {message}\n")
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
