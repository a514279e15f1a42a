"""One chat turn, driven without Streamlit: what is saved before, during and after a reply."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

import turns
from chat_client import Endpoint, Params, events
from offline_model.runner import OfflineServer
from storage import repository
from storage.models import User
from turns.conversation import Send, save
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
        conversation = repository.create_conversation(session, user, title="t")
        session.commit()
        return make_session, user.id, conversation.id


@pytest.fixture(scope="module")
def slow_model():
    # Paced so that a reply is still streaming when the test stops it.
    with OfflineServer.start(host="127.0.0.1", port=0, tokens_per_second=200, ttft_ms=0) as server:
        yield server


def new_turn(db, server_url: str, text: str, engine: Engine, params=None, **options) -> turns.Turn:
    make_session, user_id, conversation_id = db
    user_message_id = save(make_session, user_id, conversation_id, Send(text)).reply_parent
    return turns.Turn(
        conversation_id=conversation_id,
        parent_id=user_message_id,
        endpoint=Endpoint(base_url=server_url),
        params=params or Params(model="gemini-2.5-flash", stream=True),
        messages=[{"role": "user", "content": text}],
        engine=engine,
        make_session=make_session,
        user_id=user_id,
        **options,
    )


def reply_text(turn: turns.Turn) -> str:
    """The answer text of the first choice, as the page shows it."""
    return "".join(e.text for e in turn.events() if isinstance(e, events.TextDelta) and e.index == 0)


def saved_path(db):
    make_session, user_id, conversation_id = db
    with make_session() as session:
        path = repository.active_path(session, session.get(User, user_id), conversation_id)
        return [(m.role, m.content, m.status) for m in path]


def test_a_finished_reply_is_saved_complete_with_usage_and_timings(db, offline, engine):
    turn = new_turn(db, offline.base_url, "explain top_p please", engine)
    text = reply_text(turn)
    assert text.strip()
    assert turn.status == "complete"
    assert saved_path(db) == [("user", "explain top_p please", "complete"), ("assistant", text, "complete")]
    make_session, user_id, _ = db
    with make_session() as session:
        reply = repository.active_path(session, session.get(User, user_id), db[2])[-1]
        assert reply.usage["completion_tokens"] > 0
        assert reply.timings["duration_s"] >= reply.timings["ttft_s"] >= 0
        assert reply.finish_reason == "stop"
        assert reply.request_body["messages"] == [{"role": "user", "content": "explain top_p please"}]


def test_stop_keeps_the_partial_reply_marked_stopped(db, slow_model, engine):
    turn = new_turn(db, slow_model.base_url, "tell me a long story about sampling", engine)
    seen = []
    for event in turn.events():
        if isinstance(event, events.TextDelta):
            seen.append(event.text)
        if len(seen) == 3:
            break
    turn.close()  # what the page's `finally` does when Stop is pressed
    assert turn.status == "stopped"
    # What the page showed is the start of what was saved (the engine may have read a little further).
    role, content, status = saved_path(db)[-1]
    assert (role, status) == ("assistant", "stopped")
    assert content.startswith("".join(seen))


def test_the_reply_row_exists_and_grows_while_streaming(db, slow_model, engine):
    ticks = iter(range(10_000))
    # A clock that advances one "second" per reading, so every token passes the save interval.
    turn = new_turn(db, slow_model.base_url, "describe the seed parameter", engine, clock=lambda: next(ticks))
    seen = []
    for event in turn.events():
        if isinstance(event, events.TextDelta):
            seen.append(event.text)
            if len(seen) > 2:
                # Each token reaches the page first and is saved right after (the first one with the
                # next), before the engine reads on: once the page has a third token, every earlier
                # one is saved.
                role, content, status = saved_path(db)[-1]
                assert (role, status) == ("assistant", "streaming")
                assert content.startswith("".join(seen[:-1]))
        if len(seen) == 5:
            break
    turn.close()


def test_a_first_token_followed_by_silence_has_its_row_during_the_silence(db, offline, engine):
    # The first token's row waits for the next event so it does not delay that token on screen; when
    # the stream then goes quiet (a stalled provider), the row is made anyway, during the stall, so a
    # reload or another tab shows the reply streaming.
    turn = new_turn(db, offline.base_url, "talk about seeds [[fault:stall:after=1,seconds=60]]", engine)
    seen, saved = [], None
    for event in turn.events_in_background(poll=0.05):
        if isinstance(event, events.TextDelta):
            seen.append(event.text)
        if seen and (saved := saved_path(db)[-1])[0] == "assistant":
            break
    turn.close()
    assert len(seen) == 1, "the row came only with the token after the stall"
    assert saved == ("assistant", seen[0], "streaming")


def test_n_candidates_rows_are_made_at_once_in_index_order(db, offline, engine):
    make_session, user_id, conversation_id = db
    params = Params(model="gemini-2.5-flash", n=3)
    turn = new_turn(db, offline.base_url, "three takes on seeds", engine, params=params)
    list(turn.events())
    with make_session() as session:
        rows = [
            m
            for m in repository.conversation_messages(session, session.get(User, user_id), conversation_id)
            if m.role == "assistant"
        ]
    assert [m.candidate_index for m in sorted(rows, key=lambda m: m.id)] == [0, 1, 2]
    assert {m.status for m in rows} == {"complete"}


def test_the_users_message_is_kept_when_the_server_is_dead(db, engine):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    turn = new_turn(db, f"http://127.0.0.1:{dead_port}/v1/", "are you there?", engine)
    assert reply_text(turn) == ""
    assert turn.status == "error"
    assert "api_key" not in (turn.error.message or "")
    path = saved_path(db)
    assert path[0] == ("user", "are you there?", "complete")
    assert path[1][0] == "assistant" and path[1][2] == "error"


def test_history_becomes_openai_messages_with_the_system_prompt_first(db, offline, engine):
    turn = new_turn(db, offline.base_url, "first", engine)
    reply = reply_text(turn)
    make_session, user_id, conversation_id = db
    with make_session() as session:
        path = repository.active_path(session, session.get(User, user_id), conversation_id)
        wire = turns.to_wire_messages("Be brief.", path)
    assert wire[0] == {"role": "system", "content": "Be brief."}
    assert [m["role"] for m in wire] == ["system", "user", "assistant"]
    assert wire[2]["content"] == reply


def test_stop_during_a_stalled_stream_ends_the_request_at_once_and_keeps_the_text(db, offline, engine):
    # The page can only notice Stop when it touches the screen, so the turn must keep yielding
    # ticks (None) while the network is silent, and close() must end a request blocked in a read.
    turn = new_turn(db, offline.base_url, "talk about top_p [[fault:stall:after=4,seconds=60]]", engine)
    seen, ticks = [], 0
    for event in turn.events_in_background(poll=0.05):
        if event is None:
            ticks += 1
            if seen and ticks >= 3:
                break  # stalled: what a person sees as a frozen reply, and presses Stop
        elif isinstance(event, events.TextDelta):
            seen.append(event.text)
    turn.close()
    # close() returns only once the request has ended and the row is saved: well before the 60 s stall.
    assert turn.finished, "the request was still running after Stop"
    assert seen, "some text arrived before the stall"
    assert turn.status == "stopped"
    assert saved_path(db)[-1] == ("assistant", "".join(seen), "stopped")


def test_stop_the_moment_the_reply_starts_still_saves_it_stopped(db, offline, engine):
    # Stop pressed before the engine's loop has begun the request (its task is cancelled before its
    # first step): the reply is still kept, marked stopped, and close() returns.
    turn = new_turn(db, offline.base_url, "stop me at once", engine)
    busy = threading.Event()
    engine.call_soon(busy.wait)  # hold the loop, so starting and stopping queue up behind it
    turn.start()
    closer = threading.Thread(target=turn.close)
    closer.start()
    while not turn.stopped:  # close() has said stop; the loop has not begun anything yet
        time.sleep(0.001)
    busy.set()
    closer.join()
    assert turn.finished and turn.status == "stopped"
    assert saved_path(db)[-1][::2] == ("assistant", "stopped")
