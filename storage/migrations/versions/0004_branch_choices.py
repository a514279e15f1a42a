"""Keep the branch a person chose with the conversation.

Which version of a regenerated or edited message is shown, and which n > 1 candidate was kept, lived in
the browser session: a reload, a second tab or another app server showed the newest version instead,
and with it hid everything the person had written after the older one. The choices now live in
`conversations.branch_choices` ({"parent id": child id}); existing conversations start with none, which
is what they showed before (the newest version everywhere).

Revision ID: 0004_branch_choices
Revises: 0003_title_search
Create Date: 2026-12-01 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_branch_choices"
down_revision: str | None = "0003_title_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


# Plain ALTER TABLE on both engines: a batch (copy-and-move) rebuild on SQLite would drop the title
# search triggers that 0003 put on this table.


def upgrade() -> None:
    op.add_column("conversations", sa.Column("branch_choices", JSONType, nullable=False, server_default="{}"))


def downgrade() -> None:
    op.drop_column("conversations", "branch_choices")
