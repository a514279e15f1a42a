"""Helpers for the hosted-demo AppTests (sign-in, share links, admin): signing people in."""

from __future__ import annotations

import passwords

ANN, BOB = "correct horse battery", "bob's own secret"


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
