"""The fault matrix (README "Fault matrix"): every provider fault, end to end through the chat page.

One row per fault: the message carries the offline model's fault switch (`[[fault:SPEC]]`), the real
page sends it through the real client to the real offline model on loopback, and the test checks what
a person sees (the error's headline, in plain words), what is saved (the user's message always; the
reply with status "error", its error text and any text that arrived before the fault), and how many
requests were made (what is retried and what is not).

Two rows need timeouts far shorter than the app's (first byte 120 s, stall 60 s): they drive
`turns.Turn`, the code the page runs, with short timeouts, and check the same two things; the words
come from `components.error_view.describe`, the function the page shows errors with.
"""

from __future__ import annotations

import os
import socket

import httpx
import pytest

import turns
from chat_client import Endpoint, Params, RetryPolicy, Timeouts
from chat_client.messages import user_message
from components import error_view
from storage import open_database, repository, session_factory
from storage.models import User
from turns.conversation import Send, save
from turns.engine import Engine

QUICK_RETRY = ",retry=0.2"  # a per-minute 429 asking for a short wait, so its retries fit in a test

# (id, fault spec, words the user sees, reply status, text before the fault kept?, requests made)
PAGE_ROWS = [
    ("400", "status:400", "The server refused the request (HTTP 400)", "error", False, 1),
    ("401", "status:401", "The server refused the API key (HTTP 401)", "error", False, 1),
    ("403", "status:403", "does not allow this key to do that (HTTP 403)", "error", False, 1),
    (
        "404",
        "status:404",
        "Not found (HTTP 404): the model name or the endpoint's base URL",
        "error",
        False,
        1,
    ),
    ("429-minute", "status:429" + QUICK_RETRY, "Too many requests (HTTP 429)", "error", False, 3),
    ("429-day", "status:429,per=day", "daily quota for this model is used up", "error", False, 1),
    ("500", "status:500", "The provider failed (HTTP 500)", "error", False, 3),
    ("503", "status:503", "The provider failed (HTTP 503)", "error", False, 3),
    (
        "disconnect",
        "disconnect:after=4",
        "The connection dropped before the reply was finished",
        "error",
        True,
        1,
    ),
    ("malformed", "malformed:after=4", "not valid JSON, so the stream was stopped", "error", True, 1),
    ("error-object", "error:after=4", "The provider failed (HTTP 503)", "error", True, 1),
    ("raw-error-object", "error:after=4,raw=1", "The stream broke off with an error", "error", True, 1),
]


def saved_messages(at) -> list:
    """The open conversation's messages, as the app saved them."""
    make_session = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    with make_session() as session:
        user = session.query(User).filter_by(identity="local").one()
        raw = at.query_params["c"]
        conversation_id = int(raw[0] if isinstance(raw, list) else raw)
        rows = repository.conversation_messages(session, user, conversation_id)
        return [(m.role, m.status, m.content or "", m.error) for m in rows]


def errors_shown(at) -> str:
    return " ".join(e.value for e in at.error)


@pytest.mark.parametrize(
    ("spec", "seen", "status", "partial", "tries"),
    [row[1:] for row in PAGE_ROWS],
    ids=[row[0] for row in PAGE_ROWS],
)
def test_fault_shows_plain_words_and_keeps_what_arrived(app_env, new_app, spec, seen, status, partial, tries):
    at = new_app().run()
    before = len(app_env.received)
    text = f"Tell me about streaming. [[fault:{spec}]]"
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception

    assert seen in errors_shown(at), errors_shown(at)
    assert any(b.label == "Retry" for b in at.button), "a failed reply offers Retry"
    (user_role, user_status, user_text, _), (role, reply_status, reply_text, error) = saved_messages(at)
    assert (user_role, user_status, user_text) == ("user", "complete", text)
    assert (role, reply_status) == ("assistant", status)
    assert error and "sk-" not in error
    assert bool(reply_text.strip()) is partial, reply_text
    assert len(app_env.received) - before == tries


def test_missing_done_after_a_finish_reason_is_a_complete_reply(app_env, new_app):
    """Gemini can end a stream without [DONE]; once finish_reason has come, nothing is missing."""
    at = new_app().run()
    at.chat_input[0].set_value("Tell me about streaming. [[fault:no-done]]").run()
    assert not at.exception, at.exception
    assert errors_shown(at) == ""
    (_, _, _, _), (role, status, reply_text, error) = saved_messages(at)
    assert (role, status, error) == ("assistant", "complete", None)
    assert reply_text.strip()


def test_connection_refused_is_retried_then_explained(app_env, new_app, monkeypatch):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("PRISM_API_BASE_URL", f"http://127.0.0.1:{port}/v1/")
    at = new_app().run()
    at.chat_input[0].set_value("Is anyone there?").run()
    assert not at.exception, at.exception
    assert f"Could not connect to 127.0.0.1:{port}" in errors_shown(at)
    (_, user_status, user_text, _), (_, status, reply_text, error) = saved_messages(at)
    assert (user_status, user_text) == ("complete", "Is anyone there?")
    assert (status, reply_text) == ("error", "")
    assert error


# -- the two timeout rows: the page's code (turns.Turn) with short timeouts -------------------------------


@pytest.fixture
def database(tmp_path):
    make_session = session_factory(open_database(f"sqlite:///{tmp_path / 'prism.db'}"))
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        conversation = repository.create_conversation(session, user)
        session.commit()
        return make_session, user.id, conversation.id


def run_turn(database, server, text: str, timeouts: Timeouts) -> turns.Turn:
    make_session, user_id, conversation_id = database
    parent = save(make_session, user_id, conversation_id, Send(text)).reply_parent
    with Engine(httpx.AsyncClient()) as engine:
        turn = turns.Turn(
            make_session=make_session,
            user_id=user_id,
            conversation_id=conversation_id,
            parent_id=parent,
            endpoint=Endpoint(base_url=server.base_url),
            params=Params(model="gemini-2.5-flash"),
            messages=[user_message(text)],
            engine=engine,
            client_options={"timeouts": timeouts, "retry": RetryPolicy(max_attempts=1)},
        )
        for _ in turn.events():
            pass
    return turn


def stored(database, turn) -> tuple[str, str, str | None]:
    make_session, user_id, _ = database
    with make_session() as session:
        message = repository.get_message(session, session.get(User, user_id), turn.reply.message_id)
        return message.status, message.content or "", message.error


def test_time_to_first_token_timeout_is_explained_and_kept(database, offline):
    turn = run_turn(database, offline, "Hello [[fault:ttft:ms=3000]]", Timeouts(first_byte=0.5))
    assert error_view.headline(turn.error) == "The model took too long"
    status, content, error = stored(database, turn)
    assert (status, content) == ("error", "")
    assert error.startswith("No reply from 127.0.0.1") and "within 0.5 s" in error


def test_stall_mid_stream_times_out_and_keeps_the_text_so_far(database, offline):
    turn = run_turn(database, offline, "Hello [[fault:stall:after=4,seconds=5]]", Timeouts(stall=0.5))
    assert error_view.headline(turn.error) == "The model took too long"
    status, content, error = stored(database, turn)
    assert status == "error"
    assert content.strip(), "the text that arrived before the stall is kept"
    assert error == "The reply stalled: nothing arrived for 0.5 s."
