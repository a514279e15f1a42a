"""The outline of a conversation finds the same branch as its whole rows, on both engines, and reading
messages whole by id stays inside the person's own conversation.

The chat page finds the branch it shows on `conversation_outline` (id, parent, candidate index) and
reads whole only the messages it draws (`messages_by_id`); the export reads every row whole. Each
shape below (regenerated, edited, n > 1 candidates, a chosen older version, a second root) must give
the same path both ways, or the page and the export would disagree about what the chat says.
"""

from __future__ import annotations

import pytest

from storage import branches, interchange
from storage import repository as r


def _build(make_session, user_id, shape: str) -> tuple[int, dict[str, int]]:
    """A conversation of the given shape; (its id, {name: message id})."""
    with make_session() as s:
        user = s.get(r.User, user_id)
        conv = r.create_conversation(s, user, title=shape)
        ids: dict[str, int] = {}

        def add(name, role, parent=None, **kw):
            ids[name] = r.add_message(
                s, user, conv.id, role=role, content=name, parent_id=ids.get(parent), **kw
            ).id

        add("q1", "user")
        add("a1", "assistant", "q1")
        add("q2", "user", "a1")
        add("a2", "assistant", "q2")
        if shape in ("regenerated", "chosen"):
            add("a2 again", "assistant", "q2")
        if shape == "edited":
            add("q2 edited", "user", "a1")
            add("a2 of edit", "assistant", "q2 edited")
        if shape == "candidates":
            for index in range(3):
                ids[f"c{index}"] = r.start_reply(
                    s, user, conv.id, parent_id=ids["q2"], request_body={}, candidate_index=index
                ).id
        if shape == "chosen":
            r.choose_branch(s, user, conv.id, ids["q2"], ids["a2"])
        if shape == "second root":
            add("another start", "user")
        s.commit()
        return conv.id, ids


EXPECTED = {
    "straight": ["q1", "a1", "q2", "a2"],
    "regenerated": ["q1", "a1", "q2", "a2 again"],
    "edited": ["q1", "a1", "q2 edited", "a2 of edit"],
    "candidates": ["q1", "a1", "q2", "c0"],
    "chosen": ["q1", "a1", "q2", "a2"],
    "second root": ["another start"],
}


@pytest.mark.parametrize("shape", list(EXPECTED))
def test_the_outline_follows_the_branch_the_whole_rows_and_the_export_follow(session_maker, alice, shape):
    conv_id, ids = _build(session_maker, alice.id, shape)
    names = {v: k for k, v in ids.items()}
    with session_maker() as s:
        user = s.get(r.User, alice.id)
        choose = branches.choices(r.get_conversation(s, user, conv_id).branch_choices)
        outline = r.conversation_outline(s, user, conv_id)
        on_outline = branches.follow(outline, choose)
        whole = r.conversation_messages(s, user, conv_id)
        assert [names[m.id] for m in on_outline] == EXPECTED[shape]
        assert [m.id for m in on_outline] == [m.id for m in branches.follow(whole, choose)]
        assert [names[m.id] for m in r.active_path(s, user, conv_id)] == EXPECTED[shape]
        assert len(outline) == len(whole), "the outline holds every branch"
        exported = interchange.conversation_to_dict(s, user, conv_id)
        assert [m["content"] for m in exported["messages"]][: len(EXPECTED[shape])] == [
            "" if n.startswith("c") else n for n in EXPECTED[shape]
        ]
        # The navigator's counts come from the outline too.
        children = branches.children_by_parent(outline)
        counts = {names[m.id]: branches.position(children, m)[:2] for m in on_outline}
        by_whole = {names[m.id]: branches.position(branches.children_by_parent(whole), m)[:2] for m in whole}
        assert counts == {name: by_whole[name] for name in counts}


def test_messages_read_by_id_are_whole_with_their_images(session_maker, alice):
    from tests.storage.images_for_tests import png_bytes

    with session_maker() as s:
        user = s.get(r.User, alice.id)
        conv = r.create_conversation(s, user)
        q = r.add_message(s, user, conv.id, role="user", content="look", images=[(png_bytes(), "a.png")])
        a = r.add_message(s, user, conv.id, role="assistant", content="a picture", parent_id=q.id)
        s.commit()
    with session_maker() as s:
        found = r.messages_by_id(s, s.get(r.User, alice.id), conv.id, [a.id, q.id])
        assert [(found[i].content, len(found[i].attachments)) for i in (q.id, a.id)] == [
            ("look", 1),
            ("a picture", 0),
        ]


def test_messages_are_read_by_id_only_from_the_persons_own_conversation(session_maker, alice, bob):
    alice_conv, alice_ids = _build(session_maker, alice.id, "straight")
    bob_conv, bob_ids = _build(session_maker, bob.id, "straight")
    with session_maker() as s:
        bob_now, alice_now = s.get(r.User, bob.id), s.get(r.User, alice.id)
        assert r.messages_by_id(s, bob_now, alice_conv, alice_ids.values()) == {}
        assert r.conversation_outline(s, bob_now, alice_conv) == []
        # Alice's ids asked for through Bob's own conversation: none of them is his.
        assert r.messages_by_id(s, bob_now, bob_conv, alice_ids.values()) == {}
        mixed = r.messages_by_id(s, alice_now, alice_conv, [*alice_ids.values(), *bob_ids.values()])
        assert set(mixed) == set(alice_ids.values())


def test_a_branch_longer_than_one_query_takes_is_read_whole_with_its_images(session_maker, alice):
    from tests.storage.images_for_tests import png_bytes

    length = r._IDS_PER_QUERY + 30
    with session_maker() as s:
        user = s.get(r.User, alice.id)
        conv = r.create_conversation(s, user)
        parent = None
        for i in range(length):
            images = [(png_bytes(), "a.png")] if i in (0, length - 1) else []
            parent = r.add_message(
                s, user, conv.id, role="user", content=f"m{i}", parent_id=parent, images=images
            ).id
        s.commit()
    with session_maker() as s:
        user = s.get(r.User, alice.id)
        path = r.active_path(s, user, conv.id)
        assert [m.content for m in path] == [f"m{i}" for i in range(length)]
        assert [i for i, m in enumerate(path) if m.attachments] == [0, length - 1]
