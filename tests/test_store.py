"""Storage: every test runs against SQLite (a temporary file) and a real PostgreSQL server.

The PostgreSQL server is a throwaway cluster started once per session (see tests/pg.py);
without Debian's postgresql package those runs are skipped with a message naming it.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
from datetime import date, datetime, timedelta, timezone
from hashlib import sha256
from typing import Any, Iterator

import pytest

pytest.importorskip("sqlalchemy")

import sqlalchemy as sa  # noqa: E402

from frankly.errors import (FranklyError, InputError, MissingDependencyError,  # noqa: E402
                            NotFoundError, StorageError)
from frankly.store import (ItemQuery, NewItem, Store, StatsQuery, open_store,  # noqa: E402
                           schema)
from frankly.store import migrations  # noqa: E402
from frankly.store.stats import wilson  # noqa: E402

UTC = timezone.utc
DAY0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    s = open_store(url)
    yield s
    s.close()


def analysis(label: str = "positive", *, urgent: bool | None = False,
             aspects: list[tuple[str, str]] = ()) -> dict[str, Any]:
    scores = {"negative": 0.1, "neutral": 0.1, "positive": 0.8}
    if label == "negative":
        scores = {"negative": 0.8, "neutral": 0.1, "positive": 0.1}
    return {
        "label": label, "scores": scores, "confidence": 0.8, "needs_review": False,
        "review_reason": None, "error": None, "model": "frankly-fast 1.0.0", "language": "en",
        "evidence": [{"start": 0, "end": 4, "text": "good", "weight": 1.2, "source": "model"}],
        "urgency": None if urgent is None else {
            "urgent": urgent, "score": 0.9 if urgent else 0.1, "category": "outage",
            "reasons": [], "review_reason": None},
        "aspects": [{"term": c, "start": 0, "end": 1, "category": c, "label": lab,
                     "scores": {}, "source": "extracted"} for c, lab in aspects],
    }


def item(item_id: str | None, *, label: str = "positive", when: datetime = DAY0,
         source: str | None = "web", brand: str | None = "acme", subject: str | None = None,
         kind: str = "customer", text: str | None = "good service", urgent: bool | None = False,
         aspects: list[tuple[str, str]] = (), metadata: dict[str, Any] | None = None) -> NewItem:
    return NewItem(item_id=item_id, created_at=when, source=source, brand=brand,
                   subject_id=subject, subject_kind=kind, text=text,
                   text_chars=len(text or ""), metadata=metadata or {},
                   analysis=analysis(label, urgent=urgent, aspects=aspects))


def all_rows(store: Store) -> dict[str, list[str]]:
    """Every row of every table, as text: to prove something is gone from all of them."""
    out = {}
    with store.engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            out[table.name] = [json.dumps([str(v) for v in row])
                               for row in conn.execute(sa.select(table))]
    return out


def ids(page: Any) -> list[str]:
    return [i.id for i in page.items]


# -- opening and migrations ----------------------------------------------------------------

def test_migrations_are_recorded_and_rerunning_them_changes_nothing(url: str) -> None:
    with open_store(url) as store:
        assert store.schema_version() == migrations.LATEST
        before = all_rows(store)
        assert store.migrate() == []
        assert all_rows(store) == before
    with open_store(url) as store:  # reopening migrates nothing either
        assert store.schema_version() == migrations.LATEST
        assert all_rows(store) == before


def test_an_empty_database_is_migrated_on_demand(url: str) -> None:
    with open_store(url, migrate=False) as store:
        assert store.schema_version() == 0
        assert store.migrate() == [v for v, _, _ in migrations.MIGRATIONS]
        assert store.count_items() == 0 and store.ping()


def _open_and_count(url: str, out: Any) -> None:
    with open_store(url) as store:
        out.put(store.schema_version())


def test_two_processes_creating_one_database_at_once_both_succeed(url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_open_and_count, args=(url, out)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    assert [out.get(timeout=5), out.get(timeout=5)] == [migrations.LATEST] * 2
    with open_store(url) as store, store.engine.connect() as conn:
        versions = conn.execute(sa.select(schema.schema_migrations.c.version)).scalars().all()
        salts = conn.execute(sa.select(schema.meta)).all()
    assert versions == [v for v, _, _ in migrations.MIGRATIONS] and len(salts) == 1


def test_a_database_newer_than_the_code_is_refused(url: str) -> None:
    with open_store(url) as store:
        with store.engine.begin() as conn:
            conn.execute(sa.insert(schema.schema_migrations).values(
                version=migrations.LATEST + 1, applied_at=datetime.now(UTC)))
    for migrate in (True, False):
        with pytest.raises(StorageError, match="newer|upgrade Frankly") as caught:
            open_store(url, migrate=migrate)
        assert caught.value.code == "storage_error"


def test_sqlite_runs_in_wal_with_a_busy_timeout(tmp_path: Any) -> None:
    with open_store(f"sqlite:///{tmp_path / 'f.db'}") as store:
        with store.engine.connect() as conn:
            pragma = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                      for name in ("journal_mode", "busy_timeout", "synchronous",
                                   "foreign_keys")}
    assert pragma == {"journal_mode": "wal", "busy_timeout": 30000, "synchronous": 2,
                      "foreign_keys": 1}


def test_default_url_is_a_sqlite_file_in_the_frankly_home(tmp_path: Any,
                                                          monkeypatch: Any) -> None:
    monkeypatch.setenv("FRANKLY_HOME", str(tmp_path / "home"))
    with open_store() as store:
        assert store.dialect == "sqlite"
    assert (tmp_path / "home" / "frankly.db").is_file()


def test_bad_urls_and_missing_drivers_say_what_to_do(tmp_path: Any, monkeypatch: Any) -> None:
    with pytest.raises(InputError, match="sqlite or postgresql"):
        open_store("mysql://u@h/db")
    with pytest.raises(InputError, match="not a URL"):
        open_store("not a url")
    with pytest.raises(StorageError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path / 'missing' / 'f.db'}")
    monkeypatch.setitem(__import__("sys").modules, "psycopg", None)
    with pytest.raises(MissingDependencyError, match=r"frankly\[postgres\]"):
        open_store("postgresql://u@localhost/db")


def test_without_sqlalchemy_the_error_names_the_extra() -> None:
    import subprocess
    import sys

    code = ("import sys; sys.modules['sqlalchemy'] = None\n"
            "import frankly\n"
            "try:\n    import frankly.store\n"
            "except frankly.MissingDependencyError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "pip install 'frankly[server]'" in out


def test_new_error_classes_have_stable_codes() -> None:
    assert NotFoundError.code == "not_found" and issubclass(NotFoundError, LookupError)
    assert StorageError.code == "storage_error" and issubclass(StorageError, FranklyError)


# -- ingest ------------------------------------------------------------------------------

def test_ingest_is_idempotent_and_the_stored_item_wins(store: Store) -> None:
    batch = [item("a"), item("b", label="negative"), item("c")]
    assert [o.status for o in store.add_items(batch)] == ["created"] * 3
    again = store.add_items([item("b", label="positive", text="changed"), item("d"),
                             item("d", text="second copy in the same batch")])
    assert [(o.item_id, o.status) for o in again] == [
        ("b", "duplicate"), ("d", "created"), ("d", "duplicate")]
    assert store.count_items() == 4
    b = store.get_item("b")
    assert (b.label, b.text) == ("negative", "good service")
    assert store.get_item("d").text == "good service"
    total = store.stats(StatsQuery()).buckets[0].total
    assert total == 4  # the duplicates were not counted either


def test_items_without_an_id_get_a_random_one(store: Store) -> None:
    outcomes = store.add_items([item(None), item(None)])
    assert len({o.item_id for o in outcomes}) == 2
    assert all(len(o.item_id) == 32 and int(o.item_id, 16) >= 0 for o in outcomes)


def test_a_stored_item_keeps_everything_given(store: Store) -> None:
    when = datetime(2024, 3, 4, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    store.add_items([item("x", when=when, urgent=True, aspects=[("staff", "negative")],
                          metadata={"ticket": 12, "tags": ["a"]}, subject="alice")])
    got = store.get_item("x")
    assert got.created_at == datetime(2024, 3, 5, 4, 30, tzinfo=UTC)
    d = got.to_dict()
    assert d["created_at"] == "2024-03-05T04:30:00Z"
    assert d["urgent"] is True and d["model"]["urgency"]["category"] == "outage"
    assert d["model"]["scores"] == {"negative": 0.1, "neutral": 0.1, "positive": 0.8}
    assert d["aspects"][0]["category"] == "staff" and d["evidence"][0]["text"] == "good"
    assert d["metadata"] == {"ticket": 12, "tags": ["a"]}
    assert "alice" not in json.dumps(d) and "subject_key" not in d
    assert "alice" not in json.dumps(all_rows(store))
    json.dumps(d)  # JSON-ready


def test_a_naive_datetime_is_read_as_utc(store: Store) -> None:
    store.add_items([item("n", when=datetime(2024, 1, 2, 3, 4))])
    assert store.get_item("n").created_at == datetime(2024, 1, 2, 3, 4, tzinfo=UTC)


def test_a_failing_batch_stores_nothing(store: Store, monkeypatch: Any) -> None:
    with pytest.raises(InputError, match="item 1"):
        store.add_items([item("ok"), item("bad", label="furious")])
    assert store.count_items() == 0

    from frankly.store import rollups

    def fail(self: Any, conn: Any) -> None:
        raise sa.exc.OperationalError("roll-up", {}, RuntimeError("disk full"))

    monkeypatch.setattr(rollups.Deltas, "apply", fail)
    with pytest.raises(StorageError, match="disk full"):
        store.add_items([item("p"), item("q", aspects=[("staff", "negative")])])
    monkeypatch.undo()
    assert store.count_items() == 0
    assert all(rows == [] for name, rows in all_rows(store).items()
               if name not in ("meta", "schema_migrations"))


def test_bad_input_is_refused_with_what_to_change(store: Store) -> None:
    for bad, match in ((item("k", kind="robot"), "subject_kind"),
                       (item("x" * 201), "at most 200"),
                       (item("m", metadata={"f": object()}), "JSON"),
                       (item("s", source=""), None)):
        if match is None:  # an empty source is allowed: it is read as 'not given'
            store.add_items([bad])
            continue
        with pytest.raises(InputError, match=match):
            store.add_items([bad])


def test_get_unknown_item_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.get_item("nope")


# -- listing -----------------------------------------------------------------------------

def _mixed(store: Store) -> None:
    store.add_items([
        item("p1", label="positive", source="web", when=DAY0),
        item("n1", label="negative", source="email", urgent=True, when=DAY0 + timedelta(hours=1),
             aspects=[("delivery", "negative")], text="Parcel 100% LATE"),
        item("n2", label="negative", source="web", brand="other", urgent=None,
             when=DAY0 + timedelta(days=1), subject="bob"),
        item("m1", label="mixed", source=None, kind="employee", subject="eve",
             when=DAY0 + timedelta(days=2), aspects=[("staff", "positive")], text=None),
    ])


@pytest.mark.parametrize("query, expected", [
    (ItemQuery(), ["m1", "n2", "n1", "p1"]),
    (ItemQuery(labels=["negative"]), ["n2", "n1"]),
    (ItemQuery(labels=["mixed", "positive"]), ["m1", "p1"]),
    (ItemQuery(urgent=True), ["n1"]),
    (ItemQuery(urgent=False), ["m1", "n2", "p1"]),
    (ItemQuery(sources=["web"]), ["n2", "p1"]),
    (ItemQuery(brands=["other"]), ["n2"]),
    (ItemQuery(aspect_category="delivery"), ["n1"]),
    (ItemQuery(subject_kinds=["employee"]), ["m1"]),
    (ItemQuery(subject_id="bob"), ["n2"]),
    (ItemQuery(subject_id="nobody"), []),
    (ItemQuery(search="late"), ["n1"]),
    (ItemQuery(search="100%"), ["n1"]),
    (ItemQuery(search="1_0"), []),
    (ItemQuery(start=DAY0 + timedelta(hours=1), end=DAY0 + timedelta(days=2)), ["n2", "n1"]),
    (ItemQuery(overridden=True), []),
    (ItemQuery(handled=False, labels=["positive"]), ["p1"]),
])
def test_filters(store: Store, query: ItemQuery, expected: list[str]) -> None:
    _mixed(store)
    assert ids(store.list_items(query)) == expected


def test_cursor_pages_cover_every_row_once_newest_first(store: Store) -> None:
    # Many items share a created_at, so the cursor must break ties by the row.
    rows = [item(f"i{i:03d}", when=DAY0 + timedelta(minutes=i // 4)) for i in range(53)]
    store.add_items(rows)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = store.list_items(ItemQuery(limit=7, cursor=cursor))
        seen.extend(ids(page))
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 8 and sorted(seen) == sorted(r.item_id for r in rows)
    assert len(seen) == len(set(seen))
    times = [store.get_item(i).created_at for i in seen]
    assert times == sorted(times, reverse=True)
    # filters and cursors together
    page = store.list_items(ItemQuery(limit=5, start=DAY0 + timedelta(minutes=10)))
    rest = store.list_items(ItemQuery(limit=500, start=DAY0 + timedelta(minutes=10),
                                      cursor=page.next_cursor))
    assert len(page.items) + len(rest.items) == 53 - 40


@pytest.mark.parametrize("cursor", ["garbage!", "WzEsMl0", "", "bnVsbA", "WyJ4IiwgMV0"])
def test_a_malformed_cursor_is_an_input_error(store: Store, cursor: str) -> None:
    with pytest.raises(InputError, match="cursor"):
        store.list_items(ItemQuery(cursor=cursor))


def urgent_item(item_id: str, score: float | None, when: datetime, *,
                kind: str = "customer") -> NewItem:
    base = item(item_id, when=when, urgent=True, kind=kind)
    urgency = dict(base.analysis["urgency"], score=score)
    return NewItem(**{**base.__dict__, "analysis": {**base.analysis, "urgency": urgency}})


def test_urgency_order_puts_the_most_urgent_first_and_pages_through_ties(
        store: Store) -> None:
    rows = [urgent_item(f"u{i:02d}", score=[0.95, 0.7, 0.7, 0.99, None][i % 5],
                        when=DAY0 + timedelta(minutes=i // 3)) for i in range(23)]
    store.add_items(rows + [item("calm", urgent=False, when=DAY0 + timedelta(days=1))])
    # Scored 0.1 by the model, then marked urgent by a person: it keeps that score.
    store.override("calm", urgent=True, reason="a person says so", actor="t")
    store.override("u03", handled=True, reason="done", actor="t")
    seen: list[str] = []
    cursor = None
    while True:
        page = store.list_items(ItemQuery(urgent=True, handled=False, order="urgency",
                                          limit=4, cursor=cursor))
        seen.extend(ids(page))
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = sorted((r for r in rows if r.item_id != "u03"),
                      key=lambda r: (r.analysis["urgency"]["score"] is None,
                                     -(r.analysis["urgency"]["score"] or 0),
                                     -r.created_at.timestamp(), -int(r.item_id[1:])))
    # The items without a score come last, "calm" (score 0.1) just before them.
    place = next(i for i, r in enumerate(expected) if r.analysis["urgency"]["score"] is None)
    assert seen == [r.item_id for r in expected[:place]] + ["calm"] + \
        [r.item_id for r in expected[place:]]
    with pytest.raises(InputError, match="order"):
        store.list_items(ItemQuery(order="loudest"))
    newest_cursor = store.list_items(ItemQuery(limit=1)).next_cursor
    with pytest.raises(InputError, match="cursor"):
        store.list_items(ItemQuery(order="urgency", cursor=newest_cursor))


def _plan(store: Store, query: ItemQuery) -> str:
    """SQLite's plan for the statement list_items runs for ``query``."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *a: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        store.list_items(query)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    statement, parameters = seen[-1]
    with store.engine.connect() as conn:
        return " ".join(str(row[-1]) for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters))


