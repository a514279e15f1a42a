"""Journey 3: Stop in the middle of a reply; after a reload the part that arrived is kept, marked stopped.

The app talks to an offline model paced at a few tokens per second. The conversation carries a seed
picked so that the whole reply is long (known in advance from an unpaced offline model: same corpus, same
seed, same reply), so Stop always lands mid-reply and the saved text can be checked as a proper prefix
of the reply that would have come.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.support import (
    ChatPage,
    make_conversation,
    seed_for_long_reply,
    stored_messages,
    wait_for,
    words,
)

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

PROMPT = "Explain how the offline model samples a reply, in detail."


def test_stop_mid_reply_keeps_the_partial_reply_marked_stopped(slow_app, offline, page):
    database = slow_app.extra_env["PRISM_DATABASE_URL"]
    seed, whole = seed_for_long_reply(offline.base_url, PROMPT, min_tokens=60)
    conversation_id = make_conversation(database, params={"seed": seed}, title="Stop me")

    chat = ChatPage(page, slow_app.url).open(conversation_id)
    chat.record_reply_states()
    chat.send(PROMPT)
    # Some of the reply is on screen, much is still to come: press Stop, as a person would.
    expect(chat.reply()).to_contain_text(" ".join(whole.split()[:4]), timeout=30_000)
    page.get_by_test_id("stChatInputStopButton").click()
    chat.wait_idle()
    expect(page.get_by_test_id("stChatInputSubmitButton")).to_be_visible()

    # The browser shows the run as stopped at once; the page saves the partial reply as it unwinds
    # (turn.close() in its finally), a moment later on a loaded machine: wait for that, don't race it.
    def saved_as_stopped() -> bool:
        saved = stored_messages(database, conversation_id)
        return len(saved) == 2 and saved[1]["status"] == "stopped"

    wait_for(saved_as_stopped, timeout=20, what="the reply saved as stopped after pressing Stop")
    saved = stored_messages(database, conversation_id)
    assert [m["role"] for m in saved] == ["user", "assistant"]
    reply = saved[1]
    kept, planned = words(reply["content"]), words(whole)
    assert 4 <= len(kept) < len(planned), (kept, planned)
    assert kept == planned[: len(kept)], "the kept text is not the start of the reply"

    # With no further action, the page redraws the stopped reply with its note and controls, and the
    # sidebar is there: Stop does not leave the page half drawn.
    reply = chat.messages.last
    expect(reply).to_contain_text("Stopped: this is the part of the reply", timeout=10_000)
    expect(chat.messages).to_have_count(2)
    expect(reply.get_by_role("button", name=re.compile("Regenerate"))).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Stop me")

    page.reload()
    chat.wait_ready()
    expect(chat.messages).to_have_count(2)
    expect(chat.reply()).to_contain_text("Stopped: this is the part of the reply that arrived")
    shown = words(chat.reply().get_by_test_id("stMarkdownContainer").first.inner_text())
    assert shown == kept
    chat.screenshot("journey-3-stop")


def test_stop_while_the_model_is_silent_ends_the_reply_promptly(keyed_app, page):
    """Stop must work when no text is arriving too (a stalled provider), not only between chunks: the
    page is then blocked reading a silent stream, and makes no Streamlit call that could notice Stop."""
    database = keyed_app.extra_env["PRISM_DATABASE_URL"]
    chat = ChatPage(page, keyed_app.url).open()
    chat.send("Tell me about stalls. [[fault:stall:after=3,seconds=60]]")
    expect(chat.reply()).not_to_contain_text("Waiting for the model", timeout=30_000)
    conversation = chat.conversation_id()
    page.get_by_test_id("stChatInputStopButton").click()

    def stopped() -> bool:
        return stored_messages(database, conversation)[1]["status"] == "stopped"

    # Well inside the 60 s stall, with room for a loaded machine: Stop did not wait for the next byte.
    wait_for(stopped, timeout=20, what="the reply saved as stopped long before the stall ends")
    assert stored_messages(database, conversation)[1]["content"].strip(), "the text before the stall is kept"
    chat.wait_idle()
    expect(page.get_by_test_id("stChatInputSubmitButton")).to_be_visible()
