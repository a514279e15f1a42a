"""Quotas: may this person send these requests now? Checked before anything is sent, counted in the database.

Why here: a turn is the one place a request is sent, so the check and the count sit beside it, and
both pages get them by passing `limits` to their turn. The counts live in storage's
usage ledger (storage/usage.py), so every app server sharing the database sees the same numbers.

What must stay true:
- `admit` checks every limit and, only if all allow, records one ledger row per request in the same
  transaction, serialised per person on both engines, so neither two threads nor two app servers can
  both let the last allowed request through: on PostgreSQL a transaction-scoped advisory lock (one
  for everyone while a global budget is set, else one per person); on SQLite the transaction begins
  with BEGIN IMMEDIATE, which takes the database's one write lock before the counts are read.
- Tokens are reserved at admission (`reservation`: the prompt's estimate plus, per candidate, the
  request's max tokens, which the engine sets to `Limits.reserve_tokens` when a token limit is in
  force and the request sets none) and count against every token limit until the request is settled
  (`add_tokens`) to the real usage; a request that ended without a usage report (stopped, failed) is
  settled to an estimate of what it used (`estimate`). A reservation whose writer died before
  settling stops counting after RESERVATION_LIFETIME.
- A token limit admits a request only if its reservation fits in what is left; so a person ends a day
  above a limit only by what the estimates missed (see the README's quota section).
- A refusal says in plain words what was hit and when it resets (UTC), and nothing is sent.
- A request that failed still counts as a request.
- Guest caps apply to role `guest` only, per UTC day: per browser (its guest account, kept by a guest
  cookie) and per client address (every guest seen from it that day), before the global budget.

No streamlit here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from chat_client.errors import RateLimitError
from settings import DEFAULT_RESERVE_TOKENS
from storage import accounts, usage
from storage.models import User, utcnow

# Keys for pg_advisory_xact_lock: one lock for all admits when a global budget is set, else per user.
_GLOBAL_LOCK = 0x5052_4953  # "PRIS"
_USER_LOCK_BASE = 0x5052_0000_0000

RESERVATION_LIFETIME = timedelta(minutes=15)  # longer than any request may run (turns/engine.py)
CHARS_PER_TOKEN = 3  # a cautious estimate (English runs near 4): text is never under-counted by much
IMAGE_TOKENS = 258  # what Gemini counts for an image of up to 384 x 384; larger ones are tiled (more)


@dataclass(frozen=True)
class Limits:
    """The limits in force; None means no limit."""

    requests_per_minute: int | None = None
    tokens_per_day: int | None = None
    global_tokens_per_day: int | None = None
    guest_messages: int | None = None
    guest_tokens: int | None = None
    guest_address_messages: int | None = None
    guest_address_tokens: int | None = None
    reserve_tokens: int = DEFAULT_RESERVE_TOKENS  # reserved per candidate when a request sets no max tokens

    @property
    def limits_tokens(self) -> bool:
        """True when a token limit is in force (a request without max tokens is then sent with one)."""
        return any(
            v is not None
            for v in (
                self.tokens_per_day,
                self.global_tokens_per_day,
                self.guest_tokens,
                self.guest_address_tokens,
            )
        )

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """The limits a Settings object configures (settings.py)."""
        return cls(
            requests_per_minute=settings.requests_per_minute,
            tokens_per_day=settings.tokens_per_day,
            global_tokens_per_day=settings.global_tokens_per_day,
            guest_messages=settings.guest_messages if settings.guest_access else None,
            guest_tokens=settings.guest_tokens if settings.guest_access else None,
            guest_address_messages=settings.guest_address_messages if settings.guest_access else None,
            guest_address_tokens=settings.guest_address_tokens if settings.guest_access else None,
            reserve_tokens=settings.reserve_tokens,
        )

    def describe(self) -> list[tuple[str, str]]:
        """(limit, value) rows in plain words, for the admin page."""

        def show(value: int | None) -> str:
            return "no limit" if value is None else f"{value:,}"

        return [
            ("Requests per minute, per person", show(self.requests_per_minute)),
            ("Tokens per day (UTC), per person", show(self.tokens_per_day)),
            ("Tokens per day (UTC), everyone together", show(self.global_tokens_per_day)),
            ("Guest messages per day (UTC), per browser", show(self.guest_messages)),
            ("Guest tokens per day (UTC), per browser", show(self.guest_tokens)),
            ("Guest messages per day (UTC), per client address", show(self.guest_address_messages)),
            ("Guest tokens per day (UTC), per client address", show(self.guest_address_tokens)),
            ("Tokens reserved per reply that sets no max tokens", show(self.reserve_tokens)),
        ]


class QuotaExceeded(RateLimitError):
    """A request refused by our own quota (never sent). A RateLimitError, so the page shows it as one."""

    def __init__(self, message: str, *, resets_at: datetime | None, per_day: bool, now: datetime) -> None:
        retry = (resets_at - now).total_seconds() if resets_at else None
        super().__init__(message, None, retry_after=retry, per_day=per_day)
        self.resets_at = resets_at


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}{'' if number == 1 else 's'}"


def _when(resets_at: datetime, now: datetime) -> str:
    """When a limit resets, in words: "It resets at 00:00 UTC (in 5 hours 3 minutes)."."""
    seconds = max(0, int((resets_at - now).total_seconds()))
    if seconds < 60:
        wait = _count(max(seconds, 1), "second")
    elif seconds < 3600:
        wait = _count((seconds + 59) // 60, "minute")
    else:
        hours, minutes = seconds // 3600, (seconds % 3600) // 60
        wait = _count(hours, "hour") + (f" {_count(minutes, 'minute')}" if minutes else "")
    return f"It resets at {resets_at:%H:%M} UTC (in {wait})."


def _lock(session: Session, user_id: int, limits: Limits) -> None:
    """Serialise admissions: held until the admitting transaction commits or rolls back.

    Must be the transaction's first statement. SQLite: storage keeps the sqlite3 module's legacy
    transactions, where a SELECT runs outside any transaction, so the counts could be read by two
    admissions at once and both insert; BEGIN IMMEDIATE takes the write lock first (waiting on the
    busy timeout), and the counts are then read inside it."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        return
    key = _GLOBAL_LOCK if limits.global_tokens_per_day is not None else _USER_LOCK_BASE + user_id
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


