"""Helpers for the hosted-demo AppTests (sign-in, share links, admin): signing people in.

`entry_script_every_run` guards against a Streamlit detail (the page scripts now live in views/ so it no
longer bites, and this keeps it from coming back unnoticed): a `pages/` folder beside app.py makes
Streamlit's PagesManager fall back to the old folder-based navigation for any run that starts before
st.navigation has been called in the process. A real server calls st.navigation on its first run and
stays on it; AppTest makes a fresh PagesManager for every run, so from the second run on it would run
the page script alone, skipping app.py (and with it the sign-in gate and the account sidebar). The
fixture keeps AppTest on st.navigation, as the real server is, so these tests see what a browser sees.
"""

from __future__ import annotations

import pytest
from streamlit.runtime.pages_manager import PagesManager

import passwords

ANN, BOB = "correct horse battery", "bob's own secret"


@pytest.fixture
def entry_script_every_run(monkeypatch):
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


_USERS: dict[str, str] = {}


def users() -> dict[str, str]:
    """ann (admin) and bob, with real scrypt hashes (made once: scrypt is slow on purpose)."""
    if not _USERS:
        _USERS.update({"ann": passwords.hash_password(ANN), "bob": passwords.hash_password(BOB)})
    return _USERS


def password_secrets(**extra) -> dict:
    return {"auth": {"mode": "password", "users": users(), "admins": ["ann"]}, **extra}


def sign_in(at, name: str, password: str):
    """Fill the sign-in form and submit it."""
    at.text_input(key="auth.name").input(name)
    next(field for field in at.text_input if field.label == "Password").input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    return at.run()


def signed_in(at) -> bool:
    return any("Signed in as" in c.value for c in at.sidebar.caption)