@pytest.mark.parametrize("handled", [False, True])
def test_the_urgent_queue_reads_its_index_without_sorting(tmp_path: Any,
                                                          handled: bool) -> None:
    with open_store(f"sqlite:///{tmp_path / 'q.db'}") as store:
        store.add_items([urgent_item(f"u{i}", 0.5, DAY0) for i in range(3)])
        plan = _plan(store, ItemQuery(urgent=True, handled=handled, order="urgency",
                                      subject_kinds=["customer", "unknown"], limit=50))
    assert migrations.URGENCY_INDEX in plan and "TEMP B-TREE" not in plan, plan
    assert "handled=?" in plan, plan  # both the open and the handled queue


@pytest.mark.parametrize("query", [
    ItemQuery(urgent=True, start=DAY0, end=DAY0 + timedelta(days=30)),
    ItemQuery(urgent=False, start=DAY0, end=DAY0 + timedelta(days=30)),
    ItemQuery(handled=False, overridden=True, start=DAY0, end=DAY0 + timedelta(days=30)),
])
def test_newest_first_pages_walk_created_at_not_the_urgency_index(tmp_path: Any,
                                                                  query: ItemQuery) -> None:
    # Reading all urgent (or all other) items from ix_items_urgency and sorting them cost
    # 150 ms at 1,000,000 items where walking the time range costs 5.
    with open_store(f"sqlite:///{tmp_path / 'q.db'}") as store:
        store.add_items([urgent_item(f"u{i}", 0.5, DAY0) for i in range(3)])
        plan = _plan(store, query)
    assert "ix_items_created" in plan and "TEMP B-TREE" not in plan, plan


