"""``frankly triage``: the urgent queue, most urgent first, with reasons and sentiment."""

from __future__ import annotations

import argparse
import heapq
import json
import shutil
import sys
from dataclasses import dataclass
from typing import IO, Any

from frankly.cli.common import (Progress, UsageError, add_format_option, add_model_option,
                                add_progress_option, add_subject_kind_option, add_urgency_options,
                                positive_int, want_progress)

EXAMPLES = """\
examples:
  frankly triage --input tickets.csv --text-column body
  frankly triage --input chats.jsonl --limit 20 --json
  frankly triage --input inbox.csv --urgency-phrases our_phrases.csv
  frankly triage "My card was charged twice, please fix it today" "Lovely staff"

Each urgent message is listed with its urgency score (a calibrated probability that it
needs a person now), its main category, the sentiment label beside it, the reasons (the
spans of text that show urgency) and the row it came from. Urgency is not negativity: a
calm "please fix this today" can rank above an angry review that needs no action.
Messages in a language urgency does not read (English, German, Spanish, French and
Portuguese are read) are counted as not assessed, never guessed.
"""
TEXT_WIDTH_MIN = 20


@dataclass(frozen=True)
class Item:
    """One urgent message in the queue."""

    row: int      # 1 for the first message
    where: str    # where it stands in the input ("line 7", "text 2")
    score: float
    category: str | None
    label: str
    reasons: tuple[tuple[str, str], ...]  # (category, text)
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "where": self.where, "urgency_score": self.score,
                "urgency_category": self.category,
                "label": self.label,
                "reasons": [{"category": c, "text": t} for c, t in self.reasons],
                "text": self.text}


@dataclass
class Queue:
    """The urgent messages of a run (the ``limit`` most urgent), and the counts."""

    items: list[Item]
    total: int
    urgent: int
    not_assessed: int


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "triage", help="list the urgent messages, most urgent first, with reasons",
        description="Find the messages that need a person now and list them by urgency "
                    "score, with the reasons and the sentiment side by side.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("texts", nargs="*", metavar="TEXT",
                   help="messages to triage; '-' reads one per line from stdin")
    p.add_argument("-i", "--input", metavar="FILE",
                   help="a CSV, JSONL or Parquet file of messages")
    add_format_option(p)
    p.add_argument("-t", "--text-column", default="text", metavar="COLUMN",
                   help="column of --input holding the messages (default: text)")
    add_model_option(p)
    add_urgency_options(p)
    p.add_argument("--threshold", type=float, metavar="P",
                   help="urgency score a message needs to be listed (default: the model's "
                        "threshold, in its model card)")
    p.add_argument("--limit", type=positive_int, metavar="N",
                   help="list only the N most urgent (default: all)")
    p.add_argument("--json", action="store_true", help="print one JSON object per message")
    p.add_argument("--batch-size", type=positive_int, default=64, metavar="N",
                   help="texts per model call (default: 64)")
    add_progress_option(p)
    add_subject_kind_option(p, who="the messages", protected="a per-message queue about "
                            "employees or students is refused")
    p.set_defaults(run=run, output=None, output_format=None)


def run(args: argparse.Namespace) -> int:
    from frankly import policy

    policy.refuse_per_person(args.subject_kind, "a per-message urgent queue")
    from frankly.analyzer import Analyzer
    from frankly.batch.job import require_columns
    from frankly.cli.analyze import _reader
    from frankly.urgency import UrgencyDetector

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise UsageError(f"--threshold must be between 0 and 1, got {args.threshold}")
    detector = UrgencyDetector(args.urgency_phrases, threshold=args.threshold)
    with _reader(args) as reader:
        require_columns(reader, {args.text_column: "--text-column"})
        analyzer = Analyzer(args.model, explain=False, urgency=detector)
        bar = (Progress(reader.total_rows, "triaging")
               if args.input and want_progress(args.progress) else None)
        try:
            queue = triage(reader, analyzer, args.text_column, limit=args.limit,
                           batch_size=args.batch_size, progress=bar)
        finally:
            if bar is not None:
                bar.close()
    show(queue, sys.stdout, as_json=args.json)
    return 0


def triage(reader: Any, analyzer: Any, text_column: str = "text", *, limit: int | None = None,
           batch_size: int = 64, progress: Any = None) -> Queue:
    """The urgent messages of ``reader``, most urgent first (ties: input order). Memory
    holds the queue only, so at most ``limit`` messages when given."""
    from frankly.batch.job import analyze_chunks

    heap: list[tuple[float, int, Item]] = []
    kept: list[tuple[float, int, Item]] = []
    total = urgent = not_assessed = 0
    for chunk, results in analyze_chunks(reader, analyzer, text_column,
                                         batch_size=batch_size, progress=progress):
        for where, result in zip(chunk.where, results):
            total += 1
            row = total
            u = result.urgency
            if u is None or u.score is None:
                not_assessed += 1
                continue
            if not u.urgent:
                continue
            urgent += 1
            item = Item(row, where, u.score, u.category, result.label,
                        tuple((r.category, " ".join(r.text.split())) for r in u.reasons),
                        result.text)
            entry = (u.score, -row, item)
            if limit is None:
                kept.append(entry)
            elif len(heap) < limit:
                heapq.heappush(heap, entry)
            else:
                heapq.heappushpop(heap, entry)
    chosen = kept if limit is None else heap
    items = [e[2] for e in sorted(chosen, key=lambda e: (-e[0], -e[1]))]
    return Queue(items, total, urgent, not_assessed)


def show(queue: Queue, out: IO[str], *, as_json: bool = False) -> None:
    if as_json:
        for item in queue.items:
            out.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
        return
    width = shutil.get_terminal_size((120, 24)).columns if out.isatty() else None
    out.write(f"{'rank':>4}  {'score':>5}  {'category':<10}  {'sentiment':<9}  "
              f"{'where':<10}  reasons | text\n")
    for rank, item in enumerate(queue.items, start=1):
        reasons = "; ".join(f"{c}: {t}" for c, t in item.reasons) or "-"
        text = " ".join(item.text.split())
        head = (f"{rank:>4}  {item.score:5.2f}  {item.category or '-':<10}  {item.label:<9}  "
                f"{item.where:<10}  ")
        body = f"{reasons} | {text}"
        if width is not None:
            room = max(TEXT_WIDTH_MIN, width - len(head) - 1)
            if len(body) > room:
                body = body[:room - 3] + "..."
        out.write(head + body + "\n")
    shown = len(queue.items)
    line = (f"\n{queue.urgent:,} urgent of {queue.total:,} message"
            f"{'s' if queue.total != 1 else ''}")
    if shown < queue.urgent:
        line += f" (the {shown:,} most urgent shown)"
    if queue.not_assessed:
        line += (f"; {queue.not_assessed:,} not assessed (a language urgency does not read, "
                 f"or not a text)")
    out.write(line + "\n")
