"""Fresh databases for tests: a SQLite file in the test's folder, or a fresh schema in PostgreSQL.

Every storage-touching test runs on both engines (the `db_url` fixture of the root conftest.py is
parametrised over ENGINES). PostgreSQL is the `test` database at 127.0.0.1:5432 with trust auth
(PRISM_TEST_PG_HOST, _PORT and _DB point elsewhere; they are read once, when this module is imported);
when no server answers, the PostgreSQL half skips and says why.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest

from storage import close_database, open_database

PG_HOST = os.environ.get("PRISM_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("PRISM_TEST_PG_PORT", "5432"))
PG_DB = os.environ.get("PRISM_TEST_PG_DB", "test")


@cache
def postgres_base_url() -> tuple[str | None, str]:
    """(URL without schema, "") when a server answers, else (None, why not)."""
    try:
        import psycopg
    except ImportError:
        return None, "psycopg is not installed"
    reasons = []
    for user in ("postgres", "root"):
        try:
            with psycopg.connect(
                host=PG_HOST, port=PG_PORT, dbname=PG_DB, user=user, connect_timeout=3, autocommit=True
            ) as conn:
                conn.execute("SELECT 1")
            return f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{PG_DB}", ""
        except Exception as exc:  # any failure to connect means "no server for us"
            reasons.append(
                f"{user}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
            )
    return None, f"no PostgreSQL answers at {PG_HOST}:{PG_PORT}/{PG_DB} ({'; '.join(reasons)})"


def _run_pg(base: str, sql: str) -> None:
    import psycopg

    conninfo = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated to head once per run; each test gets its own copy (same schema and
    seeded rows as a fresh migration, without running Alembic two hundred times)."""
    path = tmp_path_factory.mktemp("template") / "prism.db"
    url = f"sqlite:///{path}"
    open_database(url)
    close_database(url)
    return path


class PostgresSchemas:
    """Fresh, migrated PostgreSQL schemas, prepared a few tests ahead in background threads.

    Creating and migrating a schema is mostly waiting on the server (tens of DDL statements), so while
    one test runs the next schemas are being built, and used ones are dropped in the background.
    Every test still gets a schema nobody has used before.
    """

    AHEAD = 3

    def __init__(self, base: str) -> None:
        self.base = base
        self.pool = ThreadPoolExecutor(max_workers=self.AHEAD + 1, thread_name_prefix="pg-schema")
        self.ready: deque[Future[str]] = deque()
        self.drops: list[Future[None]] = []

    def _make(self, migrated: bool) -> str:
        schema = f"prism_test_{uuid.uuid4().hex[:16]}"
        _run_pg(self.base, f'CREATE SCHEMA "{schema}"')
        url = f"{self.base}?options=-csearch_path%3D{schema}"
        if migrated:
            open_database(url)
        return url

    def take(self, migrated: bool) -> str:
        if not migrated:
            return self._make(False)
        while len(self.ready) < self.AHEAD + 1:
            self.ready.append(self.pool.submit(self._make, True))
        return self.ready.popleft().result()

    def give_back(self, url: str) -> None:
        def drop() -> None:
            close_database(url)
            _run_pg(self.base, f'DROP SCHEMA "{url.rsplit("%3D", 1)[1]}" CASCADE')

        self.drops.append(self.pool.submit(drop))

    def close(self) -> None:
        for future in self.ready:
            self.give_back(future.result())
        for future in self.drops:
            future.result()
        self.pool.shutdown()


_pg_schemas: PostgresSchemas | None = None


def close_postgres_schemas() -> None:
    """Drop every schema this run made (the root conftest calls it once, at the end of the session)."""
    if _pg_schemas is not None:
        _pg_schemas.close()


def make_database_url(kind: str, tmp_path, template: Path | None = None) -> Iterator[str]:
    """A fresh database URL of `kind` ("sqlite" or "postgresql"), removed afterwards: migrated to head
    when `template` (the SQLite template) is given, else empty."""
    global _pg_schemas
    if kind == "sqlite":
        path = tmp_path / "prism.db"
        if template is not None:
            with sqlite3.connect(template) as src, sqlite3.connect(path) as dst:
                src.backup(dst)
        url = f"sqlite:///{path}"
        yield url
        close_database(url)
        return
    base, reason = postgres_base_url()
    if base is None:
        pytest.skip(reason)
    if _pg_schemas is None:
        _pg_schemas = PostgresSchemas(base)
    url = _pg_schemas.take(migrated=template is not None)
    try:
        yield url
    finally:
        _pg_schemas.give_back(url)


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
