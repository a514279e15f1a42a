"""The sidebar's search shows, under each conversation it finds, the words that found it, in bold, on
both engines: on SQLite (which ignores accents) "cafe" finds a chat about the "café" and bolds "café";
on PostgreSQL (which keeps them) "café" finds and bolds it. Before, SQLite found that chat and showed
nothing under it. (tests/storage/test_search_snippets.py covers the table of spellings.)"""

from __future__ import annotations

from storage import repository


def send(at, text):
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception


def shown_for(at, query: str) -> tuple[list[str], list[str]]:
    at.sidebar.text_input(key="chat.search").set_value(query).run()
    assert not at.exception, at.exception
    rows = [b.label for b in at.sidebar.button if b.key and b.key.startswith("chat.open.")]
    return rows, [c.value for c in at.sidebar.caption]


def test_the_words_that_found_a_chat_are_shown_under_it(engine_db_url, new_app):
    at = new_app().run()
    send(at, "Where is the best café in Lyon? Maybe the Café du Parc")
    title = next(b.label for b in at.sidebar.button if b.key and b.key.startswith("chat.open."))
    rows, captions = shown_for(at, "café")
    assert rows == [title]
    assert any("**café**" in c and "**Café**" in c for c in captions), captions
    rows, captions = shown_for(at, "cafe")
    if repository.search_folds_accents(engine_db_url.split(":", 1)[0].split("+", 1)[0]):
        assert rows == [title]
        assert any("**café**" in c and "**Café**" in c for c in captions), captions
    else:
        assert rows == [] and "No conversations match." in captions
