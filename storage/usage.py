"""The usage ledger: requests and tokens per user, counted in the database so quotas hold across app
servers.

What must stay true: every request the app sends is recorded (record_usage at send time, with the
tokens it may use reserved; `add_tokens` settles them to the real count when the reply ends); rows
outlive deleted conversations (no refunds by deleting); days are UTC days. A reservation counts as
tokens spent until it is settled or until its `reserved_until` passes (its writer died), whichever
comes first: quotas pass `now` to the totals so that live reservations are counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from storage.models import UsageEvent, User, utcnow


@dataclass(frozen=True)
class Totals:
    requests: int
    tokens: int


@dataclass(frozen=True)
class DayUsage:
    user_id: int
    identity: str
    display_name: str
    day: date
    requests: int
    prompt_tokens: int
    completion_tokens: int  # the answer's tokens, thinking not included (see thinking_tokens)
    tokens: int  # what the quotas count: prompt + completion + thinking + other_tokens
    thinking_tokens: int = 0
    other_tokens: int = 0  # counted by the provider in the total but in none of the parts (rare)


@dataclass(frozen=True)
class QuotaVerdict:
    allowed: bool
    reason: str = ""  # plain words: what was hit
    resets_at: datetime | None = None  # when the limit that was hit frees up
    used: int = 0  # tokens counted against the limit that was hit (settled plus live reservations)


def record_usage(
    session: Session,
    user: User,
    *,
    requests: int = 1,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    reasoning_tokens: int = 0,
    total_tokens: int | None = None,
    model: str = "",
    kind: str = "chat",
    message_id: int | None = None,
    at: datetime | None = None,
    reserved_tokens: int = 0,
    reserved_until: datetime | None = None,
) -> UsageEvent:
    """Add a row to the ledger (a request when it is sent, with its reservation; its tokens when known)."""
    event = UsageEvent(
        user_id=user.id,
        created_at=at or utcnow(),
        kind=kind,
        model=model,
        requests=requests,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        reasoning_tokens=reasoning_tokens,
        total_tokens=total_tokens if total_tokens is not None else prompt_tokens + completion_tokens,
        message_id=message_id,
        reserved_tokens=reserved_tokens,
        reserved_until=reserved_until if reserved_tokens else None,
    )
    session.add(event)
    session.flush()
    return event


def add_tokens(
    session: Session,
    user: User,
    event_id: int,
    *,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    reasoning_tokens: int = 0,
    total_tokens: int | None = None,
    message_id: int | None = None,
) -> bool:
    """Settle a request recorded at send time: its real tokens in, its reservation released; False if
    the row is not the user's."""
    event = session.scalar(select(UsageEvent).where(UsageEvent.id == event_id, UsageEvent.user_id == user.id))
    if event is None:
        return False
    event.prompt_tokens += prompt_tokens
    event.completion_tokens += completion_tokens
    event.reasoning_tokens += reasoning_tokens
    event.total_tokens += total_tokens if total_tokens is not None else prompt_tokens + completion_tokens
    event.reserved_tokens = 0
    event.reserved_until = None
    if message_id is not None:
        event.message_id = message_id
    session.flush()
    return True


def _held(now: datetime | None):
    """Tokens a row counts for a quota: its settled tokens, plus its reservation while that lives."""
    if now is None:
        return UsageEvent.total_tokens
    live = case((UsageEvent.reserved_until > now, UsageEvent.reserved_tokens), else_=0)
    return UsageEvent.total_tokens + live


def usage_totals(session: Session, user: User, *, since: datetime, now: datetime | None = None) -> Totals:
    """The user's requests and tokens since `since` (with `now`: reservations live then included)."""
    row = session.execute(
        select(
            func.coalesce(func.sum(UsageEvent.requests), 0),
            func.coalesce(func.sum(_held(now)), 0),
        ).where(UsageEvent.user_id == user.id, UsageEvent.created_at >= since)
    ).one()
    return Totals(int(row[0]), int(row[1]))


def global_usage_totals(
    session: Session, user: User, *, since: datetime, now: datetime | None = None
) -> Totals:
    """Everyone's requests and tokens since `since` (a sum only; for the global daily budget; with
    `now`, reservations live then included)."""
    del user  # any signed-in user's request is checked against the global budget; the sum names no one
    row = session.execute(
        select(
            func.coalesce(func.sum(UsageEvent.requests), 0),
            func.coalesce(func.sum(_held(now)), 0),
        ).where(UsageEvent.created_at >= since)
    ).one()
    return Totals(int(row[0]), int(row[1]))


