"""Accounts: who a (sign-in method, subject) is, sign-in sessions, the sign-in throttle's counts, guests.

Why it exists: a person used to be one bare string, so identities from different sign-in methods
collided, password sign-ins lived only in one browser tab, and the throttle lived in one server's
memory. Everything here is in the database, so every app server sees the same accounts, sessions and
counts.

What must stay true:
- An account is found only through its (method, subject) identity: `password:ann`, `oidc:ann` and
  `oidc:ann@example.com` are three accounts unless an operator links them (`link_identity`).
- A session token is stored only as its SHA-256; `open_session` refuses a revoked or expired one.
- Revoking is immediate for every server: nothing here caches a session.

Also a small operator's command line (`python -m storage.accounts --help`): list identities, link one
identity to another's account, unlink it again.

No streamlit here: the sign-in component and routes (sign_in.py) hand in what they know.
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import (
    SIGN_IN_METHODS,
    CompareRun,
    Conversation,
    GuestVisit,
    Identity,
    SignInFailure,
    SignInSession,
    UsageEvent,
    User,
    utcnow,
)

LOCAL, PASSWORD, OIDC, GUEST = SIGN_IN_METHODS


def handle(method: str, subject: str) -> str:
    """The users.identity handle of a new account: `method:subject`, or the bare subject for the local
    method (the `none`-mode user `local`; scripts and tests make other local users)."""
    return subject if method == LOCAL else f"{method}:{subject}"


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def find_user(session: Session, method: str, subject: str) -> User | None:
    """The account this identity signs in to, or None."""
    return session.scalar(
        select(User)
        .join(Identity, Identity.user_id == User.id)
        .where(Identity.method == method, Identity.subject == subject)
    )


def ensure_account(
    session: Session, method: str, subject: str, display_name: str = "", role: str = "user"
) -> User:
    """The account of (method, subject), made on first sight; display name and role follow the caller.

    Safe when two app servers sign the same new person in at once (INSERT .. ON CONFLICT DO NOTHING)."""
    if method not in SIGN_IN_METHODS:
        raise ValueError(f"Unknown sign-in method {method!r}.")
    subject = subject.strip()
    if not subject:
        raise ValueError("A user needs a non-empty identity.")
    user = find_user(session, method, subject)
    if user is None:
        insert = _insert(session)
        name = handle(method, subject)
        owner = session.scalar(select(User).where(User.identity == name))
        if owner is not None and session.scalar(select(Identity.id).where(Identity.user_id == owner.id)):
            # The handle belongs to an account of another identity (an old bare string that looked
            # like this handle): never share it; make a handle of our own.
            name = f"{name}#{secrets.token_hex(4)}"
        session.execute(
            insert(User)
            .values(identity=name, display_name=display_name, role=role, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["identity"])
        )
        made = session.scalar(select(User).where(User.identity == name))
        assert made is not None
        session.execute(
            insert(Identity)
            .values(user_id=made.id, method=method, subject=subject, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["method", "subject"])
        )
        user = find_user(session, method, subject)
        assert user is not None
    if display_name and user.display_name != display_name:
        user.display_name = display_name
    if user.role != role:
        user.role = role
    session.flush()
    return user


def identities_of(session: Session, user: User) -> list[Identity]:
    """Every identity that signs in to `user`'s account."""
    return list(session.scalars(select(Identity).where(Identity.user_id == user.id).order_by(Identity.id)))


class LinkRefused(ValueError):
    """Linking would hide someone's history; the message says whose and how much."""


def _holdings(session: Session, user_id: int) -> tuple[int, int]:
    conversations = session.scalar(select(func.count()).where(Conversation.user_id == user_id)) or 0
    runs = session.scalar(select(func.count()).where(CompareRun.user_id == user_id)) or 0
    return conversations, runs


