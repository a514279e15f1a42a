"""Evaluations: saved prompt suites, runs of a suite over several settings, and each run's cells.

A suite is kept as one JSON document (its template and test cases, in the shape evals/suite.py reads);
a run keeps a copy of the suite as it ran, its settings (never a key), the blind-review votes, and one
row per request (case x setting x repeat) written as each finishes, so Stop or a crash keeps what was
done. Everything hangs off `users`, so every query is scoped to the acting person.

Revision ID: 0005_evaluations
Revises: 0004_branch_choices
Create Date: 2026-12-01 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from storage.models import UTCDateTime

revision: str = "0005_evaluations"
down_revision: str | None = "0004_branch_choices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "eval_suites",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("suite", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_eval_suites_user_updated", "eval_suites", ["user_id", "updated_at"])
    op.create_table(
        "eval_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "suite_id", sa.Integer(), sa.ForeignKey("eval_suites.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("suite", JSONType, nullable=False),
        sa.Column("settings", JSONType, nullable=False),
        sa.Column("grader", JSONType, nullable=True),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reviews", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_eval_runs_user_updated", "eval_runs", ["user_id", "updated_at"])
    op.create_index("ix_eval_runs_suite_id", "eval_runs", ["suite_id"])
    op.create_table(
        "eval_cells",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("eval_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("case_index", sa.Integer(), nullable=False),
        sa.Column("setting_index", sa.Integer(), nullable=False),
        sa.Column("repeat_index", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("data", JSONType, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint(
            "run_id", "case_index", "setting_index", "repeat_index", name="uq_eval_cells_position"
        ),
    )


def downgrade() -> None:
    op.drop_table("eval_cells")
    op.drop_index("ix_eval_runs_suite_id", table_name="eval_runs")
    op.drop_index("ix_eval_runs_user_updated", table_name="eval_runs")
    op.drop_table("eval_runs")
    op.drop_index("ix_eval_suites_user_updated", table_name="eval_suites")
    op.drop_table("eval_suites")
