"""Quotas: may this person send these requests now? Checked before anything is sent, counted in the database.

Why here: a turn is the one place a request is sent, so the check and the count sit beside it, and
both pages get them by passing `limits` to their turn. The counts live in storage's
usage ledger (storage/usage.py), so every app server sharing the database sees the same numbers.

What must stay true:
- `admit` checks every limit and, only if all allow, records one ledger row per request in the same
  transaction; on PostgreSQL an advisory lock serialises admits, so two app servers cannot both let
  the last allowed request through.
- A refusal says in plain words what was hit and when it resets (UTC), and nothing is sent.
- Tokens are added to the admitted rows when the replies finish (`add_tokens`); a request that failed
  still counts as a request.
- Guest caps apply to role `guest` only and count the whole guest session (they never reset).

No streamlit here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from chat_client.errors import RateLimitError
from storage import usage
from storage.models import User, utcnow

# Keys for pg_advisory_xact_lock: one lock for all admits when a global budget is set, else per user.
_GLOBAL_LOCK = 0x5052_4953  # "PRIS"
_USER_LOCK_BASE = 0x5052_0000_0000


@dataclass(frozen=True)
class Limits:
    """The limits in force; None means no limit."""

    requests_per_minute: int | None = None
    tokens_per_day: int | None = None
    global_tokens_per_day: int | None = None
    guest_messages: int | None = None
    guest_tokens: int | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """The limits a Settings object configures (settings.py)."""
        return cls(
            requests_per_minute=settings.requests_per_minute,
            tokens_per_day=settings.tokens_per_day,
            global_tokens_per_day=settings.global_tokens_per_day,
            guest_messages=settings.guest_messages if settings.guest_access else None,
            guest_tokens=settings.guest_tokens if settings.guest_access else None,
        )

    def describe(self) -> list[tuple[str, str]]:
        """(limit, value) rows in plain words, for the admin page."""

        def show(value: int | None) -> str:
            return "no limit" if value is None else f"{value:,}"

        return [
            ("Requests per minute, per person", show(self.requests_per_minute)),
            ("Tokens per day (UTC), per person", show(self.tokens_per_day)),
            ("Tokens per day (UTC), everyone together", show(self.global_tokens_per_day)),
            ("Messages per guest session", show(self.guest_messages)),
            ("Tokens per guest session", show(self.guest_tokens)),
        ]


class QuotaExceeded(RateLimitError):
    """A request refused by our own quota (never sent). A RateLimitError, so the page shows it as one."""

    def __init__(self, message: str, *, resets_at: datetime | None, per_day: bool, now: datetime) -> None:
        retry = (resets_at - now).total_seconds() if resets_at else None
        super().__init__(message, None, retry_after=retry, per_day=per_day)
        self.resets_at = resets_at


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _when(resets_at: datetime, now: datetime) -> str:
    seconds = max(0, int((resets_at - now).total_seconds()))
    if seconds < 60:
        wait = f"{max(seconds, 1)} s"
    elif seconds < 3600:
        wait = f"{(seconds + 59) // 60} min"
    else:
        wait = f"{seconds // 3600} h {(seconds % 3600) // 60} min"
    return f"It resets at {resets_at:%H:%M} UTC (in {wait})."


def _lock(session: Session, user: User, limits: Limits) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: one app server, and its writes are serialised by the database file lock
    key = _GLOBAL_LOCK if limits.global_tokens_per_day is not None else _USER_LOCK_BASE + user.id
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def refusal(session: Session, user: User, limits: Limits, *, requests: int = 1, now: datetime | None = None):
    """Why `requests` more requests may not be sent now (a QuotaExceeded), or None if they may."""
    now = now or utcnow()
    if user.role == "guest":
        spent = usage.usage_totals(session, user, since=user.created_at - timedelta(seconds=1))
        if limits.guest_messages is not None and spent.requests + requests > limits.guest_messages:
            return QuotaExceeded(
                f"A guest session may send {_count(limits.guest_messages, 'message')}, and this one has "
                "used them. Sign in with an account to go on.",
                resets_at=None,
                per_day=True,
                now=now,
            )
        if limits.guest_tokens is not None and spent.tokens >= limits.guest_tokens:
            return QuotaExceeded(
                f"A guest session may use {limits.guest_tokens:,} tokens, and this one has used them. "
                "Sign in with an account to go on.",
                resets_at=None,
                per_day=True,
                now=now,
            )
    rpm = limits.requests_per_minute
    if rpm is not None:
        if requests > rpm:
            return QuotaExceeded(
                f"This sends {requests} requests at once, more than the {rpm} per minute allowed. "
                "Use fewer columns or repeats.",
                resets_at=None,
                per_day=False,
                now=now,
            )
        # "May send `requests` more" is "fewer than rpm - requests + 1 in the last minute".
        verdict = usage.check_quota(session, user, requests_per_minute=rpm - requests + 1, now=now)
        if not verdict.allowed:
            return QuotaExceeded(
                f"You have reached your limit of {_count(rpm, 'request')} per minute. "
                f"{_when(verdict.resets_at, now)}",
                resets_at=verdict.resets_at,
                per_day=False,
                now=now,
            )
    for limit, per_person in ((limits.tokens_per_day, True), (limits.global_tokens_per_day, False)):
        if limit is None:
            continue
        if per_person:
            verdict = usage.check_quota(session, user, tokens_per_day=limit, now=now)
        else:
            verdict = usage.check_quota(session, user, global_tokens_per_day=limit, now=now)
        if not verdict.allowed:
            what = (
                f"You have used your {limit:,} tokens for today."
                if per_person
                else f"The team's daily budget of {limit:,} tokens is spent for today."
            )
            return QuotaExceeded(
                f"{what} {_when(verdict.resets_at, now)}", resets_at=verdict.resets_at, per_day=True, now=now
            )
    return None


def admit(
    make_session: sessionmaker[Session],
    user_id: int,
    limits: Limits | None,
    *,
    requests: int = 1,
    model: str | Sequence[str] = "",
    kind: str = "chat",
    now: datetime | None = None,
) -> list[int]:
    """Check the limits and record `requests` ledger rows; their ids, or QuotaExceeded raised.

    `model` names the model of every request, or gives one model per request."""
    models = [model] * requests if isinstance(model, str) else list(model)
    with make_session() as session:
        user = session.get(User, user_id)
        if user is None:
            raise LookupError("The acting user does not exist.")
        if limits is not None:
            _lock(session, user, limits)
            refused = refusal(session, user, limits, requests=requests, now=now)
            if refused is not None:
                raise refused
        ids = [usage.record_usage(session, user, model=m, kind=kind, at=now).id for m in models]
        session.commit()
        return ids


def add_tokens(
    make_session: sessionmaker[Session], user_id: int, event_id: int, counts: Mapping[str, int] | None
) -> None:
    """Add a finished reply's token counts to the ledger row made when it was admitted."""
    if not counts:
        return
    with make_session() as session:
        user = session.get(User, user_id)
        if user is None:
            return
        usage.add_tokens(
            session,
            user,
            event_id,
            prompt_tokens=int(counts.get("prompt_tokens") or 0),
            completion_tokens=int(counts.get("completion_tokens") or 0),
            reasoning_tokens=int(counts.get("reasoning_tokens") or 0),
            total_tokens=int(counts["total_tokens"]) if counts.get("total_tokens") is not None else None,
        )
        session.commit()
