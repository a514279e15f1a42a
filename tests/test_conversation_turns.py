"""turns.conversation, driven without Streamlit: what a person asks of a conversation is saved before
anything is sent, the reply goes where they asked, and a refused write keeps nothing and says why.

On SQLite and PostgreSQL (the root conftest.py's `session_maker`); the refused write on a read-only
SQLite file.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from storage import branches, images, open_database, repository, session_factory
from storage.models import User
from tests.storage.images_for_tests import png_bytes
from turns import conversation
from turns.conversation import Edit, NewConversation, NotSaved, Regenerate, Send, ToolResults, Written

NEW = NewConversation(system_prompt="Be brief.", params={"temperature": 0.5}, endpoint="offline", model="m")


@pytest.fixture
def person(session_maker):
    with session_maker() as session:
        user = repository.ensure_user(session, "local", display_name="You")
        session.commit()
        return session_maker, user.id


def write(person, conversation_id, request, **options) -> Written:
    make_session, user_id = person
    written = conversation.save(make_session, user_id, conversation_id, request, **options)
    assert isinstance(written, Written), written
    return written


def stored(person, conversation_id):
    make_session, user_id = person
    with make_session() as session:
        user = session.get(User, user_id)
        conv = repository.get_conversation(session, user, conversation_id)
        messages = repository.conversation_messages(session, user, conversation_id)
        return conv, messages


def test_a_first_message_starts_the_conversation_with_its_images(person):
    picture = images.normalise(png_bytes(), "red.png")
    written = write(person, None, Send("What colour is this?\nsecond line", images=(picture,)), new=NEW)

    assert written.created and written.conversation_id is not None
    conv, messages = stored(person, written.conversation_id)
    assert conv.title == "What colour is this?"
    assert (conv.system_prompt, conv.params, conv.endpoint) == ("Be brief.", {"temperature": 0.5}, "offline")
    [message] = messages
    assert (message.role, message.content) == ("user", "What colour is this?\nsecond line")
    assert [a.sha256 for a in message.attachments] == [picture.sha256]
    assert written.reply_parent == message.id
    wire = written.wire_messages("Be brief.")
    assert wire[0] == {"role": "system", "content": "Be brief."}
    assert wire[1]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_a_message_answers_the_message_it_was_sent_after(person):
    first = write(person, None, Send("one"), new=NEW)
    reply = write(person, first.conversation_id, Send("two", parent_id=first.reply_parent))
    assert not reply.created
    assert [m.content for m in reply.path] == ["one", "two"]


def test_nothing_is_written_for_an_empty_message(person):
    assert write(person, None, Send("   "), new=NEW).conversation_id is None
    started = write(person, None, Send("hello"), new=NEW)
    empty = write(person, started.conversation_id, Send("  \n", parent_id=started.reply_parent))
    assert empty.reply_parent is None
    assert [m.content for m in stored(person, started.conversation_id)[1]] == ["hello"]


def test_an_edit_is_a_new_version_with_the_same_images_and_the_one_followed(person):
    picture = images.normalise(png_bytes(), "red.png")
    first = write(person, None, Send("original", images=(picture,)), new=NEW)
    make_session, user_id = person
    with make_session() as session:  # the person had gone back to this version before editing it
        repository.choose_branch(
            session, session.get(User, user_id), first.conversation_id, None, first.reply_parent
        )
        session.commit()
    edited = write(person, first.conversation_id, Edit(message_id=first.reply_parent, text="edited"))

    conv, messages = stored(person, first.conversation_id)
    original, new = messages
    assert (new.content, new.parent_id) == ("edited", original.parent_id)
    assert [a.sha256 for a in new.attachments] == [picture.sha256]
    assert edited.reply_parent == new.id
    # Stored with the conversation: a reload (which reads only the database) shows the edit.
    assert [m.id for m in branches.follow(messages, branches.choices(conv.branch_choices))] == [new.id]


def test_regenerate_writes_no_message_and_follows_the_new_attempt(person):
    make_session, user_id = person
    first = write(person, None, Send("question"), new=NEW)
    with make_session() as session:
        user = session.get(User, user_id)
        old = repository.start_reply(
            session, user, first.conversation_id, parent_id=first.reply_parent, request_body={}
        )
        repository.finish_reply(session, user, old.id, status="complete", content="old answer")
        repository.choose_branch(session, user, first.conversation_id, first.reply_parent, old.id)
        session.commit()

    again = write(person, first.conversation_id, Regenerate(parent_id=first.reply_parent))
    assert again.reply_parent == first.reply_parent
    assert len(stored(person, first.conversation_id)[1]) == 2, "regenerate wrote a message"
    assert str(first.reply_parent) not in stored(person, first.conversation_id)[0].branch_choices


def test_tool_results_are_saved_in_call_order_and_the_reply_follows_the_last(person):
    make_session, user_id = person
    first = write(person, None, Send("weather in Paris and Rome?"), new=NEW)
    calls = [{"id": c, "type": "function", "function": {"name": "w", "arguments": "{}"}} for c in ("a", "b")]
    with make_session() as session:
        user = session.get(User, user_id)
        asked = repository.start_reply(
            session, user, first.conversation_id, parent_id=first.reply_parent, request_body={}
        )
        repository.finish_reply(session, user, asked.id, status="complete", content="", tool_calls=calls)
        session.commit()

    written = write(person, first.conversation_id, ToolResults(asked.id, (("a", "21 C"), ("b", "25 C"))))
    tools = [m for m in written.path if m.role == "tool"]
    assert [(m.tool_call_id, m.content) for m in tools] == [("a", "21 C"), ("b", "25 C")]
    assert tools[0].parent_id == asked.id and tools[1].parent_id == tools[0].id
    assert written.reply_parent == tools[1].id
    assert [m["role"] for m in written.wire_messages("")] == ["user", "assistant", "tool", "tool"]


@pytest.fixture
def read_only(tmp_path):
    """A migrated SQLite file with one conversation, and a session factory that may only read it."""
    path = tmp_path / "prism.db"
    make_session = session_factory(open_database(f"sqlite:///{path}"))
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        conv = repository.create_conversation(session, user)
        session.commit()
        ids = user.id, conv.id
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    yield session_factory(engine), make_session, ids
    engine.dispose()


@pytest.mark.parametrize(
    "request_for",
    [lambda cid: (cid, Send("kept words")), lambda cid: (None, Send("a new conversation"))],
    ids=["in a conversation", "starting one"],
)
def test_a_refused_write_keeps_nothing_and_says_why_in_plain_words(read_only, request_for):
    refusing, make_session, (user_id, conversation_id) = read_only
    target, request = request_for(conversation_id)
    outcome = conversation.save(refusing, user_id, target, request, new=NEW)
    assert outcome == NotSaved(request, "the database is read-only")
    with make_session() as session:
        user = session.get(User, user_id)
        assert repository.conversation_messages(session, user, conversation_id) == []
        assert len(repository.list_conversations(session, user)) == 1
