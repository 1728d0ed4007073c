"""Analyse a table of texts chunk by chunk with ``Analyzer.analyze_many``.

Every input row gives exactly one output row: its columns, unchanged, followed by the
prediction columns (``OUTPUT_FIELDS``). A row whose text is empty or not a string still
gets a row, with ``needs_review`` and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from frankly.batch.tables import Chunk, TableReader, open_table, open_writer
from frankly.errors import DataError
from frankly.result import DOCUMENT_LABELS, Result

if TYPE_CHECKING:
    from frankly.analyzer import Analyzer

# Rows read, analysed and written at a time: bounds memory (a few MB of rows) and is the
# size of a Parquet row group. analyze_many sorts by length within windows of its own.
CHUNK_ROWS = 8192
# How often (in texts) the progress callback hears about progress inside a chunk.
PROGRESS_EVERY = 64
OUTPUT_FIELDS = ("label", "score_negative", "score_neutral", "score_positive", "confidence",
                 "needs_review", "review_reason", "error", "language", "evidence",
                 "urgent", "urgency_score", "urgency_category", "urgency_reasons", "aspects")
EVIDENCE_SHOWN = 3  # spans written to the evidence column, most influential first
OUTPUT_TYPES = {"label": "string", "score_negative": "float", "score_neutral": "float",
                "score_positive": "float", "confidence": "float", "needs_review": "bool",
                "review_reason": "string", "error": "string", "language": "string",
                "evidence": "string", "urgent": "bool", "urgency_score": "float",
                "urgency_category": "string", "urgency_reasons": "string",
                "aspects": "string"}
# Put before a prediction column whose name the input already uses (its own "label").
CLASH_PREFIX = "frankly_"

Progress = Callable[[int], None]


@dataclass
class Summary:
    """Counts of an analysis: texts per label, texts needing review, texts that failed."""

    n: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DOCUMENT_LABELS, 0))
    needs_review: int = 0
    errors: int = 0
    urgent: int | None = None  # None when urgency was off
    model: str = ""

    def add(self, result: Result) -> None:
        self.n += 1
        self.counts[result.label] = self.counts.get(result.label, 0) + 1
        self.needs_review += result.needs_review
        self.errors += result.error is not None
        if result.urgency is not None:
            self.urgent = (self.urgent or 0) + result.urgency.urgent
        self.model = result.model

    def to_dict(self) -> dict[str, Any]:
        share = {k: v / self.n if self.n else 0.0 for k, v in self.counts.items()}
        return {"n": self.n, "counts": dict(self.counts), "shares": share,
                "needs_review": self.needs_review, "errors": self.errors,
                "urgent": self.urgent, "model": self.model}


def output_names(columns: Sequence[str]) -> dict[str, str]:
    """The column name of each prediction field, prefixed where the input already uses it."""
    taken = set(columns)
    names = {}
    for name in OUTPUT_FIELDS:
        out = name
        while out in taken:
            out = CLASH_PREFIX + out
        taken.add(out)
        names[name] = out
    return names


def result_fields(result: Result) -> dict[str, Any]:
    """The prediction columns of one Result."""
    scores = result.scores
    return {"label": result.label, "score_negative": scores.get("negative"),
            "score_neutral": scores.get("neutral"), "score_positive": scores.get("positive"),
            "confidence": result.confidence, "needs_review": result.needs_review,
            "review_reason": result.review_reason, "error": result.error,
            "language": result.language,
            "evidence": "; ".join(f"{e.text} ({e.weight:+.2f})"
                                  for e in result.evidence[:EVIDENCE_SHOWN]) or None,
            **urgency_fields(result),
            "aspects": "; ".join(f"{' '.join(a.term.split())} ({a.category}, {a.label})"
                                 for a in result.aspects) or None}


def urgency_fields(result: Result) -> dict[str, Any]:
    """The urgency columns of one Result (all empty when urgency was off)."""
    u = result.urgency
    if u is None:
        return dict.fromkeys(("urgent", "urgency_score", "urgency_category", "urgency_reasons"))
    return {"urgent": u.urgent, "urgency_score": u.score, "urgency_category": u.category,
            "urgency_reasons": "; ".join(f"{r.category}: {' '.join(r.text.split())}"
                                         for r in u.reasons) or u.review_reason}


def require_columns(reader: TableReader, wanted: dict[str, str]) -> None:
    """Raise DataError naming the existing columns if one of ``wanted`` is missing.

    ``wanted`` maps a column name to the option that named it (for the message).
    """
    columns = reader.columns
    for column, option in wanted.items():
        if column not in columns:
            have = ", ".join(repr(c) for c in columns) if columns else "none (no rows)"
            raise DataError(f"{reader.name} has no column {column!r} ({option}); "
                            f"its columns are: {have}")


def analyze_chunks(reader: TableReader, analyzer: Analyzer, text_column: str, *,
                   batch_size: int = 64, chunk_rows: int | None = None,
                   progress: Progress | None = None, targets: Sequence[str] = ()
                   ) -> Iterator[tuple[Chunk, list[Result]]]:
    """Each chunk of ``reader`` with one Result per row, in order (``targets``: terms
    to report the sentiment towards, see ``Analyzer.analyze``)."""
    for chunk in reader.chunks(chunk_rows or CHUNK_ROWS):
        texts = [row.get(text_column) for row in chunk.rows]
        results: list[Result] = []
        for result in analyzer.analyze_many(texts, batch_size=batch_size,  # type: ignore[arg-type]
                                            targets=targets or None):
            results.append(result)
            if progress is not None and len(results) % PROGRESS_EVERY == 0:
                progress(PROGRESS_EVERY)
        if progress is not None and len(results) % PROGRESS_EVERY:
            progress(len(results) % PROGRESS_EVERY)
        yield chunk, results


def analyze_table(reader: TableReader, output: str | Path, model: Analyzer | str | Path, *,
                  text_column: str = "text", output_format: str | None = None,
                  batch_size: int = 64, progress: Progress | None = None,
                  analyzer_options: dict[str, Any] | None = None) -> Summary:
    """Analyse ``reader``'s ``text_column`` into ``output`` (all input columns kept).

    The model is loaded only after the input and output were checked, so a typo fails fast.
    ``analyzer_options`` go to the Analyzer built for a model name or path.
    """
    require_columns(reader, {text_column: "--text-column"})
    names = output_names(reader.columns)
    columns = reader.columns + list(names.values())
    summary = Summary()
    with open_writer(output, columns, output_format, source=reader,
                     types={names[k]: t for k, t in OUTPUT_TYPES.items()}) as writer:
        if not isinstance(model, (str, Path)):
            analyzer = model
        else:
            from frankly.analyzer import Analyzer

            analyzer = Analyzer(model, **(analyzer_options or {}))
        for chunk, results in analyze_chunks(reader, analyzer, text_column,
                                             batch_size=batch_size, progress=progress):
            rows = []
            for row, result in zip(chunk.rows, results):
                summary.add(result)
                rows.append({**row, **{names[k]: v for k, v in result_fields(result).items()}})
            writer.write(rows)
    return summary


def analyze_file(input: str | Path, output: str | Path, model: Analyzer | str | Path = "accurate",
                 *, text_column: str = "text", input_format: str | None = None,
                 output_format: str | None = None, batch_size: int = 64,
                 progress: Progress | None = None) -> Summary:
    """Analyse a CSV, JSONL or Parquet file into another, streaming.

    >>> import frankly.batch, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "in.csv").write_text("id,text\\n1,Lovely staff and a quick refund\\n")
    >>> frankly.batch.analyze_file(d / "in.csv", d / "out.jsonl", "fast").counts
    {'negative': 0, 'neutral': 0, 'positive': 1, 'mixed': 0}
    """
    with open_table(input, input_format) as reader:
        return analyze_table(reader, output, model, text_column=text_column,
                             output_format=output_format, batch_size=batch_size,
                             progress=progress)