def test_a_version_1_database_is_upgraded_in_place(url: str, monkeypatch: Any) -> None:
    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
        m.setattr(migrations, "LATEST", 1)
        with open_store(url) as old:
            assert old.schema_version() == 1
            old.add_items([urgent_item("kept", 0.8, DAY0)])
    with open_store(url) as store:
        assert store.schema_version() == migrations.LATEST >= 2
        with store.engine.connect() as conn:
            names = {ix["name"] for ix in sa.inspect(conn).get_indexes("items")}
        assert migrations.URGENCY_INDEX in names
        assert ids(store.list_items(ItemQuery(urgent=True, order="urgency"))) == ["kept"]


def test_day_span_facets_keys_by_id_and_secrets(store: Store) -> None:
    assert store.day_span() is None
    assert store.facets() == {"sources": [], "brands": [], "categories": []}
    _mixed(store)
    assert store.day_span() == (DAY0.date(), (DAY0 + timedelta(days=2)).date())
    assert store.facets() == {"sources": ["email", "web"], "brands": ["acme", "other"],
                              "categories": ["delivery", "staff"]}
    key, _ = store.create_key(name="k", scopes=["read"])
    assert store.get_key(key.id) == key and store.get_key("nope") is None
    first = store.secret("sessions")
    assert len(first) == 32 and store.secret("sessions") == first
    assert store.secret("other") != first
    with open_store(store.url if store.dialect == "sqlite" else
                    store.engine.url.render_as_string(hide_password=False)) as again:
        assert again.secret("sessions") == first


