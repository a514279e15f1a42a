"""OIDC sign-in mode (st.login): the gate is shown and no page runs before sign-in; a signed-in person
acts as themselves, admins come from configuration, and signing out at the provider closes the session.

AppTest seeds st.user; the real round trip through an identity provider needs a browser (tests/browser).
"""

from __future__ import annotations

import pytest

from tests.app.hosting_support import signed_in

AUTH_SECRETS = {
    "auth": {
        "mode": "oidc",
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "a-test-cookie-secret-that-is-long-enough",
        "client_id": "prism",
        "client_secret": "secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
}


@pytest.fixture
def oidc_app(app_env, new_app, monkeypatch):
    monkeypatch.setenv("PRISM_AUTH_MODE", "oidc")
    monkeypatch.setenv("PRISM_ADMINS", "ann@example.com")

    def make(user: dict | None = None):
        at = new_app()
        at.secrets.update(AUTH_SECRETS)
        at.user = user if user is not None else {"is_logged_in": False}
        return at

    return make


ANN = {"is_logged_in": True, "email": "ann@example.com", "name": "Ann", "sub": "ann-sub"}
BOB = {"is_logged_in": True, "email": "bob@example.com", "name": "Bob", "sub": "bob-sub"}


def test_the_gate_shows_and_no_page_runs_before_sign_in(oidc_app):
    at = oidc_app().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in to Prism"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert len(at.chat_input) == 0


def test_a_signed_in_person_reaches_the_chat_as_themselves(oidc_app):
    at = oidc_app(BOB).run()
    assert not at.exception
    assert signed_in(at)
    assert any("Bob" in c.value for c in at.sidebar.caption)
    assert len(at.chat_input) == 1


def test_admins_come_from_configuration(oidc_app):
    ann, bob = oidc_app(ANN).run(), oidc_app(BOB).run()
    assert any("(admin)" in c.value for c in ann.sidebar.caption)
    assert not any("(admin)" in c.value for c in bob.sidebar.caption)


def test_two_people_do_not_see_each_others_conversations(oidc_app):
    ann = oidc_app(ANN).run()
    ann.chat_input[0].set_value("Ann's OIDC secret").run()
    conversation_id = ann.query_params["c"]
    bob = oidc_app(BOB)
    bob.query_params["c"] = conversation_id
    bob.run()
    assert any("not found" in w.value for w in bob.warning)
    assert "Ann's OIDC secret" not in [b.label for b in bob.sidebar.button]


def test_signed_out_at_the_provider_means_signed_out_here(oidc_app):
    at = oidc_app(BOB).run()
    assert signed_in(at)
    at.user = {"is_logged_in": False}
    at.run()
    assert [t.value for t in at.title] == ["Sign in to Prism"]
    assert len(at.chat_input) == 0
