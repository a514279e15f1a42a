"""Alembic, configured from code: no alembic.ini needed anywhere.

What must stay true: the schema changes only through revision files in versions/, applied in order;
`upgrade(engine)` runs them under a lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory transaction
lock) inside one transaction, so app servers starting together migrate once and a failed migration
leaves the database as it was.

To write a new revision: `python -m storage.migrations revision -m "why" --autogenerate URL`
(see __main__.py), then read and trim what autogenerate produced.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

HERE = Path(__file__).resolve().parent
# Arbitrary but fixed: every Prism server agrees on it, nothing else in the database uses it.
_PG_MIGRATION_LOCK = 7_340_123_001
# Alembic keeps the running migration in module globals (alembic.context, alembic.op), so two
# migrations in one process must not overlap, even on different databases.
_in_process = threading.RLock()


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at this folder, optionally bound to an open connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def _scripts() -> ScriptDirectory:
    """The revision files, read once per process (they do not change while it runs)."""
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision id in versions/."""
    head = _scripts().get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: head) under a lock, in one transaction."""
    if revision == "head" and current_revision(engine) == head_revision():
        return  # the common start-up: nothing to do, and no lock taken
    scripts = _scripts()
    with _in_process, engine.connect() as conn:
        _lock(conn)
        _run(conn, scripts, revision, lambda rev, _ctx: scripts._upgrade_revs(revision, rev))


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to `revision` (tests and emergencies)."""
    scripts = _scripts()
    with _in_process, engine.connect() as conn:
        _lock(conn)
        _run(conn, scripts, revision, lambda rev, _ctx: scripts._downgrade_revs(revision, rev))


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})


def _run(conn: Connection, scripts: ScriptDirectory, revision: str, fn) -> None:  # type: ignore[no-untyped-def]
    """What alembic.command.upgrade/downgrade do, with the revision files read once per process."""
    with EnvironmentContext(alembic_config(conn), scripts, fn=fn, destination_rev=revision):
        scripts.run_env()
    conn.commit()
