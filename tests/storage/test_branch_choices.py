"""The version a person chose at a branching point is stored with the conversation, on both engines.

Each check reads back through a new session (as another tab or app server would), so nothing held in
one session's memory can make it pass.
"""

from __future__ import annotations

from storage import interchange
from storage import repository as r


def _branched(make_session, user_id):
    """A question answered twice (regenerated): two replies under the same user message."""
    with make_session() as s:
        user = s.get(r.User, user_id)
        conv = r.create_conversation(s, user, title="Branches")
        q = r.add_message(s, user, conv.id, role="user", content="question")
        first = r.add_message(s, user, conv.id, role="assistant", content="first answer", parent_id=q.id)
        second = r.add_message(s, user, conv.id, role="assistant", content="second answer", parent_id=q.id)
        s.commit()
        return conv.id, q.id, first.id, second.id


def test_a_choice_is_kept_for_every_later_session_and_the_export(session_maker, alice):
    conv_id, q_id, first_id, _second = _branched(session_maker, alice.id)
    with session_maker() as s:
        assert [m.content for m in r.active_path(s, s.get(r.User, alice.id), conv_id)][-1] == "second answer"
        assert r.choose_branch(s, s.get(r.User, alice.id), conv_id, q_id, first_id) == {q_id: first_id}
        s.commit()
    with session_maker() as s:
        user = s.get(r.User, alice.id)
        assert [m.content for m in r.active_path(s, user, conv_id)] == ["question", "first answer"]
        exported = interchange.conversation_to_dict(s, user, conv_id)
        assert [m["content"] for m in exported["messages"]] == ["question", "first answer"]
    with session_maker() as s:
        assert r.choose_branch(s, s.get(r.User, alice.id), conv_id, q_id, None) == {}
        s.commit()
    with session_maker() as s:
        assert r.active_path(s, s.get(r.User, alice.id), conv_id)[-1].content == "second answer"


def test_a_choice_naming_someone_elses_or_a_misplaced_message_changes_nothing(session_maker, alice, bob):
    conv_id, q_id, first_id, _second = _branched(session_maker, alice.id)
    bobs_conv, _bobs_q, bobs_reply, _ = _branched(session_maker, bob.id)
    with session_maker() as s:
        bob_now = s.get(r.User, bob.id)
        assert r.choose_branch(s, bob_now, conv_id, q_id, first_id) is None  # Alice's conversation
        alice_now = s.get(r.User, alice.id)
        assert r.choose_branch(s, alice_now, conv_id, q_id, bobs_reply) is None  # Bob's message
        assert r.choose_branch(s, alice_now, conv_id, None, first_id) is None  # not a root
        s.commit()
    with session_maker() as s:
        assert r.get_conversation(s, s.get(r.User, alice.id), conv_id).branch_choices == {}
        assert r.get_conversation(s, s.get(r.User, bob.id), bobs_conv).branch_choices == {}


def test_an_export_imported_again_opens_on_the_branch_that_was_chosen(session_maker, alice, bob):
    conv_id, q_id, first_id, _second = _branched(session_maker, alice.id)
    with session_maker() as s:
        r.choose_branch(s, s.get(r.User, alice.id), conv_id, q_id, first_id)
        s.commit()
    with session_maker() as s:
        exported = interchange.export_json(s, s.get(r.User, alice.id), [conv_id])
    with session_maker() as s:
        [copy] = interchange.import_conversations(s, s.get(r.User, bob.id), exported)
        s.commit()
        copy_id = copy.id
    with session_maker() as s:
        path = r.active_path(s, s.get(r.User, bob.id), copy_id)
        assert [m.content for m in path] == ["question", "first answer"]
