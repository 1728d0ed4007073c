"""The store: analysed feedback, overrides, roll-ups and API keys in SQLite or PostgreSQL.

One SQLAlchemy Core code path serves both databases. Every write is one short
transaction that also updates the daily roll-ups, so aggregates never drift from the items.
SQLite runs in WAL mode with a 30 s busy timeout; its writes open with ``BEGIN IMMEDIATE``
so two writers queue for the lock instead of failing when a read turns into a write.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from hashlib import sha256
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import sqlalchemy as sa

from frankly.config import default_database_url
from frankly.errors import InputError, MissingDependencyError, NotFoundError, StorageError
from frankly.policy import SUBJECT_KINDS
from frankly.result import DOCUMENT_LABELS, LABELS
from frankly.store import keys as keylib
from frankly.store import migrations, rollups, schema, stats
from frankly.store.records import (ITEM_ORDERS, MAX_PAGE, ApiKey, AuditEntry, IngestOutcome,
                                   ItemQuery, NewItem, Page, Stats, StatsQuery, StoredItem,
                                   as_utc)

# SQLite waits this long for another writer's lock before giving up: a 500-item ingest
# commits in tens of milliseconds, so 30 s only runs out when something is badly stuck.
BUSY_TIMEOUT_MS = 30_000
WAL_RETRY_SECONDS = 0.02  # between tries to switch a new file to WAL (see _wal)
# A key's last_used_at is written at most this often: a write per request would put an
# fsync on every read; to the minute is what an operator looks at.
TOUCH_EVERY_S = 60.0
# add_items retries a batch that lost a race on a new item id (PostgreSQL, two clients
# sending the same id at once); the retry sees the other's row and reports a duplicate.
INSERT_ATTEMPTS = 3


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open (and by default create or upgrade) the store at ``url``.

    ``url`` is a SQLAlchemy URL: ``sqlite:///path/frankly.db`` or
    ``postgresql+psycopg://user:pass@host/db`` (``postgresql://`` is read as psycopg).
    None opens the default SQLite file in the Frankly home folder, creating the folder.
    """
    if url is None:
        url = default_database_url()
        path = sa.engine.make_url(url).database
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    store = Store(_engine(url))
    try:
        if migrate:
            store.migrate()
        else:
            store.schema_version()  # refuses a newer database now rather than later
    except BaseException:
        store.close()
        raise
    return store


def _engine(url: str) -> sa.Engine:
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise InputError(f"database URL {url!r} is not a URL like sqlite:///path/frankly.db "
                         f"or postgresql+psycopg://user@host/db") from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        # Frankly ships psycopg 3 (the 'postgres' extra), not SQLAlchemy's psycopg2 default.
        parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise MissingDependencyError(
                "PostgreSQL storage needs psycopg: pip install 'frankly[postgres]'") from None
        return sa.create_engine(parsed, hide_parameters=True, pool_pre_ping=True)
    if backend != "sqlite":
        raise InputError(f"database URL {parsed.render_as_string(hide_password=True)!r}: "
                         f"Frankly stores to sqlite or postgresql, not {backend}")
    if parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).expanduser().parent
        if not folder.is_dir():
            raise StorageError(f"the folder for the SQLite database, {folder}, does not exist")
    # hide_parameters: SQL errors and logs must never carry feedback text.
    engine = sa.create_engine(parsed, hide_parameters=True)
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the sqlite3 module: it would otherwise open transactions
    # lazily (and as DEFERRED), which we cannot make IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _wal(cursor)  # readers never wait for the writer
    cursor.execute("PRAGMA synchronous = FULL")  # an acknowledged ingest survives power loss
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _wal(cursor: Any) -> None:
    """Switch to WAL, waiting like busy_timeout would: on a new file another process may
    hold the lock (creating or migrating it), and SQLite answers this pragma "database is
    locked" at once instead of calling the busy handler (two processes opening one new
    database at once failed now and then)."""
    import sqlite3

    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(WAL_RETRY_SECONDS)


