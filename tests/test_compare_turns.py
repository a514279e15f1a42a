"""turns.compare driven without Streamlit: columns stream at once, each with its own parameters, and
every reply is saved (created before sending, finished with its status and metrics, kept when stopped)."""

from __future__ import annotations

import httpx
import pytest

from chat_client import Endpoint, Params, events
from offline_model.runner import OfflineServer
from storage import compare as compare_store
from storage import repository
from storage.models import User
from turns import compare
from turns.engine import Engine


@pytest.fixture(scope="module")
def engine():
    with Engine(httpx.AsyncClient()) as running:
        yield running


@pytest.fixture
def db(session_maker):
    make_session = session_maker  # a fresh database on each engine (the root conftest.py)
    with make_session() as session:
        user = repository.ensure_user(session, "local", display_name="You")
        session.commit()
        return make_session, user.id


@pytest.fixture(scope="module")
def paced_model():
    # Paced so that every reply is still streaming while the other columns' requests arrive.
    with OfflineServer.start(host="127.0.0.1", port=0, tokens_per_second=100, ttft_ms=0) as server:
        yield server


def columns_for(server, *params: Params, system_prompts=()) -> list[compare.Column]:
    endpoint = Endpoint(base_url=server.base_url, name="offline")
    prompts = list(system_prompts) + [""] * len(params)
    return [
        compare.Column(
            label=f"col {i + 1}",
            endpoint=endpoint,
            params=p.replace(model="gemini-2.5-flash"),
            system_prompt=prompts[i],
        )
        for i, p in enumerate(params)
    ]


def start(engine, db, server, prompt, cols, *, repeats=1, **options) -> compare.CompareTurn:
    make_session, user_id = db
    run_id = compare.create_run(make_session, user_id, prompt=prompt, columns=cols, repeats=repeats)
    wire = [compare.first_messages(c.system_prompt, [], prompt) for c in cols]
    return compare.CompareTurn(
        engine=engine,
        make_session=make_session,
        user_id=user_id,
        run_id=run_id,
        columns=cols,
        messages=wire,
        repeats=repeats,
        prompt=prompt,
        **options,
    )


def stored_run(db, run_id):
    make_session, user_id = db
    with make_session() as session:
        run = compare_store.get_compare_run(session, session.get(User, user_id), run_id)
        rows = [
            (r.column_index, r.repeat_index, r.status, r.content, r.finish_reason, r.timings, r.usage)
            for r in run.results
        ]
        return run.columns, rows


def test_each_column_sends_its_own_parameters_and_system_prompt(db, offline, engine):
    offline.received.clear()
    cols = columns_for(
        offline,
        Params(temperature=0.0),
        Params(temperature=1.5, seed=7),
        Params(top_p=0.5),
        system_prompts=["Be brief.", "", "Be long."],
    )
    turn = start(engine, db, offline, "What does temperature do?", cols)
    turn.run()
    bodies = sorted(
        (r["body"] for r in offline.received), key=lambda b: (b.get("temperature", -1), b.get("top_p", 0))
    )
    assert [(b.get("temperature"), b.get("seed"), b.get("top_p")) for b in bodies] == [
        (None, None, 0.5),
        (0.0, None, None),
        (1.5, 7, None),
    ]
    by_temp = {b.get("temperature"): b["messages"] for b in bodies}
    assert by_temp[0.0][0] == {"role": "system", "content": "Be brief."}
    assert by_temp[1.5][0]["role"] == "user"
    assert all(s.status == compare.COMPLETE and s.content for s in turn.samples)


def test_columns_stream_at_the_same_time(db, paced_model, engine):
    """When any column finishes, the server has already received every column's request."""
    paced_model.received.clear()
    cols = columns_for(paced_model, *[Params(temperature=0.0, max_completion_tokens=30)] * 4)
    seen_at_finish = []

    def on_event(sample, event):
        if isinstance(event, events.Finish):
            seen_at_finish.append(len(paced_model.received))

    start(engine, db, paced_model, "Tell me about seeds", cols).run(on_event)
    assert seen_at_finish == [4, 4, 4, 4]


