"""``frankly explain``: one text in the terminal, evidence highlighted, sentence labels."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import IO, Any

from frankly.cli.common import UsageError, add_analysis_options, add_model_option

EXAMPLES = """\
examples:
  frankly explain "Delivery was two days late. The blender itself is superb."
  frankly explain --model fast --terms brand-terms.csv "Killer Queen smells amazing"
  echo "not bad at all" | frankly explain -

Evidence spans are shown in green when they push towards positive and in red towards
negative (underlined, with [brackets], when the output is not a colour terminal), the
strongest first in the list below the text. Set NO_COLOR to turn colours off.
"""
GREEN, RED, BOLD, RESET = "\x1b[32m", "\x1b[31m", "\x1b[1m", "\x1b[0m"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain", help="show why a text got its label: evidence and sentence labels",
        description="Analyse one text and show its label, the evidence that drove it\n"
                    "(highlighted in the text) and the label of every sentence.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("text", metavar="TEXT", help="the text to explain; '-' reads stdin")
    add_model_option(p)
    add_analysis_options(p, evidence=False)
    p.add_argument("--json", action="store_true", help="print Result.to_dict() as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from frankly.analyzer import Analyzer
    from frankly.cli.common import analyzer_options

    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise UsageError("nothing to explain: the text is empty")
    options = analyzer_options(args)
    options["explain"] = True
    result = Analyzer(args.model, **options).analyze(text)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0
    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    render(result, sys.stdout, colour=colour)
    return 0


def render(result: Any, out: IO[str], *, colour: bool) -> None:
    """The text with evidence marked, then the sentences and the evidence list."""
    text = result.text
    marks = sorted(result.evidence, key=lambda e: e.start)
    pieces, pos = [], 0
    for e in marks:
        if e.start < pos:
            continue  # overlapping spans: the first one shown wins
        pieces.append(text[pos:e.start])
        span = text[e.start:e.end]
        if colour:
            pieces.append(f"{BOLD}{GREEN if e.weight > 0 else RED}{span}{RESET}")
        else:
            pieces.append(f"[{span}]{'+' if e.weight > 0 else '-'}")
        pos = e.end
    pieces.append(text[pos:])
    scores = ", ".join(f"{k} {v:.2f}" for k, v in result.scores.items())
    lines = [f"{result.label.upper()}  ({scores}; model {result.model})"]
    if result.needs_review:
        lines.append(f"needs review: {result.review_reason}")
    if result.language:
        lines.append(f"language: {result.language}")
    lines += ["", "".join(pieces), ""]
    if len(result.sentences) > 1:
        lines.append("sentences:")
        for s in result.sentences:
            shown = " ".join(text[s.start:s.end].split())
            lines.append(f"  {s.label:<9} {max(s.scores.values()):.2f}  {shown}")
        lines.append("")
    if result.evidence:
        lines.append("evidence (most influential first; weight > 0 pushes towards positive):")
        for e in result.evidence:
            note = "  (your term list)" if e.source == "term" else ""
            lines.append(f"  {e.weight:+.2f}  {' '.join(e.text.split())}{note}")
    out.write("\n".join(lines) + "\n")
