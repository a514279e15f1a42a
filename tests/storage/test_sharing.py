"""Share links: unguessable tokens, frozen snapshots, expiry and revocation, admin overview."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from storage import compare, sharing
from storage import repository as r
from storage.models import utcnow


@pytest.fixture
def conv(session, alice):
    c = r.create_conversation(session, alice, title="Shared chat")
    q = r.add_message(session, alice, c.id, role="user", content="original question")
    r.add_message(session, alice, c.id, role="assistant", content="original answer", parent_id=q.id)
    session.commit()
    return c


def test_token_is_long_random_and_url_safe(session, alice, conv):
    tokens = {sharing.create_share_link(session, alice, conversation_id=conv.id).token for _ in range(20)}
    assert len(tokens) == 20
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", token)  # >= 32 base64 characters = 192 bits


def test_link_shows_a_snapshot_taken_when_shared(session, alice, bob, conv):
    link = sharing.create_share_link(session, alice, conversation_id=conv.id)
    session.commit()
    r.rename_conversation(session, alice, conv.id, "Renamed later")
    r.add_message(session, alice, conv.id, role="user", content="a later secret")
    session.commit()
    opened = sharing.open_share_link(session, link.token)
    assert opened.title == "Shared chat"
    texts = [m["content"] for m in opened.snapshot["messages"]]
    assert texts == ["original question", "original answer"]


def test_revoked_and_expired_links_open_nothing(session, alice, conv):
    revoked = sharing.create_share_link(session, alice, conversation_id=conv.id)
    expired = sharing.create_share_link(
        session, alice, conversation_id=conv.id, expires_at=utcnow() - timedelta(1)
    )
    later = sharing.create_share_link(
        session, alice, conversation_id=conv.id, expires_at=utcnow() + timedelta(1)
    )
    assert sharing.revoke_share_link(session, alice, revoked.id)
    session.commit()
    assert sharing.open_share_link(session, revoked.token) is None
    assert sharing.open_share_link(session, expired.token) is None
    assert sharing.open_share_link(session, later.token).id == later.id
    assert sharing.open_share_link(session, later.token, now=utcnow() + timedelta(2)) is None
    assert sharing.open_share_link(session, "nope") is None
    assert sharing.open_share_link(session, "") is None


def test_compare_run_can_be_shared(session, alice):
    run = compare.create_compare_run(session, alice, prompt="p", columns=[{"label": "a"}, {"label": "b"}])
    res = compare.start_result(session, alice, run.id, column_index=1)
    compare.finish_result(session, alice, res.id, status="complete", content="hi")
    link = sharing.create_share_link(session, alice, compare_run_id=run.id)
    snap = sharing.open_share_link(session, link.token).snapshot
    assert link.kind == "compare" and snap["results"][0]["content"] == "hi"


def test_share_exactly_one_thing(session, alice, conv):
    with pytest.raises(ValueError):
        sharing.create_share_link(session, alice)
    with pytest.raises(ValueError):
        sharing.create_share_link(session, alice, conversation_id=conv.id, compare_run_id=1)


def test_owner_lists_theirs_admin_lists_all(session, alice, bob, conv):
    link = sharing.create_share_link(session, alice, conversation_id=conv.id)
    mine = r.create_conversation(session, bob)
    bobs = sharing.create_share_link(session, bob, conversation_id=mine.id)
    assert [x.id for x in sharing.list_share_links(session, alice)] == [link.id]
    with pytest.raises(PermissionError):
        sharing.list_all_share_links(session, alice)
    admin = r.ensure_user(session, "root@example.com", role="admin")
    assert {x.id for x in sharing.list_all_share_links(session, admin)} == {link.id, bobs.id}
    assert sharing.revoke_share_link(session, admin, bobs.id)
    assert sharing.open_share_link(session, bobs.token) is None


def test_deleting_the_conversation_removes_its_links(session, alice, conv):
    link = sharing.create_share_link(session, alice, conversation_id=conv.id)
    session.commit()
    r.delete_conversation(session, alice, conv.id)
    session.commit()
    assert sharing.open_share_link(session, link.token) is None


def test_a_shared_run_and_the_json_export_are_one_shape(session, alice):
    import json

    from components import compare_stats

    run = compare.create_compare_run(session, alice, prompt="p", columns=[{"label": "a"}])
    res = compare.start_result(session, alice, run.id, column_index=0)
    compare.finish_result(session, alice, res.id, status="length", content="cut", finish_reason="length")
    link = sharing.create_share_link(session, alice, compare_run_id=run.id)
    exported = json.loads(compare_stats.run_as_json(compare.get_compare_run(session, alice, run.id)))
    assert sharing.open_share_link(session, link.token).snapshot == exported
    assert exported["results"][0]["finish_reason"] == "length"
