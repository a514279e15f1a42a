"""In chromium: files Prism cannot send reach the server and are named, and impossible ids in the URL
read as "not found", with no exception element anywhere on the page.

The file case needs a real browser: the chat input used to list the image types it accepts, and the
browser itself then dropped an SVG or a HEIC without a word, before Python ever saw it.
"""

from __future__ import annotations

import pytest

from tests.browser.support import ChatPage, stored_messages
from tests.storage.images_for_tests import HEIC, SVG, png_bytes

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect


def test_an_svg_and_a_heic_are_named_at_sending_and_the_text_still_goes(keyed_app, page):
    chat = ChatPage(page, keyed_app.url).open()
    files = [
        {"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": SVG},
        {"name": "IMG_0001.HEIC", "mimeType": "image/heic", "buffer": HEIC},
        {"name": "red.png", "mimeType": "image/png", "buffer": png_bytes()},
    ]
    page.get_by_test_id("stChatInput").locator('input[type="file"]').set_input_files(files)
    for name in ("logo.svg", "IMG_0001.HEIC", "red.png"):  # attached, not filtered out by the browser
        expect(page.get_by_test_id("stChatInput")).to_contain_text(name)
    chat.send("What are these?")
    chat.wait_reply_done()
    alerts = page.get_by_test_id("stAlert")
    expect(
        alerts.filter(has_text="logo.svg is an SVG drawing; Prism can send PNG, JPEG, WebP and GIF")
    ).to_have_count(1)
    expect(alerts.filter(has_text="IMG_0001.HEIC is a HEIC/HEIF photo")).to_have_count(1)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    saved = stored_messages(keyed_app.extra_env["PRISM_DATABASE_URL"], chat.conversation_id())
    question = saved[0]
    assert (question["role"], question["content"], len(question["images"])) == ("user", "What are these?", 1)


@pytest.mark.parametrize("query", ["?c=99999999999999999999", "compare?run=99999999999999999999", "?c=1e3"])
def test_an_impossible_id_in_the_url_is_not_found_in_the_browser(keyed_app, page, query):
    page.goto(keyed_app.url + query)
    ChatPage(page, keyed_app.url).wait_idle()
    expect(page.get_by_test_id("stAlert").filter(has_text="was not found")).to_have_count(1)
    expect(page.get_by_test_id("stException")).to_have_count(0)
