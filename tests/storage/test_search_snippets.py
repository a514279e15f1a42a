"""What a search result shows under its title, on SQLite and PostgreSQL: the message that matched,
with the words that matched in bold, for every conversation found through a message.

The engines differ on one thing, and say so (storage.repository.search_folds_accents): SQLite's FTS5
ignores the accents of Latin letters ("cafe" finds "café"), PostgreSQL's 'simple' search keeps them.
Whatever an engine finds, it shows: the snippet's message is picked by the same index, and the bold
words follow the same rule (components/rendering.highlighted with `fold_accents`). Before, the snippet
was looked up with LIKE, which on SQLite folds neither accents nor non-ASCII case: "cafe" found three
conversations and showed words under one, "über" found one and showed nothing.
"""

from __future__ import annotations

import re

import pytest

from components import rendering
from storage import repository as r

TEXTS = {
    "accent": "Meet at the café at noon",
    "shout": "The CAFÉ OPENS at nine",
    "bare": "A plain cafe near the station",
    "umlaut": "Über große Straße",
    "greek": "Ελληνικά γράμματα",
}

# query -> (found on SQLite, found on PostgreSQL); every one found shows its matching words.
CASES = [
    ("cafe", {"accent", "shout", "bare"}, {"bare"}),
    ("café", {"accent", "shout", "bare"}, {"accent", "shout"}),
    ("CAFÉ", {"accent", "shout", "bare"}, {"accent", "shout"}),
    ("caf", {"accent", "shout", "bare"}, {"accent", "shout", "bare"}),
    ("über", {"umlaut"}, {"umlaut"}),
    ("uber", {"umlaut"}, set()),
    ("ÜBER straße", {"umlaut"}, {"umlaut"}),
    ("ελληνικά", {"greek"}, {"greek"}),  # FTS5 keeps Greek accents: no fold for it in the snippet either
]


@pytest.fixture
def chats(session, alice):
    made = {}
    for name, words in TEXTS.items():
        c = r.create_conversation(session, alice, title="New chat")
        r.add_message(session, alice, c.id, role="user", content="hello there")
        r.add_message(session, alice, c.id, role="user", content=words)
        made[c.id] = name
    session.commit()
    return made


def bold(snippet: str) -> list[str]:
    return re.findall(r"\*\*(.+?)\*\*", snippet)


def fold(word: str) -> str:
    return rendering._folded(word, True)[0]


@pytest.mark.parametrize(("query", "on_sqlite", "on_postgres"), CASES)
def test_every_conversation_found_shows_the_words_it_was_found_by(
    session, alice, chats, query, on_sqlite, on_postgres
):
    dialect = session.get_bind().dialect.name
    found = r.search_conversations(session, alice, query)
    assert {chats[c.id] for c in found} == (on_postgres if dialect == "postgresql" else on_sqlite)
    hits = r.search_hits(session, alice, [c.id for c in found], query)
    words = r.search_words(query)
    folds = r.search_folds_accents(dialect)
    for c in found:
        assert hits.get(c.id) == TEXTS[chats[c.id]], f"{query!r}: nothing shown under {chats[c.id]}"
        shown = bold(rendering.highlighted(hits[c.id], words, fold_accents=folds))
        assert shown, f"{query!r}: no word in bold under {chats[c.id]}"
        for word in shown:  # each bold word starts with a query word, by the engine's own rule
            same = fold if folds else str.lower
            assert any(same(word).startswith(same(w)) for w in words), (query, word)


def test_sqlite_shows_every_spelling_postgres_only_the_one_it_found(session, alice, chats):
    dialect = session.get_bind().dialect.name
    both = r.create_conversation(session, alice, title="New chat")
    r.add_message(session, alice, both.id, role="user", content="cafe or café, Cafe or CAFÉ")
    session.commit()
    hits = r.search_hits(session, alice, [both.id], "cafe")
    shown = rendering.highlighted(hits[both.id], ["cafe"], fold_accents=r.search_folds_accents(dialect))
    if dialect == "postgresql":
        assert bold(shown) == ["cafe", "Cafe"]
    else:
        assert bold(shown) == ["cafe", "café", "Cafe", "CAFÉ"]


def test_a_title_match_shows_no_words_and_another_users_message_is_never_shown(session, alice, bob, chats):
    titled = r.create_conversation(session, alice, title="Café plans")
    theirs = r.create_conversation(session, bob, title="New chat")
    r.add_message(session, bob, theirs.id, role="user", content="Bob's café secret")
    session.commit()
    hits = r.search_hits(session, alice, [titled.id, theirs.id], "café")
    assert titled.id not in hits and theirs.id not in hits
