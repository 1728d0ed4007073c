"""Read what ``frankly analyze --output`` or ``frankly batch`` wrote back into store items.

An analysed file holds the input columns plus the prediction columns of
:data:`frankly.batch.job.OUTPUT_FIELDS`, flattened to text: ``evidence`` is
``"span (+0.42); ..."``, ``urgency_reasons`` ``"billing: charged twice; ..."`` and
``aspects`` ``"term (category, label); ..."``. This module turns each row back into a
:class:`~frankly.store.NewItem` whose analysis is rebuilt from those columns (spans are
found again in the text), so the dashboard's views can read a file as they read a store.

A row that cannot be used (the analysis failed, its time or scores cannot be read) raises
:class:`RowError` with the reason; the caller counts and lists it, never drops it.

>>> parse_aspects("card (billing, negative); refund (billing, negative)")
[('card', 'billing', 'negative'), ('refund', 'billing', 'negative')]
>>> parse_reasons("billing: charged twice; deadline: today")
[('billing', 'charged twice'), ('deadline', 'today')]
>>> parse_evidence("charged (-0.73); My card (-0.36)")
[('charged', -0.73), ('My card', -0.36)]
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from frankly.batch.job import CLASH_PREFIX, OUTPUT_FIELDS
from frankly.batch.tables import EXTENSIONS, TableReader, open_table
from frankly.errors import DataError
from frankly.policy import is_protected
from frankly.result import DOCUMENT_LABELS, LABELS

# Without these a file holds no analysis to report on.
REQUIRED: tuple[str, ...] = ("label", "score_negative", "score_neutral", "score_positive")
# The time column read when --time-column is not given (the service's and the API's name).
DEFAULT_TIME_COLUMN = "created_at"
# Source and brand are read from these columns when present (the dashboard's filters).
DEFAULT_SOURCE_COLUMN = "source"
DEFAULT_BRAND_COLUMN = "brand"
# A file without times is one period; the store needs a time for it, and the report never
# shows this one (it says "whole file" instead).
NO_TIME = datetime(2000, 1, 3, tzinfo=timezone.utc)
# The store's limits (schema.NAME_LEN, CATEGORY_LEN, ID_LEN; a subject id's length):
# checked here so a row over them fails alone, with its reason, not its whole chunk.
NAME_LEN = 200
CATEGORY_LEN = 100
ID_LEN = 200
SUBJECT_LEN = 1000
# How frankly analyze writes a file and how frankly batch writes a folder of parts.
HOW_TO_ANALYSE = "frankly analyze --input {name} --output analysed.csv"
TRUE = frozenset({"true", "1", "yes", "t", "y"})
FALSE = frozenset({"false", "0", "no", "f", "n"})
_EVIDENCE = re.compile(r"^(.*) \(([+-]?\d+(?:\.\d+)?)\)$", re.S)
_ASPECT = re.compile(r"^(.*?) \((.*), (" + "|".join(DOCUMENT_LABELS) + r")\)$", re.S)


class RowError(Exception):
    """A row that cannot go into the report, and why (the message)."""


@dataclass(frozen=True)
class Columns:
    """Which column holds what. ``fields`` maps each prediction field to its column (a
    field the input already used is prefixed, ``frankly_label``), None when absent."""

    text: str
    time: str | None
    source: str | None
    brand: str | None
    subject: str | None
    fields: Mapping[str, str | None]


@dataclass(frozen=True)
class Table:
    """One file to read: a name to show, and ``prefix`` for the places of its rows (the part's
    name in a folder of parts, empty for a single file)."""

    path: Path
    prefix: str


@dataclass(frozen=True)
class Input:
    """The files of one report's input: a file, or a folder of Parquet parts (frankly
    batch's output). ``unfinished`` is set when that batch job has not finished."""

    name: str
    tables: tuple[Table, ...]
    unfinished: bool = False
    folder: bool = False

    def open(self, table: Table, fmt: str | None) -> TableReader:
        """A reader for ``table`` (parts are Parquet whatever ``fmt`` says)."""
        return open_table(table.path, None if self.folder else fmt)