@pytest.mark.parametrize("limit", [0, 501, "10", True])
def test_page_size_is_bounded(store: Store, limit: Any) -> None:
    with pytest.raises(InputError, match="limit"):
        store.list_items(ItemQuery(limit=limit))


# -- stats -------------------------------------------------------------------------------

def _stats_data(store: Store) -> list[NewItem]:
    rows = []
    labels = ["positive"] * 8 + ["negative"] * 2  # day 0: 8 of 10 positive
    for i, label in enumerate(labels):
        rows.append(item(f"d0-{i}", label=label, source="web" if i % 2 else "email",
                         urgent=(i == 0), when=DAY0 + timedelta(minutes=i),
                         aspects=[("delivery", "negative" if i < 3 else "positive")]))
    for i in range(5):  # day 1 (same week): 1 of 5 positive
        rows.append(item(f"d1-{i}", label="positive" if i == 0 else "negative",
                         source="web", urgent=None, when=DAY0 + timedelta(days=1, hours=i)))
    for i in range(3):  # next week
        rows.append(item(f"w2-{i}", label="neutral", source="app", brand=None,
                         when=DAY0 + timedelta(days=7 + i)))
    store.add_items(rows)
    return rows


def test_stats_by_label_match_a_hand_count_with_wilson_intervals(store: Store) -> None:
    _stats_data(store)
    result = store.stats(StatsQuery(by="label"))
    assert [b.period for b in result.buckets] == [
        date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 11), date(2024, 3, 12),
        date(2024, 3, 13)]
    first = result.buckets[0]
    assert first.total == 10 and not first.suppressed
    groups = {g.key: g for g in first.groups}
    assert [g.key for g in first.groups] == ["negative", "neutral", "positive", "mixed"]
    assert groups["positive"].count == 8 and groups["positive"].share == 0.8
    # Wilson 95% for 8/10, from the closed form: (0.4902, 0.9433)
    assert (round(groups["positive"].ci_low, 4), round(groups["positive"].ci_high, 4)) == (
        0.4902, 0.9433)
    assert groups["neutral"].count == 0 and groups["neutral"].ci_low == 0.0
    weekly = store.stats(StatsQuery(interval="week", by="label"))
    assert [(b.period, b.total) for b in weekly.buckets] == [
        (date(2024, 3, 4), 15), (date(2024, 3, 11), 3)]
    week1 = {g.key: g for g in weekly.buckets[0].groups}
    assert week1["positive"].count == 9 and week1["negative"].count == 6
    assert (week1["positive"].ci_low, week1["positive"].ci_high) == wilson(9, 15)
    assert sum(g.share for g in weekly.buckets[0].groups) == pytest.approx(1.0)


