"""Journey 4: compare three columns filled by a temperature sweep; all three stream at the same time.

The app talks to an offline model paced at a few tokens per second, so a column's reply takes a while
to arrive. A recorder inside chromium counts, at every change of the page, how many columns say
"Streaming..." at that moment: three at once means the columns really stream side by side, not one
after another.
"""

from __future__ import annotations

import pytest

from tests.browser.support import ChatPage

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

CONCURRENCY_JS = """
() => {
  window.__prismMostStreaming = 0;
  const count = () => {
    const live = [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
      .filter(el => el.innerText.trim() === "Streaming...").length;
    window.__prismMostStreaming = Math.max(window.__prismMostStreaming, live);
  };
  new MutationObserver(count).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def test_a_temperature_sweep_fills_three_columns_that_stream_at_once(slow_app, page):
    chat = ChatPage(page, slow_app.url).open()
    # Through the navigation: a direct load of /compare skips app.py (see test_direct_links.py).
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Compare").click()
    expect(page.get_by_role("heading", name="Compare")).to_be_visible()
    chat.wait_ready()

    page.locator("summary").filter(has_text="Sweep a parameter").click()
    values = page.get_by_role("textbox", name="Values (comma separated)").first
    values.fill("0, 1, 2")
    values.press("Enter")
    chat.wait_idle()
    page.get_by_role("button", name="Fill the columns").click()
    chat.wait_idle()
    for value in ("0", "1", "2"):
        expect(page.get_by_test_id("stMainBlockContainer")).to_contain_text(f"temperature {value}")

    page.evaluate(CONCURRENCY_JS)
    chat.send("What does temperature change in a reply?")
    # The finished run reopens from the database with a way into a chat per column. ("3 of 3 replies
    # done" shows only for a moment before that, too briefly to wait for on a loaded machine.)
    expect(page.get_by_role("button", name="Open in chat")).to_have_count(3, timeout=60_000)
    chat.wait_idle(60_000)
    assert "run=" in page.url, "the finished run is opened from the database"

    assert page.evaluate("window.__prismMostStreaming") == 3, "the three columns did not stream at once"
    for value in ("0", "1", "2"):
        expect(page.get_by_test_id("stMainBlockContainer")).to_contain_text(f"temperature {value}")
    chat.screenshot("journey-4-compare-sweep")
