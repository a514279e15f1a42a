"""Engines and sessions: one engine per database URL per process, migrated to head before first use.

What must stay true:
- `open_database(url)` returns the same engine for the same URL within a process (Streamlit reruns,
  threads and pages share it) and a fresh one in a forked child (a pool must not cross a fork).
- The schema is brought to Alembic's head before the engine is handed out, under a lock, so several app
  servers starting at once against one database migrate it once.
- SQLite is tuned for a web app with concurrent writers: WAL (readers never block the writer), foreign
  keys on, a busy timeout instead of an instant "database is locked", synchronous=NORMAL (safe in WAL).

SQLite transactions: we keep the sqlite3 module's default ("legacy") transaction control, which issues
BEGIN only right before the first INSERT/UPDATE/DELETE. A transaction therefore takes the write lock at
the same moment it takes its snapshot, and waits on the busy timeout when another writer holds it. The
alternative (BEGIN at the first SELECT, SQLAlchemy's "pysqlite savepoint" recipe) lets a read snapshot
go stale before the first write, and SQLite then fails the upgrade at once with "database is locked"
whatever the timeout. The price: SAVEPOINT is not used anywhere in storage.

Both engines serialize JSON with storage.storable, which stores NUL and lone surrogates losslessly.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from storage import migrations, storable

SQLITE_BUSY_TIMEOUT_S = 30.0

_engines: dict[tuple[int, str], Engine] = {}
_lock = threading.Lock()


def open_database(url: str) -> Engine:
    """The process's engine for `url`, its schema migrated to head (created if missing)."""
    key = (os.getpid(), url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _create_engine(url)
            migrations.upgrade(engine)
            _engines[key] = engine
        return engine


def close_database(url: str) -> None:
    """Dispose of the process's engine for `url` (tests and shutdown); the next open makes a new one."""
    with _lock:
        engine = _engines.pop((os.getpid(), url), None)
    if engine is not None:
        engine.dispose()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A sessionmaker for `engine`; objects stay readable after commit (pages render them afterwards)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url)
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        json_serializer=storable.dumps,
        json_deserializer=storable.loads,
    )


def _create_sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    options = {
        "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        # orjson reads (same values as json.loads, several times faster); both escape what no engine stores.
        "json_serializer": storable.dumps,
        "json_deserializer": storable.loads,
    }
    if in_memory:
        # One connection shared by every thread: each new connection to :memory: is another, empty
        # database. Handy for tests and demos; nothing survives the process.
        engine = create_engine(url, poolclass=StaticPool, **options)
    else:
        engine = create_engine(url, pool_size=16, max_overflow=32, **options)

    @event.listens_for(engine, "connect")
    def _tune(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    """True when the engine (or the session's bind) is SQLite."""
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "sqlite"


# What a refused write means to the person who asked for it, matched on the driver's own words (sqlite3
# and psycopg); the first that fits wins. Nothing of the SQL, the path or the driver's text is shown.
_WRITE_FAILURES = (
    (("disk is full", "disk full", "no space left", "diskfull"), "the disk is full"),
    (("readonly", "read-only", "read only"), "the database is read-only"),
    (("database is locked", "lock timeout", "deadlock"), "the database is busy with another write"),
    (("nul (0x00)", "cannot contain nul"), "it contains a character the database cannot store (NUL)"),
    (
        ("unable to open", "could not connect", "connection refused", "server closed"),
        "the database cannot be reached",
    ),
)


def describe_write_failure(problem: BaseException) -> str:
    """Plain words for why the database refused a write ("the disk is full"), for the page to show."""
    words = str(getattr(problem, "orig", None) or problem).lower()
    for needles, meaning in _WRITE_FAILURES:
        if any(needle in words for needle in needles):
            return meaning
    return "the database refused the write"


__all__ = ["close_database", "describe_write_failure", "is_sqlite", "open_database", "session_factory"]
