"""Versioned schema migrations: an ordered list of functions, each applied once.

``schema_migrations(version, applied_at)`` records what a database has. Each migration
runs in its own transaction with the writers locked out (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: a transaction-scoped advisory lock), so two processes opening a new database
at once apply it once. A database newer than this code is refused with a clear error
rather than written to with a schema this code does not know.

To change the schema, append a migration; never edit one that has shipped. Migration 1
builds its tables from ``schema.py``: the first later migration that changes a table must
also freeze migration 1 by copying the version-1 table definitions into it. An index added
later (migration 2) is written out in its own migration and left out of ``schema.py``, so
migration 1 still builds exactly the version-1 tables.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Callable

import sqlalchemy as sa

from frankly.errors import StorageError
from frankly.store import schema

# Any fixed 64-bit number: the advisory lock id only has to be the same for every Frankly.
_PG_LOCK_ID = 0x4672616E6B6C79  # "Frankly"

SALT_KEY = "subject_salt"


def _v1_initial(conn: sa.Connection) -> None:
    schema.metadata.create_all(conn, tables=[
        schema.meta, schema.items, schema.item_aspects, schema.overrides,
        *schema.ROLLUP_TABLES, schema.api_keys])
    # The per-database key for subject hashes: 32 random bytes, so a subject id cannot be
    # found from its key by hashing guesses without this database's salt.
    conn.execute(sa.insert(schema.meta).values(key=SALT_KEY, value=secrets.token_hex(32)))


def _v2_urgency_index(conn: sa.Connection) -> None:
    # The dashboard's urgent queue: urgent items, handled or not, most urgent first
    # (urgency_score descending, items without a score last, then newest first), read
    # straight from this index with no sort, however many items are stored. Written out
    # here rather than taken from schema.py so that this migration never changes after it
    # ships. SQLite keeps NULLs first in an ascending index, so walking it backwards gives
    # "DESC NULLS LAST"; PostgreSQL needs that order spelt out.
    if conn.dialect.name == "postgresql":
        columns = "urgent, handled, urgency_score DESC NULLS LAST, created_at DESC, id DESC"
    else:
        columns = "urgent, handled, urgency_score, created_at, id"
    conn.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {URGENCY_INDEX} ON items ({columns})"))


URGENCY_INDEX = "ix_items_urgency"

MIGRATIONS: tuple[tuple[int, str, Callable[[sa.Connection], None]], ...] = (
    (1, "items, aspects, overrides, daily roll-ups, API keys, subject salt", _v1_initial),
    (2, "index for the urgent queue (urgent, handled, urgency score, newest first)",
     _v2_urgency_index),
)
LATEST = MIGRATIONS[-1][0]


def current_version(conn: sa.Connection) -> int:
    """The highest migration applied to the database (0 for an empty database)."""
    if not sa.inspect(conn).has_table(schema.schema_migrations.name):
        return 0
    version = conn.execute(sa.select(sa.func.max(schema.schema_migrations.c.version)))
    return int(version.scalar() or 0)


def check_not_newer(version: int) -> None:
    if version > LATEST:
        raise StorageError(
            f"the database is at schema version {version} but this Frankly knows versions up "
            f"to {LATEST}: upgrade Frankly (pip install -U frankly) to open it")


def lock(conn: sa.Connection) -> None:
    """Serialise migrations across processes (SQLite's BEGIN IMMEDIATE already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})


def apply(begin_write: Callable[[], object]) -> list[int]:
    """Apply the missing migrations, one transaction each; the versions applied.

    ``begin_write`` opens a write transaction (a context manager giving a Connection).
    """
    applied: list[int] = []
    for version, _description, migration in MIGRATIONS:
        with begin_write() as conn:  # type: ignore[attr-defined]
            lock(conn)
            schema.schema_migrations.create(conn, checkfirst=True)
            current = current_version(conn)
            check_not_newer(current)
            if version <= current:
                continue
            migration(conn)
            conn.execute(sa.insert(schema.schema_migrations).values(
                version=version, applied_at=datetime.now(timezone.utc)))
        applied.append(version)
    return applied
