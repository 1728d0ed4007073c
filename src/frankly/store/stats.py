"""Aggregates from the daily roll-ups (never from the items table), with Wilson intervals.

k-anonymity: a period that holds items about employees or students is shown only when
those items come from at least ``min_group`` distinct subjects. When ``by`` splits the
items into sub-populations (source, brand, subject kind), each group's protected items must
pass too, and a failing group suppresses the whole period: hiding only that group would
leave its counts readable as the total minus the other groups.
"""

from __future__ import annotations

import math
from functools import lru_cache
from collections import defaultdict
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from frankly.errors import InputError
from frankly.policy import DEFAULT_MIN_GROUP, SUPPRESSED_REASON, aggregate_allowed
from frankly.result import DOCUMENT_LABELS
from frankly.store import schema
from frankly.store.records import (INTERVALS, STATS_BY, Stats, StatsBucket, StatsGroup,
                                   StatsQuery, as_utc)
from frankly.store.rollups import monday, urgent_value

# z for a two-sided 95% interval: the 0.975 quantile of the standard normal.
Z95 = 1.959963984540054

# Columns a group key can come from, per ``by``; urgent is stored as 'true'/'false'/''.
_BY_COLUMN = {"label": "label", "source": "source", "urgent": "urgent", "brand": "brand",
              "subject_kind": "subject_kind", "aspect": "category"}
# These split the population itself, so each group gets its own k-anonymity check.
_PARTITIONS = ("source", "brand", "subject_kind")