def find_input(path: str | Path) -> Input:
    """The file at ``path``, or the Parquet parts of the folder at ``path`` (names starting
    with ``_`` or ``.`` are skipped, as Parquet readers do)."""
    path = Path(path)
    if path.is_dir():
        parts = sorted(p for p in path.iterdir()
                       if p.is_file() and not p.name.startswith(("_", "."))
                       and EXTENSIONS.get(p.suffix.lower()) == "parquet")
        if not parts:
            raise DataError(f"{path} is a folder without Parquet parts: give an analysed "
                            f"file, or the --output folder of 'frankly batch'")
        from frankly.batch.jobdir import MANIFEST, SUCCESS

        unfinished = (path / MANIFEST).exists() and not (path / SUCCESS).exists()
        return Input(str(path), tuple(Table(p, p.name) for p in parts), unfinished,
                     folder=True)
    if not path.exists():
        raise DataError(f"cannot read {path}: no such file or folder")
    return Input(str(path), (Table(path, ""),))


def prediction_columns(columns: Sequence[str]) -> dict[str, str | None]:
    """Each prediction field's column: the field's name with the most ``frankly_``
    prefixes (analyze adds one for each clash with an input column), None when absent.

    >>> prediction_columns(["label", "text", "frankly_label"])["label"]
    'frankly_label'
    """
    out: dict[str, str | None] = {}
    present = set(columns)
    for name in OUTPUT_FIELDS:
        found = None
        candidate = name
        while candidate in present:
            found = candidate
            candidate = CLASH_PREFIX + candidate
        out[name] = found
    return out


def resolve_columns(reader: TableReader, *, text: str, time: str | None,
                    source: str | None, brand: str | None,
                    subject: str | None) -> Columns:
    """Check that ``reader`` is an analysed file with the columns asked for (DataError,
    one line, naming what is missing and what to do, otherwise). ``time``, ``source`` and
    ``brand`` left as None take their default column when the file has it."""
    columns = reader.columns
    fields = prediction_columns(columns)
    missing = [name for name in REQUIRED if fields[name] is None]
    if missing:
        absent = [name for name in OUTPUT_FIELDS if fields[name] is None]
        raise DataError(
            f"{reader.name} is not an analysed file: it has no {', '.join(absent)} "
            f"column{'s' if len(absent) > 1 else ''}. Make one with: "
            + HOW_TO_ANALYSE.format(name=reader.name))
    have = ", ".join(repr(c) for c in columns)
    for column, option in ((text, "--text-column"), (time, "--time-column"),
                           (source, "--source-column"), (brand, "--brand-column"),
                           (subject, "--subject-column")):
        if column is not None and column not in columns:
            raise DataError(f"{reader.name} has no column {column!r} ({option}); its columns "
                            f"are: {have}")
    present = set(columns)

    def default(name: str) -> str | None:
        return name if name in present else None

    return Columns(text=text,
                   time=time if time is not None else default(DEFAULT_TIME_COLUMN),
                   source=source if source is not None else default(DEFAULT_SOURCE_COLUMN),
                   brand=brand if brand is not None else default(DEFAULT_BRAND_COLUMN),
                   subject=subject, fields=fields)


# -- values ---------------------------------------------------------------------------------

def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value))