# -- reservations ----------------------------------------------------------------------------------------


def max_tokens(params: Any) -> int | None:
    """The request's own cap on a reply (max_completion_tokens, else max_tokens), or None."""
    for name in ("max_completion_tokens", "max_tokens"):
        value = getattr(params, name, None)
        if value:
            return int(value)
    return None


def prompt_estimate(messages: Sequence[Mapping[str, Any]]) -> int:
    """Tokens the messages will likely count as a prompt: text at CHARS_PER_TOKEN, images at IMAGE_TOKENS."""
    chars = images = 0
    for message in messages:
        content = message.get("content")
        parts = content if isinstance(content, list) else [content]
        for part in parts:
            if isinstance(part, str):
                chars += len(part)
            elif isinstance(part, Mapping):
                if part.get("type") == "image_url":
                    images += 1
                else:
                    chars += len(str(part.get("text") or ""))
        for call in message.get("tool_calls") or ():
            chars += len(str(call))
    return math.ceil(chars / CHARS_PER_TOKEN) + images * IMAGE_TOKENS


def reply_allowance(params: Any, limits: Limits | None) -> int:
    """Tokens reserved for the reply itself: n x (max tokens, or the configured default)."""
    per_candidate = max_tokens(params)
    if per_candidate is None:
        per_candidate = limits.reserve_tokens if limits is not None else DEFAULT_RESERVE_TOKENS
    return max(1, int(getattr(params, "n", None) or 1)) * per_candidate


def reservation(params: Any, messages: Sequence[Mapping[str, Any]], limits: Limits | None) -> int:
    """Tokens a request is held to at admission: its prompt's estimate plus its reply allowance.

    On Gemini max tokens includes thinking (maxOutputTokens), so thinking is inside the allowance."""
    return prompt_estimate(messages) + reply_allowance(params, limits)


def estimate(reserved: int, prompt: int, produced_chars: int) -> dict[str, int]:
    """Usage for a request that ended with no usage report: the prompt's estimate plus the text it
    produced at CHARS_PER_TOKEN, never more than was reserved (when something was)."""
    completion = math.ceil(produced_chars / CHARS_PER_TOKEN)
    total = prompt + completion
    if reserved:
        total = min(total, reserved)
        completion = max(0, total - prompt)
    return {"prompt_tokens": total - completion, "completion_tokens": completion, "total_tokens": total}


def _too_big(reserve: int, left: str) -> str:
    """Why a reservation that does not fit is refused, when the limit itself is not yet reached."""
    return (
        f"This request may use up to {reserve:,} tokens (the prompt plus its max tokens), and {left} "
        "(counting replies still running). Set a smaller Max tokens, or wait for the reset."
    )


