"""The outline of a conversation read from an index alone, and its live streams found without a scan.

The chat page finds the branch it shows on each message's id, parent and candidate index
(storage.repository.conversation_outline) and reads whole only the messages it draws. On SQLite a
message's row holds its text and the exact request body, which carries the whole history sent with
that reply, so a long conversation's rows run to many overflow pages and `candidate_index` sits after
them: without this index, reading three small columns of a 1,000-message chat walked every row's
pages. `ix_messages_outline` holds the three columns by conversation and id, so the outline comes from
the index in order (SQLite's covering index; a PostgreSQL index-only scan). `ix_messages_streaming`
holds only the rows still marked streaming, so settling dead streams on every open reads those.

Revision ID: 0010_message_skeleton
Revises: 0008_search_index
Create Date: 2026-12-02 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_message_skeleton"
down_revision: str | None = "0008_search_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STREAMING = sa.text("status = 'streaming'")


def upgrade() -> None:
    op.create_index(
        "ix_messages_outline", "messages", ["conversation_id", "id", "parent_id", "candidate_index"]
    )
    op.create_index(
        "ix_messages_streaming",
        "messages",
        ["conversation_id"],
        sqlite_where=STREAMING,
        postgresql_where=STREAMING,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_streaming", table_name="messages")
    op.drop_index("ix_messages_outline", table_name="messages")