def parse_time(value: Any, column: str) -> datetime:
    """A timezone-aware UTC datetime from a datetime, a date or ISO 8601 text (a time
    without a zone is UTC)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise RowError(f"{column} {_short(text)!r} is not a date or time like 2026-11-20 "
                           f"or 2026-11-20T09:00:00Z") from None
    elif is_empty(value):
        raise RowError(f"{column} is empty: the row has no time")
    else:
        raise RowError(f"{column} is a {type(value).__name__}, not a date or time like "
                       f"2026-11-20T09:00:00Z")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _number(value: Any, field: str, *, required: bool = False) -> float | None:
    if is_empty(value):
        if required:
            raise RowError(f"{field} is empty")
        return None
    if isinstance(value, bool):
        raise RowError(f"{field} must be a number, got {value}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RowError(f"{field} must be a number, got {_short(str(value))!r}") from None
    if not math.isfinite(number):
        raise RowError(f"{field} must be a finite number, got {value!r}")
    return number


def _flag(value: Any, field: str) -> bool | None:
    if is_empty(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise RowError(f"{field} must be true or false, got {_short(str(value))!r}")


def _text(value: Any) -> str | None:
    if is_empty(value):
        return None
    return value if isinstance(value, str) else str(value)


def name_value(value: Any, field: str) -> str | None:
    name = _text(value)
    if name is not None and len(name) > NAME_LEN:
        raise RowError(f"{field} is longer than {NAME_LEN} characters")
    return name


def _pieces(value: str, pattern: re.Pattern[str]) -> list[re.Match[str]] | None:
    """``value`` split at "; " into pieces that each match ``pattern``; a piece that does
    not is joined with the next one (the separator can occur inside a span of text)."""
    found = []
    pending = ""
    for piece in value.split("; "):
        pending = f"{pending}; {piece}" if pending else piece
        match = pattern.match(pending)
        if match:
            found.append(match)
            pending = ""
    return None if pending else found


def parse_evidence(value: str) -> list[tuple[str, float]]:
    """``"span (+0.42); ..."`` as (span, weight) pairs; what cannot be read is left out
    (evidence is shown, never counted)."""
    found = _pieces(value, _EVIDENCE)
    if found is None:
        found = [m for m in map(_EVIDENCE.match, value.split("; ")) if m]
    return [(m[1], float(m[2])) for m in found]


def parse_aspects(value: str) -> list[tuple[str, str, str]]:
    """``"term (category, label); ..."`` as (term, category, label); RowError when the
    text is not in that form (aspects are counted, so nothing is guessed)."""
    found = _pieces(value, _ASPECT)
    if found is None:
        raise RowError("aspects is not in the form 'term (category, label); ...'")
    return [(m[1], m[2], m[3]) for m in found]


def parse_reasons(value: str) -> list[tuple[str, str | None]]:
    """``"category: text; ..."`` as (category, text) pairs (text None when absent)."""
    out: list[tuple[str, str | None]] = []
    for piece in value.split("; "):
        category, sep, text = piece.partition(": ")
        if not sep and out and out[-1][1] is not None:  # a "; " inside the reason's text
            out[-1] = (out[-1][0], f"{out[-1][1]}; {piece}")
            continue
        out.append((category.strip(), text.strip() or None if sep else None))
    return out


def find_span(text: str | None, phrase: str, start: int = 0) -> tuple[int | None, int | None]:
    """Where ``phrase`` stands in ``text`` (at or after ``start`` first, then anywhere;
    whitespace inside it may differ, as the columns normalise it), or (None, None)."""
    if not text or not phrase:
        return None, None
    at = text.find(phrase, start)
    if at < 0:
        at = text.find(phrase)
    if at >= 0:
        return at, at + len(phrase)
    words = phrase.split()
    if not words:
        return None, None
    pattern = re.compile(r"\s+".join(map(re.escape, words)), re.I)
    match = pattern.search(text, start) or pattern.search(text)
    return (match.start(), match.end()) if match else (None, None)


# -- rows -----------------------------------------------------------------------------------

def item_fields(row: Mapping[str, Any], columns: Columns) -> dict[str, Any]:
    """The analysis of one row, rebuilt from its columns (``Result.to_dict()``'s shape, as
    the store takes it); RowError when the row cannot be used."""
    f = columns.fields

    def get(name: str) -> Any:
        column = f[name]
        return None if column is None else row.get(column)

    error = _text(get("error"))
    if error is not None:
        raise RowError(f"not analysed: {error}")
    label = _text(get("label"))
    label = label.strip() if label else label
    if label not in DOCUMENT_LABELS:
        shown = "empty" if label is None else repr(_short(label))
        raise RowError(f"label is {shown}, not one of {', '.join(DOCUMENT_LABELS)}")
    scores = {name: _number(get(f"score_{name}"), f"score_{name}", required=True)
              for name in LABELS}
    confidence = _number(get("confidence"), "confidence")
    text = row.get(columns.text)
    text = text if isinstance(text, str) else None
    evidence = []
    at = 0
    for span, weight in parse_evidence(_text(get("evidence")) or ""):
        start, end = find_span(text, span, at)
        at = end if end is not None else at
        evidence.append({"start": start, "end": end, "text": span, "weight": weight,
                         "source": "model"})
    aspects = []
    at = 0
    for term, category, alabel in parse_aspects(_text(get("aspects")) or ""):
        category = category.strip() or "other"
        if len(category) > CATEGORY_LEN:
            raise RowError(f"an aspect category is longer than {CATEGORY_LEN} characters")
        start, end = find_span(text, term, at)
        at = end if end is not None else at
        aspects.append({"term": term, "start": start, "end": end, "category": category,
                        "label": alabel, "source": "extracted"})
    return {"label": label, "scores": scores,
            "confidence": confidence if confidence is not None else max(scores.values()),
            "needs_review": bool(_flag(get("needs_review"), "needs_review")),
            "review_reason": _text(get("review_reason")), "language": _text(get("language")),
            "model": None, "evidence": evidence, "urgency": _urgency(get, text),
            "aspects": aspects}


def _urgency(get: Any, text: str | None) -> dict[str, Any] | None:
    urgent = _flag(get("urgent"), "urgent")
    score = _number(get("urgency_score"), "urgency_score")
    category = _text(get("urgency_category"))
    written = _text(get("urgency_reasons"))
    if urgent is None and score is None and category is None and written is None:
        return None  # urgency was off
    reasons = []
    review_reason = None
    if score is None and not urgent:
        review_reason = written  # not assessed: the column holds why
    elif written:
        at = 0
        for reason_category, reason_text in parse_reasons(written):
            start, end = find_span(text, reason_text or "", at)
            at = end if end is not None else at
            reasons.append({"category": reason_category, "start": start, "end": end,
                            "text": reason_text, "source": "phrase"})
    return {"urgent": bool(urgent), "score": score, "category": category,
            "reasons": reasons, "review_reason": review_reason}


def to_item(place: str, row: Mapping[str, Any], columns: Columns, *, kind: str,
            redact: bool = False) -> Any:
    """One row as a :class:`~frankly.store.NewItem` with id ``place``; RowError when the row
    cannot be used. For employees and students no word of the text is kept (aggregates
    only): not the text, nor its evidence, aspect terms or urgency reasons. With
    ``redact``, personal data in the text (e-mail addresses, phone numbers, cards...) is
    replaced by typed placeholders, and the spans follow."""
    from frankly.store import NewItem

    analysis = item_fields(row, columns)
    created = parse_time(row.get(columns.time), columns.time) if columns.time else NO_TIME
    source = name_value(row.get(columns.source), "source") if columns.source else None
    brand = name_value(row.get(columns.brand), "brand") if columns.brand else None
    text = row.get(columns.text)
    text = text if isinstance(text, str) else None
    subject = None
    protected = is_protected(kind)
    if protected and columns.subject:
        who = row.get(columns.subject)
        # A row naming nobody counts as one unknown person (as in frankly analyze):
        # anonymous rows cannot prove that they come from many people. A longer id is cut,
        # which can only make fewer people, never more.
        subject = None if is_empty(who) else str(who).strip()[:SUBJECT_LEN]
    if protected:  # no words of the text either: spans, terms and reasons go
        analysis = {**analysis, "evidence": [],
                    "aspects": [{**a, "term": None, "start": None, "end": None}
                                for a in analysis["aspects"]]}
        if analysis["urgency"] is not None:
            analysis["urgency"] = {**analysis["urgency"], "reasons": [
                {"category": r["category"], "start": None, "end": None, "text": None,
                 "source": r["source"]} for r in analysis["urgency"]["reasons"]]}
    if redact and text and not protected:
        from frankly.ingest import map_spans
        from frankly.privacy import redact as redact_text

        redaction = redact_text(text)
        if redaction.spans:
            analysis = map_spans(analysis, redaction)
            text = redaction.text
    return NewItem(item_id=place, created_at=created, source=source, brand=brand,
                   subject_id=subject, subject_kind=kind, text=None if protected else text,
                   text_chars=len(text) if text else 0, metadata={}, analysis=analysis)


def rows(reader: TableReader, table: Table, chunk_rows: int) -> Iterator[
        list[tuple[str, Mapping[str, Any]]]]:
    """``reader``'s rows a chunk at a time, each with its place (``line 7``, or
    ``part-00000-000001.parquet, row 7`` in a folder of parts), at most ``ID_LEN`` long."""
    for chunk in reader.chunks(chunk_rows):
        if table.prefix:
            places = [f"{table.prefix[:ID_LEN - 20]}, {w}" for w in chunk.where]
        else:
            places = chunk.where
        yield list(zip(places, chunk.rows))
