"""People keyed by (sign-in method, subject); server-side sign-in sessions; the shared sign-in throttle.

Before this revision a person was a bare string in `users.identity`, the same for every sign-in method,
so an OIDC account whose subject was `ann` opened password `ann`'s conversations. Now an account is
reached through `identities` rows, unique on (method, subject); `users.identity` stays only as a unique
handle for logs and the admin page.

How each existing user is carried over (one identity each; no row of anyone's history moves, every
conversation, run, preset, share link and ledger row keeps its `user_id`):
- `local` -> (local, local): the one user of `none` mode.
- `guest:HEX` -> (guest, HEX): a guest stays the same guest.
- a string holding `@` -> (oidc, the string): OIDC accounts were keyed by their e-mail.
- anything else -> (password, the string): password names.
Old rows cannot say which mode made them, so two cases land on the wrong side and need an operator's
`python -m storage.accounts link` (README, "Sign-in"): an OIDC account known only by a subject without
`@` (it becomes the password name; the OIDC person starts a fresh account), and a password name holding
`@` (it becomes the OIDC e-mail). The handle becomes `method:subject` (`local` stays `local`) unless
that handle is already taken, in which case the old string is kept.

New tables: `sign_in_sessions` (the SHA-256 of each session cookie's token, expiry, revocation),
`sign_in_failures` (wrong passwords per name and client address, shared by every app server) and
`guest_visits` (which guest was seen from which address on which UTC day, for the per-address caps).

Revision ID: 0006_identities_sessions
Revises: 0007_quota_reservations
Create Date: 2026-12-01 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision: str = "0006_identities_sessions"
down_revision: str | None = "0009_eval_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def carried_over(identity: str) -> tuple[str, str]:
    """(method, subject) for a pre-0006 bare identity string (the rules in the docstring above)."""
    if identity == "local":
        return "local", "local"
    if identity.startswith("guest:") and len(identity) > len("guest:"):
        return "guest", identity[len("guest:") :]
    if "@" in identity:
        return "oidc", identity
    return "password", identity


def handle(method: str, subject: str) -> str:
    """The users.identity handle of a new account (storage/accounts.py makes the same)."""
    return subject if method == "local" else f"{method}:{subject}"


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("subject", sa.String(320), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("method", "subject", name="uq_identities_method_subject"),
    )
    op.create_index("ix_identities_user_id", "identities", ["user_id"])
    op.create_table(
        "sign_in_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("user_agent", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_sign_in_sessions_token_hash"),
    )
    op.create_index("ix_sign_in_sessions_user_id", "sign_in_sessions", ["user_id"])
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name_key", sa.String(320), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index(
        "ix_sign_in_failures_name_address", "sign_in_failures", ["name_key", "address", "created_at"]
    )
    op.create_table(
        "guest_visits",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("address", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
    )

    # Carry every existing user over: one identity each, and a handle that says which method it is.
    conn = op.get_bind()
    users = sa.table(
        "users", sa.column("id", sa.Integer()), sa.column("identity", sa.String()), sa.column("created_at")
    )
    identities = sa.table(
        "identities",
        sa.column("user_id", sa.Integer()),
        sa.column("method", sa.String()),
        sa.column("subject", sa.String()),
        sa.column("created_at"),
    )
    rows = conn.execute(
        sa.select(users.c.id, users.c.identity, users.c.created_at).order_by(users.c.id)
    ).all()
    taken = {identity for _, identity, _ in rows}
    for user_id, identity, created_at in rows:
        method, subject = carried_over(identity)
        conn.execute(
            identities.insert().values(user_id=user_id, method=method, subject=subject, created_at=created_at)
        )
        new_handle = handle(method, subject)
        if new_handle != identity and new_handle not in taken:
            conn.execute(users.update().where(users.c.id == user_id).values(identity=new_handle))
            taken.discard(identity)
            taken.add(new_handle)


def downgrade() -> None:
    # Handles go back to the bare subject where that is free (the identity rows say which they were).
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT u.id, u.identity, i.method, i.subject FROM users u "
            "JOIN identities i ON i.user_id = u.id ORDER BY u.id, i.id"
        )
    ).all()
    wanted: dict[int, str] = {}
    current: dict[int, str] = {}
    for user_id, identity, method, subject in rows:
        current.setdefault(user_id, identity)
        wanted.setdefault(user_id, f"guest:{subject}" if method == "guest" else subject)
    moved = True
    while moved:  # one handle may free another's old string: repeat until nothing moves
        moved = False
        taken = set(current.values())
        for user_id, old in wanted.items():
            if current[user_id] != old and old not in taken:
                conn.execute(
                    sa.text("UPDATE users SET identity = :h WHERE id = :i"), {"h": old, "i": user_id}
                )
                taken.discard(current[user_id])
                taken.add(old)
                current[user_id] = old
                moved = True
    op.drop_table("guest_visits")
    op.drop_index("ix_sign_in_failures_name_address", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    op.drop_index("ix_sign_in_sessions_user_id", table_name="sign_in_sessions")
    op.drop_table("sign_in_sessions")
    op.drop_index("ix_identities_user_id", table_name="identities")
    op.drop_table("identities")
