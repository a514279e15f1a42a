"""Password sign-in mode: the gate, wrong passwords, the throttle, sign-out, roles and private histories."""

from __future__ import annotations

import pytest

from tests.app.hosting_support import ANN, BOB, password_secrets, sign_in, signed_in


@pytest.fixture
def password_app(app_env, new_app, monkeypatch):
    """Make AppTests in password mode, with ann as the configured admin."""
    monkeypatch.setenv("PRISM_AUTH_MODE", "password")

    def make():
        at = new_app()
        at.secrets.update(password_secrets())
        return at

    return make


def test_the_gate_shows_sign_in_and_runs_no_page(password_app):
    at = password_app().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in to Prism"]
    assert len(at.chat_input) == 0, "the chat page ran before sign-in"


def test_the_right_password_signs_in(password_app):
    at = sign_in(password_app().run(), "bob", BOB)
    assert not at.exception
    assert signed_in(at)
    assert len(at.chat_input) == 1


def test_a_wrong_password_is_refused(password_app):
    at = sign_in(password_app().run(), "bob", "not it")
    assert any("do not match" in e.value for e in at.error)
    assert not signed_in(at)
    assert len(at.chat_input) == 0


def test_an_unknown_name_gets_the_same_words_as_a_wrong_password(password_app):
    at = sign_in(password_app().run(), "mallory", "anything")
    assert [e.value for e in at.error] == ["That name and password do not match."]


def test_repeated_failures_are_throttled_even_with_the_right_password(password_app):
    at = password_app().run()
    for _ in range(5):
        at = sign_in(at, "ann", "guess")
    at = sign_in(at, "ann", ANN)
    assert any("Too many failed attempts" in e.value for e in at.error)
    assert not signed_in(at)


def test_the_password_is_not_kept_in_session_state(password_app):
    at = sign_in(password_app().run(), "bob", BOB)
    assert BOB not in repr({k: at.session_state[k] for k in at.session_state})


def test_sign_out_returns_to_the_gate(password_app):
    at = sign_in(password_app().run(), "bob", BOB)
    at.sidebar.button(key="auth.sign_out").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in to Prism"]
    assert len(at.chat_input) == 0


def test_the_admin_role_comes_from_configuration(password_app):
    ann = sign_in(password_app().run(), "ann", ANN)
    bob = sign_in(password_app().run(), "bob", BOB)
    assert any("(admin)" in c.value for c in ann.sidebar.caption)
    assert not any("(admin)" in c.value for c in bob.sidebar.caption)


def test_each_user_sees_only_their_own_conversations(password_app):
    ann = sign_in(password_app().run(), "ann", ANN)
    ann.chat_input[0].set_value("Ann's private plan").run()
    conversation_id = ann.query_params["c"]

    bob = sign_in(password_app().run(), "bob", BOB)
    assert "Ann's private plan" not in [b.label for b in bob.sidebar.button]
    bob.query_params["c"] = conversation_id
    bob.run()
    assert not bob.exception
    assert any("not found" in w.value for w in bob.warning)
    assert all(
        "Ann's private plan" not in element.value
        for m in bob.chat_message
        for element in [*m.markdown, *m.text]
    )
