"""The values the store takes and gives: frozen dataclasses with ``to_dict()``.

No SQLAlchemy here, so the service can build queries and read results without touching
the database layer. Datetimes are timezone-aware UTC; ``to_dict()`` writes them as ISO 8601
with a ``Z``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Generic, Literal, Mapping, Sequence, TypeVar

T = TypeVar("T")

# A page never holds more than this many rows: 500 is the ingestion batch size, so a
# client can read back one batch per page, and a page of full items stays a few MB.
MAX_PAGE = 500
DEFAULT_PAGE = 100

INTERVALS: tuple[str, ...] = ("day", "week")
STATS_BY: tuple[str, ...] = ("label", "source", "urgent", "aspect", "brand", "subject_kind")
OVERRIDE_FIELDS: tuple[str, ...] = ("label", "urgent", "handled")
# How list_items orders a page: newest first, or the most urgent first (urgency score
# descending, items a person marked urgent without a score last; ties newest first).
ITEM_ORDERS: tuple[str, ...] = ("newest", "urgency")


def iso(value: datetime | None) -> str | None:
    """``value`` as ISO 8601 UTC with a ``Z`` (None stays None)."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class NewItem:
    """One analysed piece of feedback, ready to store.

    ``text`` is the already redacted text (None when texts are not stored) and
    ``text_chars`` the length of the original. ``analysis`` is ``Result.to_dict()`` without
    ``text`` and ``sentences``, its offsets already mapped onto the stored text.
    ``subject_id`` is never stored: only a keyed hash of it is. A naive ``created_at`` is
    read as UTC.
    """

    item_id: str | None
    created_at: datetime
    source: str | None
    brand: str | None
    subject_id: str | None
    subject_kind: str
    text: str | None
    text_chars: int
    metadata: Mapping[str, Any]
    analysis: Mapping[str, Any]


@dataclass(frozen=True)
class IngestOutcome:
    """What ``add_items`` did with one item: ``"created"``, or ``"duplicate"`` when that
    ``item_id`` was already stored (nothing changed; the stored item wins)."""

    item_id: str
    status: Literal["created", "duplicate"]

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "status": self.status}


@dataclass(frozen=True)
class StoredItem:
    """A stored item. ``label`` and ``urgent`` are the effective values (a person's last
    override, else the model's); ``model`` keeps the model's own output untouched:
    ``{"name", "label", "scores", "confidence", "needs_review", "review_reason",
    "urgency": {"urgent", "score", "category", "reasons", "review_reason"} | None}``.
    ``urgent`` is None when urgency was not analysed and nobody set it."""

    id: str
    created_at: datetime
    ingested_at: datetime
    source: str | None
    brand: str | None
    subject_kind: str
    text: str | None
    text_chars: int
    language: str | None
    label: str
    urgent: bool | None
    overridden: bool
    handled: bool
    model: Mapping[str, Any]
    evidence: Sequence[Mapping[str, Any]]
    aspects: Sequence[Mapping[str, Any]]
    metadata: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "created_at": iso(self.created_at),
            "ingested_at": iso(self.ingested_at), "source": self.source, "brand": self.brand,
            "subject_kind": self.subject_kind, "text": self.text, "text_chars": self.text_chars,
            "language": self.language, "label": self.label, "urgent": self.urgent,
            "overridden": self.overridden, "handled": self.handled, "model": dict(self.model),
            "evidence": [dict(e) for e in self.evidence],
            "aspects": [dict(a) for a in self.aspects], "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class AuditEntry:
    """One change a person made: ``field`` went from ``before`` to ``after``."""

    id: int
    item_id: str
    actor: str
    at: datetime
    field: str
    before: Any
    after: Any
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "item_id": self.item_id, "actor": self.actor, "at": iso(self.at),
                "field": self.field, "before": self.before, "after": self.after,
                "reason": self.reason}


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results, newest first; ``next_cursor`` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"items": [item.to_dict() for item in self.items],  # type: ignore[attr-defined]
                "next_cursor": self.next_cursor}


