"""Quotas seen from the chat page: a signed-in person over their limit is told what was hit and when it
resets, and nothing reaches the model."""

from __future__ import annotations

from tests.app.hosting_support import BOB, continue_as_guest, password_secrets, sign_in


def test_over_the_requests_per_minute_limit_the_page_says_so_and_sends_nothing(app_env, new_app, monkeypatch):
    monkeypatch.setenv("PRISM_AUTH_MODE", "password")
    monkeypatch.setenv("PRISM_REQUESTS_PER_MINUTE", "1")
    at = new_app()
    at.secrets.update(password_secrets())
    at = sign_in(at.run(), "bob", BOB)
    at.chat_input[0].set_value("first").run()
    assert not at.exception
    sent = len(app_env.received)
    at.chat_input[0].set_value("second").run()
    assert not at.exception
    assert len(app_env.received) == sent
    errors = " ".join(e.value for e in at.error)
    assert "limit of 1 request per minute" in errors and "UTC" in errors, errors


def test_guests_are_capped_in_messages(app_env, new_app, monkeypatch):
    monkeypatch.setenv("PRISM_AUTH_MODE", "password")
    monkeypatch.setenv("PRISM_GUEST_ACCESS", "1")
    monkeypatch.setenv("PRISM_GUEST_MESSAGES", "1")
    at = new_app()
    at.secrets.update(password_secrets())
    at, _ = continue_as_guest(at.run())
    assert not at.exception
    at.chat_input[0].set_value("one").run()
    sent = len(app_env.received)
    at.chat_input[0].set_value("two").run()
    assert len(app_env.received) == sent
    assert any("This browser has used 1 of 1 guest messages today." in e.value for e in at.error)


def test_guest_access_is_off_by_default(app_env, new_app, monkeypatch):
    monkeypatch.setenv("PRISM_AUTH_MODE", "password")
    at = new_app()
    at.secrets.update(password_secrets())
    at.run()
    assert not any("guest" in c.value.lower() for c in at.caption)
