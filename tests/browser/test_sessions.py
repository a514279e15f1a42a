"""A password sign-in in a real browser, on two app servers sharing one PostgreSQL (as behind the proxy):
it survives a reload, a new tab and the other server; signing out makes every tab and server ask again;
and the cookie copied before sign-out signs nobody in afterwards.

The two servers run `serve.py` (the README's first command) with one STREAMLIT_SERVER_COOKIE_SECRET, as
the README tells operators to. Cookies belong to a host, not a port, so 127.0.0.1:A and 127.0.0.1:B
see one cookie jar, as one site behind the proxy does.
"""

from __future__ import annotations

import contextlib

import pytest
from playwright.sync_api import expect

import passwords
import sign_in as routes
from tests.browser.support import AppServer, ChatPage

PASSWORD = "a long shared demo password"
WAIT = 30_000


@pytest.fixture
def two_servers(tmp_path, postgres_url, offline):
    env = {
        "PRISM_DATABASE_URL": postgres_url,
        "PRISM_API_BASE_URL": offline.base_url,
        "PRISM_AUTH_MODE": "password",
        "STREAMLIT_SERVER_COOKIE_SECRET": "one secret shared by every app server",
    }
    secrets = f'[auth]\nmode = "password"\n[auth.users]\nann = "{passwords.hash_password(PASSWORD)}"\n'
    with contextlib.ExitStack() as stack:
        servers = [AppServer(tmp_path / name, env=env, secrets=secrets) for name in ("one", "two")]
        for server in servers:
            stack.callback(server.stop)
            server.start(wait=False)
        for server in servers:
            server.wait_healthy()
        yield servers


def asks_for_a_password(page) -> None:
    expect(page.get_by_role("textbox", name="Password")).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("stChatInputTextArea")).to_have_count(0)


def signed_in(page, base_url: str) -> ChatPage:
    chat = ChatPage(page, base_url)
    chat.wait_ready()
    expect(page.get_by_test_id("stSidebar").get_by_text("Signed in as ann")).to_be_visible(timeout=WAIT)
    return chat


def test_a_password_sign_in_holds_across_reloads_tabs_and_servers_until_sign_out(
    two_servers, browser, offline
):
    one, two = two_servers
    context = browser.new_context()
    try:
        first = context.new_page()
        first.goto(one.url)
        asks_for_a_password(first)
        first.get_by_role("textbox", name="Name").fill("ann")
        first.get_by_role("textbox", name="Password").fill(PASSWORD)
        first.get_by_role("button", name="Sign in").click()
        signed_in(first, one.url)

        [cookie] = [c for c in context.cookies() if c["name"] == routes.SESSION_COOKIE]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert PASSWORD not in cookie["value"]
        stolen = dict(cookie)

        first.reload()
        signed_in(first, one.url)
        second_tab = context.new_page()
        second_tab.goto(one.url)
        signed_in(second_tab, one.url)
        other_server = context.new_page()
        other_server.goto(two.url)
        chat_on_two = signed_in(other_server, two.url)

        first.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
        asks_for_a_password(first)
        expect(first.get_by_text("You are signed out.")).to_be_visible(timeout=WAIT)
        assert not [c for c in context.cookies() if c["name"] == routes.SESSION_COOKIE], (
            "the cookie is cleared"
        )

        # The tab still open on server two asks again at its next run, and sends nothing.
        sent = len(offline.received)
        chat_on_two.input.fill("Am I still signed in?")
        chat_on_two.input.press("Enter")
        asks_for_a_password(other_server)
        assert len(offline.received) == sent
        for page in (second_tab, other_server):
            page.reload()
            asks_for_a_password(page)
    finally:
        context.close()

    # Someone who copied the cookie before sign-out replays it, on either server: refused.
    thief = browser.new_context()
    try:
        thief.add_cookies([stolen])
        for server in (one, two):
            page = thief.new_page()
            page.goto(server.url)
            asks_for_a_password(page)
    finally:
        thief.close()