def test_results_are_saved_with_status_usage_and_timings(db, offline, engine):
    cols = columns_for(offline, Params(temperature=0.0), Params(max_completion_tokens=3))
    turn = start(engine, db, offline, "Tell me about seeds", cols)
    turn.run()
    columns, rows = stored_run(db, turn.run_id)
    assert [c["params"] for c in columns] == [
        {"model": "gemini-2.5-flash", "temperature": 0.0},
        {"model": "gemini-2.5-flash", "max_completion_tokens": 3},
    ]
    assert [(c, r, status) for c, r, status, *_ in rows] == [(0, 0, "complete"), (1, 0, "length")]
    for _, _, _, content, finish, timings, usage in rows:
        assert content.strip()
        assert finish in ("stop", "length")
        assert {"ttft_s", "duration_s"} <= set(timings)
        assert usage["completion_tokens"] > 0


def test_repeats_run_every_column_k_times(db, offline, engine):
    offline.received.clear()
    cols = columns_for(offline, Params(temperature=0.0), Params(temperature=2.0))
    turn = start(engine, db, offline, "Tell me about seeds", cols, repeats=3)
    turn.run()
    assert len(offline.received) == 6
    _, rows = stored_run(db, turn.run_id)
    assert sorted((c, r) for c, r, *_ in rows) == [(c, r) for c in (0, 1) for r in range(3)]
    greedy = {content for c, _, _, content, *_ in rows if c == 0}
    assert len(greedy) == 1, "temperature 0 is repeatable"


class PressedStop(BaseException):
    """Stands in for Streamlit's StopException, which is a BaseException too."""


def test_a_callback_that_raises_stops_every_stream_and_keeps_the_partial_replies(db, paced_model, engine):
    cols = columns_for(paced_model, Params(temperature=0.0), Params(temperature=0.0))

    def on_event(sample, event):
        if isinstance(event, events.TextDelta):
            raise PressedStop()

    turn = start(engine, db, paced_model, "Tell me about seeds", cols)
    with pytest.raises(PressedStop):
        turn.run(on_event)
    _, rows = stored_run(db, turn.run_id)
    assert {status for _, _, status, *_ in rows} == {"stopped"}
    assert any(content for _, _, _, content, *_ in rows), "the text that arrived is kept"


def test_stop_while_every_column_is_silent_ends_the_run_and_keeps_the_text(db, offline, engine):
    """The page notices Stop only when it touches the screen: the run must call back on ticks while
    no column sends anything, so a stalled comparison can be stopped at once (not after the stall)."""
    cols = columns_for(offline, Params(temperature=0.0), Params(temperature=0.0))
    make_session, user_id = db
    prompt = "Tell me about seeds [[fault:stall:after=3,seconds=60]]"
    run_id = compare.create_run(make_session, user_id, prompt=prompt, columns=cols)
    turn = compare.CompareTurn(
        engine=engine,
        make_session=make_session,
        user_id=user_id,
        run_id=run_id,
        columns=cols,
        messages=[compare.first_messages("", [], prompt) for _ in cols],
        prompt=prompt,
    )
    ticks = []

    def on_event(sample, event):
        if sample is None:
            ticks.append(event)
            if all(s.content for s in turn.samples) and len(ticks) >= 3:
                raise PressedStop()  # what Streamlit does at the next screen update after Stop

    with pytest.raises(PressedStop):
        turn.run(on_event, poll=0.05)
    assert turn.finished
    _, rows = stored_run(db, run_id)
    assert [status for _, _, status, *_ in rows] == ["stopped", "stopped"]
    assert all(content.strip() for _, _, _, content, *_ in rows), "the text before the stall is kept"


