"""Quotas (turns/quota.py): requests per minute, tokens per day, the global budget and guest caps,
counted in the database on SQLite and PostgreSQL; a refused turn sends nothing and says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

import turns
from chat_client import Endpoint, Params, events
from storage import repository, usage
from storage.models import User
from turns import quota
from turns.conversation import Send, save

NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def make_session(session_maker):
    """A fresh database on each engine (the root conftest.py's `session_maker`)."""
    return session_maker


def new_user(make_session, identity="ann", role="user") -> int:
    with make_session() as session:
        user = repository.ensure_user(session, identity, role=role)
        session.commit()
        return user.id


def spend(make_session, user_id, tokens, at=NOON):
    with make_session() as session:
        usage.record_usage(session, session.get(User, user_id), total_tokens=tokens, at=at)
        session.commit()


def test_requests_per_minute_refuse_the_next_and_say_when_it_resets(make_session):
    ann = new_user(make_session)
    limits = quota.Limits(requests_per_minute=2)
    quota.admit(make_session, ann, limits, now=NOON)
    quota.admit(make_session, ann, limits, now=NOON + timedelta(seconds=10))
    with pytest.raises(quota.QuotaExceeded) as refused:
        quota.admit(make_session, ann, limits, now=NOON + timedelta(seconds=20))
    assert "2 requests per minute" in refused.value.message
    assert "12:01 UTC" in refused.value.message and "(in 40 seconds)" in refused.value.message
    assert not refused.value.per_day
    quota.admit(make_session, ann, limits, now=NOON + timedelta(seconds=61))  # the first has aged out


def test_several_requests_at_once_must_all_fit(make_session):
    ann = new_user(make_session)
    limits = quota.Limits(requests_per_minute=5)
    quota.admit(make_session, ann, limits, requests=3, now=NOON)
    with pytest.raises(quota.QuotaExceeded):
        quota.admit(make_session, ann, limits, requests=3, now=NOON)
    assert len(quota.admit(make_session, ann, limits, requests=2, now=NOON)) == 2
    with pytest.raises(quota.QuotaExceeded, match="more than the 5 per minute"):
        quota.admit(make_session, new_user(make_session, "bob"), limits, requests=6, now=NOON)


def test_tokens_per_day_hold_until_midnight_utc(make_session):
    ann = new_user(make_session)
    limits = quota.Limits(tokens_per_day=1000)
    spend(make_session, ann, 1000)
    with pytest.raises(quota.QuotaExceeded) as refused:
        quota.admit(make_session, ann, limits, now=NOON)
    assert "1,000 tokens for today" in refused.value.message
    assert "00:00 UTC (in 12 hours)" in refused.value.message
    assert refused.value.per_day
    quota.admit(make_session, ann, limits, now=NOON + timedelta(hours=12))  # a new UTC day


def test_one_persons_tokens_do_not_count_against_another(make_session):
    ann, bob = new_user(make_session), new_user(make_session, "bob")
    spend(make_session, ann, 5000)
    quota.admit(make_session, bob, quota.Limits(tokens_per_day=1000), now=NOON)


def test_the_global_budget_counts_everyone(make_session):
    ann, bob = new_user(make_session), new_user(make_session, "bob")
    spend(make_session, ann, 600)
    spend(make_session, bob, 400)
    with pytest.raises(quota.QuotaExceeded, match="team's daily budget of 1,000 tokens"):
        quota.admit(
            make_session, new_user(make_session, "cy"), quota.Limits(global_tokens_per_day=1000), now=NOON
        )


def test_guest_caps_count_the_browsers_day_and_apply_to_guests_only(make_session):
    guest = new_user(make_session, "guest:1", role="guest")
    limits = quota.Limits(guest_messages=2, guest_tokens=10_000)
    quota.admit(make_session, guest, limits)
    quota.admit(make_session, guest, limits)
    with pytest.raises(quota.QuotaExceeded, match="This browser has used 2 of 2 guest messages today"):
        quota.admit(make_session, guest, limits)
    member = new_user(make_session, "ann")
    for _ in range(3):
        quota.admit(make_session, member, limits)


def test_a_guest_out_of_tokens_is_refused(make_session):
    guest = new_user(make_session, "guest:2", role="guest")
    spend(make_session, guest, 500, at=datetime.now(UTC))
    with pytest.raises(quota.QuotaExceeded, match="This browser has used 500 of 500 guest tokens today"):
        quota.admit(make_session, guest, quota.Limits(guest_tokens=500))


def test_admitted_requests_get_their_tokens_afterwards(make_session):
    ann = new_user(make_session)
    [event_id] = quota.admit(make_session, ann, None, model="m", now=NOON)
    quota.add_tokens(
        make_session, ann, event_id, {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    )
    with make_session() as session:
        totals = usage.usage_totals(session, session.get(User, ann), since=NOON - timedelta(hours=1))
    assert (totals.requests, totals.tokens) == (1, 7)


def test_limits_come_from_settings():
    from settings import load_settings

    config = load_settings(
        {"PRISM_REQUESTS_PER_MINUTE": "6", "PRISM_GUEST_ACCESS": "true"},
        {"quotas": {"tokens_per_day": 50_000, "global_tokens_per_day": "0"}, "guest": {"messages": 3}},
    )
    limits = quota.Limits.from_settings(config)
    assert limits == quota.Limits(
        requests_per_minute=6,
        tokens_per_day=50_000,
        global_tokens_per_day=None,
        guest_messages=3,
        guest_tokens=20_000,
        guest_address_messages=30,
        guest_address_tokens=60_000,
    )


# -- the turns ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine():
    from turns.engine import Engine

    with Engine(httpx.AsyncClient()) as running:
        yield running


@pytest.fixture
def model(offline):
    """The session's offline model (the root conftest.py)."""
    return offline


def chat_turn(make_session, user_id, server, limits, engine):
    with make_session() as session:
        conversation = repository.create_conversation(session, session.get(User, user_id))
        session.commit()
        conversation_id = conversation.id
    parent = save(make_session, user_id, conversation_id, Send("hello")).reply_parent
    return turns.Turn(
        make_session=make_session,
        user_id=user_id,
        conversation_id=conversation_id,
        parent_id=parent,
        endpoint=Endpoint(base_url=server.base_url),
        params=Params(model="gemini-2.5-flash", stream=True, stream_options={"include_usage": True}),
        messages=[{"role": "user", "content": "hello"}],
        engine=engine,
        limits=limits,
    )


def test_a_chat_turn_records_its_request_and_tokens(make_session, model, engine):
    ann = new_user(make_session)
    turn = chat_turn(make_session, ann, model, quota.Limits(requests_per_minute=5), engine)
    list(turn.events())
    with make_session() as session:
        totals = usage.usage_totals(
            session, session.get(User, ann), since=datetime.now(UTC) - timedelta(hours=1)
        )
    assert totals.requests == 1
    assert totals.tokens == turn.usage.total_tokens > 0


def test_a_refused_chat_turn_sends_nothing_and_keeps_the_reason(make_session, model, engine):
    ann = new_user(make_session)
    limits = quota.Limits(requests_per_minute=1)
    list(chat_turn(make_session, ann, model, limits, engine).events())
    sent_before = len(model.received)
    refused = chat_turn(make_session, ann, model, limits, engine)
    seen = list(refused.events())
    assert len(model.received) == sent_before, "a refused request must not reach the model"
    assert isinstance(seen[-1], events.StreamError)
    assert isinstance(refused.error, quota.QuotaExceeded)
    assert refused.status == turns.ERROR
    with make_session() as session:
        path = repository.active_path(session, session.get(User, ann), refused.conversation_id)
    assert path[-1].status == "error" and "1 request per minute" in path[-1].error


def test_waiting_for_the_send_of_a_refused_turn_ends_at_once(make_session, model, engine):
    # The chat page waits for its request to be on its way before drawing the sidebar: a request the
    # quota refuses never goes, and the wait must end with the run instead of holding the page.
    ann = new_user(make_session)
    limits = quota.Limits(requests_per_minute=1)
    list(chat_turn(make_session, ann, model, limits, engine).events())
    refused = chat_turn(make_session, ann, model, limits, engine)
    assert refused.wait_sending(timeout=60)
    assert refused.finished and isinstance(refused.error, quota.QuotaExceeded)


def compare_turn(make_session, user_id, server, limits, engine, *, columns=2, repeats=1):
    from turns import compare

    endpoint = Endpoint(base_url=server.base_url, name="offline")
    cols = [
        compare.Column(label=f"col {i}", endpoint=endpoint, params=Params(model="gemini-2.5-flash"))
        for i in range(columns)
    ]
    run_id = compare.create_run(make_session, user_id, prompt="hi", columns=cols, repeats=repeats)
    return compare.CompareTurn(
        make_session=make_session,
        user_id=user_id,
        run_id=run_id,
        columns=cols,
        messages=[compare.first_messages("", [], "hi") for _ in cols],
        repeats=repeats,
        prompt="hi",
        engine=engine,
        limits=limits,
    )


def test_a_compare_run_counts_every_request_and_its_tokens(make_session, model, engine):
    ann = new_user(make_session)
    turn = compare_turn(
        make_session, ann, model, quota.Limits(requests_per_minute=10), engine, columns=2, repeats=2
    )
    turn.run()
    with make_session() as session:
        totals = usage.usage_totals(
            session, session.get(User, ann), since=datetime.now(UTC) - timedelta(hours=1)
        )
    assert totals.requests == 4
    assert totals.tokens == sum(s.usage.total_tokens for s in turn.samples) > 0


def test_a_refused_compare_run_sends_nothing_and_every_result_says_why(make_session, model, engine):
    ann = new_user(make_session)
    sent_before = len(model.received)
    turn = compare_turn(
        make_session, ann, model, quota.Limits(requests_per_minute=3), engine, columns=2, repeats=2
    )
    turn.run()
    assert len(model.received) == sent_before
    assert all(s.status == "error" and isinstance(s.error, quota.QuotaExceeded) for s in turn.samples)


def test_hosting_settings_read_admins_users_and_refuse_a_bad_limit_in_plain_words():
    from settings import load_settings

    config = load_settings(
        {"PRISM_ADMINS": "ann, cy@example.com", "PRISM_PUBLIC_LINKS": "yes"},
        {"auth": {"users": {"ann": "scrypt$..."}, "admins": ["ignored"]}},
    )
    assert config.admins == ("ann", "cy@example.com")
    assert config.password_users == {"ann": "scrypt$..."}
    assert config.public_links
    assert "scrypt$" not in repr(config), "password hashes stay out of reprs"
    with pytest.raises(ValueError, match="PRISM_TOKENS_PER_DAY must be a whole number"):
        load_settings({"PRISM_TOKENS_PER_DAY": "lots"}, {})