def link_identity(session: Session, method: str, subject: str, *, to: User) -> User:
    """Make (method, subject) sign in to `to`'s account (an operator's decision, never automatic).

    An identity that has an account of its own is moved only if that account holds no conversations
    or comparisons (the empty account is then removed); otherwise LinkRefused says what it holds."""
    found = session.scalar(select(Identity).where(Identity.method == method, Identity.subject == subject))
    if found is not None and found.user_id == to.id:
        return to
    if found is not None:
        old_id = found.user_id
        conversations, runs = _holdings(session, old_id)
        if conversations or runs:
            raise LinkRefused(
                f"{method}:{subject} has an account of its own with {conversations} conversation(s) and "
                f"{runs} comparison(s); linking would hide them. Nothing was changed."
            )
        found.user_id = to.id
        session.flush()
        if not session.scalar(select(Identity.id).where(Identity.user_id == old_id)):
            session.execute(delete(User).where(User.id == old_id))
    else:
        session.add(Identity(user_id=to.id, method=method, subject=subject, created_at=utcnow()))
    session.flush()
    return to


def unlink_identity(session: Session, method: str, subject: str) -> User:
    """Give (method, subject) a fresh, empty account of its own again; the account it signed in to
    keeps everything. Refused for an account's only identity (nobody could sign in to it)."""
    found = session.scalar(select(Identity).where(Identity.method == method, Identity.subject == subject))
    if found is None:
        raise LookupError(f"No identity {method}:{subject}.")
    others = session.scalar(
        select(func.count()).where(Identity.user_id == found.user_id, Identity.id != found.id)
    )
    if not others:
        raise LinkRefused(f"{method}:{subject} is the only way into its account; there is nothing to unlink.")
    session.delete(found)
    session.flush()
    return ensure_account(session, method, subject)


# ------------------------------------------------------------------------------------ sign-in sessions


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    session: Session,
    user: User,
    *,
    method: str,
    lifetime: timedelta,
    address: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> tuple[str, SignInSession]:
    """A new session for `user`: (the random token for the cookie, its row). Only the hash is stored."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = SignInSession(
        user_id=user.id,
        token_hash=token_hash(token),
        method=method,
        address=address[:64],
        user_agent=user_agent[:300],
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    return token, row


def open_session(session: Session, token: str, *, now: datetime | None = None) -> SignInSession | None:
    """The open session this token belongs to (its user loaded), or None: unknown, revoked or expired."""
    if not token:
        return None
    row = session.scalar(select(SignInSession).where(SignInSession.token_hash == token_hash(token)))
    if row is None or not row.is_open(now):
        return None
    return row


def revoke_session(session: Session, token: str, *, now: datetime | None = None) -> bool:
    """Sign this token's session out (everywhere it is used); False if it was not open."""
    row = open_session(session, token, now=now)
    if row is None:
        return False
    row.revoked_at = now or utcnow()
    session.flush()
    return True


def revoke_all(session: Session, user_id: int, *, now: datetime | None = None) -> int:
    """ "Sign out everywhere": revoke every open session of the account; how many were open."""
    now = now or utcnow()
    result = session.execute(
        update(SignInSession)
        .where(
            SignInSession.user_id == user_id,
            SignInSession.revoked_at.is_(None),
            SignInSession.expires_at > now,
        )
        .values(revoked_at=now)
    )
    session.flush()
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class ActiveSessions:
    """One person's open sessions, for the admin page."""

    user_id: int
    handle: str
    display_name: str
    role: str
    sessions: int
    last_seen_at: datetime
    addresses: tuple[str, ...]


def active_sessions(session: Session, *, now: datetime | None = None) -> list[ActiveSessions]:
    """Everyone with an open session, most recently seen first (the admin page; no per-user scope)."""
    now = now or utcnow()
    rows = session.execute(
        select(SignInSession, User)
        .join(User, User.id == SignInSession.user_id)
        .where(SignInSession.revoked_at.is_(None), SignInSession.expires_at > now)
        .order_by(SignInSession.last_seen_at.desc())
    ).all()
    people: dict[int, list] = {}
    for row, user in rows:
        people.setdefault(user.id, [user, []])[1].append(row)
    return [
        ActiveSessions(
            user_id=user.id,
            handle=user.identity,
            display_name=user.display_name,
            role=user.role,
            sessions=len(held),
            last_seen_at=max(r.last_seen_at for r in held),
            addresses=tuple(dict.fromkeys(r.address for r in held if r.address)),
        )
        for user, held in people.values()
    ]