@lru_cache(maxsize=1 << 16)  # a year of daily groups repeats the same few (count, total)
def wilson(count: int, total: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for ``count`` successes in ``total`` trials.

    >>> tuple(round(x, 4) for x in wilson(8, 10))
    (0.4902, 0.9433)
    """
    if total <= 0:
        return (0.0, 0.0)
    p = count / total
    z2 = z * z
    centre = (p + z2 / (2 * total)) / (1 + z2 / total)
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / (1 + z2 / total)
    # At 0 and at total the bounds are exactly 0 and 1; say so rather than 0.9999999999999999.
    low = 0.0 if count == 0 else max(0.0, centre - half)
    high = 1.0 if count == total else min(1.0, centre + half)
    return (low, high)


def _day(value: date | datetime | None, name: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value).date()
    if isinstance(value, date):
        return value
    raise InputError(f"{name} must be a date, got {value!r}")


def check_query(query: StatsQuery) -> tuple[date | None, date | None, int]:
    if query.interval not in INTERVALS:
        raise InputError(f"interval must be one of {', '.join(INTERVALS)}, "
                         f"got {query.interval!r}")
    if query.by is not None and query.by not in STATS_BY:
        raise InputError(f"by must be one of {', '.join(STATS_BY)} or absent, got {query.by!r}")
    k = DEFAULT_MIN_GROUP if query.min_group is None else query.min_group
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise InputError(f"min_group must be a whole number of at least 1, "
                         f"got {query.min_group!r}")
    start, end = _day(query.start, "start"), _day(query.end, "end")
    if start is not None and end is not None and end < start:
        raise InputError(f"end ({end}) is before start ({start})")
    return start, end, k


def _where(table: sa.Table, query: StatsQuery, start: date | None,
           end: date | None) -> list[Any]:
    where: list[Any] = []
    if start is not None:
        where.append(table.c.day >= start)
    if end is not None:
        where.append(table.c.day <= end)
    for column, values in (("source", query.sources), ("brand", query.brands),
                           ("subject_kind", query.subject_kinds)):
        if values is not None:
            where.append(table.c[column].in_([v or "" for v in values]))
    return where


def compute(conn: sa.Connection, query: StatsQuery) -> Stats:
    """The answer to ``query`` (see :class:`StatsQuery`), read from the roll-ups."""
    start, end, k = check_query(query)
    period = "day" if query.interval == "day" else "week"
    by = query.by

    # Counts and mentions are grouped by day in SQL, in the tables' key order (no sort),
    # and folded into weeks here; distinct subjects cannot be folded, so they use ``week``.
    fold = (lambda d: d) if period == "day" else monday
    counts = schema.rollup_counts
    group_col = counts.c[_BY_COLUMN[by]] if by not in (None, "aspect") else None
    cols = [counts.c.day] + ([group_col] if group_col is not None else [])
    rows = conn.execute(sa.select(*cols, sa.func.sum(counts.c.n))
                        .where(*_where(counts, query, start, end)).group_by(*cols))
    totals: dict[date, int] = defaultdict(int)
    grouped: dict[date, dict[Any, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        day, n = fold(_as_date(row[0])), int(row[-1])
        totals[day] += n
        if group_col is not None:
            grouped[day][row[1]] += n

    aspect_labels: dict[date, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int)))
    if by == "aspect":
        table = schema.rollup_aspects
        cols = [table.c.day, table.c.category, table.c.label]
        for row in conn.execute(sa.select(*cols, sa.func.sum(table.c.n))
                                .where(*_where(table, query, start, end)).group_by(*cols)):
            aspect_labels[fold(_as_date(row[0]))][row[1]][row[2]] += int(row[3])

    suppressed = _suppressed(conn, query, start, end, period, k,
                             by if by in _PARTITIONS else None)

    buckets = []
    for day in sorted(totals):
        total = totals[day]
        if day in suppressed:
            buckets.append(StatsBucket(period=day, total=None, suppressed=True,
                                       reason=SUPPRESSED_REASON))
            continue
        if by == "aspect":
            groups = _aspect_groups(aspect_labels.get(day, {}))
        elif by is not None:
            groups = _groups(by, dict(grouped[day]), total)
        else:
            groups = ()
        buckets.append(StatsBucket(period=day, total=total, groups=groups))
    return Stats(interval=query.interval, by=by, min_group=k, buckets=tuple(buckets))


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _groups(by: str, counts: dict[Any, int], total: int) -> tuple[StatsGroup, ...]:
    if by == "label":
        counts = {label: counts.get(label, 0) for label in (*DOCUMENT_LABELS, *counts)}
    elif by == "urgent":
        counts = {"true": counts.get("true", 0), "false": counts.get("false", 0), **counts}
    groups = []
    for raw, n in counts.items():
        key: str | bool | None
        key = urgent_value(raw) if by == "urgent" else (raw or None)
        low, high = wilson(n, total)
        groups.append(StatsGroup(key=key, count=n, share=n / total if total else 0.0,
                                 ci_low=low, ci_high=high))
    if by not in ("label", "urgent"):  # fixed order for fixed key sets; else largest first
        groups.sort(key=lambda g: (-g.count, str(g.key)))
    return tuple(groups)


def _aspect_groups(categories: dict[str, dict[str, int]]) -> tuple[StatsGroup, ...]:
    groups = []
    for category, labels in categories.items():
        n = sum(labels.values())
        neg, pos = labels.get("negative", 0), labels.get("positive", 0)
        low, high = wilson(neg, n)
        plow, phigh = wilson(pos, n)
        groups.append(StatsGroup(key=category, count=n, share=neg / n, ci_low=low,
                                 ci_high=high, labels=dict(labels), positive_share=pos / n,
                                 positive_ci_low=plow, positive_ci_high=phigh))
    groups.sort(key=lambda g: (-g.count, str(g.key)))
    return tuple(groups)


def _suppressed(conn: sa.Connection, query: StatsQuery, start: date | None, end: date | None,
                period: str, k: int, partition: str | None) -> set[date]:
    """The periods whose protected items come from fewer than k distinct subjects.

    Live subjects are counted exactly (distinct keys). Days already purged keep only a
    count of distinct subjects per (day, source, brand, kind): the largest such count is a
    lower bound on the distinct subjects of any bucket containing it, which can only
    suppress more, never less. With a ``partition``, every group must pass; the period as
    a whole then passes too (it holds at least as many subjects as any of its groups).
    """
    lower: dict[tuple[date, Any], int] = defaultdict(int)
    for table, measure in ((schema.rollup_subjects,
                            sa.func.count(sa.distinct(schema.rollup_subjects.c.subject_key))),
                           (schema.rollup_sealed, sa.func.max(schema.rollup_sealed.c.subjects))):
        # Both tables are kept in (week, day, ...) order: grouping by week, or by week and
        # day, reads them in that order without a sort.
        cols = [table.c.week] + ([table.c.day] if period == "day" else [])
        cols += [table.c[partition]] if partition else []
        stmt = sa.select(*cols, measure).where(*_where(table, query, start, end)).group_by(*cols)
        for row in conn.execute(stmt):
            key = (_as_date(row[1] if period == "day" else row[0]),
                   row[-2] if partition else None)
            lower[key] = max(lower[key], int(row[-1]))
    return {day for (day, _), n in lower.items() if not aggregate_allowed(n, k)}
