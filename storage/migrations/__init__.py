"""Alembic, configured from code: no alembic.ini needed anywhere.

What must stay true: the schema changes only through revision files in versions/, applied in order;
`upgrade(engine)` runs them under a lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory transaction
lock) inside one transaction, so app servers starting together migrate once and a failed migration
leaves the database as it was.

To write a new revision: `python -m storage.migrations revision -m "why" --autogenerate URL`
(see __main__.py), then read and trim what autogenerate produced.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

HERE = Path(__file__).resolve().parent
# Arbitrary but fixed: every Prism server agrees on it, nothing else in the database uses it.
_PG_MIGRATION_LOCK = 7_340_123_001


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at this folder, optionally bound to an open connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision id in versions/."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: head) under a lock, in one transaction."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        command.upgrade(alembic_config(conn), revision)
        conn.commit()


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to `revision` (tests and emergencies)."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        command.downgrade(alembic_config(conn), revision)
        conn.commit()