def touch_session(session: Session, row: SignInSession, *, now: datetime | None = None) -> None:
    """Note that the session was used (at most once a minute, to keep writes rare)."""
    now = now or utcnow()
    if now - row.last_seen_at > timedelta(minutes=1):
        session.execute(update(SignInSession).where(SignInSession.id == row.id).values(last_seen_at=now))


# ---------------------------------------------------------------------------------- sign-in throttle


@dataclass(frozen=True)
class FailureCount:
    """Recent wrong passwords for one (name, address)."""

    failures: int
    last_at: datetime | None


def name_key(name: str) -> str:
    """Names are compared without case or surrounding spaces (as the password check does)."""
    return name.strip().lower()[:320]


def failures(session: Session, name: str, address: str, *, since: datetime) -> FailureCount:
    """Wrong passwords for `name` from `address` since `since`, and when the last one was."""
    count, last = session.execute(
        select(func.count(SignInFailure.id), func.max(SignInFailure.created_at)).where(
            SignInFailure.name_key == name_key(name),
            SignInFailure.address == address,
            SignInFailure.created_at >= since,
        )
    ).one()
    return FailureCount(int(count or 0), last)


def record_failure(session: Session, name: str, address: str, *, now: datetime | None = None) -> None:
    session.add(SignInFailure(name_key=name_key(name), address=address[:64], created_at=now or utcnow()))
    session.flush()


def clear_failures(session: Session, name: str, address: str) -> None:
    """A right password from `address` wipes its count for `name` (other addresses keep theirs)."""
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.name_key == name_key(name), SignInFailure.address == address
        )
    )


@dataclass(frozen=True)
class Slowed:
    """A (name, address) the throttle is slowing, for the admin page."""

    name: str
    address: str
    failures: int
    last_at: datetime


def slowed(session: Session, *, since: datetime, at_least: int) -> list[Slowed]:
    """Every (name, address) with at least `at_least` failures since `since`, most failures first."""
    rows = session.execute(
        select(
            SignInFailure.name_key,
            SignInFailure.address,
            func.count(SignInFailure.id),
            func.max(SignInFailure.created_at),
        )
        .where(SignInFailure.created_at >= since)
        .group_by(SignInFailure.name_key, SignInFailure.address)
        .having(func.count(SignInFailure.id) >= at_least)
        .order_by(func.count(SignInFailure.id).desc())
    ).all()
    return [Slowed(n, a, int(c), last) for n, a, c, last in rows]


def forget_old_failures(session: Session, *, before: datetime) -> None:
    session.execute(delete(SignInFailure).where(SignInFailure.created_at < before))


# ------------------------------------------------------------------------------------------- guests


def note_guest_visit(session: Session, user: User, address: str, day: date) -> None:
    """Record that this guest was seen from `address` on `day` (idempotent)."""
    session.execute(
        _insert(session)(GuestVisit)
        .values(user_id=user.id, address=address[:64], day=day)
        .on_conflict_do_nothing(index_elements=["user_id", "address", "day"])
    )


@dataclass(frozen=True)
class GuestUse:
    """What guests used since the start of a UTC day: this browser's guest, and the busiest address it
    was seen from (every guest seen from that address that day together)."""

    browser_requests: int
    browser_tokens: int
    address_requests: int
    address_tokens: int


