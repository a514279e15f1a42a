"""Quota admission under load and token reservations (turns/quota.py, turns/engine.py), on SQLite and
PostgreSQL.

- Admission is serialised per person: 20 admissions at once, from threads on two engines (two app
  servers' connection pools on one database), against 5 requests a minute, let exactly 5 through.
- Tokens are reserved at admission and settled at the end: a request whose reservation does not fit
  in what is left today is refused and says why; replies still running count against the per-person
  and the team's daily limits; a reservation whose writer died stops counting after its lifetime; a
  request with no max tokens is sent with its reservation as max tokens (only while a token limit is
  in force), and a day of such replies never passes its limit; stopped and compare runs leave no
  reservation behind.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

import turns
from chat_client import Endpoint, Params
from storage import database, repository, session_factory, usage
from storage.models import UsageEvent, User
from turns import quota
from turns.conversation import Send, save

NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def new_user(make_session, identity="ann") -> int:
    with make_session() as session:
        user = repository.ensure_user(session, identity)
        session.commit()
        return user.id


def spend(make_session, user_id, tokens, at=NOON):
    with make_session() as session:
        usage.record_usage(session, session.get(User, user_id), total_tokens=tokens, at=at)
        session.commit()


def ledger(make_session, user_id) -> list[UsageEvent]:
    with make_session() as session:
        return list(session.scalars(select(UsageEvent).where(UsageEvent.user_id == user_id)))


# -- admission is atomic ------------------------------------------------------------------------------


def test_twenty_simultaneous_admissions_against_five_a_minute_let_exactly_five_through(db_url):
    first = session_factory(database.open_database(db_url))
    second_engine = database._create_engine(db_url)  # a second app server's own pool on the same database
    second = session_factory(second_engine)
    ann = new_user(first)
    limits = quota.Limits(requests_per_minute=5)
    start = threading.Barrier(20)
    admitted: list[int] = []
    refused: list[quota.QuotaExceeded] = []
    failures: list[BaseException] = []

    def admission(index: int) -> None:
        make_session = first if index % 2 else second
        start.wait()
        try:
            admitted.extend(quota.admit(make_session, ann, limits, now=NOON))
        except quota.QuotaExceeded as no:
            refused.append(no)
        except BaseException as failure:
            failures.append(failure)

    threads = [threading.Thread(target=admission, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    second_engine.dispose()
    assert failures == []
    assert (len(admitted), len(refused)) == (5, 15)
    assert len(ledger(first, ann)) == 5
    assert all("5 requests per minute" in no.message for no in refused)


# -- reservations at admission ------------------------------------------------------------------------


def test_a_reservation_that_does_not_fit_in_what_is_left_is_refused_in_plain_words(session_maker):
    ann = new_user(session_maker)
    spend(session_maker, ann, 900)
    limits = quota.Limits(tokens_per_day=1000)
    with pytest.raises(quota.QuotaExceeded) as refused:
        quota.admit(session_maker, ann, limits, reserve=200, now=NOON + timedelta(minutes=1))
    words = refused.value.message
    assert "up to 200 tokens" in words and "100 of 1,000 tokens for today left" in words
    assert "smaller Max tokens" in words and "00:00 UTC" in words
    assert refused.value.per_day
    quota.admit(session_maker, ann, limits, reserve=100, now=NOON + timedelta(minutes=1))  # it fits exactly


def test_replies_still_running_count_against_the_daily_limit_until_settled(session_maker):
    ann = new_user(session_maker)
    limits = quota.Limits(tokens_per_day=1000)
    [running] = quota.admit(session_maker, ann, limits, reserve=600, now=NOON)
    with pytest.raises(quota.QuotaExceeded, match="400 of 1,000 tokens for today left"):
        quota.admit(session_maker, ann, limits, reserve=600, now=NOON)
    quota.add_tokens(session_maker, ann, running, {"prompt_tokens": 20, "completion_tokens": 30})
    quota.admit(session_maker, ann, limits, reserve=600, now=NOON)  # the reply used 50, not 600
    rows = sorted(ledger(session_maker, ann), key=lambda e: e.id)
    assert [(e.total_tokens, e.reserved_tokens) for e in rows] == [(50, 0), (0, 600)]


def test_the_team_budget_counts_everyones_reservations(session_maker):
    ann, bob = new_user(session_maker), new_user(session_maker, "bob")
    limits = quota.Limits(global_tokens_per_day=1000)
    quota.admit(session_maker, ann, limits, reserve=700, now=NOON)
    with pytest.raises(quota.QuotaExceeded, match="the team has 300 of 1,000 tokens for today left"):
        quota.admit(session_maker, bob, limits, reserve=400, now=NOON)
    quota.admit(session_maker, bob, limits, reserve=300, now=NOON)
    with pytest.raises(quota.QuotaExceeded, match="team's daily budget of 1,000 tokens is spent"):
        quota.admit(session_maker, bob, limits, reserve=1, now=NOON)


def test_a_reservation_whose_writer_died_stops_counting_after_its_lifetime(session_maker):
    ann = new_user(session_maker)
    limits = quota.Limits(tokens_per_day=1000)
    quota.admit(session_maker, ann, limits, reserve=900, now=NOON)  # never settled: its server crashed
    with pytest.raises(quota.QuotaExceeded):
        quota.admit(session_maker, ann, limits, reserve=900, now=NOON + quota.RESERVATION_LIFETIME / 2)
    quota.admit(session_maker, ann, limits, reserve=900, now=NOON + quota.RESERVATION_LIFETIME)


def test_a_reservation_is_the_prompt_estimate_plus_max_tokens_per_candidate():
    messages = [{"role": "user", "content": "x" * 30}]
    limits = quota.Limits(reserve_tokens=500)
    assert quota.reservation(Params(max_completion_tokens=100), messages, limits) == 10 + 100
    assert quota.reservation(Params(max_tokens=100, n=3), messages, limits) == 10 + 300
    assert quota.reservation(Params(), messages, limits) == 10 + 500
    image = {"role": "user", "content": [{"type": "text", "text": "x" * 3}, {"type": "image_url"}]}
    assert quota.prompt_estimate([image]) == 1 + quota.IMAGE_TOKENS


def test_the_reserve_setting_is_read_and_a_bad_one_refused():
    from settings import load_settings

    assert (
        quota.Limits.from_settings(load_settings({"PRISM_RESERVE_TOKENS": "2048"}, {})).reserve_tokens == 2048
    )
    assert load_settings({}, {"quotas": {"reserve_tokens": 64}}).reserve_tokens == 64
    assert load_settings({}, {}).reserve_tokens == 8192
    with pytest.raises(ValueError, match="PRISM_RESERVE_TOKENS must be a whole number"):
        load_settings({"PRISM_RESERVE_TOKENS": "many"}, {})


# -- the engine reserves, cuts and settles ---------------------------------------------------------------


@pytest.fixture(scope="module")
def engine():
    from turns.engine import Engine

    with Engine(httpx.AsyncClient()) as running:
        yield running


def chat_turn(make_session, user_id, server, limits, engine, prompt="tell me about prism", **params):
    with make_session() as session:
        conversation = repository.create_conversation(session, session.get(User, user_id))
        session.commit()
        conversation_id = conversation.id
    parent = save(make_session, user_id, conversation_id, Send(prompt)).reply_parent
    return turns.Turn(
        make_session=make_session,
        user_id=user_id,
        conversation_id=conversation_id,
        parent_id=parent,
        endpoint=Endpoint(base_url=server.base_url),
        params=Params(
            model="gemini-2.5-flash", stream=True, stream_options={"include_usage": True}, **params
        ),
        messages=[{"role": "user", "content": prompt}],
        engine=engine,
        limits=limits,
    )


def test_a_chat_reply_whose_max_tokens_would_overshoot_is_refused_and_nothing_is_sent(
    session_maker, offline, engine
):
    ann = new_user(session_maker)
    spend(session_maker, ann, 900, at=datetime.now(UTC))
    sent_before = len(offline.received)
    turn = chat_turn(session_maker, ann, offline, quota.Limits(tokens_per_day=1000), engine, max_tokens=500)
    list(turn.events())
    assert len(offline.received) == sent_before
    assert isinstance(turn.error, quota.QuotaExceeded) and "Set a smaller Max tokens" in turn.error.message
    fits = chat_turn(session_maker, ann, offline, quota.Limits(tokens_per_day=1000), engine, max_tokens=20)
    list(fits.events())
    assert fits.error is None and fits.status in (turns.COMPLETE, turns.LENGTH)


def test_a_reply_with_no_max_tokens_is_sent_with_its_reservation_as_max_tokens(
    session_maker, offline, engine
):
    ann = new_user(session_maker)
    limits = quota.Limits(tokens_per_day=100_000, reserve_tokens=4)
    turn = chat_turn(session_maker, ann, offline, limits, engine, thinking_budget=0)
    list(turn.events())
    assert offline.received[-1]["body"]["max_completion_tokens"] == 4  # the provider stops it there
    assert turn.status == turns.LENGTH and turn.reply.finish_reason == "length"
    with session_maker() as session:
        stored = repository.active_path(session, session.get(User, ann), turn.conversation_id)[-1]
    assert stored.request_body["max_completion_tokens"] == 4, "the request view shows what was sent"
    [row] = ledger(session_maker, ann)
    assert row.reserved_tokens == 0 and row.reserved_until is None
    assert row.total_tokens == turn.usage.total_tokens <= quota.prompt_estimate(turn.messages) + 4


def test_without_a_token_limit_a_request_is_sent_as_the_person_set_it(session_maker, offline, engine):
    ann = new_user(session_maker)
    list(chat_turn(session_maker, ann, offline, quota.Limits(requests_per_minute=100), engine).events())
    assert "max_completion_tokens" not in offline.received[-1]["body"]


def test_a_day_of_replies_without_max_tokens_never_passes_the_limit(session_maker, offline, engine):
    """Thinking off: the offline model counts thinking on top of max tokens (Gemini counts it inside)."""
    ann = new_user(session_maker)
    limits = quota.Limits(tokens_per_day=300, reserve_tokens=40)
    replies = 0
    while True:
        turn = chat_turn(session_maker, ann, offline, limits, engine, thinking_budget=0)
        list(turn.events())
        if isinstance(turn.error, quota.QuotaExceeded):
            break
        replies += 1
        assert replies < 50, "the limit never refused"
    with session_maker() as session:
        spent = usage.usage_totals(
            session, session.get(User, ann), since=datetime.now(UTC) - timedelta(hours=1)
        )
    assert replies >= 2
    assert spent.tokens <= 300


def test_a_stopped_reply_releases_its_reservation(session_maker, offline, engine):
    ann = new_user(session_maker)
    turn = chat_turn(
        session_maker,
        ann,
        offline,
        quota.Limits(tokens_per_day=100_000),
        engine,
        "[[fault:stall:after=2,seconds=30]] hi",
    )
    for event in turn.events_in_background(poll=0.05):
        if event is not None and hasattr(event, "text"):
            break
    turn.close()
    assert turn.status == turns.STOPPED
    [row] = ledger(session_maker, ann)
    assert row.reserved_tokens == 0 and row.total_tokens > 0


def test_every_request_of_a_compare_run_is_settled_to_its_usage(session_maker, offline, engine):
    from turns import compare

    ann = new_user(session_maker)
    endpoint = Endpoint(base_url=offline.base_url, name="offline")
    cols = [
        compare.Column(
            label=f"col {i}", endpoint=endpoint, params=Params(model="gemini-2.5-flash", max_tokens=8)
        )
        for i in range(3)
    ]
    run_id = compare.create_run(session_maker, ann, prompt="hi", columns=cols, repeats=1)
    run = compare.CompareTurn(
        make_session=session_maker,
        user_id=ann,
        run_id=run_id,
        columns=cols,
        messages=[compare.first_messages("", [], "hi") for _ in cols],
        repeats=1,
        prompt="hi",
        engine=engine,
        limits=quota.Limits(tokens_per_day=100_000),
    )
    run.run()
    rows = ledger(session_maker, ann)
    assert len(rows) == 3 and all(r.reserved_tokens == 0 and r.total_tokens > 0 for r in rows)
    assert sum(r.total_tokens for r in rows) == sum(s.usage.total_tokens for s in run.samples)
