"""Storage for the service: analysed feedback, overrides, daily roll-ups and API keys.

SQLite (the embedded default, in the Frankly home folder) or PostgreSQL, through one
SQLAlchemy Core code path::

    >>> from frankly.store import open_store                      # doctest: +SKIP
    >>> store = open_store("sqlite:////tmp/frankly.db")          # doctest: +SKIP

Needs the ``server`` extra (SQLAlchemy), and ``postgres`` (psycopg) for PostgreSQL.
"""

from __future__ import annotations

# First: raises MissingDependencyError naming the pip line when SQLAlchemy is missing.
from frankly.store import schema  # noqa: F401
from frankly.store.records import (MAX_PAGE, ApiKey, AuditEntry, IngestOutcome, ItemQuery,
                                   NewItem, Page, Stats, StatsBucket, StatsGroup, StatsQuery,
                                   StoredItem)
from frankly.store.store import Store, open_store

__all__ = [
    "MAX_PAGE", "ApiKey", "AuditEntry", "IngestOutcome", "ItemQuery", "NewItem", "Page",
    "Stats", "StatsBucket", "StatsGroup", "StatsQuery", "Store", "StoredItem", "open_store",
]
