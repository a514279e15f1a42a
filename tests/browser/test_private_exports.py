"""Exports reach only the person who clicked (private_downloads.py), in chromium, in password mode.

Ann exports a chat (JSON), a comparison (JSON) and an evaluation (results JSON) and gets each file.
The address each came from is then asked for again: from a browser with no cookies and from Bob's
signed-in browser, both get a 404 and none of Ann's text; Ann's own browser still gets the file.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.app.hosting_support import ANN, BOB, users
from tests.browser.conftest import API_KEY
from tests.browser.support import AppServer, ChatPage, sqlite_url

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

SECRET = "zeppelin budget for the offsite"
SUITE = """description: Private suite
prompts: ['Tell me about {{topic}}']
tests:
  - description: Only
    vars: {topic: temperature}
    assert: [{type: not-is-json}]
"""


@pytest.fixture(scope="module")
def password_app(tmp_path_factory, keyed_offline):
    folder = tmp_path_factory.mktemp("private-exports")
    people = "\n".join(f"{name} = {json.dumps(hashed)}" for name, hashed in users().items())
    server = AppServer(
        folder,
        env={
            "PRISM_API_BASE_URL": keyed_offline.base_url,
            "PRISM_API_KEY": API_KEY,
            "PRISM_DATABASE_URL": sqlite_url(folder / "prism.db"),
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
    contexts = [browser.new_context(accept_downloads=True) for _ in range(3)]
    ann, bob = contexts[0].new_page(), contexts[1].new_page()
    for page, name, password in ((ann, "ann", ANN), (bob, "bob", BOB)):
        page.goto(password_app.url)
        sign_in(page, name, password)
        ChatPage(page, password_app.url).wait_ready()
    yield ann, bob, contexts[2]
    for context in contexts:
        context.close()


def download(page, button, tmp_path) -> tuple[str, str]:
    """Click a download button as a person does; (the address it came from, the file's text)."""
    with page.expect_download() as started:
        button.click()
    saved = tmp_path / started.value.suggested_filename
    started.value.save_as(saved)
    return started.value.url, saved.read_text()


def assert_nobody_else_gets(url: str, text: str, people) -> None:
    ann, bob, stranger = people
    for who, context in (("no cookies", stranger), ("Bob", bob.context)):
        answer = context.request.get(url, fail_on_status_code=False)
        assert answer.status == 404, f"{who} got {answer.status} for {url}"
        assert SECRET not in answer.text()
    again = ann.context.request.get(url)
    assert again.status == 200 and again.text() == text


def test_a_chat_export_is_for_the_one_who_clicked(people, password_app, tmp_path):
    ann = people[0]
    chat = ChatPage(ann, password_app.url)
    chat.send(f"Plan the {SECRET}")
    chat.wait_reply_done()
    ann.get_by_role("button", name=re.compile("Manage this chat")).click()
    url, text = download(ann, ann.get_by_role("button", name="JSON"), tmp_path)
    assert SECRET in text and "/media/" in url
    assert_nobody_else_gets(url, text, people)


def test_a_compare_export_is_for_the_one_who_clicked(people, password_app, tmp_path):
    ann = people[0]
    chat = ChatPage(ann, password_app.url)  # no reload: a reload asks a password user to sign in again
    ann.get_by_test_id("stSidebarNav").get_by_role("link", name="Compare").click()
    expect(ann.get_by_role("heading", name="Compare")).to_be_visible()
    chat.wait_ready()
    chat.send(f"Compare notes on the {SECRET}")
    expect(ann.get_by_role("button", name="Open in chat").first).to_be_visible(timeout=60_000)
    chat.wait_idle(60_000)
    ann.get_by_role("tab", name="Save and export").click()
    url, text = download(ann, ann.get_by_role("button", name="Export JSON"), tmp_path)
    assert SECRET in text
    assert_nobody_else_gets(url, text, people)


def test_an_evaluation_export_is_for_the_one_who_clicked(people, password_app, tmp_path):
    ann = people[0]
    chat = ChatPage(ann, password_app.url)  # no reload: a reload asks a password user to sign in again
    ann.get_by_test_id("stSidebarNav").get_by_role("link", name="Evaluate").click()
    expect(ann.get_by_role("heading", name="Evaluate")).to_be_visible()
    chat.wait_idle()
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE.replace("temperature", SECRET))
    ann.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(str(suite))
    main = ann.get_by_test_id("stMainBlockContainer")
    expect(main).to_contain_text("request(s)")
    chat.wait_idle()
    ann.get_by_role("button", name="Run the evaluation").click()
    expect(main).to_contain_text("Pick a cell to open it", timeout=90_000)
    chat.wait_idle(60_000)
    ann.get_by_role("tab", name="Export").click()
    url, text = download(ann, ann.get_by_role("button", name="Results JSON"), tmp_path)
    assert SECRET in text
    assert_nobody_else_gets(url, text, people)