def test_stats_by_source_urgent_brand_and_filters(store: Store) -> None:
    _stats_data(store)
    by_source = store.stats(StatsQuery(interval="week", by="source")).buckets[0]
    assert {g.key: g.count for g in by_source.groups} == {"web": 10, "email": 5}
    assert by_source.groups[0].key == "web"  # largest first
    urgent = store.stats(StatsQuery(interval="week", by="urgent")).buckets[0]
    assert {g.key: g.count for g in urgent.groups} == {True: 1, False: 9, None: 5}
    brand = store.stats(StatsQuery(interval="week", by="brand")).buckets[1]
    assert [(g.key, g.count) for g in brand.groups] == [(None, 3)]
    only_web = store.stats(StatsQuery(interval="week", sources=["web"]))
    assert [b.total for b in only_web.buckets] == [10]
    ranged = store.stats(StatsQuery(start=date(2024, 3, 5), end=date(2024, 3, 11)))
    assert [(b.period, b.total) for b in ranged.buckets] == [
        (date(2024, 3, 5), 5), (date(2024, 3, 11), 1)]
    as_datetimes = store.stats(StatsQuery(start=DAY0 + timedelta(days=1),
                                          end=DAY0 + timedelta(days=7)))
    assert as_datetimes == ranged
    assert store.stats(StatsQuery()).buckets[0].groups == ()


def test_stats_by_aspect_give_negative_and_positive_shares_of_mentions(store: Store) -> None:
    _stats_data(store)
    bucket = store.stats(StatsQuery(by="aspect")).buckets[0]
    assert bucket.total == 10
    (delivery,) = bucket.groups
    assert (delivery.key, delivery.count, delivery.labels) == (
        "delivery", 10, {"negative": 3, "positive": 7})
    assert delivery.share == 0.3 and (delivery.ci_low, delivery.ci_high) == wilson(3, 10)
    assert delivery.positive_share == 0.7
    assert (delivery.positive_ci_low, delivery.positive_ci_high) == wilson(7, 10)
    assert store.stats(StatsQuery(by="aspect")).buckets[1].groups == ()


@pytest.mark.parametrize("query, match", [
    (StatsQuery(interval="month"), "interval"), (StatsQuery(by="person"), "by"),
    (StatsQuery(min_group=0), "min_group"),
    (StatsQuery(start=date(2024, 2, 1), end=date(2024, 1, 1)), "before start"),
])
def test_bad_stats_queries(store: Store, query: StatsQuery, match: str) -> None:
    with pytest.raises(InputError, match=match):
        store.stats(query)


def test_wilson_interval() -> None:
    assert wilson(0, 0) == (0.0, 0.0)
    low, high = wilson(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)
    assert wilson(10, 10)[1] == 1.0 and wilson(0, 10)[0] == 0.0