def _sqlite_begin(conn: sa.Connection) -> None:
    # A write transaction takes the write lock up front (waiting up to busy_timeout); a
    # deferred one that reads first and writes later can fail at once with SQLITE_BUSY.
    write = conn.get_execution_options().get("frankly_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def _db_errors() -> Iterator[None]:
    """Database failures as StorageError, without parameters (they may hold feedback)."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        detail = f"{type(orig).__name__}: {orig}" if orig is not None else type(exc).__name__
        if isinstance(exc, sa.exc.DataError):
            # A value this database cannot hold (PostgreSQL refuses NUL characters in text):
            # the caller's to change, not an outage.
            raise InputError(f"a value the database cannot store ({detail}); remove it "
                             f"and retry") from orig
        raise StorageError(f"database error ({detail})") from orig


def _dumps(value: Any, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} must be JSON-serialisable: {exc}") from None


def _text(value: Any, what: str, limit: int, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise InputError(f"{what} must be a non-empty string, got {value!r}")
    if len(value) > limit:
        raise InputError(f"{what} must be at most {limit} characters, got {len(value)}")
    return value


def _check_kind(value: Any) -> str:
    kind = "unknown" if value is None else value
    if kind not in SUBJECT_KINDS:
        raise InputError(f"subject_kind must be one of {', '.join(SUBJECT_KINDS)}, "
                         f"got {value!r}")
    return kind


def _check_labels(values: Sequence[str] | None, what: str) -> None:
    if values is None:
        return
    if isinstance(values, str):
        raise InputError(f"{what} must be a list of labels, got the string {values!r}")
    bad = [v for v in values if v not in DOCUMENT_LABELS]
    if bad:
        raise InputError(f"{what}: {bad[0]!r} is not a label; use "
                         f"{', '.join(DOCUMENT_LABELS)}")


def _encode_cursor(created_at: datetime, pk: int) -> str:
    raw = json.dumps([created_at.astimezone(timezone.utc).isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, pk = json.loads(raw)
        if not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError
        return as_utc(datetime.fromisoformat(created)), pk
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InputError("cursor is not one this server gave out: pass the next_cursor of "
                         "the previous page, or leave it out to start again") from None


def _encode_urgency_cursor(score: float | None, created_at: datetime, pk: int) -> str:
    raw = json.dumps(["u", score, created_at.astimezone(timezone.utc).isoformat(), pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_urgency_cursor(cursor: str) -> tuple[float | None, datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        tag, score, created, pk = json.loads(raw)
        if (tag != "u" or not isinstance(pk, int) or isinstance(pk, bool)
                or not (score is None or isinstance(score, (int, float)))
                or isinstance(score, bool)):
            raise ValueError
        return (None if score is None else float(score),
                as_utc(datetime.fromisoformat(created)), pk)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InputError("cursor is not one this server gave out for order=urgency: pass the "
                         "next_cursor of the previous page, or leave it out to start "
                         "again") from None


def _check_limit(limit: Any) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise InputError(f"limit must be a whole number from 1 to {MAX_PAGE}, got {limit!r}")
    return limit


class Store:
    """Analysed feedback and everything about it; see :func:`open_store`.

    Thread-safe (a connection pool underneath); one Store per process is enough.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._write_engine = engine.execution_options(frankly_write=True)
        self._salt: bytes | None = None
        self._touched: dict[str, float] = {}
        self._lock = threading.Lock()

    # -- plumbing ------------------------------------------------------------------------

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The database URL with any password hidden (safe to print)."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with _db_errors(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with _db_errors(), self._write_engine.begin() as conn:
            yield conn

    def migrate(self) -> list[int]:
        """Apply missing schema migrations; the versions applied (empty when up to date)."""
        with _db_errors():
            return migrations.apply(self._write_engine.begin)

    def schema_version(self) -> int:
        """The database's schema version; StorageError if newer than this code knows."""
        with self._read() as conn:
            version = migrations.current_version(conn)
        migrations.check_not_newer(version)
        return version

    def ping(self) -> bool:
        """True when the database answers; StorageError otherwise."""
        with self._read() as conn:
            conn.execute(sa.select(1))
        return True

    def count_items(self) -> int:
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(schema.items))
                       .scalar_one())

    def subject_key(self, subject_id: str) -> str:
        """The keyed hash stored instead of ``subject_id`` (HMAC-SHA256, per-database key)."""
        if self._salt is None:
            with self._read() as conn:
                value = conn.execute(sa.select(schema.meta.c.value).where(
                    schema.meta.c.key == migrations.SALT_KEY)).scalar()
            if value is None:
                raise StorageError("the database has no subject salt: open it with "
                                   "migrate=True first")
            self._salt = bytes.fromhex(value)
        return hmac.new(self._salt, subject_id.encode("utf-8"), sha256).hexdigest()

    # -- items -----------------------------------------------------------------------------

    def add_items(self, items: Iterable[NewItem]) -> list[IngestOutcome]:
        """Store ``items`` in one transaction (all or nothing); an outcome per item, in order.

        An ``item_id`` already stored (or repeated in the batch) is a ``"duplicate"``: the
        stored item is kept unchanged. Items without an id get a random one.
        """
        now = datetime.now(timezone.utc)
        prepared = [self._prepare(item, i, now) for i, item in enumerate(items)]
        if not prepared:
            return []
        with _db_errors():
            for attempt in range(INSERT_ATTEMPTS):
                try:
                    with self._write_engine.begin() as conn:
                        return self._insert(conn, prepared)
                except sa.exc.IntegrityError:
                    if attempt == INSERT_ATTEMPTS - 1:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _prepare(self, item: NewItem, index: int,
                 now: datetime) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        where = f"item {index}"
        if not isinstance(item, NewItem):
            raise InputError(f"{where} must be a NewItem, got {type(item).__name__}")
        item_id = item.item_id if item.item_id is not None else uuid.uuid4().hex
        _text(item_id, f"{where}: item_id", schema.ID_LEN, required=True)
        if not isinstance(item.created_at, datetime):
            raise InputError(f"{where}: created_at must be a datetime, got {item.created_at!r}")
        if not isinstance(item.text_chars, int) or item.text_chars < 0:
            raise InputError(f"{where}: text_chars must be a whole number, "
                             f"got {item.text_chars!r}")
        if item.text is not None and not isinstance(item.text, str):
            raise InputError(f"{where}: text must be a string or None")
        a = item.analysis
        label = a.get("label")
        if label not in DOCUMENT_LABELS:
            raise InputError(f"{where}: analysis label must be one of "
                             f"{', '.join(DOCUMENT_LABELS)}, got {label!r}")
        try:
            scores = {name: float(a["scores"][name]) for name in LABELS}
            confidence = float(a.get("confidence", max(scores.values())))
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{where}: analysis scores must give negative, neutral and "
                             f"positive as numbers") from None
        urgency = a.get("urgency") or None
        model_urgent = None if urgency is None else bool(urgency.get("urgent"))
        aspects = list(a.get("aspects") or [])
        pairs = []
        for aspect in aspects:
            category, alabel = aspect.get("category") or "other", aspect.get("label")
            _text(category, f"{where}: aspect category", schema.CATEGORY_LEN, required=True)
            if alabel not in DOCUMENT_LABELS:
                raise InputError(f"{where}: aspect label must be a label, got {alabel!r}")
            pairs.append((category, alabel))
        subject_id = item.subject_id
        if subject_id is not None:
            _text(subject_id, f"{where}: subject_id", 1000, required=True)
        row = {
            "item_id": item_id,
            "created_at": as_utc(item.created_at),
            "ingested_at": now,
            "source": _text(item.source, f"{where}: source", schema.NAME_LEN),
            "brand": _text(item.brand, f"{where}: brand", schema.NAME_LEN),
            "subject_key": None if subject_id is None else self.subject_key(subject_id),
            "subject_kind": _check_kind(item.subject_kind),
            "text": item.text,
            "text_chars": item.text_chars,
            "language": a.get("language"),
            "model": a.get("model"),
            "model_label": label,
            "score_negative": scores["negative"],
            "score_neutral": scores["neutral"],
            "score_positive": scores["positive"],
            "confidence": confidence,
            "needs_review": bool(a.get("needs_review", False)),
            "review_reason": a.get("review_reason"),
            "model_urgent": model_urgent,
            "urgency_score": None if urgency is None else urgency.get("score"),
            "urgency_category": None if urgency is None else urgency.get("category"),
            "urgency_reasons": None if urgency is None else _dumps(
                urgency.get("reasons") or [], f"{where}: urgency reasons"),
            "urgency_review_reason": None if urgency is None else urgency.get("review_reason"),
            "evidence": _dumps(list(a.get("evidence") or []), f"{where}: evidence"),
            "aspects": _dumps(aspects, f"{where}: aspects"),
            "metadata": _dumps(dict(item.metadata or {}), f"{where}: metadata"),
            "label": label,
            "urgent": model_urgent,
            "overridden": False,
            "handled": False,
        }
        return row, pairs

    def _insert(self, conn: sa.Connection,
                prepared: list[tuple[dict[str, Any], list[tuple[str, str]]]]
                ) -> list[IngestOutcome]:
        items = schema.items
        ids = list({row["item_id"] for row, _ in prepared})
        existing = set(conn.scalars(sa.select(items.c.item_id).where(items.c.item_id.in_(ids))))
        outcomes: list[IngestOutcome] = []
        fresh: list[tuple[dict[str, Any], list[tuple[str, str]]]] = []
        for row, pairs in prepared:
            if row["item_id"] in existing:
                outcomes.append(IngestOutcome(row["item_id"], "duplicate"))
                continue
            existing.add(row["item_id"])
            outcomes.append(IngestOutcome(row["item_id"], "created"))
            fresh.append((row, pairs))
        if not fresh:
            return outcomes
        result = conn.execute(sa.insert(items).returning(items.c.id, items.c.item_id),
                              [row for row, _ in fresh])
        pks = {item_id: pk for pk, item_id in result}
        deltas = rollups.Deltas()
        aspect_rows = []
        for row, pairs in fresh:
            pk = pks[row["item_id"]]
            aspect_rows.extend({"item_pk": pk, "position": i, "category": c, "label": lab}
                               for i, (c, lab) in enumerate(pairs))
            deltas.item(row, pairs)
        if aspect_rows:
            conn.execute(sa.insert(schema.item_aspects), aspect_rows)
        deltas.apply(conn)
        return outcomes

    def get_item(self, item_id: str) -> StoredItem:
        """The stored item; NotFoundError when there is none with that id."""
        with self._read() as conn:
            row = conn.execute(sa.select(schema.items)
                               .where(schema.items.c.item_id == item_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no stored item has id {item_id!r}")
        return _stored(row)

    def list_items(self, query: ItemQuery) -> Page[StoredItem]:
        """Items matching ``query``, newest first, one page at a time."""
        limit = _check_limit(query.limit)
        if query.order not in ITEM_ORDERS:
            raise InputError(f"order must be one of {', '.join(ITEM_ORDERS)}, "
                             f"got {query.order!r}")
        _check_labels(query.labels, "labels")
        if query.subject_kinds is not None:
            for kind in query.subject_kinds:
                _check_kind(kind)
        t = schema.items
        where: list[Any] = []
        if query.start is not None:
            where.append(t.c.created_at >= as_utc(query.start))
        if query.end is not None:
            where.append(t.c.created_at < as_utc(query.end))
        if query.labels is not None:
            where.append(t.c.label.in_(list(query.labels)))
        urgency = query.order == "urgency"
        for column, value in (("urgent", query.urgent), ("overridden", query.overridden),
                              ("handled", query.handled)):
            if value is None:
                continue
            # Written so that ix_items_urgency serves the urgent queue (order="urgency")
            # and nothing else: a newest-first page walks ix_items_created through its
            # time range, which at 1,000,000 items beats reading every urgent item (or all
            # the others) from ix_items_urgency and sorting them (5 ms against 150, SQLite).
            # For the queue, "urgent = true" and "handled = true/false" (PostgreSQL can use
            # the index for "=" but not "IS true"; handled is never NULL); otherwise
            # expressions no index serves, with the same rows: True matches true only,
            # False matches false and NULL.
            if urgency and ((column == "urgent" and value) or column == "handled"):
                where.append(t.c[column] == (sa.true() if value else sa.false()))
            elif value:
                where.append(sa.func.coalesce(t.c[column], sa.false()) == sa.true())
            else:
                where.append(t.c[column].is_not(True))
        for column, values in (("source", query.sources), ("brand", query.brands),
                               ("subject_kind", query.subject_kinds)):
            if values is not None:
                where.append(t.c[column].in_(list(values)))
        if query.aspect_category is not None:
            a = schema.item_aspects
            where.append(sa.exists().where(a.c.item_pk == t.c.id,
                                           a.c.category == query.aspect_category))
        if query.subject_id is not None:
            where.append(t.c.subject_key == self.subject_key(query.subject_id))
        if query.search:
            # SQLite's LIKE ignores ASCII case, and its lower() folds ASCII only, so plain
            # LIKE finds the same rows as lower() LIKE lower() without a lower() per row:
            # a quarter less time for a search that reads a year of texts.
            where.append(t.c.text.contains(query.search, autoescape=True)
                         if self.dialect == "sqlite"
                         else t.c.text.icontains(query.search, autoescape=True))
        if query.cursor is not None:
            if urgency:
                where.append(_after_urgency(*_decode_urgency_cursor(query.cursor)))
            else:
                created, pk = _decode_cursor(query.cursor)
                where.append(_after(created, pk))
        order: list[Any] = [t.c.created_at.desc(), t.c.id.desc()]
        if urgency:
            # SQLite sorts NULLs first, so its DESC is already NULLS LAST (and it then reads
            # ix_items_urgency backwards without a sort); PostgreSQL must be told.
            score = t.c.urgency_score.desc()
            order.insert(0, score.nulls_last() if self.dialect == "postgresql" else score)
        stmt = sa.select(t).where(*where).order_by(*order).limit(limit + 1)
        with self._read() as conn:
            rows = conn.execute(stmt).mappings().all()
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = None
        if more:
            last = rows[-1]
            cursor = (_encode_urgency_cursor(last["urgency_score"], last["created_at"],
                                             last["id"]) if urgency
                      else _encode_cursor(last["created_at"], last["id"]))
        return Page(items=tuple(_stored(r) for r in rows), next_cursor=cursor)

    def day_span(self) -> tuple[date, date] | None:
        """The first and the last day (UTC) that hold items, from the roll-ups; None for an
        empty store. Cheap at any size (the roll-ups are kept in day order)."""
        c = schema.rollup_counts
        with self._read() as conn:
            first, last = conn.execute(sa.select(
                sa.select(sa.func.min(c.c.day)).scalar_subquery(),
                sa.select(sa.func.max(c.c.day)).scalar_subquery())).one()
        if first is None or last is None:
            return None
        return stats._as_date(first), stats._as_date(last)

    def facets(self) -> dict[str, list[str]]:
        """The sources, brands and aspect categories that stored items name, sorted (from
        the roll-ups; items without a source or brand are left out)."""
        c, a = schema.rollup_counts, schema.rollup_aspects
        with self._read() as conn:
            sources = conn.scalars(sa.select(c.c.source).distinct()).all()
            brands = conn.scalars(sa.select(c.c.brand).distinct()).all()
            categories = conn.scalars(sa.select(a.c.category).distinct()).all()
        return {"sources": sorted(v for v in sources if v),
                "brands": sorted(v for v in brands if v),
                "categories": sorted(v for v in categories if v)}

    def secret(self, name: str) -> bytes:
        """A random 32-byte secret kept in this database under ``name``, made on first use
        (the same for every process that opens the database, e.g. the key that signs
        dashboard sessions). Never logged or shown."""
        _text(name, "name", 80, required=True)
        key = f"secret:{name}"
        m = schema.meta
        with self._read() as conn:
            value = conn.execute(sa.select(m.c.value).where(m.c.key == key)).scalar()
        if value is None:
            with self._write() as conn:
                conn.execute(rollups._insert(conn, m).values(
                    key=key, value=secrets.token_hex(32)).on_conflict_do_nothing())
                value = conn.execute(sa.select(m.c.value).where(m.c.key == key)).scalar_one()
        return bytes.fromhex(value)

    def stats(self, query: StatsQuery) -> Stats:
        """Counts and shares per day or week from the roll-ups (see :class:`StatsQuery`)."""
        with self._read() as conn:
            return stats.compute(conn, query)

    # -- overrides -----------------------------------------------------------------------

    def override(self, item_id: str, *, label: str | None = None, urgent: bool | None = None,
                 handled: bool | None = None, reason: str, actor: str) -> StoredItem:
        """A person corrects an item; one audit row per field that changes.

        The model's output is kept; ``label``/``urgent`` become the effective values and
        the roll-ups move the item from its old values to the new ones.
        """
        if label is None and urgent is None and handled is None:
            raise InputError("give at least one of label, urgent or handled to change")
        if label is not None:
            _check_labels([label], "label")
        for name, value in (("urgent", urgent), ("handled", handled)):
            if value is not None and not isinstance(value, bool):
                raise InputError(f"{name} must be true or false, got {value!r}")
        _text(reason, "reason", 2000, required=True)
        _text(actor, "actor", schema.NAME_LEN, required=True)
        t = schema.items
        now = datetime.now(timezone.utc)
        with self._write() as conn:
            row = conn.execute(sa.select(t).where(t.c.item_id == item_id)
                               .with_for_update()).mappings().first()
            if row is None:
                raise NotFoundError(f"no stored item has id {item_id!r}")
            wanted = {"label": label, "urgent": urgent, "handled": handled}
            changes = {name: value for name, value in wanted.items()
                       if value is not None and row[name] != value}
            if changes:
                conn.execute(sa.insert(schema.overrides), [
                    {"item_pk": row["id"], "item_id": item_id, "actor": actor, "at": now,
                     "field": name, "before": _dumps(row[name], name),
                     "after": _dumps(value, name), "reason": reason}
                    for name, value in changes.items()])
                values: dict[str, Any] = dict(changes)
                if "label" in changes or "urgent" in changes:
                    values["overridden"] = True
                    deltas = rollups.Deltas()
                    deltas.item(row, (), sign=-1)
                    deltas.item({**row, **changes}, (), sign=1)
                    deltas.apply(conn)
                conn.execute(sa.update(t).where(t.c.id == row["id"]).values(values))
            row = conn.execute(sa.select(t).where(t.c.id == row["id"])).mappings().one()
        return _stored(row)

    def audit_trail(self, *, item_id: str | None = None, cursor: str | None = None,
                    limit: int = 100) -> Page[AuditEntry]:
        """Overrides, newest first (all, or one item's; NotFoundError for an unknown item)."""
        limit = _check_limit(limit)
        o = schema.overrides
        where: list[Any] = []
        with self._read() as conn:
            if item_id is not None:
                found = conn.execute(sa.select(schema.items.c.id)
                                     .where(schema.items.c.item_id == item_id)).first()
                if found is None:
                    raise NotFoundError(f"no stored item has id {item_id!r}")
                where.append(o.c.item_pk == found[0])
            if cursor is not None:
                at, pk = _decode_cursor(cursor)
                where.append(sa.or_(o.c.at < at, sa.and_(o.c.at == at, o.c.id < pk)))
            rows = conn.execute(sa.select(o).where(*where).order_by(o.c.at.desc(), o.c.id.desc())
                                .limit(limit + 1)).mappings().all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(items=tuple(_audit(r) for r in rows),
                    next_cursor=_encode_cursor(rows[-1]["at"], rows[-1]["id"]) if more else None)

    # -- subjects and retention ----------------------------------------------------------

    def subject_kind_of(self, subject_id: str) -> set[str]:
        """The subject kinds the items about ``subject_id`` declare (empty: none stored)."""
        key = self.subject_key(subject_id)
        with self._read() as conn:
            return set(conn.scalars(sa.select(schema.items.c.subject_kind).distinct()
                                    .where(schema.items.c.subject_key == key)))

    def export_subject(self, subject_id: str) -> dict[str, Any]:
        """Everything held about ``subject_id``: its items and every override of them."""
        key = self.subject_key(subject_id)
        t, o = schema.items, schema.overrides
        with self._read() as conn:
            rows = conn.execute(sa.select(t).where(t.c.subject_key == key)
                                .order_by(t.c.created_at, t.c.id)).mappings().all()
            audit = conn.execute(
                sa.select(o).where(o.c.item_pk.in_(sa.select(t.c.id)
                                                   .where(t.c.subject_key == key)))
                .order_by(o.c.at, o.c.id)).mappings().all()
        return {"subject_id": subject_id,
                "subject_kinds": sorted({r["subject_kind"] for r in rows}),
                "items": [_stored(r).to_dict() for r in rows],
                "overrides": [_audit(r).to_dict() for r in audit]}

    def erase_subject(self, subject_id: str) -> int:
        """Delete everything about ``subject_id`` (items, aspects, overrides, subject
        roll-ups) and take its items out of the count roll-ups; the number of items erased."""
        key = self.subject_key(subject_id)
        t = schema.items
        with self._write() as conn:
            return self._delete_items(conn, t.c.subject_key == key, decrement=True,
                                      subject_key=key)

    def purge_older_than(self, cutoff: datetime) -> int:
        """Delete the items created before the start of ``cutoff``'s UTC day (retention).

        Whole days go, so an item and its subject keys leave together, one day per
        transaction (a first purge of years of data never holds the write lock for long).
        The count roll-ups stay (aggregates are not personal data); the subject keys of
        those days are replaced by their number of distinct subjects, which still guards
        k-anonymity. Returns the number of items deleted.
        """
        if not isinstance(cutoff, datetime):
            raise InputError(f"cutoff must be a datetime, got {cutoff!r}")
        day = rollups.day_of(as_utc(cutoff))
        limit = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        t = schema.items
        n = 0
        while True:
            with self._write() as conn:
                oldest = conn.execute(sa.select(sa.func.min(t.c.created_at))
                                      .where(t.c.created_at < limit)).scalar()
                if oldest is None:
                    self._seal_subjects(conn, day)  # days with keys but no items left
                    return n
                first = rollups.day_of(as_utc(oldest)) + timedelta(days=1)
                upto = min(limit, datetime(first.year, first.month, first.day,
                                           tzinfo=timezone.utc))
                n += self._delete_items(conn, t.c.created_at < upto, decrement=False)
                self._seal_subjects(conn, upto.date())

    def _delete_items(self, conn: sa.Connection, where: Any, *, decrement: bool,
                      subject_key: str | None = None) -> int:
        t, a = schema.items, schema.item_aspects
        pks = sa.select(t.c.id).where(where)
        if decrement:
            rows = conn.execute(sa.select(t.c.id, t.c.created_at, t.c.source, t.c.brand,
                                          t.c.subject_kind, t.c.subject_key, t.c.label,
                                          t.c.urgent).where(where)).mappings().all()
            aspects: dict[int, list[tuple[str, str]]] = {}
            for pk, category, label in conn.execute(
                    sa.select(a.c.item_pk, a.c.category, a.c.label)
                    .where(a.c.item_pk.in_(pks)).order_by(a.c.item_pk, a.c.position)):
                aspects.setdefault(pk, []).append((category, label))
            deltas = rollups.Deltas()
            for row in rows:
                deltas.item(row, aspects.get(row["id"], ()), sign=-1)
            deltas.apply(conn)
        conn.execute(sa.delete(schema.overrides).where(schema.overrides.c.item_pk.in_(pks)))
        conn.execute(sa.delete(a).where(a.c.item_pk.in_(pks)))
        n = conn.execute(sa.delete(t).where(where)).rowcount
        if subject_key is not None:  # nothing of the subject may stay, whatever the counts say
            s = schema.rollup_subjects
            conn.execute(sa.delete(s).where(s.c.subject_key == subject_key))
        return int(n)

    def _seal_subjects(self, conn: sa.Connection, before: Any) -> None:
        s, sealed = schema.rollup_subjects, schema.rollup_sealed
        key = [s.c.day, s.c.week, s.c.source, s.c.brand, s.c.subject_kind]
        rows = [dict(r) for r in conn.execute(
            sa.select(*key, sa.func.count(sa.distinct(s.c.subject_key)).label("subjects"))
            .where(s.c.day < before).group_by(*key)).mappings()]
        if rows:
            stmt = rollups._insert(conn, sealed)
            # A day sealed twice (an old item ingested after a purge) keeps the larger
            # count: the union of the two sets is at least that large, and never assumed
            # larger, so suppression stays on the safe side.
            stmt = stmt.on_conflict_do_update(
                index_elements=["week", *rollups.SEALED_KEY],
                set_={"subjects": sa.case((sealed.c.subjects >= stmt.excluded.subjects,
                                           sealed.c.subjects), else_=stmt.excluded.subjects)})
            conn.execute(stmt, rows)
        conn.execute(sa.delete(s).where(s.c.day < before))

    # -- API keys ------------------------------------------------------------------------

    def create_key(self, *, name: str, scopes: Sequence[str],
                   rate_limit: float | None = None) -> tuple[ApiKey, str]:
        """A new API key and its secret; the secret is not stored and cannot be shown again."""
        _text(name, "name", schema.NAME_LEN, required=True)
        checked = keylib.check_scopes(scopes)
        if rate_limit is not None:
            if isinstance(rate_limit, bool) or not isinstance(rate_limit, (int, float)) \
                    or not rate_limit > 0:
                raise InputError(f"rate_limit must be a number of requests per second above "
                                 f"0, got {rate_limit!r}")
            rate_limit = float(rate_limit)
        secret = keylib.new_secret()
        row = {"id": keylib.new_key_id(), "name": name,
               "prefix": secret[:keylib.DISPLAY_CHARS], "hash": keylib.hash_secret(secret),
               "scopes": " ".join(checked), "rate_limit": rate_limit,
               "created_at": datetime.now(timezone.utc)}
        with self._write() as conn:
            conn.execute(sa.insert(schema.api_keys).values(row))
        return _key({**row, "revoked_at": None, "last_used_at": None}), secret

    def list_keys(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        k = schema.api_keys
        with self._read() as conn:
            rows = conn.execute(sa.select(k).order_by(k.c.created_at, k.c.id)).mappings().all()
        return [_key(r) for r in rows]

    def revoke_key(self, key_id: str) -> ApiKey:
        """Revoke a key (at once, for every later request); NotFoundError for an unknown id."""
        k = schema.api_keys
        with self._write() as conn:
            conn.execute(sa.update(k).where(k.c.id == key_id, k.c.revoked_at.is_(None))
                         .values(revoked_at=datetime.now(timezone.utc)))
            row = conn.execute(sa.select(k).where(k.c.id == key_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no API key has id {key_id!r}")
        return _key(row)

    def get_key(self, key_id: str) -> ApiKey | None:
        """The key with this id (revoked or not), else None."""
        k = schema.api_keys
        with self._read() as conn:
            row = conn.execute(sa.select(k).where(k.c.id == key_id)).mappings().first()
        return None if row is None else _key(row)

    def find_key(self, secret: str) -> ApiKey | None:
        """The active key whose secret this is, else None."""
        if not isinstance(secret, str) or not secret.startswith(keylib.SECRET_PREFIX):
            return None
        k = schema.api_keys
        # Looked up by hash: comparing 256-bit hashes leaks nothing useful through timing.
        with self._read() as conn:
            row = conn.execute(sa.select(k).where(k.c.hash == keylib.hash_secret(secret),
                                                  k.c.revoked_at.is_(None))).mappings().first()
        return None if row is None else _key(row)

    def touch_key(self, key_id: str) -> None:
        """Record that a key was used now (written at most once a minute per key)."""
        clock = time.monotonic()
        with self._lock:
            if clock - self._touched.get(key_id, -TOUCH_EVERY_S) < TOUCH_EVERY_S:
                return
            self._touched[key_id] = clock
        k = schema.api_keys
        with self._write() as conn:
            conn.execute(sa.update(k).where(k.c.id == key_id)
                         .values(last_used_at=datetime.now(timezone.utc)))


def _after(created: datetime, pk: int) -> Any:
    """Rows after (created, pk) in newest-first order."""
    t = schema.items
    return sa.or_(t.c.created_at < created, sa.and_(t.c.created_at == created, t.c.id < pk))


def _after_urgency(score: float | None, created: datetime, pk: int) -> Any:
    """Rows after (score, created, pk) in most-urgent-first order (no score comes last)."""
    t = schema.items
    if score is None:
        return sa.and_(t.c.urgency_score.is_(None), _after(created, pk))
    return sa.or_(t.c.urgency_score < score,
                  sa.and_(t.c.urgency_score == score, _after(created, pk)),
                  t.c.urgency_score.is_(None))


def _stored(row: Mapping[str, Any]) -> StoredItem:
    model_urgent = row["model_urgent"]
    urgency = None if model_urgent is None else {
        "urgent": model_urgent, "score": row["urgency_score"],
        "category": row["urgency_category"],
        "reasons": json.loads(row["urgency_reasons"] or "[]"),
        "review_reason": row["urgency_review_reason"]}
    model = {
        "name": row["model"], "label": row["model_label"],
        "scores": {"negative": row["score_negative"], "neutral": row["score_neutral"],
                   "positive": row["score_positive"]},
        "confidence": row["confidence"], "needs_review": row["needs_review"],
        "review_reason": row["review_reason"], "urgency": urgency}
    return StoredItem(
        id=row["item_id"], created_at=row["created_at"], ingested_at=row["ingested_at"],
        source=row["source"], brand=row["brand"], subject_kind=row["subject_kind"],
        text=row["text"], text_chars=row["text_chars"], language=row["language"],
        label=row["label"], urgent=row["urgent"], overridden=row["overridden"],
        handled=row["handled"], model=model, evidence=json.loads(row["evidence"]),
        aspects=json.loads(row["aspects"]), metadata=json.loads(row["metadata"]))


def _audit(row: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(id=row["id"], item_id=row["item_id"], actor=row["actor"], at=row["at"],
                      field=row["field"], before=json.loads(row["before"] or "null"),
                      after=json.loads(row["after"] or "null"), reason=row["reason"])


def _key(row: Mapping[str, Any]) -> ApiKey:
    return ApiKey(id=row["id"], name=row["name"], prefix=row["prefix"],
                  scopes=tuple(row["scopes"].split()), rate_limit=row["rate_limit"],
                  created_at=row["created_at"], revoked_at=row["revoked_at"],
                  last_used_at=row["last_used_at"])
