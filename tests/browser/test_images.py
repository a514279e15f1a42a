"""Journey 2: two images picked into one message; the reply describes both.

The files go in through the chat input's own file input (what the picker and a paste both feed), so
the whole path runs: browser upload, Streamlit's upload endpoint, the page's normalising, storage, the
data: URLs in the request, and the offline model decoding each image and saying its size and colours.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.browser.support import ChatPage, stored_messages

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect


def image_file(name: str, size: tuple[int, int], colour: str, fmt: str, mime: str) -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt)
    return {"name": name, "mimeType": mime, "buffer": buffer.getvalue()}


def test_two_images_in_one_message_are_both_described(keyed_app, page):
    chat = ChatPage(page, keyed_app.url).open()
    files = [
        image_file("red.png", (120, 80), "red", "PNG", "image/png"),
        image_file("blue.jpg", (64, 64), "blue", "JPEG", "image/jpeg"),
    ]
    page.get_by_test_id("stChatInput").locator('input[type="file"]').set_input_files(files)
    # Both files are attached to the input before sending (the chips show their names).
    expect(page.get_by_test_id("stChatInput")).to_contain_text("red.png")
    expect(page.get_by_test_id("stChatInput")).to_contain_text("blue.jpg")
    chat.send("What do you see in these two pictures?")
    chat.wait_reply_done()

    reply = chat.reply()
    expect(reply).to_contain_text("I see 2 images")
    expect(reply).to_contain_text("120×80")
    expect(reply).to_contain_text("64×64")
    expect(reply).to_contain_text("red")
    expect(reply).to_contain_text("blue")
    expect(chat.messages.first.get_by_role("img")).to_have_count(2)

    saved = stored_messages(keyed_app.extra_env["PRISM_DATABASE_URL"], chat.conversation_id())
    assert [(m["role"], len(m["images"])) for m in saved] == [("user", 2), ("assistant", 0)]
    assert saved[1]["status"] == "complete"
    chat.screenshot("journey-2-two-images")
