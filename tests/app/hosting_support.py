"""Helpers for the hosted-demo AppTests (sign-in, share links, admin): signing people in.

AppTest can neither post the sign-in form nor send cookies, so `sign_in` does what the route does for a
browser (sign_in.attempt, the same function, against the app's database) and hands the page the cookie
value the route would have set (components/auth.py checks it exactly like the cookie). The form and the
cookie themselves are driven in a real browser (tests/browser/test_sessions.py).
"""

from __future__ import annotations

import passwords
import sign_in as routes
from components.auth import COOKIE_KEY
from settings import load_settings
from storage import open_database, session_factory

ANN, BOB = "correct horse battery", "bob's own secret"


_USERS: dict[str, str] = {}


def users() -> dict[str, str]:
    """ann (admin) and bob, with real scrypt hashes (made once: scrypt is slow on purpose)."""
    if not _USERS:
        _USERS.update({"ann": passwords.hash_password(ANN), "bob": passwords.hash_password(BOB)})
    return _USERS


def password_secrets(**extra) -> dict:
    return {"auth": {"mode": "password", "users": users(), "admins": ["ann"]}, **extra}


def _settings(at):
    return load_settings(secrets=dict(at.secrets))


def presented(at) -> str | None:
    """The cookie value this AppTest's "browser" holds, if any."""
    return at.session_state.get(COOKIE_KEY)


def sign_in(at, name: str, password: str, *, address: str = "127.0.0.1"):
    """Sign in the way POST /auth/sign-in does, from `address`, then run the page with the cookie (or
    with the refusal code the route would have put in the URL)."""
    config = _settings(at)
    make = session_factory(open_database(config.database_url))
    result = routes.attempt(
        make, config, routes.cookie_secret(), name, password, address, previous_cookie=presented(at)
    )
    if result.ok:
        at.session_state[COOKIE_KEY] = result.cookie
        at.query_params.pop("auth", None)
    else:
        at.query_params["auth"] = result.code
        if result.code == "wait":
            at.query_params["retry"] = str(int(result.retry_after + 0.999))
    return at.run()


def continue_as_guest(at, *, guest_cookie: str | None = None, address: str = "127.0.0.1"):
    """What POST /auth/guest does; returns (the page run, this browser's guest cookie)."""
    config = _settings(at)
    make = session_factory(open_database(config.database_url))
    cookie, guest = routes.start_guest(
        make,
        config,
        routes.cookie_secret(),
        address,
        guest_cookie=guest_cookie,
        previous_cookie=presented(at),
    )
    at.session_state[COOKIE_KEY] = cookie
    return at.run(), guest


def signed_in(at) -> bool:
    return any("Signed in as" in c.value for c in at.sidebar.caption)
