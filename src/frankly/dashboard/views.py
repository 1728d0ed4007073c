"""What each dashboard page shows, as plain dicts computed from a Store.

No HTTP here: ``frankly serve`` renders these dicts with the templates beside this module,
and a report built from a file can render the same templates from dicts it computes
otherwise. Every function takes the use policy's ``k`` (the minimum number of distinct
employees or students behind an aggregate) and never returns an item about an employee
or a student one by one.

Dates are ``datetime.date`` values (UTC days), both ends inclusive; dicts hold ISO strings
and numbers only, so they serialise to JSON as they are.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from frankly import alerts as alertlib
from frankly.dashboard.text import aspect_spans, evidence_spans, reason_spans, segments
from frankly.policy import PROTECTED_KINDS, SUBJECT_KINDS, refuse_per_person
from frankly.result import DOCUMENT_LABELS

if TYPE_CHECKING:
    from frankly.store import Stats, Store, StoredItem

# Items that may be shown one by one: never those about employees or students.
LISTED_KINDS: tuple[str, ...] = tuple(k for k in SUBJECT_KINDS if k not in PROTECTED_KINDS)
# The overview's default window: a quarter shows a trend and still fits daily points.
OVERVIEW_DAYS = 90
# Longer ranges are drawn per week: 120 daily points is about what a chart stays legible at.
MAX_DAILY_POINTS = 120
# The aspects page compares the last 30 days with the 30 before them by default.
ASPECT_DAYS = 30
# The explorer's default window: a month.
EXPLORER_DAYS = 30
# ...and the most it reads for one page. A filter that matches little (a text search that
# finds nothing, a rare aspect or brand) reads every item of the window: at 1,000,000
# items a year that costs about 2 ms per day of window on an idle machine and half as much
# again on a busy one (benchmarks/dashboard.py), so 60 days stay well under 300 ms where
# a whole year took over 700. A longer range is read 60 days at a time, newest first, with
# a link to the days before.
EXPLORER_MAX_DAYS = 60
# Example texts per aspect category, for the categories shown first.
EXAMPLES_PER_CATEGORY = 2
EXAMPLE_CATEGORIES = 10
PAGE_SIZE = 50
# Alerts compare the latest day with the 28 before it (four whole weeks, so weekday
# effects even out), or the latest week with the 8 before it.
BASELINE_PERIODS = {"day": 28, "week": 8}
SHARE_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Range:
    """A span of whole UTC days, both ends inclusive."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Range:
        """The range of equal length just before this one."""
        end = self.start - timedelta(days=1)
        return Range(end - timedelta(days=self.days - 1), end)

    def bounds(self) -> tuple[datetime, datetime]:
        """``created_at`` bounds for list_items: start inclusive, end exclusive."""
        return (datetime.combine(self.start, time(), timezone.utc),
                datetime.combine(self.end + timedelta(days=1), time(), timezone.utc))

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "days": self.days}


def resolve_range(store: Store, start: date | None, end: date | None,
                  default_days: int) -> Range:
    """The range asked for; a missing end is the last day holding items (today for an empty
    store) and a missing start ``default_days`` before it. Swapped ends are put in order."""
    if end is None:
        span = store.day_span()
        end = span[1] if span else datetime.now(timezone.utc).date()
    if start is None:
        start = end - timedelta(days=default_days - 1)
    if end < start:
        start, end = end, start
    return Range(start, end)


def _periods(r: Range, interval: str) -> list[date]:
    """Every day, or every Monday, of the range."""
    step = 1 if interval == "day" else 7
    first = r.start if interval == "day" else r.start - timedelta(days=r.start.weekday())
    out = []
    day = first
    while day <= r.end:
        out.append(day)
        day += timedelta(days=step)
    return out


def _some(values: Sequence[str] | None) -> tuple[str, ...] | None:
    return tuple(values) if values else None


def _stats(store: Store, r: Range, interval: str, by: str, sources: Sequence[str] | None,
           brands: Sequence[str] | None, k: int) -> Stats:
    from frankly.store import StatsQuery

    return store.stats(StatsQuery(start=r.start, end=r.end, interval=interval, by=by,
                                  sources=_some(sources), brands=_some(brands), min_group=k))