def guest_use(session: Session, user: User, *, day: date, since: datetime, now: datetime) -> GuestUse:
    """The guest caps' counts for `user` (a guest account) on `day`, whose first instant is `since`;
    tokens include reservations still live at `now` (replies running, storage/usage.py)."""
    held = UsageEvent.total_tokens + case(
        (UsageEvent.reserved_until > now, UsageEvent.reserved_tokens), else_=0
    )

    def totals(user_ids) -> tuple[int, int]:  # type: ignore[no-untyped-def]
        row = session.execute(
            select(
                func.coalesce(func.sum(UsageEvent.requests), 0),
                func.coalesce(func.sum(held), 0),
            ).where(UsageEvent.user_id.in_(user_ids), UsageEvent.created_at >= since)
        ).one()
        return int(row[0]), int(row[1])

    browser = totals([user.id])
    addresses = select(GuestVisit.address).where(GuestVisit.user_id == user.id, GuestVisit.day == day)
    busiest = (0, 0)
    for address in session.scalars(addresses):
        guests = select(GuestVisit.user_id).where(GuestVisit.address == address, GuestVisit.day == day)
        busiest = max(busiest, totals(guests))
    return GuestUse(browser[0], browser[1], max(busiest[0], browser[0]), max(busiest[1], browser[1]))


# ------------------------------------------------------------------------------- the operator's CLI


def _identity_arg(text: str) -> tuple[str, str]:
    method, sep, subject = text.partition(":")
    if not sep or method not in SIGN_IN_METHODS or not subject.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not METHOD:SUBJECT, with METHOD one of {', '.join(SIGN_IN_METHODS)} "
            "(e.g. password:ann or oidc:ann@example.com)."
        )
    return method, subject.strip()


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m storage.accounts list|link|unlink`: see --help."""
    parser = argparse.ArgumentParser(
        prog="python -m storage.accounts",
        description="Which identities sign in to which Prism account; link two on purpose.",
    )
    parser.add_argument(
        "--database", help="SQLAlchemy URL (default: PRISM_DATABASE_URL, then secrets, then data/prism.db)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every account and the identities that sign in to it")
    link = commands.add_parser("link", help="let IDENTITY sign in to the account of TO_IDENTITY")
    link.add_argument(
        "identity", type=_identity_arg, metavar="IDENTITY", help="METHOD:SUBJECT, e.g. oidc:ann@example.com"
    )
    link.add_argument(
        "to", type=_identity_arg, metavar="TO_IDENTITY", help="METHOD:SUBJECT of the account to join"
    )
    unlink = commands.add_parser("unlink", help="give IDENTITY an empty account of its own again")
    unlink.add_argument("identity", type=_identity_arg, metavar="IDENTITY")
    args = parser.parse_args(argv)

    from storage.database import open_database, session_factory

    url = args.database
    if not url:
        from settings import load_settings

        url = load_settings(secrets=_secrets_file()).database_url
    with session_factory(open_database(url))() as session:
        if args.command == "list":
            for user in session.scalars(select(User).order_by(User.id)):
                names = ", ".join(f"{i.method}:{i.subject}" for i in identities_of(session, user))
                print(f"{user.id}\t{user.identity}\t{user.role}\t{names}")
            return 0
        try:
            if args.command == "link":
                target = find_user(session, *args.to)
                if target is None:
                    print(f"No account signs in as {args.to[0]}:{args.to[1]}.", file=sys.stderr)
                    return 1
                link_identity(session, *args.identity, to=target)
                message = f"{args.identity[0]}:{args.identity[1]} now signs in to account {target.identity}."
            else:
                user = unlink_identity(session, *args.identity)
                message = f"{args.identity[0]}:{args.identity[1]} now has its own account, {user.identity}."
        except (LinkRefused, LookupError) as refused:
            print(str(refused).strip("'\""), file=sys.stderr)
            return 1
        session.commit()
        print(message)
    return 0


def _secrets_file() -> dict:
    import tomllib
    from pathlib import Path

    path = Path(".streamlit/secrets.toml")
    try:
        return tomllib.loads(path.read_text()) if path.exists() else {}
    except (OSError, tomllib.TOMLDecodeError):
        return {}


if __name__ == "__main__":
    raise SystemExit(main())
