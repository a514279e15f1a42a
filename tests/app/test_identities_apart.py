"""Password `ann`, OIDC subject `ann` (no e-mail) and OIDC `ann@example.com` are three people: none of
them sees another's conversations, on one database, as a deployment that changed sign-in mode would."""

from __future__ import annotations

from tests.app.hosting_support import ANN, password_secrets, sign_in, signed_in
from tests.app.test_auth_oidc import AUTH_SECRETS


def conversation_titles(at) -> list[str]:
    return [b.label for b in at.sidebar.button if b.key and b.key.startswith("chat.open.")]


def oidc(new_app, monkeypatch, user: dict):
    monkeypatch.setenv("PRISM_AUTH_MODE", "oidc")
    at = new_app()
    at.secrets.update(AUTH_SECRETS)
    at.user = user
    return at.run()


def test_three_identities_named_ann_are_three_people(app_env, new_app, monkeypatch):
    monkeypatch.setenv("PRISM_AUTH_MODE", "password")
    password_ann = new_app()
    password_ann.secrets.update(password_secrets())
    password_ann = sign_in(password_ann.run(), "ann", ANN)
    password_ann.chat_input[0].set_value("Password Ann secret plan").run()
    conversation_id = password_ann.query_params["c"]
    assert "Password Ann secret plan" in " ".join(conversation_titles(password_ann.run()))

    subject_ann = oidc(new_app, monkeypatch, {"is_logged_in": True, "sub": "ann"})
    assert signed_in(subject_ann)
    assert conversation_titles(subject_ann) == []
    subject_ann.chat_input[0].set_value("OIDC subject Ann note").run()

    email_ann = oidc(new_app, monkeypatch, {"is_logged_in": True, "sub": "x1", "email": "ann@example.com"})
    assert signed_in(email_ann)
    assert conversation_titles(email_ann) == []
    email_ann.query_params["c"] = conversation_id  # the password account's conversation, by URL
    email_ann.run()
    assert any("not found" in w.value for w in email_ann.warning)

    again = oidc(new_app, monkeypatch, {"is_logged_in": True, "sub": "ann"})
    titles = " ".join(conversation_titles(again))
    assert "OIDC subject Ann note" in titles and "Password Ann" not in titles
