"""``frankly audit``: bias, robustness and calibration of a model, as a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from frankly.cli.common import (Progress, UsageError, add_progress_option, err,
                                want_progress)

EXAMPLES = """\
examples:
  frankly audit --data ../shared/data                 # the accurate model, every section
  frankly audit --model fast --eec eec.csv            # bias and robustness only
  frankly audit --model fast --model accurate --data ../shared/data --output audit/
  frankly audit --data ../shared/data --write-docs    # docs/model-card-*.md, TRANSPARENCY.md

Sections:
  bias         the Equity Evaluation Corpus (--eec FILE, or under --data DIR): the mean
               score difference between female and male persons and between
               African-American and European-American names, paired t-tests over
               matched sentences with Holm's correction, and how often the label changes
               when only the name does. Targets: differences within 0.01, none significant
               at p < 0.01, at most 1% label flips.
  robustness   the minimal-pair probes shipped with Frankly: pass rates per category.
  calibration  TweetEval val under --data DIR: expected calibration error, a reliability
               diagram, the share flagged needs_review and the error rate on each side.
A section without its data is skipped and the report says so. The corpus and the dev data
are not shipped with Frankly.

Writes OUTPUT/MODEL/audit.md, audit.html (plots embedded), audit.json and the PNG plots.
The plots need matplotlib: pip install 'frankly[audit]'.
"""
DEFAULT_OUTPUT = "frankly-audit"
DEFAULT_DOCS = "docs"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "audit", help="measure a model's bias, robustness and calibration",
        description="Audit a model: score differences by gender and race of the person "
                    "named,\nrobustness probes, and calibration on dev data; print the "
                    "summary and write\nthe report as Markdown and HTML with PNG plots.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-m", "--model", action="append", metavar="MODEL",
                   help="accurate, fast, or a folder written by 'frankly train'; repeat it to "
                        "audit several (default: accurate; with --write-docs: every shipped "
                        "model)")
    p.add_argument("--eec", metavar="FILE",
                   help="the Equity Evaluation Corpus CSV (default: "
                        "DIR/equity-evaluation-corpus/Equity-Evaluation-Corpus.csv with "
                        "--data DIR)")
    p.add_argument("--data", metavar="DIR",
                   help="data folder holding tweeteval-sentiment/ (the dev set for "
                        "calibration) and usually equity-evaluation-corpus/")
    p.add_argument("--probes", metavar="FILE",
                   help="a probe TSV of your own (default: the suite shipped with Frankly)")
    p.add_argument("-o", "--output", default=DEFAULT_OUTPUT, metavar="DIR",
                   help=f"where the reports go, one folder per model (default: "
                        f"{DEFAULT_OUTPUT})")
    p.add_argument("--write-docs", nargs="?", const=DEFAULT_DOCS, metavar="DIR",
                   help=f"also write model-card-MODEL.md per model and TRANSPARENCY.md into "
                        f"DIR (default: {DEFAULT_DOCS}) from the measured numbers; needs every "
                        f"section's data")
    add_progress_option(p)
    p.set_defaults(run=run)


def _models(args: argparse.Namespace) -> list[str]:
    from frankly.models.registry import BUILTIN, model_path

    if args.model:
        names = [m.strip() for value in args.model for m in value.split(",") if m.strip()]
    elif args.write_docs:
        names = [m for m in BUILTIN if model_path(m).is_dir()]
    else:
        names = ["accurate"]
    return list(dict.fromkeys(names))


def run(args: argparse.Namespace) -> int:
    from frankly.audit import run_audit
    from frankly.audit.plots import require_matplotlib
    from frankly.audit.report import summary_text, write_report

    if args.write_docs and (args.data is None):
        raise UsageError("--write-docs writes measured numbers for every section: give "
                         "--data DIR (holding tweeteval-sentiment/ and, or with --eec FILE, "
                         "the Equity Evaluation Corpus)")
    if args.data is not None and not Path(args.data).is_dir():
        raise UsageError(f"--data {args.data}: no such folder")
    require_matplotlib()  # fail before minutes of scoring, not after
    models = _models(args)
    from frankly.models.registry import model_path

    for model in models:  # an unknown name fails before the first model is scored
        model_path(model)
    show = want_progress(args.progress)

    def progress(label: str, total: int) -> Any:
        return Progress(total, label=label) if show else None

    audits = []
    for i, model in enumerate(models):
        if len(models) > 1:
            err(f"auditing {model} ({i + 1} of {len(models)})")
        audit = run_audit(model, eec=args.eec, data=args.data, probes=args.probes,
                          progress=progress)
        if args.write_docs and ("skipped" in audit["bias"] or
                                "skipped" in audit["calibration"]):
            raise UsageError("--write-docs needs every section measured: "
                             + "; ".join(audit[s]["skipped"] for s in ("bias", "calibration")
                                         if "skipped" in audit[s]))
        audits.append(audit)
        paths = write_report(audit, Path(args.output) / audit["model"]["name"])
        if i:
            print()
        sys.stdout.write(summary_text(audit))
        print(f"\nwrote {paths['markdown']}, {paths['html']} and {paths['json']}")
    if args.write_docs:
        from frankly.audit.docs import write_docs

        written = write_docs(audits, args.write_docs)
        print(f"wrote {', '.join(str(p) for p in written)}")
    return 0