def test_an_error_in_one_column_leaves_the_others_complete(db, offline, engine):
    cols = columns_for(offline, Params(temperature=0.0), Params(temperature=0.0))
    make_session, user_id = db
    run_id = compare.create_run(make_session, user_id, prompt="hi", columns=cols)
    wire = [
        compare.first_messages("", [], "hi"),
        compare.first_messages("", [], "hi [[fault:status:400]]"),
    ]
    turn = compare.CompareTurn(
        engine=engine,
        make_session=make_session,
        user_id=user_id,
        run_id=run_id,
        columns=cols,
        messages=wire,
        prompt="hi",
    )
    turn.run()
    _, rows = stored_run(db, run_id)
    assert [status for _, _, status, *_ in rows] == ["complete", "error"]


def test_continuing_keeps_each_columns_history_or_adopts_one_reply(db, offline, engine):
    cols = columns_for(offline, Params(temperature=0.0), Params(temperature=2.0, seed=3))
    first = start(engine, db, offline, "Tell me about seeds", cols)
    first.run()
    replies = [s.content for s in first.samples]
    make_session, user_id = db
    with make_session() as session:
        run = compare_store.get_compare_run(session, session.get(User, user_id), first.run_id)
        own, turn_index = compare.continuation(run, "and temperature?")
        adopted, _ = compare.continuation(run, "and temperature?", adopt=1)
    assert turn_index == 1
    assert [[m["role"] for m in w] for w in own] == [["user", "assistant", "user"]] * 2
    assert [w[1]["content"] for w in own] == replies
    assert [w[1]["content"] for w in adopted] == [replies[1], replies[1]]


def test_fork_makes_a_chat_with_the_columns_history(db, offline, engine):
    cols = columns_for(offline, Params(temperature=0.0), Params(seed=4), system_prompts=["", "Be kind."])
    turn = start(engine, db, offline, "Tell me about seeds", cols)
    turn.run()
    make_session, user_id = db
    conversation_id = compare.fork_to_conversation(make_session, user_id, turn.run_id, 1)
    with make_session() as session:
        user = session.get(User, user_id)
        conversation = repository.get_conversation(session, user, conversation_id)
        path = repository.active_path(session, user, conversation_id)
        assert conversation.system_prompt == "Be kind."
        assert conversation.params == {"model": "gemini-2.5-flash", "seed": 4}
        assert [(m.role, m.content) for m in path] == [
            ("user", "Tell me about seeds"),
            ("assistant", turn.samples[1].content),
        ]


def test_fork_after_several_turns_keeps_every_turn_of_that_column(db, offline, engine):
    cols = columns_for(offline, Params(temperature=0.0), Params(temperature=2.0, seed=8))
    first = start(engine, db, offline, "Tell me about seeds", cols)
    first.run()
    make_session, user_id = db
    with make_session() as session:
        run = compare_store.get_compare_run(session, session.get(User, user_id), first.run_id)
        wire, turn_index = compare.continuation(run, "and temperature?")
    second = compare.CompareTurn(
        engine=engine,
        make_session=make_session,
        user_id=user_id,
        run_id=first.run_id,
        columns=cols,
        messages=wire,
        turn_index=turn_index,
        prompt="and temperature?",
    )
    second.run()
    conversation_id = compare.fork_to_conversation(make_session, user_id, first.run_id, 1)
    with make_session() as session:
        path = repository.active_path(session, session.get(User, user_id), conversation_id)
        assert [(m.role, m.content) for m in path] == [
            ("user", "Tell me about seeds"),
            ("assistant", first.samples[1].content),
            ("user", "and temperature?"),
            ("assistant", second.samples[1].content),
        ]


def test_an_unexpected_failure_in_one_stream_stops_the_others_and_is_raised(db, paced_model, engine):
    cols = columns_for(paced_model, Params(temperature=0.0), Params(temperature=0.0))
    turn = start(engine, db, paced_model, "Tell me about seeds", cols)
    original = turn._take

    def broken_take(sample, event):
        if sample.column == 1 and isinstance(event, events.TextDelta):
            raise RuntimeError("disk full")
        original(sample, event)

    turn._take = broken_take
    with pytest.raises(RuntimeError, match="disk full"):
        turn.run()
    _, rows = stored_run(db, turn.run_id)
    assert [status for _, _, status, *_ in rows] == ["stopped", "stopped"]
