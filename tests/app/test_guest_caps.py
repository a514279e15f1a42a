"""Guest caps continue: per browser (its signed guest cookie) and per client address, per UTC day.

Signing out and back in as a guest, a reload, or a new browser (no guest cookie) from the same address
all carry on counting, and the refusal says exactly what was used. "Continue as guest" is what
POST /auth/guest does (tests/app/hosting_support.py); tests/browser/test_sessions.py posts the real form.
"""

from __future__ import annotations

import pytest

from components.auth import COOKIE_KEY
from tests.app.hosting_support import continue_as_guest, password_secrets, presented, signed_in


@pytest.fixture
def guest_app(app_env, new_app, monkeypatch):
    monkeypatch.setenv("PRISM_AUTH_MODE", "password")
    monkeypatch.setenv("PRISM_GUEST_ACCESS", "true")
    monkeypatch.setenv("PRISM_GUEST_MESSAGES", "3")
    monkeypatch.setenv("PRISM_GUEST_ADDRESS_MESSAGES", "4")

    def make():
        at = new_app()
        at.secrets.update(password_secrets())
        return at

    return make


def send(at, text: str):
    return at.chat_input[0].set_value(text).run()


def refusals(at) -> list[str]:
    return [e.value for e in at.error if "guest" in e.value]


def test_a_guest_signing_out_and_back_in_keeps_counting(guest_app, app_env):
    at, guest_cookie = continue_as_guest(guest_app().run())
    send(send(at, "one"), "two")
    at.sidebar.button(key="auth.sign_out").click().run()
    assert not signed_in(at)
    again, _ = continue_as_guest(guest_app().run(), guest_cookie=guest_cookie)  # same browser
    send(again, "three")
    sent = len(app_env.received)
    send(again, "four")
    assert len(app_env.received) == sent, "the fourth message reached the model"
    [refusal] = refusals(again)
    assert refusal.startswith("This browser has used 3 of 3 guest messages today.")


def test_a_reload_is_the_same_guest(guest_app, app_env):
    at, _ = continue_as_guest(guest_app().run())
    for text in ("one", "two", "three"):
        send(at, text)
    reloaded = guest_app()
    reloaded.session_state[COOKIE_KEY] = presented(at)  # a reload sends the same cookie
    reloaded.run()
    assert signed_in(reloaded)
    send(reloaded, "four")
    assert refusals(reloaded) and refusals(reloaded)[0].startswith("This browser has used 3 of 3")


def test_a_new_browser_from_the_same_address_shares_the_address_cap(guest_app, app_env):
    first, _ = continue_as_guest(guest_app().run(), address="192.0.2.44")
    for text in ("one", "two", "three"):
        send(first, text)
    other, _ = continue_as_guest(guest_app().run(), address="192.0.2.44")  # no guest cookie
    send(other, "four")
    assert not refusals(other), "the address cap is 4"
    sent = len(app_env.received)
    send(other, "five")
    assert len(app_env.received) == sent
    [refusal] = refusals(other)
    assert refusal.startswith("Guests at your address have used 4 of 4 guest messages today.")
    elsewhere, _ = continue_as_guest(guest_app().run(), address="198.51.100.1")
    send(elsewhere, "hello")
    assert not refusals(elsewhere), "another address has caps of its own"
