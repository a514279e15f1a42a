"""The sign-in gate: who is using this browser, in each auth mode, and signing out.

Modes (PRISM_AUTH_MODE, see settings.py): `none` is the one local user (an admin: it is your own machine);
`password` signs in through serve.py's routes (sign_in.py), which set a session cookie this gate reads on
every run; `oidc` is Streamlit's `st.login` with the company's identity provider. Guest access, when the
operator turns it on, gives a browser its own capped guest account (a guest cookie, same routes).

What must stay true:
- No page runs for a person who is not signed in (app.py calls `current_user` before `page.run()`),
  except the read-only shared page when the operator allows public links.
- A person is an identity (sign-in method, subject) in storage/accounts.py: password `ann`, OIDC
  subject `ann` and OIDC `ann@example.com` are three accounts.
- The session behind the cookie is checked in the database on every run, so a sign-out anywhere (or an
  admin's "sign out everywhere") is honoured by every tab and app server at their next run.
- The acting user is `st.session_state["app.user_id"]`, set only here (and by `resources` in mode
  `none`); every page reads it through `resources.current_user_id()` and passes it to storage.
- The admin role comes from configuration (`PRISM_ADMINS` / `auth.admins`), re-read on every run.
- No password passes through the script: the sign-in form posts straight to the route.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import sign_in
from components import rendering, resources
from settings import Settings
from storage import accounts

USER_KEY = "app.user_id"
WHO_KEY = "auth.who"
# AppTest cannot send cookies: a test puts the cookie value a route returned here instead. Nothing in
# the app writes this key, and its value is checked exactly like the cookie (signature, then database).
COOKIE_KEY = "auth.cookie"
GUEST, USER, ADMIN = "guest", "user", "admin"


@dataclass(frozen=True)
class SignedIn:
    """The person using this session."""

    user_id: int
    method: str
    identity: str  # the subject within its method
    display_name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def is_guest(self) -> bool:
        return self.role == GUEST


def role_for(config: Settings, identity: str) -> str:
    """The role configuration gives an identity."""
    return sign_in.role_for(config, identity)


def _remember(who: SignedIn) -> SignedIn:
    st.session_state[USER_KEY] = who.user_id
    st.session_state[WHO_KEY] = who
    return who


def _forget() -> None:
    for key in (USER_KEY, WHO_KEY):
        st.session_state.pop(key, None)


def _oidc_user() -> tuple[str, str] | None:
    """(subject, display name) of the person signed in with st.login, or None: the e-mail claim when
    the provider gives one, else `sub` (as before identities had methods)."""
    if not st.user.get("is_logged_in", False):
        return None
    subject = str(st.user.get("email") or st.user.get("sub") or "").strip()
    if not subject:
        return None
    return subject, str(st.user.get("name") or subject)


def _text(value: object) -> str | None:
    # Only strings count: under AppTest, st.context's cookies and address are stand-in objects.
    return value if isinstance(value, str) and value else None


def _browser_cookie(name: str) -> str | None:
    return _text(st.context.cookies.get(name))


def _presented_cookie() -> str | None:
    return _browser_cookie(sign_in.SESSION_COOKIE) or _text(st.session_state.get(COOKIE_KEY))


def client_address(config: Settings) -> str:
    """This browser's address as sign_in.client_address reads it (peer, or X-Forwarded-For from a
    trusted proxy). Streamlit reports a loopback peer as None."""
    forwarded = [v for v in st.context.headers.get_all("X-Forwarded-For") if isinstance(v, str)]
    peer = _text(st.context.ip_address) or "127.0.0.1"
    return sign_in.client_address(peer, forwarded, config.trusted_proxies)


def _from_cookie(config: Settings) -> SignedIn | None:
    found = sign_in.resolve(resources.sessions(), sign_in.cookie_secret(), _presented_cookie())
    if found is None:
        return None
    role = found.role
    if found.method == accounts.PASSWORD and found.subject.lower() not in {
        n.strip().lower() for n in config.password_users
    }:
        return None  # the operator removed this name: its cookie no longer signs anyone in
    if found.method == accounts.PASSWORD:
        role = role_for(config, found.subject)
    if found.method == accounts.GUEST and not config.guest_access:
        return None
    if found.method == accounts.GUEST:
        _note_guest_visit(config, found.user_id)
    return SignedIn(found.user_id, found.method, found.subject, found.display_name, role)


def _note_guest_visit(config: Settings, user_id: int) -> None:
    """Count this guest against the address it is using today (once per browser session and day), for
    a guest whose session began on another day or address. The guest route has recorded the address
    the session began at; Streamlit names no peer for a loopback connection, and then this adds nothing."""
    if _text(st.context.ip_address) is None:
        return
    address = client_address(config)
    today = accounts.utcnow().date()
    if st.session_state.get("auth.visit") == (user_id, address, today):
        return
    with resources.sessions()() as session:
        user = session.get(accounts.User, user_id)
        if user is not None:
            accounts.note_guest_visit(session, user, address, today)
            session.commit()
    st.session_state["auth.visit"] = (user_id, address, today)


def current_user(config: Settings) -> SignedIn | None:
    """The signed-in person, or None when this browser must sign in first."""
    if config.auth_mode == "none":
        user_id = resources.current_user_id()
        return SignedIn(user_id, accounts.LOCAL, "local", "You", ADMIN)
    who = _from_cookie(config)
    if who is None and config.auth_mode == "oidc":
        found = _oidc_user()
        known: SignedIn | None = st.session_state.get(WHO_KEY)
        if (
            found is not None
            and known is not None
            and (known.method, known.identity) == (accounts.OIDC, found[0])
        ):
            who = SignedIn(
                known.user_id, known.method, known.identity, known.display_name, role_for(config, found[0])
            )
        elif found is not None:
            subject, name = found
            with resources.sessions()() as session:
                user = accounts.ensure_account(
                    session, accounts.OIDC, subject, display_name=name, role=role_for(config, subject)
                )
                session.commit()
                who = SignedIn(user.id, accounts.OIDC, subject, user.display_name, user.role)
    if who is None:
        _forget()
        return None
    return _remember(who)


def _next_path() -> str:
    """The page and query this person asked for, to come back to after signing in."""
    path = "/"
    url = st.context.url
    if url:
        path = "/" + url.split("://", 1)[-1].partition("/")[2]
    query = "&".join(
        f"{k}={v}" for k, v in st.query_params.to_dict().items() if k not in ("auth", "retry", "incident")
    )
    return sign_in.safe_next(path + (f"?{query}" if query else ""))


def _refusal_from_the_route() -> None:
    code = st.query_params.get("auth")
    if not code:
        return
    words = sign_in.message(code, st.query_params.get("retry", ""), st.query_params.get("incident", ""))
    if words:
        if code == "signed-out":
            st.info(rendering.trusted(words), icon=":material/logout:")
        else:
            st.error(rendering.trusted(words), icon=":material/lock:")


SIGN_IN_WIDTH = 420  # pixels: the sign-in column (a phone's screen is narrower, and gets its width)
NEEDS_ROUTES = (
    "Password sign-in needs Prism's sign-in routes, which `streamlit run serve.py` adds (the README's first "
    "command). `streamlit run app.py` runs without them: use it with `PRISM_AUTH_MODE=none` on your own "
    "machine."
)


def sign_in_page(config: Settings) -> None:
    """The page a person sees before signing in (the caller stops the script after it): a narrow
    column in the middle of the page, as sign-in pages are, rather than fields a screen wide."""
    with st.container(horizontal_alignment="center"), st.container(width=SIGN_IN_WIDTH, key="sign-in"):
        _sign_in_column(config)


def _sign_in_column(config: Settings) -> None:
    st.title("Sign in to Prism", anchor=False)
    _refusal_from_the_route()
    routes = sign_in.mounted["routes"]
    if config.auth_mode == "password":
        if not config.password_users:
            st.error("No users are configured yet. The operator adds them under `[auth.users]` in secrets.")
        elif not routes:
            st.warning(NEEDS_ROUTES)
        else:
            st.html(sign_in.password_form(_next_path()))
    else:
        st.write("Prism uses your company account.")
        st.button("Sign in", type="primary", icon=":material/login:", key="auth.oidc", on_click=st.login)
    if config.guest_access:
        st.divider()
        st.caption(
            rendering.trusted(
                f"No account? A guest session is private and limited to {config.guest_messages} messages "
                f"and {config.guest_tokens:,} tokens a day in this browser."
            )
        )
        if routes:
            st.html(sign_in.button_form(sign_in.GUEST_PATH, "Continue as guest", _next_path()))
        else:
            st.caption("Guest access needs the sign-in routes too (`streamlit run serve.py`).")


def sign_out(config: Settings) -> None:
    """End this browser's sign-in: its session is revoked for every tab and server (and, for an OIDC
    sign-in, the provider's session too)."""
    who: SignedIn | None = st.session_state.get(WHO_KEY)
    cookie = _presented_cookie()
    if cookie:
        sign_in.sign_out(resources.sessions(), sign_in.cookie_secret(), cookie)
    st.session_state.pop(COOKIE_KEY, None)
    _forget()
    if config.auth_mode == "oidc" and who is not None and who.method == accounts.OIDC:
        st.logout()


def account_sidebar(config: Settings, who: SignedIn) -> None:
    """Who is signed in, and the sign-out button (nothing in mode `none`)."""
    if config.auth_mode == "none":
        return
    with st.sidebar:
        label = "Guest" if who.is_guest else who.display_name or who.identity
        st.caption(f"Signed in as {rendering.label(label)}" + (" (admin)" if who.is_admin else ""))
        if st.query_params.get("auth") == "sign-out-unavailable":  # the sign-out route could not finish
            words = sign_in.message("sign-out-unavailable", "", st.query_params.get("incident", ""))
            st.error(rendering.trusted(words), icon=":material/error:")
        if (
            sign_in.mounted["routes"]
            and who.method != accounts.OIDC
            and st.context.cookies.get(sign_in.SESSION_COOKIE)
        ):
            # The route revokes the session and clears the cookie in one step.
            st.html(sign_in.button_form(sign_in.SIGN_OUT_PATH, "Sign out"))
        else:
            st.button(
                "Sign out", icon=":material/logout:", key="auth.sign_out", on_click=sign_out, args=(config,)
            )
