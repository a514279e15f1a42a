"""Isolation: whatever id Bob passes, he never sees, changes or learns about Alice's rows."""

from __future__ import annotations

import pytest

from storage import repository as r
from storage.repository import NotFound

from .images_for_tests import png_bytes


@pytest.fixture
def alices(session, alice):
    conv = r.create_conversation(session, alice, title="Alice's secret", system_prompt="private")
    q = r.add_message(
        session, alice, conv.id, role="user", content="secret words", images=[(png_bytes(), "a.png")]
    )
    reply = r.start_reply(session, alice, conv.id, parent_id=q.id, request_body={})
    session.commit()
    return conv, q, reply


def test_bob_cannot_read_alices_conversation(session, alice, bob, alices):
    conv, q, _reply = alices
    assert r.get_conversation(session, bob, conv.id) is None
    assert r.list_conversations(session, bob) == []
    assert r.list_conversations(session, bob, archived=True) == []
    assert r.count_conversations(session, bob) == 0
    assert r.active_path(session, bob, conv.id) == []
    assert r.conversation_messages(session, bob, conv.id) == []
    assert r.get_message(session, bob, q.id) is None
    assert r.get_attachment(session, bob, q.attachments[0].id) is None


def test_bob_cannot_change_alices_conversation(session, alice, bob, alices):
    conv, q, reply = alices
    assert r.update_conversation(session, bob, conv.id, title="pwned") is None
    assert r.rename_conversation(session, bob, conv.id, "pwned") is None
    assert r.pin_conversation(session, bob, conv.id) is None
    assert r.archive_conversation(session, bob, conv.id) is None
    assert r.delete_conversation(session, bob, conv.id) is False
    with pytest.raises(NotFound):
        r.add_message(session, bob, conv.id, role="user", content="x")
    with pytest.raises(NotFound):
        r.start_reply(session, bob, conv.id, parent_id=q.id, request_body={})
    with pytest.raises(NotFound):
        r.grow_reply(session, bob, reply.id, content="x")
    with pytest.raises(NotFound):
        r.finish_reply(session, bob, reply.id, status="complete", content="x")
    with pytest.raises(NotFound):
        r.store_image(session, bob, q.attachments[0])
    session.commit()
    session.expunge_all()
    got = r.get_conversation(session, alice, conv.id)
    assert got.title == "Alice's secret" and not got.pinned and not got.archived
    assert [m.id for m in r.active_path(session, alice, conv.id)] == [q.id, reply.id]
    assert r.get_message(session, alice, reply.id).content == ""


def test_bob_cannot_branch_from_alices_message_in_his_conversation(session, alice, bob, alices):
    _conv, q, _reply = alices
    mine = r.create_conversation(session, bob)
    with pytest.raises(NotFound):
        r.add_message(session, bob, mine.id, role="user", content="x", parent_id=q.id)


def test_same_image_is_stored_per_owner(session, alice, bob, alices):
    _conv, q, _reply = alices
    mine = r.create_conversation(session, bob)
    m = r.add_message(session, bob, mine.id, role="user", content="x", images=[(png_bytes(), "b.png")])
    assert m.attachments[0].id != q.attachments[0].id
    assert m.attachments[0].sha256 == q.attachments[0].sha256
    # Bob deleting his copy leaves Alice's image in place.
    assert r.delete_conversation(session, bob, mine.id)
    session.commit()
    assert r.get_attachment(session, alice, q.attachments[0].id) is not None


def test_bob_cannot_see_or_change_alices_presets(session, alice, bob):
    from storage import presets

    mine = presets.create_preset(session, alice, kind="system", name="Alice only", system_prompt="secret")
    assert presets.get_preset(session, bob, mine.id) is None
    assert mine.id not in {p.id for p in presets.list_presets(session, bob)}
    assert presets.update_preset(session, bob, mine.id, name="x") is None
    assert presets.delete_preset(session, bob, mine.id) is False
    assert presets.get_preset(session, alice, mine.id).name == "Alice only"


def test_bob_cannot_see_or_change_alices_compare_runs(session, alice, bob):
    from storage import compare

    run = compare.create_compare_run(
        session, alice, prompt="secret", columns=[{}, {}], images=[(png_bytes(), "p")]
    )
    res = compare.start_result(session, alice, run.id, column_index=0)
    session.commit()
    assert compare.get_compare_run(session, bob, run.id) is None
    assert compare.list_compare_runs(session, bob) == []
    assert compare.update_compare_run(session, bob, run.id, title="x") is None
    assert compare.delete_compare_run(session, bob, run.id) is False
    with pytest.raises(NotFound):
        compare.start_result(session, bob, run.id, column_index=1)
    with pytest.raises(NotFound):
        compare.grow_result(session, bob, res.id, content="x")
    with pytest.raises(NotFound):
        compare.finish_result(session, bob, res.id, status="complete", content="x")
    assert r.get_attachment(session, bob, run.attachments[0].id) is None
    assert compare.get_compare_run(session, alice, run.id).results[0].content == ""


def test_bob_cannot_share_list_or_revoke_alices_things(session, alice, bob, alices):
    from storage import compare, sharing

    conv, _q, _reply = alices
    run = compare.create_compare_run(session, alice, prompt="secret", columns=[{}, {}])
    link = sharing.create_share_link(session, alice, conversation_id=conv.id)
    assert sharing.create_share_link(session, bob, conversation_id=conv.id) is None
    assert sharing.create_share_link(session, bob, compare_run_id=run.id) is None
    assert sharing.list_share_links(session, bob) == []
    assert sharing.revoke_share_link(session, bob, link.id) is False
    assert sharing.open_share_link(session, link.token) is not None
    with pytest.raises(PermissionError):
        sharing.list_all_share_links(session, bob)


def test_bob_cannot_export_or_touch_alices_usage(session, alice, bob, alices):
    from storage import interchange, usage

    conv, _q, _reply = alices
    event = usage.record_usage(session, alice, prompt_tokens=10)
    assert usage.add_tokens(session, bob, event.id, prompt_tokens=5) is False
    assert usage.usage_totals(session, bob, since=event.created_at).tokens == 0
    with pytest.raises(PermissionError):
        usage.usage_per_user_day(session, bob, since=event.created_at)
    with pytest.raises(NotFound):
        interchange.export_json(session, bob, [conv.id])
    assert "secret" not in interchange.export_markdown(session, bob)


def test_bob_cannot_reach_alices_messages_from_a_session_of_his_own(
    session_maker, session, alice, bob, alices
):
    """The owner filter itself, not the session's identity map: Bob's session has never loaded Alice's
    rows, so only the query's `user_id` condition stands between him and her messages."""
    _conv, q, reply = alices
    with session_maker() as fresh:
        him = fresh.get(type(bob), bob.id)
        assert r.get_message(fresh, him, q.id) is None
        with pytest.raises(NotFound):
            r.grow_reply(fresh, him, reply.id, content="bob was here")
        with pytest.raises(NotFound):
            r.finish_reply(fresh, him, reply.id, status="complete", content="bob was here")
        fresh.rollback()
    with session_maker() as check:
        assert r.get_message(check, check.get(type(alice), alice.id), reply.id).content == ""
