"""Long conversations on the chat page: drawn from their latest messages, with every branch feature.

The page finds the branch it shows on the conversation's outline (where each message sits, in every
branch) and reads whole only the messages it draws, so a long history opens like a short one. What a
person relies on must not change with that: the navigator's counts, choosing another version (kept
for every tab), "Show earlier messages", a reply asked with the whole history of its branch and no
other, and a reply whose writer died read as interrupted.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import event

from storage import open_database, repository, session_factory
from storage.models import Message, User, utcnow

LENGTH = 120  # messages on the branch shown: three windows of the page


def _sessions():
    return session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))


@pytest.fixture
def long_chat(app_env):
    """A 120-message chat with two versions of an early reply (out of the first window) and two of
    the last reply; {"id", "early_old", "last_old", "path": contents of the branch followed}."""
    make_session = _sessions()
    with make_session() as session:
        user = repository.ensure_user(session, "local", display_name="You")
        conversation = repository.create_conversation(session, user, title="Long")
        parent, contents, found = None, [], {"id": conversation.id}
        for i in range(LENGTH):
            role = "user" if i % 2 == 0 else "assistant"
            if i in (11, LENGTH - 1):  # an older version first, then the one followed
                old = repository.add_message(
                    session, user, conversation.id, role=role, content=f"older version {i}", parent_id=parent
                )
                found["early_old" if i == 11 else "last_old"] = old.id
            message = repository.add_message(
                session, user, conversation.id, role=role, content=f"message {i}", parent_id=parent
            )
            parent = message.id
            contents.append(f"message {i}")
        session.commit()
    found["path"] = contents
    return found


def _open(new_app, conversation_id):
    at = new_app()
    at.query_params["c"] = str(conversation_id)
    at.run()
    assert not at.exception, at.exception
    return at


def _drawn(at) -> list[str]:
    return [" ".join([t.value for t in m.text] + [md.value for md in m.markdown]) for m in at.chat_message]


def _button(at, label):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; have {[b.label for b in at.button]}"
    return found[0]


def _nav(at, kind: str, message_id: int):
    return next(b for b in at.button if b.key == f"chat.{kind}.{message_id}")


def test_a_long_chat_reads_whole_only_the_messages_it_draws(long_chat, new_app):
    loaded: list[int] = []

    def count(target, _context):
        loaded.append(target.id)

    event.listen(Message, "load", count)
    try:
        at = _open(new_app, long_chat["id"])
    finally:
        event.remove(Message, "load", count)
    assert _drawn(at) == long_chat["path"][-40:]
    assert len(set(loaded)) <= 40, f"{len(set(loaded))} messages read whole to draw 40"
    assert any(c.value == "2/2" for c in at.caption), "the last reply's navigator counts both versions"
    assert _button(at, f"Show earlier messages ({LENGTH - 40} more)")


def test_another_version_of_the_last_reply_is_shown_and_kept_for_another_tab(long_chat, new_app):
    at = _open(new_app, long_chat["id"])
    last = _drawn(at)[-1]
    assert last == f"message {LENGTH - 1}"
    last_id = next(b.key for b in at.button if b.key and b.key.startswith("chat.prev."))
    at.button(key=last_id).click().run()
    assert _drawn(at)[-1] == f"older version {LENGTH - 1}"
    assert _drawn(at)[:-1] == long_chat["path"][-40:-1]
    assert any(c.value == "1/2" for c in at.caption)
    again = _open(new_app, long_chat["id"])  # another tab
    assert _drawn(again)[-1] == f"older version {LENGTH - 1}"


def test_show_earlier_reaches_an_early_branch_and_choosing_it_follows_it(long_chat, new_app):
    at = _open(new_app, long_chat["id"])
    _button(at, f"Show earlier messages ({LENGTH - 40} more)").click().run()
    _button(at, f"Show earlier messages ({LENGTH - 80} more)").click().run()
    assert _drawn(at) == long_chat["path"]
    followed = _nav(at, "prev", _message_id(long_chat["id"], "message 11"))
    assert not followed.disabled
    followed.click().run()
    # The older version has no reply: the branch ends there.
    assert _drawn(at) == [*long_chat["path"][:11], "older version 11"]
    assert not [b for b in at.button if b.label.startswith("Show earlier")]


def test_a_reply_in_a_long_chat_is_asked_with_its_whole_branch_and_no_other(long_chat, app_env, new_app):
    at = _open(new_app, long_chat["id"])
    at.chat_input[0].set_value("and the next one?").run()
    assert not at.exception, at.exception
    sent = [m["content"] for m in app_env.received[-1]["body"]["messages"]]
    assert sent == [*long_chat["path"], "and the next one?"]
    assert _drawn(at)[-2] == "and the next one?"
    assert len(at.chat_message) == 40


def test_a_reply_whose_writer_died_reads_as_interrupted_when_a_long_chat_opens(long_chat, new_app):
    make_session = _sessions()
    with make_session() as session:
        user = session.get(User, repository.ensure_user(session, "local").id)
        parent = _message_id(long_chat["id"], f"message {LENGTH - 1}")
        dead = repository.start_reply(session, user, long_chat["id"], parent_id=parent, request_body={})
        repository.grow_reply(session, user, dead.id, content="half a reply")
        dead.updated_at = utcnow() - timedelta(minutes=5)  # no heartbeat for five minutes
        session.commit()
    at = _open(new_app, long_chat["id"])
    assert _drawn(at)[-1] == "half a reply"
    assert any("Interrupted" in c.value for c in at.caption)
    with make_session() as session:
        assert session.get(Message, dead.id).status == "interrupted"  # saved, not only shown


def _message_id(conversation_id: int, content: str) -> int:
    with _sessions()() as session:
        user = repository.ensure_user(session, "local")
        return next(
            m.id
            for m in repository.conversation_messages(session, user, conversation_id)
            if m.content == content
        )
