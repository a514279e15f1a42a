"""Accounts (storage/accounts.py) on SQLite and PostgreSQL: identities keyed by (method, subject), the
upgrade from 0005 that carries every user over, operator links, sign-in sessions and the throttle's
counts shared by two app servers on one database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

import passwords
import sign_in
from settings import Settings
from storage import accounts, database, migrations, open_database, session_factory
from storage import repository as r
from storage.models import utcnow

BEFORE = "0009_eval_runs"  # the revision before this one


def test_password_oidc_subject_and_oidc_email_named_ann_are_three_accounts(session):
    password = accounts.ensure_account(session, "password", "ann")
    subject = accounts.ensure_account(session, "oidc", "ann")
    email = accounts.ensure_account(session, "oidc", "ann@example.com")
    assert len({password.id, subject.id, email.id}) == 3
    r.create_conversation(session, password, title="password ann's")
    assert r.list_conversations(session, subject) == [] and r.list_conversations(session, email) == []
    assert accounts.ensure_account(session, "password", "ann").id == password.id  # found again, not made
    assert {u.identity for u in (password, subject, email)} == {
        "password:ann",
        "oidc:ann",
        "oidc:ann@example.com",
    }


def _fill_before(engine) -> None:
    stamp = datetime(2026, 3, 4, 5, 6, 7)
    stamp = stamp if engine.dialect.name == "sqlite" else stamp.replace(tzinfo=UTC)
    people = [
        (1, "local", "You", "admin"),
        (2, "ann", "ann", "admin"),
        (3, "ann@example.com", "Ann", "user"),
        (4, "guest:0a1b2c", "Guest", "guest"),
        (5, "password:bob", "odd", "user"),  # an old name that looks like a new handle
        (6, "bob", "bob", "user"),
    ]
    with engine.begin() as conn:
        for uid, identity, name, role in people:
            conn.execute(
                text(
                    "INSERT INTO users (id, identity, display_name, role, created_at) "
                    "VALUES (:i, :n, :d, :r, :t)"
                ),
                {"i": uid, "n": identity, "d": name, "r": role, "t": stamp},
            )
            conn.execute(
                text(
                    "INSERT INTO conversations (id, user_id, title, system_prompt, params, endpoint, model, "
                    "pinned, archived, branch_choices, created_at, updated_at) "
                    "VALUES (:i, :i, :title, '', '{}', '', '', :f, :f, '{}', :t, :t)"
                ),
                {"i": uid, "title": f"history of {identity}", "f": False, "t": stamp},
            )
            conn.execute(
                text(
                    "INSERT INTO usage_events (user_id, created_at, kind, model, requests, prompt_tokens, "
                    "completion_tokens, reasoning_tokens, total_tokens) "
                    "VALUES (:i, :t, 'chat', '', 1, 1, 1, 0, 2)"
                ),
                {"i": uid, "t": stamp},
            )
        if engine.dialect.name == "postgresql":
            for table in ("users", "conversations"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 100)"))


def test_the_upgrade_carries_every_user_over_with_their_history(empty_db_url):
    engine = database._create_engine(empty_db_url)
    migrations.upgrade(engine, BEFORE)
    _fill_before(engine)
    engine.dispose()

    make = session_factory(open_database(empty_db_url))  # start-up: upgrade to head
    with make() as s:
        expected = {
            ("local", "local"): (1, "local"),
            ("password", "ann"): (2, "password:ann"),
            ("oidc", "ann@example.com"): (3, "oidc:ann@example.com"),
            ("guest", "0a1b2c"): (4, "guest:0a1b2c"),
            ("password", "password:bob"): (5, "password:password:bob"),
            ("password", "bob"): (6, "password:bob"),  # free again once the odd old name moved
        }
        for (method, subject), (uid, handle) in expected.items():
            user = accounts.find_user(s, method, subject)
            assert user is not None and (user.id, user.identity) == (uid, handle), (method, subject)
            [conv] = r.list_conversations(s, user)
            assert conv.id == uid and conv.title.startswith("history of")
        # The same string from the other method is somebody new, with nothing of the old account.
        newcomer = accounts.ensure_account(s, "oidc", "ann")
        assert newcomer.id not in {v[0] for v in expected.values()}
        assert r.list_conversations(s, newcomer) == []
        assert r.ensure_user(s, "local").id == 1  # none mode still finds its one user
        assert s.scalar(text("SELECT count(*) FROM usage_events")) == 6
        s.commit()


def test_downgrade_puts_the_bare_strings_back(empty_db_url):
    engine = database._create_engine(empty_db_url)
    migrations.upgrade(engine, BEFORE)
    _fill_before(engine)
    migrations.upgrade(engine)
    migrations.downgrade(engine, BEFORE)
    with engine.connect() as conn:
        names = dict(conn.execute(text("SELECT id, identity FROM users")).all())
    engine.dispose()
    assert names == {
        1: "local",
        2: "ann",
        3: "ann@example.com",
        4: "guest:0a1b2c",
        5: "password:bob",
        6: "bob",
    }


def test_an_operator_links_an_empty_identity_and_is_refused_one_with_history(session):
    ann = accounts.ensure_account(session, "password", "ann")
    r.create_conversation(session, ann, title="ann's")
    accounts.ensure_account(session, "oidc", "ann@example.com")  # signed in once, owns nothing
    accounts.link_identity(session, "oidc", "ann@example.com", to=ann)
    assert accounts.find_user(session, "oidc", "ann@example.com").id == ann.id
    busy = accounts.ensure_account(session, "oidc", "busy@example.com")
    r.create_conversation(session, busy, title="busy's own")
    with pytest.raises(accounts.LinkRefused, match="1 conversation"):
        accounts.link_identity(session, "oidc", "busy@example.com", to=ann)
    assert accounts.find_user(session, "oidc", "busy@example.com").id == busy.id
    fresh = accounts.unlink_identity(session, "oidc", "ann@example.com")
    assert fresh.id != ann.id and r.list_conversations(session, fresh) == []
    assert [c.title for c in r.list_conversations(session, ann)] == ["ann's"]


def test_the_link_command_links_and_says_what_it_did(db_url, capsys):
    make = session_factory(open_database(db_url))
    with make() as s:
        accounts.ensure_account(s, "password", "ann")
        s.commit()
    assert accounts.main(["--database", db_url, "link", "oidc:ann@example.com", "password:ann"]) == 0
    assert "now signs in to account password:ann" in capsys.readouterr().out
    assert accounts.main(["--database", db_url, "link", "oidc:x", "password:nobody"]) == 1
    assert "No account signs in as password:nobody" in capsys.readouterr().err
    with make() as s:
        assert accounts.find_user(s, "oidc", "ann@example.com").identity == "password:ann"


def test_a_session_is_refused_once_revoked_or_expired(session):
    ann = accounts.ensure_account(session, "password", "ann")
    now = utcnow()
    token, _ = accounts.start_session(session, ann, method="password", lifetime=timedelta(hours=1), now=now)
    assert accounts.open_session(session, token, now=now).user_id == ann.id
    assert accounts.open_session(session, token, now=now + timedelta(hours=2)) is None
    assert accounts.revoke_session(session, token, now=now)
    assert accounts.open_session(session, token, now=now) is None
    stored = session.scalar(text("SELECT token_hash FROM sign_in_sessions"))
    assert token not in stored, "only the token's hash is kept"


SECRET = "a test secret"


def _config(db_url: str, **extra) -> Settings:
    return Settings(
        database_url=db_url,
        auth_mode="password",
        password_users={"ann": passwords.hash_password("right", n=2**10)},
        **extra,
    )


def test_fifty_wrong_passwords_from_one_address_do_not_stop_the_right_one_from_another(db_url):
    make = session_factory(open_database(db_url))
    config = _config(db_url, sign_in_max_delay=60)
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    waits, wrong = [], 0
    while wrong < 50:  # fifty wrong passwords actually checked, each made as soon as it is let through
        result = sign_in.attempt(make, config, SECRET, "ann", "wrong", "203.0.113.9", now=now)
        if result.code == "wait":
            waits.append(result.retry_after)
            now += timedelta(seconds=result.retry_after)
        else:
            assert result.code == "mismatch"
            wrong += 1
    assert waits[:6] == [1, 2, 4, 8, 16, 32] and set(waits[6:]) == {60}, "doubling, up to the ceiling"
    slowed = sign_in.attempt(make, config, SECRET, "ann", "right", "203.0.113.9", now=now)
    assert (slowed.ok, slowed.code, slowed.retry_after) == (False, "wait", 60)
    assert sign_in.attempt(make, config, SECRET, "ann", "right", "198.51.100.7", now=now).ok
    # The slowed address is let through once its wait is over, and the right password clears it.
    later = now + timedelta(seconds=61)
    assert sign_in.attempt(make, config, SECRET, "ann", "right", "203.0.113.9", now=later).ok
    assert sign_in.attempt(make, config, SECRET, "ann", "wrong", "203.0.113.9", now=later).code == "mismatch"


def test_two_app_servers_on_one_database_count_the_same_failures(db_url):
    first = session_factory(open_database(db_url))
    second_engine = database._create_engine(db_url)  # another server: its own engine and pool
    second = session_factory(second_engine)
    config = _config(db_url)
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    try:
        for make in (first, second, first):  # three wrong passwords, spread over the two servers
            assert (
                sign_in.attempt(make, config, SECRET, "ann", "wrong", "203.0.113.9", now=now).code
                == "mismatch"
            )
        # The fourth, on either server, must wait: they share the count.
        assert sign_in.attempt(second, config, SECRET, "ann", "right", "203.0.113.9", now=now).code == "wait"
        assert sign_in.attempt(first, config, SECRET, "ann", "right", "203.0.113.9", now=now).code == "wait"
        with second() as s:
            [row] = accounts.slowed(s, since=now - timedelta(hours=1), at_least=sign_in.FREE_FAILURES)
            assert (row.name, row.address, row.failures) == ("ann", "203.0.113.9", 3)
    finally:
        second_engine.dispose()


def test_a_session_started_on_one_server_is_signed_out_on_the_other(db_url):
    first = session_factory(open_database(db_url))
    second_engine = database._create_engine(db_url)
    second = session_factory(second_engine)
    config = _config(db_url)
    try:
        result = sign_in.attempt(first, config, SECRET, "ann", "right", "192.0.2.1")
        assert sign_in.resolve(second, SECRET, result.cookie).subject == "ann"
        assert sign_in.sign_out(second, SECRET, result.cookie)
        assert sign_in.resolve(first, SECRET, result.cookie) is None
        assert sign_in.resolve(second, SECRET, result.cookie) is None
        rotated = sign_in.attempt(first, config, SECRET, "ann", "right", "192.0.2.1")
        again = sign_in.attempt(
            first, config, SECRET, "ann", "right", "192.0.2.1", previous_cookie=rotated.cookie
        )
        assert sign_in.resolve(second, SECRET, rotated.cookie) is None, "signing in again rotates"
        assert sign_in.resolve(second, SECRET, again.cookie) is not None
        assert sign_in.resolve(second, "another secret", again.cookie) is None
    finally:
        second_engine.dispose()