def _wilson(count: int, total: int) -> tuple[float, float]:
    from frankly.store.stats import wilson

    return wilson(count, total)


# -- overview -------------------------------------------------------------------------------

def overview(store: Store, *, start: date | None = None, end: date | None = None,
             sources: Sequence[str] | None = None, brands: Sequence[str] | None = None,
             k: int) -> dict[str, Any]:
    """Volume and label shares per period, with 95% Wilson intervals, and totals.

    Periods are days, or weeks for ranges over ``MAX_DAILY_POINTS`` days. A period held
    back by the use policy (too few distinct employees or students) has None for its
    numbers and is counted in ``withheld``; a period with no items has volume 0.
    """
    r = resolve_range(store, start, end, OVERVIEW_DAYS)
    interval = "day" if r.days <= MAX_DAILY_POINTS else "week"
    stats = _stats(store, r, interval, "label", sources, brands, k)
    buckets = {b.period: b for b in stats.buckets}
    periods = _periods(r, interval)
    volume: list[int | None] = []
    shares: dict[str, dict[str, list[float | None]]] = {
        label: {"share": [], "low": [], "high": []} for label in DOCUMENT_LABELS}
    totals: dict[str, int] = defaultdict(int)
    withheld = 0
    for period in periods:
        bucket = buckets.get(period)
        if bucket is not None and bucket.suppressed:
            withheld += 1
        total = None if bucket is not None and bucket.suppressed else (
            bucket.total if bucket is not None else 0)
        volume.append(total)
        groups = {g.key: g for g in bucket.groups} if bucket is not None else {}
        for label in DOCUMENT_LABELS:
            g = groups.get(label)
            series = shares[label]
            if not total or g is None:
                series["share"].append(None)
                series["low"].append(None)
                series["high"].append(None)
            else:
                series["share"].append(g.share)
                series["low"].append(g.ci_low)
                series["high"].append(g.ci_high)
                totals[label] += g.count
    n = sum(v for v in volume if v)
    summary = []
    for label in DOCUMENT_LABELS:
        low, high = _wilson(totals[label], n) if n else (0.0, 0.0)
        summary.append({"label": label, "count": totals[label],
                        "share": totals[label] / n if n else None,
                        "ci_low": low if n else None, "ci_high": high if n else None})
    return {"range": r.to_dict(), "interval": interval, "k": k,
            "periods": [p.isoformat() for p in periods], "volume": volume,
            "shares": shares, "summary": summary, "total": n, "withheld": withheld,
            "sources": list(sources or ()), "brands": list(brands or ())}


# -- aspects --------------------------------------------------------------------------------

