"""Measure a model on a user's labelled table: accuracy, macro-F1, macro-recall, per-class
precision/recall/F1, the confusion matrix and the calibration error."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from frankly.batch import job
from frankly.batch.job import require_columns
from frankly.batch.tables import TableReader, open_table
from frankly.errors import DataError
from frankly.result import LABELS, MIXED
from frankly.training.labels import KNOWN_HELP, LabelMapper

if TYPE_CHECKING:
    from frankly.analyzer import Analyzer

# How many distinct skipped labels the report lists.
SKIPPED_SHOWN = 10


def labelled_chunks(reader: TableReader, text_column: str, label_column: str,
                    label_map: Mapping[str, str] | None = None, skip_unknown: bool = False,
                    skipped: Counter | None = None,
                    ) -> Iterator[tuple[int, list[Any], list[str]]]:
    """``(rows read, texts, gold labels)`` per chunk of ``reader``.

    A row whose label is not understood raises DataError naming it and its line, or with
    ``skip_unknown`` is left out and counted in ``skipped`` (by the label's repr).
    """
    require_columns(reader, {text_column: "--text-column", label_column: "--label-column"})
    to_label = LabelMapper(label_map)
    for chunk in reader.chunks(job.CHUNK_ROWS):
        texts, gold = [], []
        for row, where in zip(chunk.rows, chunk.where):
            value = row.get(label_column)
            label = to_label(value)
            if label is None:
                if not skip_unknown:
                    raise DataError(_unknown(reader.name, where, label_column, value))
                if skipped is not None:
                    skipped[repr(value)] += 1
                continue
            texts.append(row.get(text_column))
            gold.append(label)
        yield len(chunk.rows), texts, gold


def _unknown(name: str, where: str, column: str, value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return (f"{name}, {where}: no label in column {column!r}; fill it in or leave such "
                f"rows out with --skip-unknown")
    return (f"{name}, {where}: unknown label {value!r} in column {column!r}; known labels "
            f"are {KNOWN_HELP}; map others with --label-map '{value}=positive' (say which "
            f"label it means) or leave such rows out with --skip-unknown")


def evaluate_table(reader: TableReader, model: Analyzer | str | Path, *, text_column: str,
                   label_column: str, label_map: Mapping[str, str] | None = None,
                   skip_unknown: bool = False, batch_size: int = 64,
                   progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """The classification report of ``model`` on ``reader`` (see ``classification_report``).

    Rows with empty or invalid text are kept: they count as the model's answer for them
    (neutral, flagged for review), as they would in production. A text labelled "mixed"
    counts as its top score (``Result.polarity``): the gold labels have three classes.
    """
    import numpy as np

    from frankly.analyzer import Analyzer
    from frankly.training.metrics import classification_report

    skipped: Counter = Counter()
    analyzer: Analyzer | None = model if isinstance(model, Analyzer) else None
    y_true: list[int] = []
    y_pred: list[int] = []
    probs: list[list[float]] = []
    rows = review = mixed = 0
    for n_rows, texts, gold in labelled_chunks(reader, text_column, label_column, label_map,
                                               skip_unknown, skipped):
        if analyzer is None:  # loaded after the first chunk's labels were checked
            analyzer = Analyzer(model, explain=False)  # type: ignore[arg-type]
        for label, result in zip(gold, analyzer.analyze_many(texts, batch_size=batch_size)):
            y_true.append(LABELS.index(label))
            y_pred.append(LABELS.index(result.polarity))
            mixed += result.label == MIXED
            probs.append([result.scores[name] for name in LABELS])
            review += result.needs_review
        rows += n_rows
        if progress is not None:
            progress(n_rows)
    if not y_true:
        why = (f": all {rows} were skipped for unknown labels "
               f"({', '.join(k for k, _ in skipped.most_common(SKIPPED_SHOWN))})"
               if rows else "")
        raise DataError(f"{reader.name} has no rows to evaluate{why}")
    report = classification_report(y_true, y_pred, LABELS, np.array(probs))
    assert analyzer is not None
    report.update(input=reader.name, model=analyzer.model.id, text_column=text_column,
                  label_column=label_column, rows=rows, skipped=sum(skipped.values()),
                  skipped_labels=dict(skipped.most_common(SKIPPED_SHOWN)),
                  needs_review=review, mixed=mixed)
    return report


def evaluate_file(path: str | Path, model: Analyzer | str | Path = "accurate", *,
                  text_column: str = "text", label_column: str = "label",
                  fmt: str | None = None, **options: Any) -> dict[str, Any]:
    """:func:`evaluate_table` on a CSV, JSONL or Parquet file."""
    with open_table(path, fmt) as reader:
        return evaluate_table(reader, model, text_column=text_column,
                              label_column=label_column, **options)
