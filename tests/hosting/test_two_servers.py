"""Several app servers on one PostgreSQL, as the README hosts them: two real `streamlit run` processes on
different ports, one database. A conversation made on one opens on the other, and a quota spent on one
is spent on both. Driven in Debian's chromium, as two people (or one person moved by the proxy) would.
"""

from __future__ import annotations

import contextlib

from playwright.sync_api import expect

import passwords
from tests.browser.support import AppServer, ChatPage

ANN_PASSWORD = "two servers, one database"
# Generous: these machines may be busy; each wait still ends as soon as its condition holds.
WAIT = 30_000


def secrets_toml() -> str:
    return (
        '[auth]\nmode = "password"\nadmins = ["ann"]\n'
        f'[auth.users]\nann = "{passwords.hash_password(ANN_PASSWORD)}"\n'
        'bob = "' + passwords.hash_password("bob's password") + '"\n'
    )


def sign_in(page, base_url: str, name: str, password: str, *, query: str = "") -> ChatPage:
    page.goto(base_url + query)
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    chat = ChatPage(page, base_url)
    chat.wait_ready()
    return chat


def test_a_conversation_and_a_quota_are_shared_by_two_app_servers(tmp_path, postgres_url, offline, browser):
    env = {
        "PRISM_DATABASE_URL": postgres_url,
        "PRISM_API_BASE_URL": offline.base_url,
        "PRISM_AUTH_MODE": "password",
        # A day's tokens that fit one reply's reservation (its prompt and 90 tokens) but not a second one
        # once the first is spent, so the next request is refused wherever it goes.
        "PRISM_TOKENS_PER_DAY": "100",
        "PRISM_RESERVE_TOKENS": "90",
    }
    secrets = secrets_toml()
    with contextlib.ExitStack() as stack:
        # Both start at once, as replicas do: they race to migrate the fresh schema (storage locks it).
        one = AppServer(tmp_path / "one", env=env, secrets=secrets)
        two = AppServer(tmp_path / "two", env=env, secrets=secrets)
        for server in (one, two):
            stack.callback(server.stop)
            server.start(wait=False)
        one.wait_healthy()
        two.wait_healthy()
        assert one.port != two.port

        first = stack.enter_context(contextlib.closing(browser.new_context()))
        chat_one = sign_in(first.new_page(), one.url, "ann", ANN_PASSWORD)
        chat_one.send("Made on server one")
        chat_one.wait_reply_done()
        conversation_id = chat_one.conversation_id()
        assert len(offline.received) == 1

        # A new browser session on the other server: sign in there and open the same conversation.
        second = stack.enter_context(contextlib.closing(browser.new_context()))
        chat_two = sign_in(second.new_page(), two.url, "ann", ANN_PASSWORD, query=f"?c={conversation_id}")
        expect(chat_two.messages).to_have_count(2, timeout=WAIT)
        expect(chat_two.messages.first).to_contain_text("Made on server one", timeout=WAIT)
        reply_on_one = chat_one.reply().inner_text().strip()
        assert reply_on_one and reply_on_one.splitlines()[0] in chat_two.reply().inner_text()

        # The day's token, spent through server one, is spent on server two as well.
        chat_two.send("Sent on server two")
        expect(chat_two.page.get_by_text("tokens for today").first).to_be_visible(timeout=WAIT)
        expect(chat_two.page.get_by_text("resets at 00:00 UTC").first).to_be_visible(timeout=WAIT)
        assert len(offline.received) == 1, "the refused request must not reach the model"

        # Someone else is not touched by ann's quota, and does not see ann's conversation.
        third = stack.enter_context(contextlib.closing(browser.new_context()))
        bob = sign_in(third.new_page(), two.url, "bob", "bob's password", query=f"?c={conversation_id}")
        expect(bob.page.get_by_text("That conversation was not found").first).to_be_visible(timeout=WAIT)
        bob.send("Bob is within his quota")
        bob.wait_reply_done()
        assert len(offline.received) == 2
