"""Evaluation runs know their writer and can be asked to stop, and no evaluation's requests are kept as
a comparison.

An evaluation run records which process runs it (`eval_runs.writer`, the tag storage/liveness.py
writes for a streaming reply), so a run whose process died reads as "interrupted" at once on the same
host instead of "running" for minutes. Rows from before have no writer and keep the time-based rule.
`eval_runs.stop_requested` lets a page served by another app process stop a run: the process running
it looks at the flag while it runs. Rows from before read as not asked to stop.

Earlier versions sent an evaluation's requests through a compare run made for the purpose (no columns,
titled "... (requests)") and deleted it when the evaluation ended; a process that died mid-run left it
in the Compare page's list. Those leftovers are removed here, with their results and any share link;
nothing else is touched (a comparison a person made always has columns).

Revision ID: 0009_eval_runs
Revises: 0005_evaluations
Create Date: 2026-12-01 23:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_eval_runs"
down_revision: str | None = "0007_quota_reservations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _leftover_request_runs(conn) -> list[int]:
    rows = conn.execute(
        sa.text("SELECT id, columns FROM compare_runs WHERE title LIKE :suffix"), {"suffix": "% (requests)"}
    )
    out = []
    for run_id, columns in rows:
        if isinstance(columns, str):  # SQLite keeps JSON as text
            columns = json.loads(columns)
        if columns == []:
            out.append(run_id)
    return out


def upgrade() -> None:
    op.add_column("eval_runs", sa.Column("writer", sa.String(200), nullable=True))
    op.add_column(
        "eval_runs", sa.Column("stop_requested", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    conn = op.get_bind()
    leftovers = _leftover_request_runs(conn)
    for table, column in (
        ("share_links", "compare_run_id"),
        ("compare_results", "run_id"),
        ("compare_run_attachments", "run_id"),
        ("compare_runs", "id"),
    ):
        for run_id in leftovers:
            conn.execute(sa.text(f"DELETE FROM {table} WHERE {column} = :id"), {"id": run_id})


def downgrade() -> None:
    op.drop_column("eval_runs", "stop_requested")
    op.drop_column("eval_runs", "writer")  # SQLite 3.35+ drops a plain column in place