def _guest_refusal(session: Session, user: User, limits: Limits, requests: int, reserve: int, now: datetime):
    """Guest caps, per UTC day: this browser's guest, and every guest seen from its address together
    (storage/accounts.py), counting replies still running; the refusal says exactly what was used."""
    start = datetime.combine(now.date(), datetime.min.time(), tzinfo=now.tzinfo)
    use = accounts.guest_use(session, user, day=now.date(), since=start, now=now)
    resets = start + timedelta(days=1)
    go_on = f"Sign in with an account to go on. {_when(resets, now)}"
    for limit, used, who in (
        (limits.guest_messages, use.browser_requests, "This browser has"),
        (limits.guest_address_messages, use.address_requests, "Guests at your address have"),
    ):
        if limit is not None and used + requests > limit:
            needs = "" if requests == 1 else f"; this needs {requests}"
            return QuotaExceeded(
                f"{who} used {min(used, limit):,} of {limit:,} guest messages today{needs}. {go_on}",
                resets_at=resets,
                per_day=True,
                now=now,
            )
    for limit, used, who, whose, its in (
        (limits.guest_tokens, use.browser_tokens, "This browser has", "this browser has", "its"),
        (
            limits.guest_address_tokens,
            use.address_tokens,
            "Guests at your address have",
            "guests at your address have",
            "their",
        ),
    ):
        if limit is not None and used + max(reserve, 1) > limit:
            if used < limit:
                words = _too_big(
                    reserve, f"{whose} {limit - used:,} of {its} {limit:,} guest tokens left today"
                )
            else:
                words = f"{who} used {min(used, limit):,} of {limit:,} guest tokens today. {go_on}"
            return QuotaExceeded(words, resets_at=resets, per_day=True, now=now)
    return None


def refusal(
    session: Session,
    user: User,
    limits: Limits,
    *,
    requests: int = 1,
    reserve: int = 0,
    now: datetime | None = None,
):
    """Why `requests` more requests, reserving `reserve` tokens in all, may not be sent now (a
    QuotaExceeded), or None if they may."""
    now = now or utcnow()
    if user.role == "guest":
        refused = _guest_refusal(session, user, limits, requests, reserve, now)
        if refused is not None:
            return refused
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
            verdict = usage.check_quota(session, user, tokens_per_day=limit, now=now, reserve=reserve)
        else:
            verdict = usage.check_quota(session, user, global_tokens_per_day=limit, now=now, reserve=reserve)
        if not verdict.allowed:
            if verdict.used < limit:
                left = max(0, limit - verdict.used)
                whose = "you have" if per_person else "the team has"
                what = _too_big(reserve, f"{whose} {left:,} of {limit:,} tokens for today left")
            elif per_person:
                what = f"You have used your {limit:,} tokens for today."
            else:
                what = f"The team's daily budget of {limit:,} tokens is spent for today."
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
    reserve: int | Sequence[int] = 0,
    now: datetime | None = None,
) -> list[int]:
    """Check the limits and record `requests` ledger rows with their reservations; their ids, or
    QuotaExceeded raised.

    `model` names the model of every request, or gives one model per request; `reserve` is the tokens
    reserved by every request, or one number per request (`reservation`)."""
    models = [model] * requests if isinstance(model, str) else list(model)
    reserves = [reserve] * requests if isinstance(reserve, int) else list(reserve)
    at = now or utcnow()
    with make_session() as session:
        if limits is not None:
            _lock(session, user_id, limits)
        user = session.get(User, user_id)
        if user is None:
            raise LookupError("The acting user does not exist.")
        if limits is not None:
            refused = refusal(session, user, limits, requests=requests, reserve=sum(reserves), now=at)
            if refused is not None:
                raise refused
        ids = [
            usage.record_usage(
                session,
                user,
                model=m,
                kind=kind,
                at=at,
                reserved_tokens=r,
                reserved_until=at + RESERVATION_LIFETIME,
            ).id
            for m, r in zip(models, reserves, strict=True)
        ]
        session.commit()
        return ids


def add_tokens(
    make_session: sessionmaker[Session], user_id: int, event_id: int, counts: Mapping[str, int] | None
) -> None:
    """Settle the ledger row made when the request was admitted: its real token counts in (none: zero),
    its reservation released."""
    counts = counts or {}
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