def _employees(store: Store, n: int, *, day: datetime = DAY0, source: str = "hr",
               prefix: str = "e", items_each: int = 2) -> None:
    store.add_items([item(f"{prefix}{s}-{j}-{day.date()}-{source}", kind="employee",
                          subject=f"{prefix}{s}", source=source, when=day + timedelta(hours=j))
                     for s in range(n) for j in range(items_each)])


def test_stats_over_too_few_employees_are_suppressed(store: Store) -> None:
    _employees(store, 9)
    store.add_items([item(f"c{i}") for i in range(30)])  # customers on the same day
    (bucket,) = store.stats(StatsQuery(by="label")).buckets
    assert bucket.suppressed and bucket.total is None and bucket.groups == ()
    assert bucket.reason
    (bucket,) = store.stats(StatsQuery(subject_kinds=["customer"], by="label")).buckets
    assert not bucket.suppressed and bucket.total == 30
    (bucket,) = store.stats(StatsQuery(min_group=9)).buckets
    assert not bucket.suppressed and bucket.total == 48
    _employees(store, 1, prefix="late")  # the tenth employee
    (bucket,) = store.stats(StatsQuery(by="label")).buckets
    assert not bucket.suppressed and bucket.total == 50


def test_protected_items_without_a_subject_id_count_as_one_subject(store: Store) -> None:
    store.add_items([item(f"anon{i}", kind="student", subject=None) for i in range(15)])
    (bucket,) = store.stats(StatsQuery()).buckets
    assert bucket.suppressed
    (bucket,) = store.stats(StatsQuery(min_group=1)).buckets
    assert bucket.total == 15


def test_a_small_group_suppresses_the_whole_period(store: Store) -> None:
    # 12 employees write through 'hr', 3 through 'chat': splitting by source would show
    # the three, and hiding only their group would leave them as total minus 'hr'.
    _employees(store, 12, source="hr")
    _employees(store, 3, source="chat", prefix="x")
    (bucket,) = store.stats(StatsQuery(by="label")).buckets
    assert not bucket.suppressed
    (bucket,) = store.stats(StatsQuery(by="source")).buckets
    assert bucket.suppressed
    (bucket,) = store.stats(StatsQuery(by="source", sources=["hr"])).buckets
    assert not bucket.suppressed and bucket.total == 24


def test_weekly_buckets_count_distinct_subjects_across_days(store: Store) -> None:
    for d in range(5):  # the same 4 employees every day of a week: 4 subjects, not 20
        _employees(store, 4, day=DAY0 + timedelta(days=d), items_each=1)
    (bucket,) = store.stats(StatsQuery(interval="week", min_group=5)).buckets
    assert bucket.suppressed
    (bucket,) = store.stats(StatsQuery(interval="week", min_group=4)).buckets
    assert bucket.total == 20


# -- overrides -----------------------------------------------------------------------------

def test_override_moves_counts_keeps_the_model_and_writes_audit(store: Store) -> None:
    store.add_items([item("o1", label="negative", urgent=False), item("o2")])
    changed = store.override("o1", label="positive", urgent=True, reason="sarcasm",
                             actor="ann")
    assert (changed.label, changed.urgent, changed.overridden) == ("positive", True, True)
    assert changed.model["label"] == "negative"
    assert changed.model["urgency"]["urgent"] is False
    (bucket,) = store.stats(StatsQuery(by="label")).buckets
    assert {g.key: g.count for g in bucket.groups}["positive"] == 2
    assert {g.key: g.count for g in bucket.groups}["negative"] == 0
    (bucket,) = store.stats(StatsQuery(by="urgent")).buckets
    assert {g.key: g.count for g in bucket.groups} == {True: 1, False: 1}

    trail = store.audit_trail(item_id="o1")
    assert {(e.field, e.before, e.after, e.actor, e.reason) for e in trail.items} == {
        ("label", "negative", "positive", "ann", "sarcasm"),
        ("urgent", False, True, "ann", "sarcasm")}
    # Setting the value it already has writes nothing; handled is audited too.
    again = store.override("o1", label="positive", handled=True, reason="done", actor="bo")
    assert again.handled and again.label == "positive"
    assert [(e.field, e.after) for e in store.audit_trail(item_id="o1").items][0] == (
        "handled", True)
    assert len(store.audit_trail().items) == 3
    assert ids(store.list_items(ItemQuery(overridden=True))) == ["o1"]
    assert ids(store.list_items(ItemQuery(handled=True))) == ["o1"]
    assert ids(store.list_items(ItemQuery(labels=["positive"]))) == ["o2", "o1"]


