"""Message search that can stop early on PostgreSQL: the text's tsvector stored beside it.

Search walks the matching messages newest first and stops at its 50th conversation
(storage.repository.search_conversations). On PostgreSQL that walk reads each message's tsvector; an
expression index cannot give it one without running to_tsvector again for every row looked at, so
`messages.search_vector` keeps to_tsvector('simple', content) as a stored generated column (computed
by the database for every existing row during the upgrade and for every write after it), and the GIN
index moves from the expression to that column. Nothing else changes: SQLite's FTS5 index already
hands out its matches in rowid order, newest first, without reading the rest.

Revision ID: 0008_search_index
Revises: 0007_quota_reservations
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_search_index"
down_revision: str | None = "0006_identities_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE messages ADD COLUMN search_vector tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple', coalesce(content, ''))) STORED"
    )
    op.execute("CREATE INDEX ix_messages_search_vector ON messages USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_messages_content_fts")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_messages_content_fts ON messages USING gin (to_tsvector('simple', content))")
    op.execute("DROP INDEX IF EXISTS ix_messages_search_vector")
    op.execute("ALTER TABLE messages DROP COLUMN search_vector")
