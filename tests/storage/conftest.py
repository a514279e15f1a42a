"""Fixtures for the storage suite: every test runs on SQLite (a file in tmp_path) and on PostgreSQL
(a fresh schema in the `test` database at 127.0.0.1:5432), skipped with a reason when no server answers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import cache

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage import close_database, open_database, repository, session_factory
from storage.models import User

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


def make_database_url(kind: str, tmp_path) -> Iterator[str]:
    """A fresh, empty database URL of `kind` ("sqlite" or "postgresql"), removed afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path}/prism.db"
        yield url
        close_database(url)
        return
    base, reason = postgres_base_url()
    if base is None:
        pytest.skip(reason)
    schema = f"prism_test_{uuid.uuid4().hex[:16]}"
    _run_pg(base, f'CREATE SCHEMA "{schema}"')
    url = f"{base}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        close_database(url)
        _run_pg(base, f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> Iterator[str]:
    """A fresh database URL, once per engine."""
    yield from make_database_url(request.param, tmp_path)


@pytest.fixture
def engine(db_url: str) -> Engine:
    return open_database(db_url)


@pytest.fixture
def session_maker(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def session(session_maker: sessionmaker[Session]) -> Iterator[Session]:
    with session_maker() as s:
        yield s


@pytest.fixture
def alice(session: Session) -> User:
    user = repository.ensure_user(session, "alice@example.com", "Alice")
    session.commit()
    return user


@pytest.fixture
def bob(session: Session) -> User:
    user = repository.ensure_user(session, "bob@example.com", "Bob")
    session.commit()
    return user
