"""Share links: a read-only snapshot of a conversation, compare run or evaluation behind an unguessable token.

What must stay true:
- The token carries 192 bits from `secrets` (URL-safe base64, 32 characters): unguessable.
- The snapshot is taken when the link is made; later edits to the conversation do not leak into it.
- A revoked or expired link opens nothing, and says nothing about what it was.
- Only the owner lists and revokes their links; an admin lists and revokes everyone's.
- open_share_link takes no user: whoever holds the token may view, and the app decides whether a
  viewer must be signed in (public links are an operator setting).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import compare, evals, interchange
from storage.models import CompareRun, ShareLink, User, utcnow

TOKEN_BYTES = 24


def create_share_link(
    session: Session,
    user: User,
    *,
    conversation_id: int | None = None,
    compare_run_id: int | None = None,
    expires_at: datetime | None = None,
) -> ShareLink | None:
    """A link to a snapshot of one of the user's conversations or compare runs; None if not theirs."""
    if (conversation_id is None) == (compare_run_id is None):
        raise ValueError("Share exactly one conversation or one compare run.")
    if conversation_id is not None:
        snapshot = interchange.conversation_to_dict(session, user, conversation_id)
        kind = "conversation"
    else:
        snapshot = compare_run_to_dict(session, user, compare_run_id)  # type: ignore[arg-type]
        kind = "compare"
    if snapshot is None:
        return None
    link = ShareLink(
        user_id=user.id,
        token=secrets.token_urlsafe(TOKEN_BYTES),
        kind=kind,
        conversation_id=conversation_id,
        compare_run_id=compare_run_id,
        title=snapshot.get("title", ""),
        snapshot=snapshot,
        created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(link)
    session.flush()
    return link


def create_evaluation_link(
    session: Session,
    user: User,
    *,
    run_id: int,
    snapshot: dict[str, Any],
    expires_at: datetime | None = None,
) -> ShareLink | None:
    """A link to a snapshot of one of the user's evaluation runs (the results document the caller
    built: settings with their parameters, figures and cells; never a key); None if not theirs."""
    if evals.get_run(session, user, run_id) is None:
        return None
    link = ShareLink(
        user_id=user.id,
        token=secrets.token_urlsafe(TOKEN_BYTES),
        kind="evaluation",
        title=str((snapshot.get("run") or {}).get("title") or "Evaluation")[:500],
        snapshot=snapshot,
        created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(link)
    session.flush()
    return link


def open_share_link(session: Session, token: str, *, now: datetime | None = None) -> ShareLink | None:
    """The link for `token` if it is neither revoked nor expired; None otherwise (whatever the reason)."""
    if not token or len(token) > 100:
        return None
    link = session.scalar(select(ShareLink).where(ShareLink.token == token))
    if link is None or not link.is_open(now):
        return None
    return link


def list_share_links(session: Session, user: User) -> list[ShareLink]:
    """The user's links, newest first (revoked and expired ones included, for the "Shared links" list)."""
    stmt = (
        select(ShareLink)
        .where(ShareLink.user_id == user.id)
        .order_by(ShareLink.created_at.desc(), ShareLink.id.desc())
    )
    return list(session.scalars(stmt))


def revoke_share_link(session: Session, user: User, link_id: int) -> bool:
    """Revoke one of the user's links (an admin may revoke anyone's); False if not found."""
    stmt = select(ShareLink).where(ShareLink.id == link_id)
    if user.role != "admin":
        stmt = stmt.where(ShareLink.user_id == user.id)
    link = session.scalar(stmt)
    if link is None:
        return False
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        session.flush()
    return True


def list_all_share_links(session: Session, admin: User) -> list[ShareLink]:
    """Every user's links, newest first (role admin only: PermissionError otherwise)."""
    if admin.role != "admin":
        raise PermissionError("Only an admin can see everyone's share links.")
    return list(session.scalars(select(ShareLink).order_by(ShareLink.created_at.desc(), ShareLink.id.desc())))


def compare_run_to_dict(session: Session, user: User, run_id: int) -> dict[str, Any] | None:
    """A compare run in its one JSON shape (storage.compare.run_to_dict); None if not theirs."""
    run: CompareRun | None = compare.get_compare_run(session, user, run_id)
    return compare.run_to_dict(run) if run is not None else None
