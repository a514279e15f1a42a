"""A person's images reach only the browser shown them (private_downloads.py), in chromium, password mode.

Ann sends a chat message with a picture. The address her page loads it from (`/media/...`, a hash of
the picture's bytes) is asked for again: from Bob's signed-in browser and from a browser with no
cookies, both get a 404 and not the picture; Ann's own browser gets it, and after a reload her page
still shows it and may still fetch it. The same holds for the thumbnail on the compare page. A share
link of the chat, opened signed out (the operator allows public links here), still shows the
picture: a snapshot carries its images inside the page, not at a `/media` address.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from tests.app.hosting_support import ANN, BOB, users
from tests.browser.conftest import API_KEY
from tests.browser.support import AppServer, ChatPage, sqlite_url

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

LOADED = "img => img.complete && img.naturalWidth > 0"


def picture(colour: str) -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (90, 60), colour).save(buffer, format="PNG")
    return {"name": f"{colour}.png", "mimeType": "image/png", "buffer": buffer.getvalue()}


@pytest.fixture(scope="module")
def password_app(tmp_path_factory, keyed_offline):
    folder = tmp_path_factory.mktemp("private-images")
    people = "\n".join(f"{name} = {json.dumps(hashed)}" for name, hashed in users().items())
    server = AppServer(
        folder,
        env={
            "PRISM_API_BASE_URL": keyed_offline.base_url,
            "PRISM_API_KEY": API_KEY,
            "PRISM_DATABASE_URL": sqlite_url(folder / "prism.db"),
            "PRISM_PUBLIC_LINKS": "true",
        },
        secrets=f'[auth]\nmode = "password"\n\n[auth.users]\n{people}\n',
    )
    yield server.start()
    server.stop()


def sign_in(page, name: str, password: str) -> None:
    expect(page.get_by_role("button", name=re.compile("Sign in"))).to_be_visible()
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name=re.compile("Sign in")).click()
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Signed in as {name}")


@pytest.fixture(scope="module")
def people(browser, password_app):
    """Ann's and Bob's signed-in pages, and a browser context with no cookies at all."""
    contexts = [browser.new_context() for _ in range(3)]
    ann, bob = contexts[0].new_page(), contexts[1].new_page()
    for page, name, password in ((ann, "ann", ANN), (bob, "bob", BOB)):
        page.goto(password_app.url)
        sign_in(page, name, password)
        ChatPage(page, password_app.url).wait_ready()
    yield ann, bob, contexts[2]
    for context in contexts:
        context.close()


def shown(image) -> str:
    """The absolute address of an image the page shows, once it has loaded (not a broken picture)."""
    expect(image).to_be_visible()
    image.page.wait_for_function(LOADED, arg=image.element_handle())
    return image.evaluate("img => img.src")


def assert_only_ann_gets(url: str, people) -> bytes:
    ann, bob, stranger = people
    assert "/media/" in url, url
    mine = ann.context.request.get(url)
    assert mine.status == 200 and mine.headers["content-type"].startswith("image/")
    assert "no-store" in mine.headers["cache-control"]
    for who, context in (("no cookies", stranger), ("Bob", bob.context)):
        answer = context.request.get(url, fail_on_status_code=False)
        assert answer.status == 404, f"{who} got {answer.status} for Ann's image"
        assert answer.body() != mine.body()
    return mine.body()


def test_a_chat_image_is_for_the_one_whose_page_shows_it(people, password_app):
    ann = people[0]
    chat = ChatPage(ann, password_app.url)
    ann.get_by_test_id("stChatInput").locator('input[type="file"]').set_input_files([picture("red")])
    expect(ann.get_by_test_id("stChatInput")).to_contain_text("red.png")
    chat.send("What is in this picture?")
    chat.wait_reply_done()
    url = shown(chat.messages.first.get_by_role("img").first)
    before = assert_only_ann_gets(url, people)

    ann.reload()
    chat.wait_ready()
    expect(ann.get_by_test_id("stSidebar")).to_contain_text("Signed in as ann")
    again = shown(chat.messages.first.get_by_role("img").first)
    assert again == url  # the same picture, the same address: only Ann's browser may load it
    assert assert_only_ann_gets(again, people) == before

    ann.get_by_test_id("stSidebar").get_by_role("button", name=re.compile("Share")).click()
    dialog = ann.get_by_role("dialog")
    dialog.get_by_role("button", name=re.compile("Create link")).click()
    link = dialog.get_by_test_id("stCode").inner_text().strip()
    ann.keyboard.press("Escape")
    stranger = people[2].new_page()
    try:
        stranger.goto(link)
        expect(stranger.get_by_text("A read-only copy")).to_be_visible()
        image = stranger.get_by_test_id("stChatMessage").first.get_by_role("img").first
        expect(image).to_be_visible()
        stranger.wait_for_function(LOADED, arg=image.element_handle())
        assert image.evaluate("img => img.src").startswith("data:image/")
    finally:
        stranger.close()


def test_a_compare_thumbnail_is_for_the_one_whose_page_shows_it(people, password_app):
    ann = people[0]
    chat = ChatPage(ann, password_app.url)
    ann.get_by_test_id("stSidebarNav").get_by_role("link", name="Compare").click()
    expect(ann.get_by_role("heading", name="Compare")).to_be_visible()
    chat.wait_ready()
    ann.get_by_test_id("stChatInput").locator('input[type="file"]').set_input_files([picture("blue")])
    expect(ann.get_by_test_id("stChatInput")).to_contain_text("blue.png")
    chat.send("Describe this picture")
    expect(ann.get_by_role("button", name="Open in chat").first).to_be_visible(timeout=60_000)
    chat.wait_idle(60_000)
    main = ann.get_by_test_id("stMainBlockContainer")
    thumbnail = main.get_by_test_id("stImage").get_by_role("img").first
    assert_only_ann_gets(shown(thumbnail), people)
