"""Fixtures shared by several test files."""

from __future__ import annotations

import itertools
from typing import Any, Iterator

import pytest

import pg

_databases = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """One throwaway PostgreSQL cluster for the whole session (skipped without Debian's
    postgresql)."""
    if pg.bin_dir() is None:
        pytest.skip(pg.MISSING)
    with pg.cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A fresh, empty database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'frankly.db'}"
    server = request.getfixturevalue("pg_server")
    return pg.fresh_database(server, f"t{next(_databases)}")
