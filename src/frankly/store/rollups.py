"""Daily roll-ups: counts kept in step with the items, in the same transaction.

Every change to items (insert, override, erase) is turned into signed deltas per roll-up
key; positive deltas are upserted (``INSERT ... ON CONFLICT DO UPDATE n = n + excluded.n``),
negative ones subtracted and rows that reach zero deleted, so a roll-up never holds a key
with no items behind it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

import sqlalchemy as sa

from frankly.policy import PROTECTED_KINDS
from frankly.store import schema

Key = tuple[Any, ...]
# Key column names, in the order Deltas builds its tuples: (day, source, brand, kind, ...).
COUNT_KEY = ("day", "source", "brand", "subject_kind", "label", "urgent")
ASPECT_KEY = ("day", "source", "brand", "subject_kind", "category", "label")
SUBJECT_KEY = ("day", "source", "brand", "subject_kind", "subject_key")
SEALED_KEY = ("day", "source", "brand", "subject_kind")


def day_of(created_at: datetime) -> date:
    return created_at.astimezone(timezone.utc).date()


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def urgent_key(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def urgent_value(key: str) -> bool | None:
    return None if key == "" else key == "true"


class Deltas:
    """Signed changes to the roll-ups, collected in memory and applied in one go."""

    def __init__(self) -> None:
        self.counts: Counter[Key] = Counter()
        self.aspects: Counter[Key] = Counter()
        self.subjects: Counter[Key] = Counter()

    def item(self, row: Mapping[str, Any], aspects: Iterable[tuple[str, str]],
             sign: int = 1) -> None:
        """Add (sign 1) or take away (sign -1) one item: ``row`` holds the items columns."""
        base = (day_of(row["created_at"]), row["source"] or "", row["brand"] or "",
                row["subject_kind"])
        self.counts[(*base, row["label"], urgent_key(row["urgent"]))] += sign
        for category, label in aspects:
            self.aspects[(*base, category, label)] += sign
        if row["subject_kind"] in PROTECTED_KINDS:
            self.subjects[(*base, row["subject_key"] or "")] += sign

    def apply(self, conn: sa.Connection) -> None:
        for table, names, counter in ((schema.rollup_counts, COUNT_KEY, self.counts),
                                      (schema.rollup_aspects, ASPECT_KEY, self.aspects),
                                      (schema.rollup_subjects, SUBJECT_KEY, self.subjects)):
            apply_counter(conn, table, names, counter)


def _insert(conn: sa.Connection, table: sa.Table) -> Any:
    # The one unavoidable dialect branch: ON CONFLICT lives in each dialect's insert().
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def apply_counter(conn: sa.Connection, table: sa.Table, names: tuple[str, ...],
                  counter: Mapping[Key, int], value: str = "n") -> None:
    """Add ``counter``'s signed deltas to ``table`` (keys in the order of ``names``)."""
    week = "week" in table.c
    ups = [_row(names, key, value, n, week) for key, n in sorted(counter.items()) if n > 0]
    downs = [_row(names, key, value, n, week) for key, n in sorted(counter.items()) if n < 0]
    if ups:
        stmt = _insert(conn, table)
        stmt = stmt.on_conflict_do_update(  # rows sorted: concurrent upserts lock in one order
            index_elements=list(names) + (["week"] if week else []),
            set_={value: table.c[value] + stmt.excluded[value]})
        conn.execute(stmt, ups)
    if downs:
        where = sa.and_(*(table.c[name] == sa.bindparam(f"k_{name}") for name in names))
        conn.execute(sa.update(table).where(where)
                     .values({value: table.c[value] + sa.bindparam("k_delta")}),
                     [_bound(names, row, value) for row in downs])
        conn.execute(sa.delete(table).where(where, table.c[value] <= 0),
                     [{f"k_{name}": row[name] for name in names} for row in downs])


def _row(names: tuple[str, ...], key: Key, value: str, n: int, week: bool) -> dict[str, Any]:
    row = dict(zip(names, key))
    if week:
        row["week"] = monday(row["day"])
    row[value] = n
    return row


def _bound(names: tuple[str, ...], row: Mapping[str, Any], value: str) -> dict[str, Any]:
    bound = {f"k_{name}": row[name] for name in names}
    bound["k_delta"] = row[value]
    return bound
