"""Journey 1: a fresh machine with no key. Chat with the offline model, watch the reply grow, reload.

The app runs as `streamlit run app.py` with no base URL and no key, so it starts its own offline model
(paced so a person sees the text stream). What a person must see: the page says it is talking to the
offline model; the reply appears in several growing states, not all at once; after a reload (the
conversation is in the URL) the question and the whole reply are still there.
"""

from __future__ import annotations

import pytest

from tests.browser.support import ChatPage, stored_messages, words

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect


def growing_states(states: list[dict], final_words: list[str]) -> list[list[str]]:
    """The distinct partial texts the reply showed: each a proper prefix of the saved reply's words.

    The last word of a partial state may be cut mid-token, so it is left out of the comparison."""
    seen: list[list[str]] = []
    for state in states:
        shown = words(state["text"])
        if not shown or len(shown) >= len(final_words):
            continue
        if shown[:-1] == final_words[: len(shown) - 1] and shown not in seen:
            seen.append(shown)
    return seen


def test_first_run_streams_a_reply_and_keeps_it_after_reload(first_run_app, page):
    chat = ChatPage(page, first_run_app.url).open()
    expect(page.get_by_text("the offline model (no API key set", exact=False)).to_be_visible()

    chat.record_reply_states()
    chat.send("How does Prism stream a reply from the offline model?")
    chat.wait_reply_done()
    conversation_id = chat.conversation_id()

    saved = stored_messages(first_run_app.extra_env["PRISM_DATABASE_URL"], conversation_id)
    assert [(m["role"], m["status"]) for m in saved] == [("user", "complete"), ("assistant", "complete")]
    reply_words = words(saved[1]["content"])
    assert reply_words, "the offline model gave an empty reply"
    partial = growing_states(chat.reply_states(), reply_words)
    assert len(partial) >= 2, f"the reply did not visibly grow; states seen: {chat.reply_states()}"
    assert len(partial[0]) < len(partial[-1]), "the visible states did not grow"

    page.reload()
    chat.wait_ready()
    expect(chat.messages).to_have_count(2)
    expect(chat.messages.nth(0)).to_contain_text("How does Prism stream a reply from the offline model?")
    assert words(chat.reply().get_by_test_id("stMarkdownContainer").first.inner_text()) == reply_words
    expect(page.get_by_test_id("stSidebar")).to_contain_text("How does Prism stream a reply")
    chat.screenshot("journey-1-first-run")
