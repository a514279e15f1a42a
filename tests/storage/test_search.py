"""Search: one function over titles and message text, the same answers on SQLite (FTS5) and
PostgreSQL (full-text GIN), scoped to the user."""

from __future__ import annotations

import pytest

from storage import repository as r


@pytest.fixture
def library(session, alice):
    def conv(title: str, *texts: str):
        c = r.create_conversation(session, alice, title=title)
        parent = None
        for t in texts:
            parent = r.add_message(session, alice, c.id, role="user", content=t, parent_id=parent).id
        return c

    convs = {
        "bread": conv("Baking bread", "How long should sourdough proof?", "Overnight in the fridge works."),
        "rust": conv("Rust lifetimes", "Why does the borrow checker reject this?"),
        "trip": conv("Trip to Oslo", "Which museums open on Monday?"),
        "plain": conv("New chat", "Tell me about the Fram museum in Oslo."),
    }
    session.commit()
    return convs


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sourdough", {"bread"}),  # message text
        ("baking", {"bread"}),  # title
        ("bak", {"bread"}),  # a prefix of a title word
        ("aking", set()),  # words match from their start, in titles as in text, on both engines
        ("SOURDOUGH", {"bread"}),  # case does not matter
        ("oslo", {"trip", "plain"}),  # title of one, text of the other
        ("museum oslo", {"plain"}),  # every word, in one message
        ("borrow checker", {"rust"}),
        ("borr", {"rust"}),  # a prefix finds the word
        ("fridge, works!", {"bread"}),  # punctuation is not syntax
        ('"proof" OR NOT', set()),  # FTS operators are plain words here
        ("giraffe", set()),
        ("", set()),
        ("   ", set()),
    ],
)
def test_search_finds_titles_and_text(session, alice, library, query, expected):
    found = {
        name
        for name, c in library.items()
        if c.id in {h.id for h in r.search_conversations(session, alice, query)}
    }
    assert found == expected


def test_search_follows_edits_and_deletes(session, alice, library):
    conv = library["trip"]
    m = r.add_message(session, alice, conv.id, role="user", content="draft about fjords")
    reply = r.start_reply(session, alice, conv.id, parent_id=m.id, request_body={})
    r.grow_reply(session, alice, reply.id, content="Geirangerfjord is")
    session.commit()
    assert [c.id for c in r.search_conversations(session, alice, "geirangerfjord")] == [conv.id]
    r.finish_reply(session, alice, reply.id, status="complete", content="Nærøyfjord is narrow.")
    session.commit()
    assert r.search_conversations(session, alice, "geirangerfjord") == []
    assert [c.id for c in r.search_conversations(session, alice, "narrow")] == [conv.id]
    r.delete_conversation(session, alice, conv.id)
    session.commit()
    assert r.search_conversations(session, alice, "narrow") == []


def test_search_orders_most_recent_first_and_limits(session, alice):
    ids = []
    for i in range(5):
        c = r.create_conversation(session, alice, title=f"kite {i}")
        ids.append(c.id)
    r.add_message(session, alice, ids[1], role="user", content="kite again")
    session.commit()
    found = [c.id for c in r.search_conversations(session, alice, "kite", limit=3)]
    assert found[0] == ids[1] and len(found) == 3


def test_search_can_skip_archived(session, alice, library):
    r.archive_conversation(session, alice, library["trip"].id)
    assert {c.id for c in r.search_conversations(session, alice, "oslo", archived=False)} == {
        library["plain"].id
    }
    assert {c.id for c in r.search_conversations(session, alice, "oslo")} == {
        library["trip"].id,
        library["plain"].id,
    }


def test_search_never_finds_another_users_words(session, alice, bob, library):
    assert r.search_conversations(session, bob, "sourdough") == []
    mine = r.create_conversation(session, bob, title="bob's")
    r.add_message(session, bob, mine.id, role="user", content="sourdough for bob")
    session.commit()
    assert [c.id for c in r.search_conversations(session, bob, "sourdough")] == [mine.id]
    assert [c.id for c in r.search_conversations(session, alice, "sourdough")] == [library["bread"].id]


def test_a_full_page_is_the_most_recently_active_matches(session, alice):
    """More matching conversations than fit: the page holds the newest ones, newest first."""
    ids = []
    for i in range(8):
        c = r.create_conversation(session, alice, title=f"chat {i}")
        r.add_message(session, alice, c.id, role="user", content=f"the word quokka, {i} times")
        ids.append(c.id)
    r.add_message(session, alice, ids[2], role="user", content="quokka once more")  # now the newest
    session.commit()
    found = [c.id for c in r.search_conversations(session, alice, "quokka", limit=3)]
    assert found == [ids[2], ids[7], ids[6]]


def test_another_users_newer_matches_do_not_crowd_out_mine(session, alice, bob):
    mine = r.create_conversation(session, alice, title="mine")
    r.add_message(session, alice, mine.id, role="user", content="a wombat burrow")
    for i in range(12):
        theirs = r.create_conversation(session, bob, title=f"bob {i}")
        r.add_message(session, bob, theirs.id, role="user", content="wombat wombat")
    session.commit()
    assert [c.id for c in r.search_conversations(session, alice, "wombat", limit=3)] == [mine.id]
    assert len(r.search_conversations(session, bob, "wombat", limit=3)) == 3


def test_many_matches_in_one_conversation_count_it_once(session, alice):
    busy = r.create_conversation(session, alice, title="busy")
    parent = None
    for _ in range(30):
        parent = r.add_message(session, alice, busy.id, role="user", content="numbat", parent_id=parent).id
    quiet = r.create_conversation(session, alice, title="quiet")
    r.add_message(session, alice, quiet.id, role="user", content="one numbat")
    session.commit()
    assert {c.id for c in r.search_conversations(session, alice, "numbat", limit=2)} == {busy.id, quiet.id}