def test_override_refuses_bad_values_and_unknown_items(store: Store) -> None:
    store.add_items([item("o")])
    with pytest.raises(InputError, match="label"):
        store.override("o", label="angry", reason="r", actor="a")
    with pytest.raises(InputError, match="at least one"):
        store.override("o", reason="r", actor="a")
    with pytest.raises(InputError, match="reason"):
        store.override("o", label="negative", reason=" ", actor="a")
    with pytest.raises(InputError, match="urgent"):
        store.override("o", urgent="yes", reason="r", actor="a")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        store.override("missing", label="negative", reason="r", actor="a")
    with pytest.raises(NotFoundError):
        store.audit_trail(item_id="missing")
    assert store.audit_trail().items == ()


def test_audit_trail_pages(store: Store) -> None:
    store.add_items([item("a")])
    for i in range(7):
        store.override("a", label=("negative", "positive")[i % 2], reason=f"r{i}", actor="x")
    first = store.audit_trail(limit=3)
    assert [e.reason for e in first.items] == ["r6", "r5", "r4"]
    seen = list(first.items)
    cursor = first.next_cursor
    while cursor:
        page = store.audit_trail(limit=3, cursor=cursor)
        seen.extend(page.items)
        cursor = page.next_cursor
    assert [e.reason for e in seen] == [f"r{i}" for i in range(6, -1, -1)]


# -- subjects: access, erasure, retention ----------------------------------------------

def test_export_gives_every_item_and_override_of_a_subject(store: Store) -> None:
    store.add_items([item("a1", subject="alice", text="alice's first"),
                     item("a2", subject="alice", kind="employee"),
                     item("b1", subject="bob")])
    store.override("a1", label="negative", reason="typo", actor="x")
    store.override("b1", label="negative", reason="typo", actor="x")
    assert store.subject_kind_of("alice") == {"customer", "employee"}
    assert store.subject_kind_of("nobody") == set()
    export = store.export_subject("alice")
    assert [i["id"] for i in export["items"]] == ["a1", "a2"]
    assert [(o["item_id"], o["field"]) for o in export["overrides"]] == [("a1", "label")]
    assert export["subject_kinds"] == ["customer", "employee"]
    json.dumps(export)
    assert store.export_subject("nobody")["items"] == []


def test_erasure_leaves_nothing_of_the_subject_in_any_table(store: Store) -> None:
    store.add_items([item("a1", subject="alice", text="alice writes", aspects=[("staff",
                                                                                "negative")]),
                     item("a2", subject="alice", kind="employee", label="negative"),
                     item("b1", subject="bob", kind="employee")])
    store.override("a1", label="neutral", reason="checked", actor="x")
    key = store.subject_key("alice")
    before = json.dumps(all_rows(store))
    assert key in before and "a1" in before
    assert store.erase_subject("alice") == 2
    after = all_rows(store)
    text = json.dumps(after)
    for trace in (key, '"a1"', '"a2"', "alice writes"):
        assert trace not in text
    assert store.count_items() == 1 and store.export_subject("alice")["items"] == []
    (bucket,) = store.stats(StatsQuery(by="label", min_group=1)).buckets
    assert bucket.total == 1 and {g.key: g.count for g in bucket.groups}["positive"] == 1
    assert store.stats(StatsQuery(by="aspect", min_group=1)).buckets[0].groups == ()
    assert sum(len(after[t.name]) for t in (schema.overrides, schema.item_aspects)) == 0
    assert store.erase_subject("alice") == 0


def test_retention_purge_keeps_counts_and_drops_subject_keys(store: Store) -> None:
    old, new = DAY0, DAY0 + timedelta(days=40)
    _employees(store, 3, day=old, prefix="few")  # too few: must stay hidden after purge
    _employees(store, 12, day=old + timedelta(days=1), prefix="many")
    store.add_items([item("c-old", when=old, aspects=[("staff", "negative")]),
                     item("c-new", when=new, subject="carl")])
    store.override("c-old", label="negative", reason="r", actor="x")
    before = store.stats(StatsQuery(by="label", min_group=1))
    hidden = store.stats(StatsQuery(by="label"))
    cutoff = new - timedelta(days=30, hours=-5)  # mid-day: whole days before it go
    assert store.purge_older_than(cutoff) == 3 * 2 + 12 * 2 + 1
    assert [i.id for i in store.list_items(ItemQuery()).items] == ["c-new"]
    rows = all_rows(store)
    assert rows["overrides"] == [] and rows["item_aspects"] == []
    assert rows["rollup_subjects"] == []  # no subject keys of purged days remain
    assert store.stats(StatsQuery(by="label")) == hidden  # k-anonymity still holds
    after = store.stats(StatsQuery(by="label", min_group=1))
    assert after == before  # the aggregates stay
    assert store.stats(StatsQuery(by="aspect", min_group=1)).buckets[0].groups[0].count == 1
    assert store.purge_older_than(cutoff) == 0
    assert store.stats(StatsQuery(by="label")) == hidden
    # A late item for a purged day is purged in turn; the day's sealed count keeps the
    # larger of the two counts (never their sum, which could overstate the subjects).
    _employees(store, 2, day=old, prefix="late")
    assert store.purge_older_than(cutoff) == 4
    assert store.stats(StatsQuery(by="label", min_group=3)).buckets[0].suppressed is False
    assert store.stats(StatsQuery(by="label", min_group=4)).buckets[0].suppressed is True


