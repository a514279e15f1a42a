"""Guest sign-in in chromium (README, "Guests"): a person without an account continues as a guest.

The app runs in password mode with guest access on and a cap of 2 guest messages per browser a day.
A guest signs in through the page's "Continue as guest" button (a form posting to /auth/guest), sends
a message and gets a reply; a reload keeps the guest signed in, with the chat in the sidebar; the
second message goes through and the third is refused with the cap in plain words. Signing out and
continuing as a guest again is the same guest: the chat is still there and the cap still holds.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.app.hosting_support import users
from tests.browser.conftest import API_KEY
from tests.browser.support import AppServer, ChatPage, sqlite_url

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

CAP = "This browser has used 2 of 2 guest messages today."


@pytest.fixture(scope="module")
def guest_app(tmp_path_factory, keyed_offline):
    folder = tmp_path_factory.mktemp("guest-app")
    people = "\n".join(f"{name} = {json.dumps(hashed)}" for name, hashed in users().items())
    server = AppServer(
        folder,
        env={
            "PRISM_API_BASE_URL": keyed_offline.base_url,
            "PRISM_API_KEY": API_KEY,
            "PRISM_DATABASE_URL": sqlite_url(folder / "prism.db"),
            "PRISM_GUEST_ACCESS": "true",
            "PRISM_GUEST_MESSAGES": "2",
        },
        secrets=f'[auth]\nmode = "password"\n\n[auth.users]\n{people}\n',
    )
    yield server.start()
    server.stop()


def continue_as_guest(page) -> None:
    expect(page.get_by_text("A guest session is private")).to_be_visible()
    page.get_by_role("button", name="Continue as guest").click()
    signed_in_as_guest(page)


def signed_in_as_guest(page) -> None:
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Signed in as Guest")
    expect(page.get_by_role("button", name="Continue as guest")).to_have_count(0)


def test_a_guest_chats_stays_signed_in_and_keeps_its_cap(guest_app, page):
    chat = ChatPage(page, guest_app.url)
    page.goto(guest_app.url)
    continue_as_guest(page)
    chat.wait_ready()
    chat.send("Explain top p")
    chat.wait_reply_done()
    expect(chat.reply()).to_contain_text("top")
    title = page.get_by_test_id("stSidebar").get_by_role("button", name=re.compile("Top p", re.I)).first
    expect(title).to_be_visible()

    page.reload()
    signed_in_as_guest(page)
    chat.wait_ready()
    expect(title).to_be_visible()

    chat.send("Explain temperature")
    chat.wait_reply_done()
    chat.send("Explain seed")
    main = page.get_by_test_id("stMainBlockContainer")
    refusal = main.get_by_test_id("stAlertContentError")
    expect(refusal.last).to_contain_text(CAP, timeout=30_000)
    chat.wait_idle()  # the streaming run's alert gives way to the saved reply's
    expect(refusal).to_have_count(1)
    expect(refusal).to_contain_text(f"{CAP} Sign in with an account to go on. It resets at 00:00 UTC (in ")
    for leak in ("Traceback", "127.0.0.1", "localhost"):
        expect(main).not_to_contain_text(leak)

    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    continue_as_guest(page)
    chat.wait_ready()
    expect(title).to_be_visible()  # the same guest account: its chat is still here
    chat.send("Explain seed")
    expect(refusal.last).to_contain_text(CAP, timeout=30_000)
    chat.wait_idle()
    expect(refusal).to_have_count(1)  # the new refusal: the old one went with the sign-out's new chat
