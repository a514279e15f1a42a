"""The chat page's finish, in a real browser: one-click Copy of a reply's markdown, a reply's actions in
one row on a phone, history titles shown whole (the " (2)" that tells two chats apart included), and a
page (icons included) that fetches nothing from outside loopback.

Copy is the browser's own clipboard, written by the page while it handles the click, so only a browser
can show it: the context is granted clipboard access and the test reads the clipboard back.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.support import ChatPage, make_conversation, stored_messages

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

PHONE = {"width": 390, "height": 844}
LOOPBACK = ("http://127.0.0.1", "ws://127.0.0.1", "blob:", "data:")


def test_copy_puts_the_replys_markdown_on_the_clipboard(first_run_app, context, page):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=first_run_app.url.rstrip("/"))
    chat = ChatPage(page, first_run_app.url).open()
    chat.send("Reply in JSON: what does the temperature do?")
    chat.wait_reply_done()
    saved = stored_messages(first_run_app.extra_env["PRISM_DATABASE_URL"], chat.conversation_id())
    reply = saved[-1]["content"]
    assert reply.strip(), "the offline model gave an empty reply"
    page.evaluate("navigator.clipboard.writeText('nothing copied yet')")

    copy = chat.reply().get_by_role("button", name="Copy the reply as markdown")
    copy.click()
    expect(copy).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == reply


def test_a_replys_actions_fit_in_one_row_on_a_phone(first_run_app, page):
    page.set_viewport_size(PHONE)
    chat = ChatPage(page, first_run_app.url).open()
    chat.send("What does top p do?")
    chat.wait_reply_done()
    reply = chat.reply()
    actions = [
        reply.get_by_role("button", name="Regenerate"),
        reply.get_by_role("button", name="Copy the reply as markdown"),
        reply.get_by_role("button", name="Request"),
    ]
    boxes = []
    for action in actions:
        expect(action).to_be_visible()
        boxes.append(action.bounding_box())
    middles = [box["y"] + box["height"] / 2 for box in boxes]
    assert max(middles) - min(middles) < 4, f"the actions are not in one row: {boxes}"
    assert all(box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] for box in boxes), boxes
    lefts = [box["x"] for box in boxes]
    assert lefts == sorted(lefts), "Regenerate, Copy, Request, left to right"
    chat.screenshot("chat-phone-actions")


# Whether a history row's title is cut: its text is wider or taller than the box that shows it.
TITLE_CUT_JS = """(button) => {
  const label = button.querySelector('[data-testid=stMarkdownContainer]');
  return label.scrollWidth > label.clientWidth + 1 || label.scrollHeight > label.clientHeight + 1;
}"""


@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 900}, PHONE], ids=["laptop", "phone"])
def test_two_chats_with_one_title_read_apart_in_the_history(first_run_app, page, viewport):
    page.set_viewport_size(viewport)
    url = first_run_app.extra_env["PRISM_DATABASE_URL"]
    titles = ["What temperature does to long replies", "What temperature does to long replies (2)"]
    ids = [make_conversation(url, params={}, title=title) for title in titles]
    chat = ChatPage(page, first_run_app.url)
    # Written beside the app, as another app server would: the list may be up to 3 s old
    # (components/cached_reads.py), so the page is opened again until it lists them.
    deadline = time.monotonic() + 20
    while True:
        chat.open(ids[1])  # the open one is drawn as the selected row
        if page.locator(f".st-key-chat-open-{ids[0]}").count() or time.monotonic() > deadline:
            break
    expand = page.get_by_test_id("stExpandSidebarButton")  # a phone starts with the sidebar folded
    if expand.is_visible():
        expand.click()
    # Measured once the sidebar has slid fully open (its rows are narrower while it moves).
    page.wait_for_function(
        "(() => { const r = document.querySelector('[data-testid=stSidebar]').getBoundingClientRect();"
        " return r.left >= 0 && r.width > 250; })()"
    )
    for conversation_id in ids:
        row = page.locator(f".st-key-chat-open-{conversation_id} button")
        expect(row).to_be_visible()
        assert not row.evaluate(TITLE_CUT_JS), (
            f"the title of chat {conversation_id} is cut: {row.inner_text()!r}"
        )
    chat.screenshot(f"history-titles-{viewport['width']}")


def test_another_page_opens_while_manage_this_chat_is_open(first_run_app, page):
    """A popover closes when a page link is clicked; the page the link opens is drawn all the same."""
    chat = ChatPage(page, first_run_app.url).open()
    chat.send("Plan a picnic for four.")
    chat.wait_reply_done()
    page.get_by_role("button", name=re.compile("Manage this chat")).click()
    expect(
        page.get_by_test_id("stPopoverBody").get_by_role("button", name="JSON", exact=True)
    ).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Compare").click()
    expect(page.get_by_role("heading", name="Compare")).to_be_visible()
    chat.wait_ready()  # the compare page's message box: the page was left blank before


def test_the_chat_page_fetches_nothing_from_outside_loopback(first_run_app, page):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("websocket", lambda socket: requested.append(socket.url))
    chat = ChatPage(page, first_run_app.url).open()
    chat.send("Tell me a story about a dragon.")
    chat.wait_reply_done()
    page.get_by_text("System prompt and parameters").click()
    page.get_by_text("All parameters").click()
    chat.wait_idle()
    chat.reply().get_by_role("button", name="Request").click()
    expect(page.get_by_role("dialog")).to_contain_text("Copy as curl")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Dragon story")

    outside = [url for url in requested if not url.startswith(LOOPBACK)]
    assert outside == [], f"fetched from outside loopback: {outside}"
    # The icons (the history's pin, the actions' glyphs) come from the Material Symbols font that
    # Streamlit ships and serves itself, and it did load.
    assert any("MaterialSymbols" in url and url.startswith("http://127.0.0.1") for url in requested)
    assert page.evaluate("document.fonts.check('24px \"Material Symbols Rounded\"', 'keep')")