# -- API keys --------------------------------------------------------------------------

def test_keys_are_stored_hashed_and_found_while_active(store: Store) -> None:
    key, secret = store.create_key(name="ci", scopes=["write", "read"], rate_limit=5)
    assert secret.startswith("fk_") and len(secret) > 40
    assert key.scopes == ("read", "write") and key.rate_limit == 5.0 and key.active
    assert secret.startswith(key.prefix) and len(key.prefix) < 12
    rows = json.dumps(all_rows(store))
    assert secret not in rows and sha256(secret.encode()).hexdigest() in rows
    assert store.find_key(secret) == key
    assert store.find_key(secret + "x") is None and store.find_key("") is None
    assert "secret" not in json.dumps(key.to_dict()).lower()
    store.touch_key(key.id)
    (listed,) = store.list_keys()
    assert listed.last_used_at is not None
    revoked = store.revoke_key(key.id)
    assert revoked.revoked_at is not None and not revoked.active
    assert store.find_key(secret) is None
    assert store.revoke_key(key.id).revoked_at == revoked.revoked_at  # stays as it was
    with pytest.raises(NotFoundError):
        store.revoke_key("nope")


@pytest.mark.parametrize("scopes, rate", [([], None), (["root"], None), (["read"], 0),
                                          (["read"], "fast")])
def test_bad_key_settings(store: Store, scopes: list[str], rate: Any) -> None:
    with pytest.raises(InputError):
        store.create_key(name="k", scopes=scopes, rate_limit=rate)


# -- concurrency -----------------------------------------------------------------------

def test_two_threads_sending_the_same_ids_store_each_once(store: Store) -> None:
    batch = [item(f"same-{i}") for i in range(50)]
    results: list[list[str]] = []
    barrier = threading.Barrier(2)

    def send() -> None:
        barrier.wait()
        results.append([o.status for o in store.add_items(batch)])

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count_items() == 50
    assert sorted(results) == [["created"] * 50, ["duplicate"] * 50]
    assert store.stats(StatsQuery()).buckets[0].total == 50


def _writer(url: str, name: str, batches: int, size: int) -> None:
    with open_store(url) as store:
        for b in range(batches):
            store.add_items([item(f"{name}-{b}-{i}", source=name) for i in range(size)])


def test_two_processes_writing_one_sqlite_file_lose_nothing(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    open_store(url).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(url, name, 20, 25)) for name in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    with open_store(url) as store:
        assert store.count_items() == 1000
        (bucket,) = store.stats(StatsQuery(by="source")).buckets
        assert {g.key: g.count for g in bucket.groups} == {"a": 500, "b": 500}


def _ingest_until_killed(url: str, acks: str) -> None:
    with open_store(url) as store, open(acks, "a") as out:
        for b in range(10_000):
            store.add_items([item(f"k-{b}-{i}", aspects=[("staff", "negative")])
                             for i in range(40)])
            out.write(f"{b}\n")  # acknowledged: the batch's transaction has committed
            out.flush()


def test_a_writer_killed_mid_ingest_leaves_whole_batches_only(url: str, tmp_path: Any) -> None:
    import os
    import signal
    import time

    open_store(url).close()
    acks = tmp_path / "acks.txt"
    acks.touch()
    proc = multiprocessing.get_context("spawn").Process(target=_ingest_until_killed,
                                                        args=(url, str(acks)))
    proc.start()
    deadline = time.monotonic() + 120
    while len(acks.read_text().split()) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    acknowledged = {int(b) for b in acks.read_text().split()}
    assert len(acknowledged) >= 5
    with open_store(url) as store:
        stored: dict[int, int] = {}
        cursor = None
        while True:
            page = store.list_items(ItemQuery(limit=500, cursor=cursor))
            for i in page.items:
                batch = int(i.id.split("-")[1])
                stored[batch] = stored.get(batch, 0) + 1
            cursor = page.next_cursor
            if cursor is None:
                break
        assert acknowledged <= set(stored)  # every acknowledged batch is there...
        assert set(stored.values()) == {40}  # ...and no batch is there in part
        n = store.count_items()
        assert n == 40 * len(stored)
        assert store.stats(StatsQuery(min_group=1)).buckets[0].total == n
        aspects = store.stats(StatsQuery(by="aspect", min_group=1)).buckets[0].groups[0]
        assert aspects.count == n


def test_a_value_the_database_cannot_hold_is_the_callers_error(store: Store) -> None:
    # PostgreSQL refuses NUL characters in text; SQLite takes them. Either way the caller
    # hears it is their value (InputError, 422 in the service), never an outage.
    for call in (lambda: store.list_items(ItemQuery(search="a\x00b")),
                 lambda: store.list_items(ItemQuery(sources=["web\x00"])),
                 lambda: store.get_item("id\x00")):
        try:
            call()
        except (InputError, NotFoundError):
            pass
