"""Messages: appending, the reply lifecycle (start, grow, finish), branches, the active path."""

from __future__ import annotations

import pytest

from storage import repository as r
from storage.repository import NotFound


@pytest.fixture
def conv(session, alice):
    c = r.create_conversation(session, alice, title="t")
    session.commit()
    return c


def test_reply_lifecycle_keeps_every_field(session, alice, conv):
    q = r.add_message(session, alice, conv.id, role="user", content="What is 2+2?")
    body = {
        "model": "gemini-2.5-flash",
        "messages": [{"role": "user", "content": "What is 2+2?"}],
        "stream": True,
    }
    reply = r.start_reply(session, alice, conv.id, parent_id=q.id, request_body=body, candidate_index=1)
    session.commit()
    assert reply.status == "streaming" and reply.content == "" and reply.role == "assistant"
    r.grow_reply(session, alice, reply.id, content="It is", thought="Adding.")
    session.commit()
    r.finish_reply(
        session,
        alice,
        reply.id,
        status="complete",
        content="It is 4.",
        finish_reason="stop",
        usage={"prompt_tokens": 5, "completion_tokens": 3, "reasoning_tokens": 2, "cached_tokens": 0},
        timings={"ttft_s": 0.2, "duration_s": 0.5, "tokens_per_second": 6.0},
        logprobs=[{"token": "It", "logprob": -0.1, "top": [["It", -0.1]]}],
    )
    session.commit()
    session.expunge_all()
    got = r.get_message(session, alice, reply.id)
    assert got.content == "It is 4."
    assert got.thought == "Adding."  # finish without thought keeps the streamed one
    assert got.status == "complete" and got.finish_reason == "stop"
    assert got.usage["reasoning_tokens"] == 2
    assert got.timings["tokens_per_second"] == 6.0
    assert got.request_body == body
    assert got.logprobs[0]["token"] == "It"
    assert got.candidate_index == 1
    assert got.stream_owner is None


@pytest.mark.parametrize("status", ["stopped", "error", "length"])
def test_cut_short_replies_keep_their_text_and_status(session, alice, conv, status):
    q = r.add_message(session, alice, conv.id, role="user", content="q")
    reply = r.start_reply(session, alice, conv.id, parent_id=q.id, request_body={})
    r.grow_reply(session, alice, reply.id, content="partial")
    r.finish_reply(
        session,
        alice,
        reply.id,
        status=status,
        content="partial",
        error="boom" if status == "error" else None,
    )
    session.commit()
    session.expunge_all()
    got = r.active_path(session, alice, conv.id)[-1]
    assert (got.content, got.status) == ("partial", status)


def test_tool_calls_and_tool_results_round_trip(session, alice, conv):
    q = r.add_message(session, alice, conv.id, role="user", content="weather?")
    calls = [
        {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Oslo"}'}}
    ]
    a = r.add_message(session, alice, conv.id, role="assistant", content="", parent_id=q.id, tool_calls=calls)
    t = r.add_message(
        session, alice, conv.id, role="tool", content='{"temp": 3}', parent_id=a.id, tool_call_id="c1"
    )
    session.commit()
    session.expunge_all()
    path = r.active_path(session, alice, conv.id)
    assert [m.id for m in path] == [q.id, a.id, t.id]
    assert path[1].tool_calls == calls and path[2].tool_call_id == "c1"


def test_active_path_follows_newest_branch_by_default_and_choice_otherwise(session, alice, conv):
    q = r.add_message(session, alice, conv.id, role="user", content="q")
    a1 = r.add_message(session, alice, conv.id, role="assistant", content="a1", parent_id=q.id)
    f1 = r.add_message(session, alice, conv.id, role="user", content="follow-up", parent_id=a1.id)
    a2 = r.add_message(session, alice, conv.id, role="assistant", content="a2 (regenerated)", parent_id=q.id)
    session.commit()
    assert [m.id for m in r.active_path(session, alice, conv.id)] == [q.id, a2.id]
    assert [m.id for m in r.active_path(session, alice, conv.id, choose={q.id: a1.id})] == [
        q.id,
        a1.id,
        f1.id,
    ]
    under_q = [m.id for m in r.conversation_messages(session, alice, conv.id) if m.parent_id == q.id]
    assert under_q == [a1.id, a2.id]


def test_edited_root_messages_are_siblings(session, alice, conv):
    q1 = r.add_message(session, alice, conv.id, role="user", content="first try")
    q2 = r.add_message(session, alice, conv.id, role="user", content="edited")
    session.commit()
    roots = [m.id for m in r.conversation_messages(session, alice, conv.id) if m.parent_id is None]
    assert roots == [q1.id, q2.id]
    assert [m.id for m in r.active_path(session, alice, conv.id)] == [q2.id]
    assert [m.id for m in r.active_path(session, alice, conv.id, choose={0: q1.id})] == [q1.id]


def test_unknown_choice_falls_back_to_newest(session, alice, conv):
    q = r.add_message(session, alice, conv.id, role="user", content="q")
    a = r.add_message(session, alice, conv.id, role="assistant", content="a", parent_id=q.id)
    assert [m.id for m in r.active_path(session, alice, conv.id, choose={q.id: 10**9})] == [q.id, a.id]


def test_parent_must_be_in_the_same_conversation(session, alice, conv):
    other = r.create_conversation(session, alice)
    m = r.add_message(session, alice, other.id, role="user", content="elsewhere")
    with pytest.raises(NotFound):
        r.add_message(session, alice, conv.id, role="assistant", content="x", parent_id=m.id)
    with pytest.raises(NotFound):
        r.start_reply(session, alice, conv.id, parent_id=m.id, request_body={})


def test_bad_role_and_status_are_refused(session, alice, conv):
    with pytest.raises(ValueError):
        r.add_message(session, alice, conv.id, role="robot", content="x")
    with pytest.raises(ValueError):
        r.add_message(session, alice, conv.id, role="user", content="x", status="done")
    reply = r.start_reply(session, alice, conv.id, parent_id=None, request_body={})
    with pytest.raises(ValueError):
        r.finish_reply(session, alice, reply.id, status="streaming", content="")


def test_finished_reply_cannot_grow(session, alice, conv):
    reply = r.start_reply(session, alice, conv.id, parent_id=None, request_body={})
    r.finish_reply(session, alice, reply.id, status="complete", content="done")
    with pytest.raises(ValueError):
        r.grow_reply(session, alice, reply.id, content="more")


def test_request_body_never_keeps_a_key(session, alice, conv):
    reply = r.start_reply(
        session, alice, conv.id, parent_id=None, request_body={"model": "m", "api_key": "sk-x"}
    )
    assert reply.request_body == {"model": "m"}


def test_adding_a_message_makes_the_conversation_most_recent(session, alice, conv):
    other = r.create_conversation(session, alice, title="newer")
    session.commit()
    assert r.list_conversations(session, alice)[0].id == other.id
    r.add_message(session, alice, conv.id, role="user", content="hi")
    session.commit()
    assert r.list_conversations(session, alice)[0].id == conv.id