@dataclass(frozen=True)
class ItemQuery:
    """Which items to list. Every filter left as None matches everything.

    ``start`` is inclusive and ``end`` exclusive (``created_at``); list filters match any of
    their values; ``aspect_category`` keeps items with at least one aspect in that category;
    ``search`` is a case-insensitive substring of the stored text; ``urgent=False`` (and
    ``handled``/``overridden=False``) also match items never analysed for urgency;
    ``subject_id`` is matched through its keyed hash; ``cursor`` is the ``next_cursor`` of
    the previous page (pass the same filters and order with it). ``limit`` is 1 to
    ``MAX_PAGE``. ``order`` is ``"newest"`` (by ``created_at``) or ``"urgency"`` (by urgency
    score, highest first, for the urgent queue: use it with ``urgent=True``, which an index
    serves).
    """

    start: datetime | None = None
    end: datetime | None = None
    labels: Sequence[str] | None = None
    urgent: bool | None = None
    sources: Sequence[str] | None = None
    brands: Sequence[str] | None = None
    aspect_category: str | None = None
    subject_kinds: Sequence[str] | None = None
    subject_id: str | None = None
    overridden: bool | None = None
    handled: bool | None = None
    search: str | None = None
    cursor: str | None = None
    limit: int = DEFAULT_PAGE
    order: str = "newest"


@dataclass(frozen=True)
class StatsQuery:
    """Which aggregates to compute, from the daily roll-ups only.

    ``start`` and ``end`` are days, both inclusive (a datetime stands for its UTC day).
    ``interval`` is ``"day"`` or ``"week"`` (ISO weeks, named by their Monday). ``by`` splits
    each period into groups (None: totals only). ``min_group`` is k for k-anonymity (None:
    the policy's default).
    """

    start: date | datetime | None = None
    end: date | datetime | None = None
    interval: str = "day"
    by: str | None = None
    sources: Sequence[str] | None = None
    brands: Sequence[str] | None = None
    subject_kinds: Sequence[str] | None = None
    min_group: int | None = None


@dataclass(frozen=True)
class StatsGroup:
    """One group of a period.

    For every ``by`` but ``"aspect"``: ``count`` items of the period fall in the group
    (``key``: the label, source, brand, subject kind, or True/False for urgent; None when
    the items did not say), ``share = count / total`` and ``ci_low``/``ci_high`` its Wilson
    95% interval.

    For ``by="aspect"``, ``key`` is an aspect category and ``count`` the number of
    mentions of it in the period (one item can mention it more than once); ``share`` is the
    share of those mentions that are negative, with its Wilson interval, and
    ``positive_share``/``positive_ci_low``/``positive_ci_high`` the same for positive.
    ``labels`` gives the mentions per label.
    """

    key: str | bool | None
    count: int
    share: float
    ci_low: float
    ci_high: float
    labels: Mapping[str, int] | None = None
    positive_share: float | None = None
    positive_ci_low: float | None = None
    positive_ci_high: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "count": self.count, "share": self.share,
                               "ci_low": self.ci_low, "ci_high": self.ci_high}
        if self.labels is not None:
            out.update(labels=dict(self.labels), positive_share=self.positive_share,
                       positive_ci_low=self.positive_ci_low,
                       positive_ci_high=self.positive_ci_high)
        return out


@dataclass(frozen=True)
class StatsBucket:
    """One period (``period``: the day, or the Monday of the week).

    ``total`` is the number of items in the period. When ``suppressed`` is true the period
    holds items about employees or students from fewer than ``min_group`` distinct
    subjects: ``total`` is None, ``groups`` is empty and ``reason`` says why.
    """

    period: date
    total: int | None
    groups: tuple[StatsGroup, ...] = ()
    suppressed: bool = False
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period.isoformat(), "total": self.total,
                "groups": [g.to_dict() for g in self.groups], "suppressed": self.suppressed,
                "reason": self.reason}


@dataclass(frozen=True)
class Stats:
    """The answer to a StatsQuery: buckets for the periods that hold items, oldest first."""

    interval: str
    by: str | None
    min_group: int
    buckets: tuple[StatsBucket, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"interval": self.interval, "by": self.by, "min_group": self.min_group,
                "buckets": [b.to_dict() for b in self.buckets]}


@dataclass(frozen=True)
class ApiKey:
    """An API key as stored: never the secret, only its first characters (``prefix``)."""

    id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    rate_limit: float | None
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "prefix": self.prefix,
                "scopes": list(self.scopes), "rate_limit": self.rate_limit,
                "created_at": iso(self.created_at), "revoked_at": iso(self.revoked_at),
                "last_used_at": iso(self.last_used_at), "active": self.active}
