"""Pieces every command shares: usage errors, common options, the progress bar.

Kept light: nothing here imports numpy, pyarrow or a model.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from typing import IO, Any

from frankly.errors import FranklyError, InputError


class UsageError(FranklyError):
    """The command line itself is wrong (exit status 2, like argparse's own errors)."""

    code = "usage_error"


def positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {n}")
    return n


def label_map_arg(value: str) -> dict[str, str]:
    from frankly.training.labels import parse_label_map

    try:
        return parse_label_map(value)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_model_option(parser: argparse.ArgumentParser, default: str = "accurate") -> None:
    parser.add_argument("-m", "--model", default=default, metavar="MODEL",
                        help=f"accurate, fast, or a folder written by 'frankly train' "
                             f"(default: {default})")


def add_subject_kind_option(parser: argparse.ArgumentParser, who: str = "the texts",
                            protected: str = "") -> None:
    """--subject-kind: customer, employee, student or unknown (frankly.policy);
    ``protected`` says what the command does for employees and students."""
    from frankly.policy import SUBJECT_KINDS

    parser.add_argument("--subject-kind", default="unknown", choices=SUBJECT_KINDS,
                        help=f"who wrote {who} (default: unknown)"
                             + (f"; {protected} (see the use policy)" if protected else ""))


def add_analysis_options(parser: argparse.ArgumentParser, evidence: bool = True,
                         urgency: bool = False) -> None:
    """--terms (and --evidence/--no-evidence, --urgency/--no-urgency, --urgency-phrases):
    how the Analyzer reads texts."""
    parser.add_argument("--terms", metavar="FILE",
                        help="CSV or TSV of 'term,polarity' rows fixing brand terms: "
                             "positive, negative, neutral or a signed weight (e.g. "
                             "'Killer Queen,neutral')")
    if evidence:
        parser.add_argument("--evidence", action=argparse.BooleanOptionalAction, default=True,
                            help="find the spans that drove each label (default: on; "
                                 "--no-evidence is about twice as fast)")
        parser.add_argument("--sentences", action=argparse.BooleanOptionalAction, default=True,
                            help="score each sentence of a text on its own, for sentence "
                                 "labels and 'mixed' (default: on; --no-sentences reads "
                                 "texts whole only: document-level, faster)")
    if urgency:
        add_urgency_options(parser, switch=True)


def add_urgency_options(parser: argparse.ArgumentParser, switch: bool = False) -> None:
    parser.add_argument("--urgency-phrases", metavar="FILE",
                        help="CSV or TSV of 'category,phrase[,language]' rows: your own "
                             "urgency phrases (a message holding one is urgent; a new "
                             "category name adds a category), e.g. 'recall,product recall'")
    if switch:
        parser.add_argument("--urgency", action=argparse.BooleanOptionalAction, default=True,
                            help="say which messages are urgent, and why (default: on)")


def analyzer_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of the Analyzer the options ask for (reads the terms and urgency
    phrase files)."""
    from frankly.terms import Terms

    terms = Terms.from_file(args.terms) if getattr(args, "terms", None) else None
    phrases = getattr(args, "urgency_phrases", None)
    urgency: Any = getattr(args, "urgency", bool(phrases))  # only where the command has it
    if phrases:
        if not urgency:
            raise UsageError("--urgency-phrases needs urgency on: drop --no-urgency")
        from frankly.urgency import UrgencyDetector

        urgency = UrgencyDetector(phrases)
    return {"terms": terms, "explain": getattr(args, "evidence", True), "urgency": urgency,
            "sentences": getattr(args, "sentences", True)}


def build_analyzer(args: argparse.Namespace) -> Any:
    """The Analyzer the options ask for (the model is loaded here)."""
    from frankly.analyzer import Analyzer

    return Analyzer(args.model, **analyzer_options(args))


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar on stderr (default: when stderr is a "
                             "terminal)")


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("csv", "jsonl", "parquet"),
                        help="format of --input (default: from its extension)")


def add_label_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-t", "--text-column", default="text", metavar="COLUMN",
                        help="column holding the texts (default: text)")
    parser.add_argument("-l", "--label-column", default="label", metavar="COLUMN",
                        help="column holding the gold labels (default: label)")
    parser.add_argument("--label-map", type=label_map_arg, metavar="MAP",
                        help="extra label names, e.g. 'good=positive,bad=negative,meh=neutral' "
                             "(positive/negative/neutral, pos/neg/neu and 0/1/2 = "
                             "negative/neutral/positive as in TweetEval are known, any case)")
    parser.add_argument("--skip-unknown", action="store_true",
                        help="leave out rows whose label is empty or unknown and report how "
                             "many (default: stop with an error naming the row)")


def want_progress(flag: bool | None, stream: IO[str] | None = None) -> bool:
    if flag is not None:
        return flag
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """A one-line progress bar on stderr: rows done, share, rate and time left.

    Call it with the number of rows just finished; ``close()`` clears the line.
    """

    INTERVAL = 0.2  # seconds between redraws: often enough to look alive, cheap

    def __init__(self, total: int | None, label: str = "analysing",
                 stream: IO[str] | None = None) -> None:
        self.total = total if total and total > 0 else None
        self.label = label
        self.stream = stream or sys.stderr
        self.done = 0
        self.start = time.monotonic()
        self.last = 0.0
        self.first: tuple[float, int] | None = None

    def __call__(self, n: int) -> None:
        now = time.monotonic()
        if self.first is None:  # the rate is measured from here: model loading is over
            self.first = (now, n)
        self.done += n
        if now - self.last >= self.INTERVAL:
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        t0, n0 = self.first or (self.start, 0)
        rate = (self.done - n0) / (now - t0) if now > t0 and self.done > n0 else 0.0
        width = shutil.get_terminal_size((80, 20)).columns
        text = f"{self.label} {self.done:,} rows, {rate:,.0f}/s"
        if self.total:
            share = min(self.done / self.total, 1.0)
            left = (self.total - self.done) / rate if rate and self.done < self.total else 0
            eta = _clock(left) if rate or self.done >= self.total else "?:??"
            bar_width = max(10, min(30, width - len(text) - 25))
            filled = int(share * bar_width)
            bar = ("=" * filled + ">" + " " * bar_width)[:bar_width]
            text = f"{self.label} [{bar}] {share:4.0%} {self.done:,}/{self.total:,} rows, " \
                   f"{rate:,.0f}/s, {eta} left"
        self.stream.write("\r" + text[:width - 1].ljust(width - 1))
        self.stream.flush()

    def close(self) -> None:
        width = shutil.get_terminal_size((80, 20)).columns
        self.stream.write("\r" + " " * (width - 1) + "\r")
        self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    return f"{h}:{rem // 60:02d}:{rem % 60:02d}" if h else f"{rem // 60}:{rem % 60:02d}"


def err(message: str) -> None:
    """A note for the user on stderr (stdout stays clean for data)."""
    print(message, file=sys.stderr)
