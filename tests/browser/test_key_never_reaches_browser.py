"""Journey 7: with an API key configured, the key never reaches the browser.

The app is given PRISM_API_KEY and talks to an offline model that refuses requests without that key,
so the key is really in use. The browser then chats (a reply proves the key was sent upstream), opens
the parameters and the reply's Request dialog (which shows the request as curl and Python), and visits
every page in the navigation. Every page's HTML, every HTTP response body and every websocket frame in
either direction is searched for the key; so is the server's log.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import API_KEY
from tests.browser.support import ChatPage

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

KEY_BYTES = API_KEY.encode()


class Wiretap:
    """Everything the browser received or sent: websocket frames, response bodies, page HTML."""

    def __init__(self, page) -> None:
        self.frames: list[bytes] = []
        self.bodies: list[tuple[str, bytes]] = []
        self.html: list[tuple[str, str]] = []
        page.on("websocket", self._socket)
        page.on("response", self._response)

    def _socket(self, ws) -> None:
        ws.on("framereceived", self._frame)
        ws.on("framesent", self._frame)

    def _frame(self, payload) -> None:
        self.frames.append(payload if isinstance(payload, bytes) else payload.encode())

    def _response(self, response) -> None:
        try:
            self.bodies.append((response.url, response.body()))
        except Exception:  # redirects and aborted requests have no body to read
            pass

    def snapshot(self, page, label: str) -> None:
        self.html.append((label, page.content()))

    def leaks(self) -> list[str]:
        found = [f"websocket frame {i}" for i, f in enumerate(self.frames) if KEY_BYTES in f]
        found += [f"response {url}" for url, body in self.bodies if KEY_BYTES in body]
        found += [f"HTML of {label}" for label, html in self.html if API_KEY in html]
        return found


def test_the_api_key_never_reaches_the_browser(keyed_app, keyed_offline, page):
    tap = Wiretap(page)
    chat = ChatPage(page, keyed_app.url).open()
    tap.snapshot(page, "chat, empty")

    chat.send("Say something about keys.")
    chat.wait_reply_done()
    expect(chat.reply()).not_to_contain_text("refused")
    authorised = [r for r in keyed_offline.received if "Say something about keys." in str(r["body"])]
    assert authorised, "the request did not reach the keyed offline model"
    tap.snapshot(page, "chat, after a reply")

    page.get_by_text("System prompt and parameters").click()
    chat.wait_idle()
    tap.snapshot(page, "chat, parameters open")
    chat.reply().get_by_role("button", name=re.compile("Request")).click()
    expect(page.get_by_text("Copy as curl")).to_be_visible()
    tap.snapshot(page, "chat, request dialog")
    page.keyboard.press("Escape")

    conversation = chat.conversation_id()
    nav = page.get_by_test_id("stSidebarNav").get_by_role("link")
    hrefs = [nav.nth(i).get_attribute("href") for i in range(nav.count())]
    assert len(hrefs) >= 2, hrefs
    for href in [*hrefs, f"{keyed_app.url}?c={conversation}"]:
        page.goto(href)  # a fresh load of each page: its whole HTML and websocket traffic
        expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
        chat.wait_idle()
        tap.snapshot(page, f"page {href}")

    assert tap.frames, "no websocket frames were seen: the wiretap is broken"
    assert any(b"Say something about keys." in f for f in tap.frames)  # the tap sees real traffic
    assert tap.leaks() == []
    assert API_KEY not in keyed_app.log_path.read_text(errors="replace")
    chat.screenshot("journey-7-key-never-in-browser")