def _aspect_totals(stats: Stats) -> tuple[dict[str, dict[str, int]], int]:
    """Mentions per category and label over the non-withheld periods; periods withheld."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    withheld = 0
    for bucket in stats.buckets:
        if bucket.suppressed:
            withheld += 1
            continue
        for g in bucket.groups:
            for label, count in (g.labels or {}).items():
                out[str(g.key)][label] += count
    return {c: dict(v) for c, v in out.items()}, withheld


def aspects(store: Store, *, start: date | None = None, end: date | None = None,
            sources: Sequence[str] | None = None, brands: Sequence[str] | None = None,
            sort: str = "share", k: int, alpha: float = alertlib.ALPHA,
            examples: bool = True) -> dict[str, Any]:
    """Aspect categories ranked by negative share of their mentions (``sort="share"``) or
    by its change against the previous range of equal length (``sort="change"``).

    A rise is called significant by the one-sided two-proportion test of
    :mod:`frankly.alerts`, Holm-corrected across the categories tested (those with at
    least ``alerts.MIN_MENTIONS`` mentions in both ranges). Example texts are the newest
    items (customers and unknown only) that mention the category, negative ones first.
    """
    r = resolve_range(store, start, end, ASPECT_DAYS)
    prev = r.previous()
    now_counts, withheld = _aspect_totals(_stats(store, r, "week", "aspect", sources, brands,
                                                 k))
    before_counts, prev_withheld = _aspect_totals(_stats(store, prev, "week", "aspect",
                                                         sources, brands, k))
    rows = []
    for category, labels in now_counts.items():
        n = sum(labels.values())
        neg = labels.get("negative", 0)
        low, high = _wilson(neg, n)
        before = before_counts.get(category, {})
        n0 = sum(before.values())
        neg0 = before.get("negative", 0)
        row: dict[str, Any] = {
            "category": category, "mentions": n, "negative": neg, "share": neg / n,
            "ci_low": low, "ci_high": high, "labels": labels,
            "previous_mentions": n0, "previous_share": neg0 / n0 if n0 else None,
            "change": (neg / n - neg0 / n0) if n0 else None, "p_value": None,
            "p_adjusted": None, "significant": False, "method": None, "examples": []}
        if n >= alertlib.MIN_MENTIONS and n0 >= alertlib.MIN_MENTIONS:
            _, p, method = alertlib.two_proportion_test(neg, n, neg0, n0)
            row["p_value"], row["method"] = p, method
        rows.append(row)
    tested = [row for row in rows if row["p_value"] is not None]
    for row, adjusted in zip(tested, alertlib.holm([row["p_value"] for row in tested])):
        row["p_adjusted"] = adjusted
        row["significant"] = adjusted <= alpha
    if sort == "change":
        rows.sort(key=lambda x: (x["change"] is None, -(x["change"] or 0), -x["mentions"]))
    else:
        sort = "share"
        rows.sort(key=lambda x: (-x["share"], -x["mentions"], x["category"]))
    if examples:
        for row in rows[:EXAMPLE_CATEGORIES]:
            row["examples"] = _examples(store, r, row["category"], sources, brands)
    return {"range": r.to_dict(), "previous": prev.to_dict(), "k": k, "sort": sort,
            "alpha": alpha, "rows": rows, "withheld": withheld,
            "previous_withheld": prev_withheld, "min_mentions": alertlib.MIN_MENTIONS,
            "sources": list(sources or ()), "brands": list(brands or ())}


def _examples(store: Store, r: Range, category: str, sources: Sequence[str] | None,
              brands: Sequence[str] | None) -> list[dict[str, Any]]:
    from frankly.store import ItemQuery

    begin, stop = r.bounds()
    found: list[StoredItem] = []
    for labels in (("negative",), None):
        query = ItemQuery(start=begin, end=stop, aspect_category=category, labels=labels,
                          sources=_some(sources), brands=_some(brands),
                          subject_kinds=LISTED_KINDS, limit=EXAMPLES_PER_CATEGORY)
        seen = {i.id for i in found}
        found += [i for i in store.list_items(query).items if i.id not in seen]
        if len(found) >= EXAMPLES_PER_CATEGORY:
            break
    return [{"id": i.id, "label": i.label, "created_at": _iso(i.created_at),
             "segments": segments(i.text, aspect_spans(i.aspects, category))}
            for i in found[:EXAMPLES_PER_CATEGORY]]


# -- items ----------------------------------------------------------------------------------

def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def item_view(item: StoredItem, *, highlight: str = "evidence") -> dict[str, Any]:
    """One item for a page: its fields and its text cut into highlighted segments
    (``highlight``: "evidence", "reasons" or "aspects")."""
    urgency = item.model.get("urgency") or {}
    reasons = list(urgency.get("reasons") or [])
    spans = {"evidence": lambda: evidence_spans(item.evidence),
             "reasons": lambda: reason_spans(reasons),
             "aspects": lambda: aspect_spans(item.aspects)}[highlight]()
    return {
        "id": item.id, "created_at": _iso(item.created_at), "source": item.source,
        "brand": item.brand, "label": item.label, "model_label": item.model.get("label"),
        "confidence": item.model.get("confidence"), "urgent": item.urgent,
        "urgency_score": urgency.get("score"), "urgency_category": urgency.get("category"),
        "reasons": [{"category": x.get("category"), "text": x.get("text")} for x in reasons],
        "overridden": item.overridden, "handled": item.handled,
        "needs_review": item.model.get("needs_review"),
        "text_stored": item.text is not None, "segments": segments(item.text, spans),
        "aspects": [{"category": a.get("category"), "label": a.get("label"),
                     "term": a.get("term")} for a in item.aspects],
    }


def _page(store: Store, query: Any, highlight: str) -> dict[str, Any]:
    page = store.list_items(query)
    return {"items": [item_view(i, highlight=highlight) for i in page.items],
            "next_cursor": page.next_cursor}


def urgent_queue(store: Store, *, sources: Sequence[str] | None = None,
                 brands: Sequence[str] | None = None, handled: bool = False,
                 cursor: str | None = None, limit: int = PAGE_SIZE) -> dict[str, Any]:
    """Urgent items, most urgent first (by urgency score), with the reasons highlighted.
    Unhandled ones by default. Never items about employees or students."""
    from frankly.store import ItemQuery

    query = ItemQuery(urgent=True, handled=handled, order="urgency",
                      sources=_some(sources), brands=_some(brands),
                      subject_kinds=LISTED_KINDS, cursor=cursor, limit=limit)
    return {**_page(store, query, "reasons"), "handled": handled,
            "sources": list(sources or ()), "brands": list(brands or ())}


def explorer(store: Store, *, search: str | None = None, labels: Sequence[str] | None = None,
             sources: Sequence[str] | None = None, brands: Sequence[str] | None = None,
             aspect: str | None = None, urgent: bool | None = None,
             overridden: bool | None = None, start: date | None = None,
             end: date | None = None, cursor: str | None = None,
             limit: int = PAGE_SIZE) -> dict[str, Any]:
    """Items matching the filters, newest first, evidence highlighted (customers and
    unknown only). The range defaults to the last ``EXPLORER_DAYS`` days with items; of a
    range longer than ``EXPLORER_MAX_DAYS`` the newest ``EXPLORER_MAX_DAYS`` are read
    (``window``), and ``older`` is the range left before them (None when there is none)."""
    from frankly.store import ItemQuery

    r = resolve_range(store, start, end, EXPLORER_DAYS)
    window = r
    older = None
    if r.days > EXPLORER_MAX_DAYS:
        window = Range(r.end - timedelta(days=EXPLORER_MAX_DAYS - 1), r.end)
        older = Range(r.start, window.start - timedelta(days=1)).to_dict()
    begin, stop = window.bounds()
    query = ItemQuery(start=begin, end=stop, labels=_some(labels), urgent=urgent,
                      sources=_some(sources), brands=_some(brands), aspect_category=aspect,
                      overridden=overridden, subject_kinds=LISTED_KINDS,
                      search=search or None, cursor=cursor, limit=limit)
    return {**_page(store, query, "evidence"), "range": r.to_dict(),
            "window": window.to_dict(), "older": older, "search": search or "",
            "labels": list(labels or ()), "sources": list(sources or ()),
            "brands": list(brands or ()), "aspect": aspect, "urgent": urgent,
            "overridden": overridden}


def item_detail(store: Store, item_id: str, *, k: int) -> dict[str, Any]:
    """One item with its evidence, urgency reasons and aspects highlighted, and its audit
    trail. PolicyError for an item about an employee or a student; NotFoundError for an
    unknown id."""
    item = store.get_item(item_id)
    refuse_per_person(item.subject_kind, "showing one item", k=k)
    trail = store.audit_trail(item_id=item_id, limit=100)
    view = item_view(item, highlight="evidence")
    view["reason_segments"] = item_view(item, highlight="reasons")["segments"]
    view["aspect_segments"] = item_view(item, highlight="aspects")["segments"]
    view["scores"] = dict(item.model.get("scores") or {})
    view["review_reason"] = item.model.get("review_reason")
    view["model_urgent"] = (item.model.get("urgency") or {}).get("urgent")
    return {"item": view, "audit": [
        {"at": _iso(e.at), "actor": e.actor, "field": e.field, "before": _show(e.before),
         "after": _show(e.after), "reason": e.reason} for e in trail.items]}


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# -- alerts ---------------------------------------------------------------------------------

def alerts(store: Store, *, period: str = "day", sources: Sequence[str] | None = None,
           brands: Sequence[str] | None = None, k: int,
           alpha: float = alertlib.ALPHA) -> dict[str, Any]:
    """The latest day (or week) against the ``BASELINE_PERIODS`` before it: the tests of
    :func:`frankly.alerts.find_alerts`, and the series they read, for a chart.

    The latest period is the one holding the newest item; while it is still running, its
    volume is what it holds so far, which can only make a volume alert less likely.
    Periods withheld by the use policy are left out of the tests (and said so).
    """
    if period not in BASELINE_PERIODS:
        period = "day"
    n_base = BASELINE_PERIODS[period]
    span = store.day_span()
    base = {"period": period, "baseline_periods": n_base, "alpha": alpha, "k": k,
            "sources": list(sources or ()), "brands": list(brands or ()),
            "methods": {"share": alertlib.Z_TEST, "share_small": alertlib.FISHER,
                        "volume": alertlib.POISSON},
            "min_mentions": alertlib.MIN_MENTIONS}
    if span is None:
        return {**base, "report": None, "series": None, "withheld": 0,
                "note": "no items stored yet"}
    first, last = span
    step = timedelta(days=1 if period == "day" else 7)
    latest = last if period == "day" else last - timedelta(days=last.weekday())
    earliest = first if period == "day" else first - timedelta(days=first.weekday())
    window_start = max(earliest, latest - n_base * step)
    r = Range(window_start, latest + step - timedelta(days=1))
    by_label = {b.period: b for b in _stats(store, r, period, "label", sources, brands,
                                            k).buckets}
    by_urgent = {b.period: b for b in _stats(store, r, period, "urgent", sources, brands,
                                             k).buckets}
    by_aspect = {b.period: b for b in _stats(store, r, period, "aspect", sources, brands,
                                             k).buckets}
    counts: list[alertlib.PeriodCounts] = []
    withheld: list[str] = []
    day = window_start
    while day <= latest:
        label_bucket = by_label.get(day)
        if label_bucket is not None and label_bucket.suppressed:
            withheld.append(day.isoformat())
        else:
            counts.append(_period_counts(day, label_bucket, by_urgent.get(day),
                                         by_aspect.get(day)))
        day += step
    series = {"periods": [c.period for c in counts],
              "negative_share": [c.negative / c.total if c.total else None for c in counts],
              "urgent": [c.urgent for c in counts]}
    if not counts or counts[-1].period != latest.isoformat():
        return {**base, "report": None, "series": series, "withheld": len(withheld),
                "note": "the latest period is withheld by the use policy (too few distinct "
                        "employees or students): widen the filters or use weeks"}
    report = alertlib.find_alerts(counts[-1], counts[:-1], alpha=alpha)
    return {**base, "report": report.to_dict(), "series": series, "withheld": len(withheld),
            "note": report.note}


def _period_counts(day: date, label_bucket: Any, urgent_bucket: Any,
                   aspect_bucket: Any) -> alertlib.PeriodCounts:
    def group_count(bucket: Any, key: Any) -> int:
        if bucket is None or bucket.suppressed:
            return 0
        return sum(g.count for g in bucket.groups if g.key == key)

    aspects_: dict[str, tuple[int, int]] = {}
    if aspect_bucket is not None and not aspect_bucket.suppressed:
        for g in aspect_bucket.groups:
            aspects_[str(g.key)] = ((g.labels or {}).get("negative", 0), g.count)
    total = label_bucket.total if label_bucket is not None else 0
    return alertlib.PeriodCounts(day.isoformat(), total or 0,
                                 group_count(label_bucket, "negative"),
                                 group_count(urgent_bucket, True), aspects_)


def facet_options(facets: dict[str, list[str]],
                  chosen: Iterable[tuple[str, Sequence[str] | None]]) -> dict[str, list[str]]:
    """The choices of each filter: the stored values plus any chosen value not (yet) among
    them, so a filter never silently drops what the user picked."""
    out = {name: list(values) for name, values in facets.items()}
    for name, values in chosen:
        for value in values or ():
            if value not in out.setdefault(name, []):
                out[name].append(value)
    return out
