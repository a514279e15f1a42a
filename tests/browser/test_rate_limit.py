"""Journey 6: a 429 from the provider; the page says why and counts down the wait, and the retry succeeds.

The offline model answers the first request carrying the marker with a per-minute 429 whose RetryInfo
asks for a few seconds (`status:429,retry=S,times=1`), and serves the next one. A person sees the
notice with the wait while the client waits, then the reply streams in; the saved reply is complete.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.browser.support import ChatPage, stored_messages

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect


def test_a_rate_limit_shows_the_wait_and_the_retry_succeeds(keyed_app, keyed_offline, page):
    chat = ChatPage(page, keyed_app.url).open()
    chat.record_reply_states()
    # A spec of its own (the nonce), so `times=1` counts only this test's requests.
    marker = f"[[fault:status:429,retry=3,times=1]] {uuid.uuid4().hex[:8]}"
    chat.send(f"Tell me about quotas. {marker}")
    expect(chat.reply()).to_contain_text("Too many requests (HTTP 429)", timeout=30_000)
    chat.screenshot("journey-6-rate-limit-notice")
    chat.wait_reply_done()

    countdown = [
        int(found.group(1))
        for state in chat.reply_states()
        if (found := re.search(r"Retrying in (\d+) s", state["text"]))
    ]
    assert countdown, "the retry notice never showed"
    shown = sorted(set(countdown), reverse=True)
    assert shown[0] == 3 and len(shown) >= 2, f"no countdown: {countdown}"
    assert countdown == sorted(countdown, reverse=True), "the countdown went up"
    expect(chat.reply()).not_to_contain_text("Retrying in")
    tries = [r for r in keyed_offline.received if marker in str(r["body"])]
    assert len(tries) == 2, "one refused request, one retry"

    saved = stored_messages(keyed_app.extra_env["PRISM_DATABASE_URL"], chat.conversation_id())
    assert [(m["role"], m["status"]) for m in saved] == [("user", "complete"), ("assistant", "complete")]
    assert saved[1]["content"].strip() and saved[1]["error"] is None
    chat.screenshot("journey-6-rate-limit-retried")
