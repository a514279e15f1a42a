"""The app server is killed (SIGKILL) while a reply streams; started again, it shows what was saved.

Nothing is lost (docs/architecture.md, "Storage"): the user's message is committed before the request, and the
reply's text is saved as it grows. A SIGKILL gives the process no chance to save anything more, so
what the restarted app shows is exactly what had reached the database: the user's message, and the
reply up to its last save, marked interrupted (the dead writer is noticed by its pid tag).
"""

from __future__ import annotations

import pytest

from tests.browser.support import (
    AppServer,
    ChatPage,
    make_conversation,
    seed_for_long_reply,
    sqlite_url,
    stored_messages,
    wait_for,
    words,
)

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

PROMPT = "Tell me everything about how Prism saves a reply while it streams."


def test_sigkill_mid_reply_keeps_the_message_and_the_saved_part(tmp_path, slow_offline, offline, page):
    database = sqlite_url(tmp_path / "prism.db")
    env = {"PRISM_API_BASE_URL": slow_offline.base_url, "PRISM_DATABASE_URL": database}
    seed, whole = seed_for_long_reply(offline.base_url, PROMPT, min_tokens=60)
    conversation_id = make_conversation(database, params={"seed": seed}, title="Crash me")

    first = AppServer(tmp_path, env=env).start()
    try:
        chat = ChatPage(page, first.url).open(conversation_id)
        chat.send(PROMPT)

        def saved_part() -> bool:
            rows = stored_messages(database, conversation_id)
            return len(rows) == 2 and rows[1]["status"] == "streaming" and len(words(rows[1]["content"])) >= 3

        try:
            wait_for(saved_part, timeout=60, what="a few words of the reply saved while it streams")
        except AssertionError:
            print(stored_messages(database, conversation_id), first.log_tail())
            raise
        expect(chat.reply()).to_contain_text(" ".join(whole.split()[:3]))
    finally:
        first.kill()

    at_kill = stored_messages(database, conversation_id)
    assert at_kill[0]["role"] == "user" and at_kill[0]["content"] == PROMPT
    kept = words(at_kill[1]["content"])
    assert 3 <= len(kept) < len(words(whole))
    assert kept == words(whole)[: len(kept)]

    second = AppServer(tmp_path, env=env, port=first.port).start()
    try:
        chat.open(conversation_id)
        expect(chat.messages).to_have_count(2)
        expect(chat.messages.first).to_contain_text(PROMPT)
        expect(chat.reply()).to_contain_text("Interrupted: the app stopped while this reply was streaming")
        assert words(chat.reply().get_by_test_id("stMarkdownContainer").first.inner_text()) == kept
        after = stored_messages(database, conversation_id)
        assert [m["status"] for m in after] == ["complete", "interrupted"]
        assert words(after[1]["content"]) == kept
        chat.screenshot("journey-sigkill-restart")
    finally:
        second.stop()
