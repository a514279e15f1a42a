"""Reserve a request's tokens when it is admitted, settle them when it ends.

Quotas counted tokens only when a reply finished, so a person could overshoot a daily limit by whatever
was in flight. A ledger row now also holds `reserved_tokens` (what the request may still use) and
`reserved_until` (when an unsettled reservation stops counting: its writer died). Existing rows were
all settled long ago: they get no reservation.

Revision ID: 0007_quota_reservations
Revises: 0005_evaluations
Create Date: 2026-12-01 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_quota_reservations"
down_revision: str | None = "0005_evaluations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "usage_events", sa.Column("reserved_tokens", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("usage_events", sa.Column("reserved_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN: SQLite has had it since 3.35, and PostgreSQL always.
    op.drop_column("usage_events", "reserved_until")
    op.drop_column("usage_events", "reserved_tokens")
