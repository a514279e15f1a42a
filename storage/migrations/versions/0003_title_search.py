"""Search titles through the full-text index too, as words (and word prefixes), on both engines.

Titles were matched as substrings with LIKE, which on SQLite meant reading every title a person has
(9,000 in the benchmark) on every search, and matched differently from message text ("aking" found
"Baking" in a title but not in a message). SQLite gets an FTS5 index over titles kept by triggers, as
messages have; PostgreSQL already has its GIN index over to_tsvector('simple', title) from 0002.

Revision ID: 0003_title_search
Revises: 0002_more
Create Date: 2026-11-27 05:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_title_search"
down_revision: str | None = "0002_more"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE conversations_fts USING fts5("
        "title, content='conversations', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN "
        "INSERT INTO conversations_fts(rowid, title) VALUES (new.id, new.title); END"
    )
    op.execute(
        "CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN "
        "INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.id, old.title); END"
    )
    op.execute(
        "CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN "
        "INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.id, old.title); "
        "INSERT INTO conversations_fts(rowid, title) VALUES (new.id, new.title); END"
    )
    op.execute("INSERT INTO conversations_fts(conversations_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("conversations_fts_insert", "conversations_fts_delete", "conversations_fts_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS conversations_fts")
