"""The tables, as SQLAlchemy Core objects (no ORM): one definition for SQLite and PostgreSQL.

Roll-up key columns hold ``''`` rather than NULL: NULLs never conflict in a unique index,
so ``ON CONFLICT`` would insert a second row for the same key instead of adding to it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from frankly.errors import MissingDependencyError

try:
    import sqlalchemy as sa
    from sqlalchemy.types import TypeDecorator
except ImportError:  # pragma: no cover - exercised only without the extra
    raise MissingDependencyError(
        "Frankly's storage needs SQLAlchemy: pip install 'frankly[server]'") from None

# BigInteger keys do not auto-increment on SQLite (only INTEGER PRIMARY KEY aliases the
# rowid), so SQLite gets INTEGER; PostgreSQL gets BIGINT for room past 2**31 rows.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Lengths: ids and names are short labels from client systems; 200 leaves room for a URL-ish
# id without letting a client store essays in an indexed column.
ID_LEN = 200
NAME_LEN = 200
KIND_LEN = 20  # "customer", "employee", "student", "unknown"
LABEL_LEN = 20  # "negative", "neutral", "positive", "mixed"
CATEGORY_LEN = 100  # aspect taxonomy categories, e.g. "delivery and shipping"
KEY_LEN = 64  # hex of a SHA-256


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on both databases.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is stored as
    naive UTC text (fixed width, so text order is time order) and made aware again on read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


metadata = sa.MetaData()

schema_migrations = sa.Table(
    "schema_migrations", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

meta = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

items = sa.Table(
    "items", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.String(ID_LEN), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("ingested_at", UTCDateTime, nullable=False),
    sa.Column("source", sa.String(NAME_LEN)),
    sa.Column("brand", sa.String(NAME_LEN)),
    sa.Column("subject_key", sa.String(KEY_LEN)),
    sa.Column("subject_kind", sa.String(KIND_LEN), nullable=False),
    sa.Column("text", sa.Text),  # redacted; NULL when texts are not stored
    sa.Column("text_chars", sa.Integer, nullable=False),
    sa.Column("language", sa.String(20)),
    sa.Column("model", sa.String(NAME_LEN)),
    sa.Column("model_label", sa.String(LABEL_LEN), nullable=False),
    sa.Column("score_negative", sa.Float, nullable=False),
    sa.Column("score_neutral", sa.Float, nullable=False),
    sa.Column("score_positive", sa.Float, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("needs_review", sa.Boolean, nullable=False),
    sa.Column("review_reason", sa.Text),
    sa.Column("model_urgent", sa.Boolean),  # NULL: urgency was not analysed
    sa.Column("urgency_score", sa.Float),
    sa.Column("urgency_category", sa.String(CATEGORY_LEN)),
    sa.Column("urgency_reasons", sa.Text),  # JSON
    sa.Column("urgency_review_reason", sa.Text),
    sa.Column("evidence", sa.Text, nullable=False),  # JSON
    sa.Column("aspects", sa.Text, nullable=False),  # JSON
    sa.Column("metadata", sa.Text, nullable=False),  # JSON
    sa.Column("label", sa.String(LABEL_LEN), nullable=False),  # effective
    sa.Column("urgent", sa.Boolean),  # effective
    sa.Column("overridden", sa.Boolean, nullable=False),
    sa.Column("handled", sa.Boolean, nullable=False),
    # Newest-first pages walk (created_at, id); the pair makes the cursor order total.
    sa.Index("ix_items_created", "created_at", "id"),
    sa.Index("ix_items_subject", "subject_key"),
    # Migration 2 adds ix_items_urgency (urgent, handled, urgency_score, created_at, id)
    # for the urgent queue; it is written out there, not here (see migrations.py).
)

item_aspects = sa.Table(
    "item_aspects", metadata,
    sa.Column("item_pk", BigId, sa.ForeignKey("items.id", ondelete="CASCADE"),
              primary_key=True, autoincrement=False),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("category", sa.String(CATEGORY_LEN), nullable=False),
    sa.Column("label", sa.String(LABEL_LEN), nullable=False),
    sa.Index("ix_item_aspects_category", "category", "item_pk"),
)

overrides = sa.Table(
    "overrides", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("item_pk", BigId, sa.ForeignKey("items.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("item_id", sa.String(ID_LEN), nullable=False),
    sa.Column("actor", sa.String(NAME_LEN), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("field", sa.String(20), nullable=False),
    sa.Column("before", sa.Text),  # JSON
    sa.Column("after", sa.Text),  # JSON
    sa.Column("reason", sa.Text, nullable=False),
    sa.Index("ix_overrides_item", "item_pk"),
    sa.Index("ix_overrides_at", "at", "id"),
)


def _rollup(name: str, groups: tuple[sa.Column, ...] = (), *, subjects: bool = False,
            value: str = "n") -> sa.Table:
    """A daily roll-up: a count per key (day, groups, source, brand, subject_kind).

    The primary key starts with ``day`` and then the columns stats group by, and SQLite
    keeps the table in key order (WITHOUT ROWID): ``GROUP BY day, category, label`` is then
    one ordered scan with no sort, which is what keeps stats fast at a million items
    (measured on 1,000,000 items: 190 ms with a rowid table and a sort, 33 ms in key order;
    see benchmarks/store_scale.py). Weeks are folded from days in Python, except where a
    count of distinct subjects cannot be folded: those tables start with ``week`` (the
    Monday) so that both weeks and days are read in key order.
    """
    dims = [sa.Column("source", sa.String(NAME_LEN), nullable=False),
            sa.Column("brand", sa.String(NAME_LEN), nullable=False),
            sa.Column("subject_kind", sa.String(KIND_LEN), nullable=False)]
    if subjects:  # (week, day, ...) is still day order, and groups by week without a sort
        columns = [sa.Column("week", sa.Date, nullable=False),
                   sa.Column("day", sa.Date, nullable=False), *dims, *groups]
    else:
        columns = [sa.Column("day", sa.Date, nullable=False), *groups, *dims]
    key = [c.name for c in columns]
    return sa.Table(name, metadata, *columns, sa.Column(value, sa.BigInteger, nullable=False),
                    sa.PrimaryKeyConstraint(*key, name=f"pk_{name}"),
                    sqlite_with_rowid=False)


# Items per (day, effective label, effective urgent, source, brand, subject_kind).
# urgent is 'true', 'false' or '' (not analysed).
rollup_counts = _rollup("rollup_counts", (
    sa.Column("label", sa.String(LABEL_LEN), nullable=False),
    sa.Column("urgent", sa.String(5), nullable=False)))

# Aspect mentions per (day, category, aspect label, source, brand, subject_kind).
rollup_aspects = _rollup("rollup_aspects", (
    sa.Column("category", sa.String(CATEGORY_LEN), nullable=False),
    sa.Column("label", sa.String(LABEL_LEN), nullable=False)))

# For protected kinds only: which subjects (keyed hashes; '' for items without a subject
# id, counted as one subject) wrote on a day, and how many items, so k-anonymity can be
# checked for any bucket and an erasure can take a subject out again.
rollup_subjects = _rollup("rollup_subjects", (
    sa.Column("subject_key", sa.String(KEY_LEN), nullable=False),), subjects=True)
sa.Index("ix_rollup_subjects_key", rollup_subjects.c.subject_key)

# What the retention purge leaves of rollup_subjects: the number of distinct subjects per
# (day, source, brand, subject_kind), without the keys.
rollup_sealed = _rollup("rollup_sealed", subjects=True, value="subjects")

ROLLUP_TABLES = (rollup_counts, rollup_aspects, rollup_subjects, rollup_sealed)

api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(NAME_LEN), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("hash", sa.String(KEY_LEN), nullable=False, unique=True),
    sa.Column("scopes", sa.String(100), nullable=False),  # space-separated
    sa.Column("rate_limit", sa.Float),  # requests/s; NULL: the service's default
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.Column("last_used_at", UTCDateTime),
)
