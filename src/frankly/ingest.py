"""Analyse feedback items, redact them and store them: the one ingestion path.

The service's ``POST /v1/feedback`` and the ``frankly ingest`` command both call
:meth:`Ingestor.ingest`, so an item stored by either looks the same. The analysis runs on
the original text in memory; only the redacted text (or none, with ``store_text=False``)
and offsets mapped onto it reach the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from frankly import policy
from frankly.config import ServiceSettings
from frankly.errors import FranklyError, InputError

if TYPE_CHECKING:
    from frankly.analyzer import Analyzer
    from frankly.privacy import Redaction
    from frankly.result import Result
    from frankly.store import Store

# Client item ids are stored and echoed back: a bound keeps an index entry small and a
# malicious client from storing megabytes in a key.
MAX_ITEM_ID_CHARS = 200
MAX_FIELD_CHARS = 200  # source, brand, subject id


@dataclass(frozen=True)
class FeedbackItem:
    """One piece of feedback to analyse and store.

    ``item_id`` (a client's own id) makes a resend idempotent: an item whose id is already
    stored is not stored again. ``created_at`` is when the customer wrote it (default: now);
    ``subject_id`` names the person it is about or from, for export and erasure;
    ``subject_kind`` is customer, employee, student or unknown (see :mod:`frankly.policy`).
    """

    text: str
    item_id: str | None = None
    source: str | None = None
    brand: str | None = None
    created_at: datetime | str | None = None
    subject_id: str | None = None
    subject_kind: str = "unknown"
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestReport:
    """What became of one item: ``status`` is "created", "duplicate" or "failed"."""

    index: int
    item_id: str | None
    status: str
    error: str | None = None
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "id": self.item_id, "status": self.status}
        if self.error is not None:
            out["error"] = {"code": self.code, "message": self.error}
        return out


class Ingestor:
    """Analyse, redact and store items with one Analyzer and one Store."""

    def __init__(self, analyzer: Analyzer, store: Store,
                 settings: ServiceSettings | None = None) -> None:
        self.analyzer = analyzer
        self.store = store
        self.settings = settings or ServiceSettings()

    def ingest(self, items: Sequence[FeedbackItem]) -> list[IngestReport]:
        """Store every valid item in one transaction; report each item's fate, in order.

        An invalid item (text too long, a bad field) fails alone with a reason; the others
        are stored. If the store itself fails, nothing of the call is stored and the error
        propagates, so a client that saw no answer can resend the whole call safely.
        """
        from frankly.store import NewItem

        reports: list[IngestReport | None] = [None] * len(items)
        valid: list[tuple[int, FeedbackItem]] = []
        for i, item in enumerate(items):
            try:
                valid.append((i, self._check(item)))
            except FranklyError as exc:
                reports[i] = IngestReport(i, _safe_id(item), "failed", str(exc), exc.code)
        results = self.analyzer.analyze_many([item.text for _, item in valid])
        new: list[NewItem] = []
        kept: list[int] = []
        for (i, item), result in zip(valid, results):
            if result.error is not None:
                reports[i] = IngestReport(i, item.item_id, "failed", result.error,
                                          "invalid_input")
                continue
            new.append(self._new_item(item, result))
            kept.append(i)
        for i, outcome in zip(kept, self.store.add_items(new)):
            reports[i] = IngestReport(i, outcome.item_id, outcome.status)
        return [r for r in reports if r is not None]

    def _check(self, item: FeedbackItem) -> FeedbackItem:
        if not isinstance(item.text, str):
            raise InputError(f"text must be a string, got {type(item.text).__name__}")
        limit = self.settings.max_chars_per_text
        if len(item.text) > limit:
            raise InputError(too_long(item.text, limit))
        _check_storable(item.text, "text")
        for name, bound in (("item_id", MAX_ITEM_ID_CHARS), ("source", MAX_FIELD_CHARS),
                            ("brand", MAX_FIELD_CHARS), ("subject_id", MAX_FIELD_CHARS)):
            value = getattr(item, name)
            if value is not None and (not isinstance(value, str) or not value.strip()
                                      or len(value) > bound):
                raise InputError(f"{name} must be a non-empty string of at most {bound} "
                                 f"characters, got {_shown(value)}")
            if value is not None:
                _check_storable(value, name)
        kind = policy.check_subject_kind(item.subject_kind)
        metadata = dict(item.metadata or {})
        try:  # what the store will write: no NaN or infinity, valid Unicode
            json.dumps(metadata, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
            raise InputError(f"metadata must be JSON with finite numbers and valid Unicode "
                             f"text ({str(exc)[:100]})") from None
        created = _when(item.created_at)
        if created.tzinfo is None:  # a naive time is read as UTC, and said so in the docs
            created = created.replace(tzinfo=timezone.utc)
        try:
            created = created.astimezone(timezone.utc)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
            raise InputError(f"created_at {created.isoformat()} is outside the years 1 to "
                             f"9999 in UTC") from None
        return FeedbackItem(text=item.text, item_id=item.item_id, source=item.source,
                            brand=item.brand, created_at=created,
                            subject_id=item.subject_id, subject_kind=kind, metadata=metadata)

    def _new_item(self, item: FeedbackItem, result: Result) -> Any:
        from frankly.privacy import redact, redact_value
        from frankly.store import NewItem

        settings = self.settings
        redaction = redact(item.text, handles=settings.redact_handles,
                           region=settings.phone_region)
        assert item.created_at is not None  # set by _check
        return NewItem(
            item_id=item.item_id, created_at=item.created_at,
            source=item.source, brand=item.brand,
            subject_id=item.subject_id, subject_kind=item.subject_kind,
            text=redaction.text if settings.store_text else None,
            text_chars=len(item.text),
            metadata=redact_value(dict(item.metadata), handles=settings.redact_handles,
                                  region=settings.phone_region),
            analysis=stored_analysis(result, redaction, keep_text=settings.store_text))


def too_long(text: str, limit: int) -> str:
    """What to say of a text over the service's length limit (never cut silently)."""
    return (f"text has {len(text):,} characters, the limit is {limit:,}: split it into "
            f"parts (one per message or section)")


def stored_analysis(result: Result, redaction: Redaction, *, keep_text: bool) -> dict[str, Any]:
    """``result.to_dict()`` as it may be stored: no text, spans mapped onto the redacted text.

    With ``keep_text=False`` no piece of the text survives: spans lose their offsets and
    snippets, aspects keep only their category and label.
    """
    out = result.to_dict()
    del out["text"]
    del out["sentences"]  # sentence offsets add nothing a stored row needs
    return map_spans(out, redaction, keep_text=keep_text)


def map_spans(analysis: dict[str, Any], redaction: Redaction, *,
              keep_text: bool = True) -> dict[str, Any]:
    """``analysis`` (a Result's dict) with its evidence, aspect and urgency-reason spans
    moved onto ``redaction.text`` and their snippets taken from it (a span without offsets
    stays as it is). With ``keep_text=False`` the spans lose offsets and snippets."""
    out = dict(analysis)
    out["evidence"] = [_span(e, redaction, keep_text) for e in out.get("evidence") or []]
    out["aspects"] = [_span(a, redaction, keep_text, text_key="term")
                      for a in out.get("aspects") or []]
    if out.get("urgency") is not None:
        out["urgency"] = dict(out["urgency"])
        out["urgency"]["reasons"] = [_span(r, redaction, keep_text)
                                     for r in out["urgency"].get("reasons") or []]
    return out


def _span(entry: dict[str, Any], redaction: Redaction, keep_text: bool,
          text_key: str = "text") -> dict[str, Any]:
    entry = dict(entry)
    if not keep_text:
        entry.pop("start", None)
        entry.pop("end", None)
        entry.pop(text_key, None)
        return entry
    if entry.get("start") is None or entry.get("end") is None:
        return entry
    start, end = redaction.map_span(entry["start"], entry["end"])
    entry["start"], entry["end"] = start, end
    entry[text_key] = redaction.text[start:end]
    return entry


def _when(value: datetime | str | None) -> datetime:
    if value is None:
        return datetime.now(timezone.utc)
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"created_at must be an ISO 8601 time such as "
                         f"2026-11-26T09:30:00Z, got {str(value)[:40]!r}") from None


def _check_storable(value: str, name: str) -> None:
    """Refuse what no database can store: lone surrogates (not valid Unicode, e.g. from a
    broken JSON escape such as \\ud800) and NUL characters (PostgreSQL text cannot hold
    them). Checked per item, so one such item fails alone instead of the whole batch."""
    if "\x00" in value:
        raise InputError(f"{name} contains a NUL character (\\u0000): remove it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{name} is not valid Unicode (it holds a lone surrogate such as "
                         f"\\ud800): send UTF-8 text") from None


def _safe_id(item: object) -> str | None:
    value = getattr(item, "item_id", None)
    return value if isinstance(value, str) and len(value) <= MAX_ITEM_ID_CHARS else None


def _shown(value: object) -> str:
    if isinstance(value, str):
        return f"a string of {len(value):,} characters" if value.strip() else "an empty string"
    return type(value).__name__
