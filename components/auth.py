"""The sign-in gate: who is using this browser session, in each auth mode, and signing out.

Modes (PRISM_AUTH_MODE, see settings.py): `none` is the one local user (an admin: it is your own machine);
`password` checks a name and password against the hashes in secrets, throttling repeated failures;
`oidc` is Streamlit's `st.login` with the company's identity provider. Guest access, when the operator
turns it on, gives a visitor a private, capped session under a fresh identity.

What must stay true:
- No page runs for a person who is not signed in (app.py calls `current_user` before `page.run()`),
  except the read-only shared page when the operator allows public links.
- The acting user is `st.session_state["app.user_id"]`, set only here (and by `resources` in mode
  `none`); every page reads it through `resources.current_user_id()` and passes it to storage.
- The admin role comes from configuration (`PRISM_ADMINS` / `auth.admins`), re-read at every sign-in,
  so removing a name from the list takes the role away at the next sign-in.
- A password is never kept in session state: the password field has no key and the form clears on
  submit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import streamlit as st

import passwords
from components import rendering, resources
from settings import Settings
from storage import repository

USER_KEY = "app.user_id"
WHO_KEY = "auth.who"
GUEST, USER, ADMIN = "guest", "user", "admin"


@dataclass(frozen=True)
class SignedIn:
    """The person using this session."""

    user_id: int
    identity: str
    display_name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def is_guest(self) -> bool:
        return self.role == GUEST


@st.cache_resource(show_spinner=False)
def _throttle(database_url: str) -> passwords.Throttle:
    # One per process and deployment: failed attempts from every browser session on this server count
    # together (keyed by the database so that a test's fresh deployment starts with a clean slate).
    del database_url
    return passwords.Throttle(limit=5, window=300.0)


def role_for(config: Settings, identity: str) -> str:
    """The role configuration gives an identity."""
    admins = {name.strip().lower() for name in config.admins}
    return ADMIN if identity.strip().lower() in admins else USER


def _remember(identity: str, display_name: str, role: str) -> SignedIn:
    with resources.sessions()() as session:
        user = repository.ensure_user(session, identity, display_name=display_name, role=role)
        session.commit()
        who = SignedIn(user.id, user.identity, user.display_name, user.role)
    st.session_state[USER_KEY] = who.user_id
    st.session_state[WHO_KEY] = who
    return who


def _forget() -> None:
    for key in (USER_KEY, WHO_KEY):
        st.session_state.pop(key, None)


def _oidc_user() -> tuple[str, str] | None:
    """(identity, display name) of the person signed in with st.login, or None."""
    if not st.user.get("is_logged_in", False):
        return None
    identity = str(st.user.get("email") or st.user.get("sub") or "").strip()
    if not identity:
        return None
    return identity, str(st.user.get("name") or identity)


def current_user(config: Settings) -> SignedIn | None:
    """The signed-in person, or None when this session must sign in first."""
    if config.auth_mode == "none":
        user_id = resources.current_user_id()
        return SignedIn(user_id, "local", "You", ADMIN)
    who: SignedIn | None = st.session_state.get(WHO_KEY)
    if config.auth_mode == "oidc" and (who is None or not who.is_guest):
        found = _oidc_user()
        if found is None:
            _forget()  # signed out at the provider, or the identity cookie expired
            return None
        identity, name = found
        if who is None or who.identity != identity:
            who = _remember(identity, name, role_for(config, identity))
    return who


def _start_guest() -> None:
    _remember(f"guest:{secrets.token_hex(8)}", "Guest", GUEST)


def _password_form(config: Settings) -> None:
    with st.form("auth.form", border=True, clear_on_submit=True):
        name = st.text_input("Name", key="auth.name", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary", icon=":material/login:")
    if not submitted:
        return

    verdict = passwords.sign_in(config.password_users, name, password, _throttle(config.database_url))
    if verdict.ok:
        _remember(name.strip(), name.strip(), role_for(config, name.strip()))
        st.rerun()
    st.error(rendering.trusted(verdict.message), icon=":material/lock:")


def sign_in_page(config: Settings) -> None:
    """The page a person sees before signing in (the caller stops the script after it)."""
    st.title("Sign in to Prism", anchor=False)
    if config.auth_mode == "password":
        if not config.password_users:
            st.error("No users are configured yet. The operator adds them under `[auth.users]` in secrets.")
        else:
            _password_form(config)
    else:
        st.write("Prism uses your company account.")
        st.button("Sign in", type="primary", icon=":material/login:", key="auth.oidc", on_click=st.login)
    if config.guest_access:
        st.divider()
        st.caption(
            rendering.trusted(
                f"No account? A guest session is private and limited to {config.guest_messages} messages "
                f"and {config.guest_tokens:,} tokens."
            )
        )
        st.button("Continue as guest", icon=":material/person:", key="auth.guest", on_click=_start_guest)


def sign_out(config: Settings) -> None:
    """End this session's sign-in (and the provider's, in oidc mode)."""
    who: SignedIn | None = st.session_state.get(WHO_KEY)
    _forget()
    if config.auth_mode == "oidc" and not (who and who.is_guest):
        st.logout()


def account_sidebar(config: Settings, who: SignedIn) -> None:
    """Who is signed in, and the sign-out button (nothing in mode `none`)."""
    if config.auth_mode == "none":
        return
    with st.sidebar:
        label = "Guest" if who.is_guest else who.display_name or who.identity
        st.caption(f"Signed in as {rendering.label(label)}" + (" (admin)" if who.is_admin else ""))
        st.button(
            "Sign out", icon=":material/logout:", key="auth.sign_out", on_click=sign_out, args=(config,)
        )
