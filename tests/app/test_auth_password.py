"""Password sign-in mode: the gate, wrong passwords, the throttle, sign-out, roles and private histories.

The sign-in itself is what POST /auth/sign-in does (tests/app/hosting_support.py); the page then runs
with the cookie value, as a browser's next request would.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from components.auth import COOKIE_KEY
from storage import accounts, open_database, session_factory
from storage.models import utcnow
from tests.app.hosting_support import ANN, BOB, password_secrets, presented, sign_in, signed_in


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


def test_an_address_that_guessed_too_often_waits_and_another_address_signs_in(password_app):
    make = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    with make() as session:  # ten wrong passwords for ann from 203.0.113.9, just now
        for _ in range(10):
            accounts.record_failure(session, "ann", "203.0.113.9", now=utcnow() - timedelta(seconds=1))
        session.commit()
    at = sign_in(password_app().run(), "ann", ANN, address="203.0.113.9")
    [error] = [e.value for e in at.error]
    assert error.startswith("Too many wrong passwords for this name from your address. Try again in")
    assert "other addresses are not affected" in error
    assert not signed_in(at)
    assert signed_in(sign_in(password_app().run(), "ann", ANN, address="198.51.100.7"))


def test_the_page_without_the_routes_says_what_password_mode_needs(password_app):
    at = password_app().run()  # AppTest runs app.py alone, as `streamlit run app.py` does
    assert any("`streamlit run serve.py`" in w.value for w in at.warning)
    assert len(at.text_input) == 0, "no form that could not work"


def test_a_cookie_that_was_signed_out_is_refused_on_its_next_use(password_app):
    at = sign_in(password_app().run(), "bob", BOB)
    stolen = presented(at)
    at.sidebar.button(key="auth.sign_out").click().run()
    replay = password_app()
    replay.session_state[COOKIE_KEY] = stolen
    replay.run()
    assert not signed_in(replay)
    assert [t.value for t in replay.title] == ["Sign in to Prism"]


def test_a_tampered_cookie_signs_nobody_in(password_app):
    at = sign_in(password_app().run(), "bob", BOB)
    token, stamp, mac = presented(at).split(".")
    forged = password_app()
    forged.session_state[COOKIE_KEY] = f"{token}.{int(stamp) + 86400}.{mac}"  # a longer life, same mac
    forged.run()
    assert not signed_in(forged)


def test_the_password_is_not_kept_in_session_state(password_app):
    at = sign_in(password_app().run(), "bob", BOB)
    assert BOB not in repr({k: at.session_state[k] for k in at.session_state})


def test_a_second_browser_of_the_same_person_stays_signed_in_until_sign_out_everywhere(password_app):
    first = sign_in(password_app().run(), "bob", BOB)
    second = sign_in(password_app().run(), "bob", BOB)
    assert signed_in(first.run()) and signed_in(second.run())
    make = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    with make() as session:
        bob = accounts.find_user(session, accounts.PASSWORD, "bob")
        assert accounts.revoke_all(session, bob.id) == 2
        session.commit()
    assert not signed_in(first.run()) and not signed_in(second.run())


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


@pytest.mark.parametrize(
    ("incident", "told"),
    [("0123abcd", "give the operator incident 0123abcd."), ("see http://evil.example/", None)],
)
def test_a_sign_in_that_failed_on_the_servers_side_says_so_in_plain_words(password_app, incident, told):
    """The routes send the browser back with `auth=unavailable` and an incident id when the work behind
    them failed (tests/hosting/test_sign_in_routes.py); the page says so, and shows the id only when it is
    one (anything else in the address bar is not repeated)."""
    at = password_app()
    at.query_params["auth"] = "unavailable"
    at.query_params["incident"] = incident
    at.run()
    [error] = [e.value for e in at.error]
    assert error.startswith("Signing in did not work this time, because of a problem on Prism's side.")
    assert (told in error) if told else ("incident" not in error and "evil" not in error)
    assert not at.exception
