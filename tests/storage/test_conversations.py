"""Conversations: create, list (paged, pinned first, most recent next), open, rename, pin, archive, delete."""

from __future__ import annotations

import pytest

from storage import repository as r


def test_ensure_user_is_idempotent_and_follows_role(session):
    a = r.ensure_user(session, "carol", "Carol")
    b = r.ensure_user(session, "carol", "", role="admin")
    session.commit()
    assert a.id == b.id
    assert b.display_name == "Carol"
    assert b.role == "admin"


def test_ensure_user_refuses_empty_identity(session):
    with pytest.raises(ValueError):
        r.ensure_user(session, "  ")


def test_create_and_get_conversation_keeps_every_field(session, alice):
    conv = r.create_conversation(
        session,
        alice,
        title="Trip",
        system_prompt="Be brief.",
        params={"temperature": 0.2, "stop": ["\n\n"]},
        endpoint="default",
        model="gemini-2.5-flash",
    )
    session.commit()
    session.expunge_all()
    got = r.get_conversation(session, alice, conv.id)
    assert got is not None
    assert (got.title, got.system_prompt, got.endpoint, got.model) == (
        "Trip",
        "Be brief.",
        "default",
        "gemini-2.5-flash",
    )
    assert got.params == {"temperature": 0.2, "stop": ["\n\n"]}
    assert got.pinned is False and got.archived is False
    assert got.created_at.tzinfo is not None


def test_list_puts_pinned_first_then_most_recent(session, alice):
    first = r.create_conversation(session, alice, title="first")
    second = r.create_conversation(session, alice, title="second")
    r.create_conversation(session, alice, title="third")
    r.add_message(session, alice, first.id, role="user", content="bump")  # now the most recent
    r.pin_conversation(session, alice, second.id)
    session.commit()
    assert [c.title for c in r.list_conversations(session, alice)] == ["second", "first", "third"]


def test_list_pages_without_overlap(session, alice):
    ids = [r.create_conversation(session, alice, title=f"c{i}").id for i in range(7)]
    session.commit()
    pages = [r.list_conversations(session, alice, limit=3, offset=o) for o in (0, 3, 6)]
    seen = [c.id for page in pages for c in page]
    assert sorted(seen) == sorted(ids)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert r.count_conversations(session, alice) == 7


def test_archived_conversations_list_separately(session, alice):
    keep = r.create_conversation(session, alice, title="keep")
    old = r.create_conversation(session, alice, title="old")
    r.archive_conversation(session, alice, old.id)
    session.commit()
    assert [c.id for c in r.list_conversations(session, alice)] == [keep.id]
    assert [c.id for c in r.list_conversations(session, alice, archived=True)] == [old.id]
    r.archive_conversation(session, alice, old.id, archived=False)
    assert {c.id for c in r.list_conversations(session, alice)} == {keep.id, old.id}


def test_rename_trims_and_defaults(session, alice):
    conv = r.create_conversation(session, alice)
    assert r.rename_conversation(session, alice, conv.id, "  Plans  ").title == "Plans"
    assert r.rename_conversation(session, alice, conv.id, "   ").title == "New chat"


def test_update_conversation_refuses_unknown_fields(session, alice):
    conv = r.create_conversation(session, alice)
    with pytest.raises(TypeError):
        r.update_conversation(session, alice, conv.id, user_id=99)


def test_update_conversation_sets_params_and_model(session, alice):
    conv = r.create_conversation(session, alice)
    r.update_conversation(session, alice, conv.id, params={"seed": 7}, model="m2", system_prompt="S")
    session.commit()
    session.expunge_all()
    got = r.get_conversation(session, alice, conv.id)
    assert (got.params, got.model, got.system_prompt) == ({"seed": 7}, "m2", "S")


def test_delete_removes_messages(session, alice):
    conv = r.create_conversation(session, alice)
    m = r.add_message(session, alice, conv.id, role="user", content="hello")
    session.commit()
    assert r.delete_conversation(session, alice, conv.id) is True
    session.commit()
    assert r.get_conversation(session, alice, conv.id) is None
    assert r.get_message(session, alice, m.id) is None
    assert r.delete_conversation(session, alice, conv.id) is False


def test_delete_works_with_branches_loaded_in_the_session(session, alice):
    conv = r.create_conversation(session, alice)
    q = r.add_message(session, alice, conv.id, role="user", content="q")
    a1 = r.add_message(session, alice, conv.id, role="assistant", content="a1", parent_id=q.id)
    r.add_message(session, alice, conv.id, role="assistant", content="a2", parent_id=q.id)
    r.add_message(session, alice, conv.id, role="user", content="more", parent_id=a1.id)
    session.commit()
    assert len(conv.messages) == 4  # the ORM collection is loaded
    r.active_path(session, alice, conv.id)[0].content = "edited, not yet flushed"
    assert r.delete_conversation(session, alice, conv.id)
    session.commit()
    assert r.conversation_messages(session, alice, conv.id) == []
    assert r.list_conversations(session, alice) == []