def check_quota(
    session: Session,
    user: User,
    *,
    requests_per_minute: int | None = None,
    tokens_per_day: int | None = None,
    global_tokens_per_day: int | None = None,
    now: datetime | None = None,
    reserve: int = 0,
) -> QuotaVerdict:
    """Whether the user may send one more request now, reserving `reserve` tokens; limits left None
    are not checked. A token limit refuses when what is spent or reserved already, plus `reserve`,
    would pass it (or when it is reached, whatever `reserve`)."""
    now = now or utcnow()
    day_start = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    tomorrow = day_start + timedelta(days=1)
    if requests_per_minute is not None:
        window_start = now - timedelta(minutes=1)
        recent = list(
            session.scalars(
                select(UsageEvent.created_at)
                .where(
                    UsageEvent.user_id == user.id,
                    UsageEvent.created_at > window_start,
                    UsageEvent.requests > 0,
                )
                .order_by(UsageEvent.created_at.desc())
                .limit(requests_per_minute)
            )
        )
        if len(recent) >= requests_per_minute:
            resets = recent[-1] + timedelta(minutes=1)
            return QuotaVerdict(
                False,
                f"You have sent {requests_per_minute} requests in the last minute, the most allowed.",
                resets,
            )
    if tokens_per_day is not None:
        used = usage_totals(session, user, since=day_start, now=now).tokens
        if used + max(reserve, 1) > tokens_per_day:
            return QuotaVerdict(
                False, f"You have used your {tokens_per_day:,} tokens for today (UTC).", tomorrow, used
            )
    if global_tokens_per_day is not None:
        used = global_usage_totals(session, user, since=day_start, now=now).tokens
        if used + max(reserve, 1) > global_tokens_per_day:
            return QuotaVerdict(
                False,
                f"The team's daily budget of {global_tokens_per_day:,} tokens is spent for today (UTC).",
                tomorrow,
                used,
            )
    return QuotaVerdict(True)


def usage_per_user_day(session: Session, admin: User, *, since: datetime) -> list[DayUsage]:
    """Requests and tokens per user per UTC day since `since` (role admin only: PermissionError)."""
    if admin.role != "admin":
        raise PermissionError("Only an admin can see everyone's usage.")
    events = session.execute(
        select(
            UsageEvent.user_id,
            User.identity,
            User.display_name,
            UsageEvent.created_at,
            UsageEvent.requests,
            UsageEvent.prompt_tokens,
            UsageEvent.completion_tokens,
            UsageEvent.reasoning_tokens,
            UsageEvent.total_tokens,
        )
        .join(User, User.id == UsageEvent.user_id)
        .where(UsageEvent.created_at >= since)
    )
    # Summed here rather than in SQL: the two engines spell "UTC day of a timestamp" differently, and
    # an admin chart covers a few thousand rows at most.
    sums: dict[tuple[int, date], list] = {}
    for user_id, identity, display_name, created_at, requests, prompt, completion, thinking, total in events:
        answer, thinking = split_completion(prompt, completion, thinking, total)
        row = sums.setdefault((user_id, created_at.date()), [identity, display_name, 0, 0, 0, 0, 0, 0])
        row[2] += requests
        row[3] += prompt
        row[4] += answer
        row[5] += total
        row[6] += thinking
        row[7] += max(0, total - prompt - answer - thinking)
    return [
        DayUsage(user_id, v[0], v[1], day, v[2], v[3], v[4], v[5], v[6], v[7])
        for (user_id, day), v in sorted(sums.items(), key=lambda kv: (kv[0][1], kv[1][0]))
    ]


def split_completion(prompt: int, completion: int, thinking: int, total: int) -> tuple[int, int]:
    """(answer tokens, thinking tokens) of one request, whichever way its provider counted.

    Gemini counts thinking on top of completion (total = prompt + completion + thinking); OpenAI counts
    it inside completion (total = prompt + completion). Told apart by the total, as cost_usd does."""
    if not thinking:
        return completion, 0
    if total >= prompt + completion + thinking:
        return completion, thinking
    return max(0, completion - thinking), thinking
