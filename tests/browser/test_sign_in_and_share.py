"""Journey 5: password sign-in as two people; each sees only their own; a share link, then revoked.

The app runs in `password` mode with two users (real scrypt hashes in its own secrets.toml). Ann and
Bob sign in from separate browser contexts and stay signed in as they move between addresses (the
session cookie). Bob cannot see Ann's conversation, neither in his list nor
by its address. Ann shares it; Bob opens the link and gets a read-only copy. Ann revokes it; Bob's link
now says it is no longer available.
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

SECRET = "Ann's plan for the quarterly offsite"


@pytest.fixture(scope="module")
def password_app(tmp_path_factory, keyed_offline):
    folder = tmp_path_factory.mktemp("password-app")
    people = "\n".join(f"{name} = {json.dumps(hashed)}" for name, hashed in users().items())
    secrets = f'[auth]\nmode = "password"\nadmins = ["ann"]\n\n[auth.users]\n{people}\n'
    server = AppServer(
        folder,
        env={
            "PRISM_API_BASE_URL": keyed_offline.base_url,
            "PRISM_API_KEY": API_KEY,
            "PRISM_DATABASE_URL": sqlite_url(folder / "prism.db"),
        },
        secrets=secrets,
    )
    yield server.start()
    server.stop()


def sign_in(page, name: str, password: str) -> None:
    expect(page.get_by_role("button", name=re.compile("Sign in"))).to_be_visible()
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name=re.compile("Sign in")).click()
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Signed in as {name}")


def still_signed_in(page, name: str) -> None:
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Signed in as {name}")
    expect(page.get_by_role("textbox", name="Password")).to_have_count(0)


def test_two_people_see_only_their_own_and_a_revoked_link_closes(password_app, browser):
    ann_context, bob_context = browser.new_context(), browser.new_context()
    try:
        ann, bob = ann_context.new_page(), bob_context.new_page()
        ann_chat, bob_chat = ChatPage(ann, password_app.url), ChatPage(bob, password_app.url)

        ann.goto(password_app.url)
        sign_in(ann, "ann", ANN)
        ann_chat.wait_ready()
        ann_chat.send(SECRET)
        ann_chat.wait_reply_done()
        conversation = ann_chat.conversation_id()

        bob.goto(password_app.url)
        sign_in(bob, "bob", BOB)
        bob_chat.wait_ready()
        expect(bob.get_by_test_id("stSidebar")).not_to_contain_text(SECRET)
        bob.goto(f"{password_app.url}?c={conversation}")  # a reload keeps the sign-in (its cookie)
        still_signed_in(bob, "bob")
        expect(bob.get_by_text("That conversation was not found")).to_be_visible()
        expect(bob.get_by_test_id("stChatMessage")).to_have_count(0)

        ann.get_by_test_id("stSidebar").get_by_role("button", name=re.compile("Share")).click()
        dialog = ann.get_by_role("dialog")
        dialog.get_by_role("button", name=re.compile("Create link")).click()
        link = dialog.get_by_test_id("stCode").inner_text().strip()
        assert re.search(r"/shared\?token=[\w-]{32,}$", link), link
        ann_chat.screenshot("journey-5-share-dialog")
        ann.keyboard.press("Escape")

        bob.goto(link)
        still_signed_in(bob, "bob")
        expect(bob.get_by_text("A read-only copy")).to_be_visible()
        expect(bob.get_by_text(SECRET).first).to_be_visible()
        expect(bob.get_by_test_id("stChatInput")).to_have_count(0)
        bob_chat.screenshot("journey-5-shared-read-only")

        ann.get_by_test_id("stSidebarNav").get_by_role("link", name=re.compile("Shared links")).click()
        ann.get_by_role("button", name=re.compile("Revoke")).click()
        expect(ann.get_by_text("State: revoked")).to_be_visible()

        bob.goto(link)
        still_signed_in(bob, "bob")
        expect(bob.get_by_text("This link is no longer available.")).to_be_visible()
        expect(bob.get_by_text(SECRET)).to_have_count(0)
        bob_chat.screenshot("journey-5-revoked")
    finally:
        ann_context.close()
        bob_context.close()
