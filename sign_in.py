"""Password and guest sign-in that outlives a browser tab: cookies, sessions, the throttle, the routes.

Why it exists: a Streamlit script cannot set a cookie, so a sign-in held in session state ended with
every reload and new tab. serve.py adds three small Starlette routes to its `st.App`:
- `POST /auth/sign-in` checks a name and password, starts a server-side session (storage/accounts.py)
  and sets it as a cookie: signed (HMAC-SHA256 with Streamlit's `server.cookieSecret`), expiring,
  HttpOnly, SameSite=Lax, Secure over HTTPS or behind a trusted proxy that says so. A sign-in always
  makes a new session (rotation) and revokes the one the browser held before.
- `POST /auth/guest` gives the browser a signed guest cookie (its guest account, for a year) and a
  session for that guest; signing out and back in as a guest is the same guest, so caps continue.
- `POST /auth/sign-out` revokes the session in the database and clears the cookie.
The page script reads the cookie (`st.context.cookies`) and asks the database on every run, so a
sign-out or an admin's "sign out everywhere" holds on every tab and app server at once, and a copied
cookie is refused after sign-out.

What must stay true:
- Cross-site requests cannot sign anyone in or out: every POST must carry an Origin (or, failing that,
  a Referer) naming this host; SameSite=Lax keeps the cookie off cross-site subrequests.
- The throttle counts wrong passwords per (name, client address) in the database, so it holds across
  app servers, and slows only that address: after FREE_FAILURES, each further try waits twice as long
  as the last, up to the operator's ceiling (`sign_in_max_delay`), and a try made while waiting is
  refused without being checked or counted. Another address is never slowed for that name.
- The client address is the socket peer; `X-Forwarded-For` counts only when the peer is one of the
  operator's trusted proxies (`trusted_proxies`), and then the rightmost address that is not a trusted
  proxy is the client.
- No password is ever stored, logged or put in a URL; a refusal reaches the page as a short code.

No streamlit import at module level (the routes run in the server, tests call the functions).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import ipaddress
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from sqlalchemy.orm import Session, sessionmaker

import passwords
from settings import Settings
from storage import accounts
from storage.models import utcnow

SESSION_COOKIE = "prism_session"
GUEST_COOKIE = "prism_guest"
GUEST_LIFETIME = timedelta(days=365)
# Wrong passwords a (name, address) gets before it is slowed, and how far back they are counted.
FREE_FAILURES = 3
FAILURE_WINDOW = timedelta(hours=24)
SIGN_IN_PATH, GUEST_PATH, SIGN_OUT_PATH = "/auth/sign-in", "/auth/guest", "/auth/sign-out"

LOG = logging.getLogger("prism.incidents")  # the error boundary's log (components/incidents.py)
_INCIDENT = re.compile(r"^[0-9a-f]{8}$")

# Set by serve.py when it mounts `routes()`: the page offers the cookie sign-in only when these routes
# exist, and says plainly otherwise (`streamlit run app.py` has no routes).
mounted = {"routes": False}


# --------------------------------------------------------------------------------------- signed values


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _mac(secret: str, purpose: str, value: str, expires: int) -> str:
    message = f"prism|{purpose}|{value}|{expires}".encode()
    return _b64(hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest())


def sign(secret: str, purpose: str, value: str, expires: datetime) -> str:
    """`value.expiry.mac`: a cookie value that says what it is for and until when."""
    stamp = int(expires.timestamp())
    return f"{value}.{stamp}.{_mac(secret, purpose, value, stamp)}"


def unsign(secret: str, purpose: str, signed: str | None, *, now: datetime | None = None) -> str | None:
    """The value inside `signed`, or None if it was altered, made for another purpose or has expired."""
    if not signed or not secret:
        return None
    value, _, rest = signed.rpartition(".")
    value, _, stamp = value.rpartition(".")
    if not value or not stamp.isdigit():
        return None
    if not hmac.compare_digest(_mac(secret, purpose, value, int(stamp)), rest):
        return None
    if int(stamp) <= (now or utcnow()).timestamp():
        return None
    return value


# ----------------------------------------------------------------------------------- client addresses


def _networks(trusted: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(t.strip(), strict=False) for t in trusted if t.strip()]


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _is_trusted(address: str | None, trusted: Sequence[str]) -> bool:
    ip = _ip(address or "")
    return ip is not None and any(ip in network for network in _networks(trusted))


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[str]) -> str:
    """Who is asking: the socket peer, or, when the peer is a trusted proxy, the rightmost address in
    X-Forwarded-For that is not a trusted proxy (all `X-Forwarded-For` headers, in order)."""
    peer = (peer or "").strip() or "127.0.0.1"
    if not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        if _ip(hop) is None:
            break  # garbage in the header: trust nothing further left
        client = str(_ip(hop))
        if not _is_trusted(client, trusted):
            break
    return client


def proxied_https(peer: str | None, scheme: str, forwarded_proto: str | None, trusted: Sequence[str]) -> bool:
    """True when the browser talks HTTPS: directly, or through a trusted proxy that says so."""
    if scheme == "https":
        return True
    return _is_trusted(peer, trusted) and (forwarded_proto or "").split(",")[0].strip().lower() == "https"


# --------------------------------------------------------------------------------------- the throttle


def throttle_wait(failures: int, last_at: datetime | None, now: datetime, ceiling: float) -> float:
    """Seconds this (name, address) must still wait: 0 for the first FREE_FAILURES failures, then 1, 2,
    4, ... seconds after the last one, never more than `ceiling`."""
    if failures < FREE_FAILURES or last_at is None:
        return 0.0
    delay = min(float(ceiling), 2.0 ** min(failures - FREE_FAILURES, 40))
    return max(0.0, delay - (now - last_at).total_seconds())


@dataclass(frozen=True)
class Attempt:
    """What a sign-in attempt came to. `cookie` is set only when it succeeded."""

    ok: bool
    code: str = ""  # "mismatch", "wait", "no-users" for the page to put in words
    retry_after: float = 0.0
    cookie: str = ""
    user_id: int | None = None


def attempt(
    make_session: sessionmaker[Session],
    config: Settings,
    secret: str,
    name: str,
    password: str,
    address: str,
    *,
    previous_cookie: str | None = None,
    user_agent: str = "",
    now: datetime | None = None,
) -> Attempt:
    """Check a name and password, throttled per (name, address) in the database; on success start a
    new session (revoking the browser's previous one) and return its signed cookie value."""
    now = now or utcnow()
    if not config.password_users:
        return Attempt(False, "no-users")
    with make_session() as session:
        seen = accounts.failures(session, name, address, since=now - FAILURE_WINDOW)
        wait = throttle_wait(seen.failures, seen.last_at, now, config.sign_in_max_delay)
        if wait > 0:
            return Attempt(False, "wait", retry_after=wait)
    stored = next(
        (h for n, h in config.password_users.items() if n.strip().lower() == accounts.name_key(name)), None
    )
    right = passwords.verify_password(password, stored)
    with make_session() as session:
        if not right:
            accounts.record_failure(session, name, address, now=now)
            session.commit()
            return Attempt(False, "mismatch")
        accounts.clear_failures(session, name, address)
        subject = next(n for n in config.password_users if n.strip().lower() == accounts.name_key(name))
        user = accounts.ensure_account(
            session,
            accounts.PASSWORD,
            subject.strip(),
            display_name=subject.strip(),
            role=role_for(config, subject),
        )
        cookie = _new_session(session, config, secret, user, accounts.PASSWORD, address, user_agent, now)
        _revoke_presented(session, secret, previous_cookie, now)
        session.commit()
        return Attempt(True, cookie=cookie, user_id=user.id)


def role_for(config: Settings, subject: str) -> str:
    """The role configuration gives a password name or an OIDC subject (PRISM_ADMINS)."""
    admins = {name.strip().lower() for name in config.admins}
    return "admin" if subject.strip().lower() in admins else "user"


def _new_session(
    session: Session,
    config: Settings,
    secret: str,
    user,  # type: ignore[no-untyped-def]
    method: str,
    address: str,
    user_agent: str,
    now: datetime,
) -> str:
    lifetime = timedelta(hours=config.session_hours)
    token, _ = accounts.start_session(
        session, user, method=method, lifetime=lifetime, address=address, user_agent=user_agent, now=now
    )
    return sign(secret, "session", token, now + lifetime)


def _revoke_presented(session: Session, secret: str, cookie: str | None, now: datetime) -> None:
    token = unsign(secret, "session", cookie, now=now)
    if token:
        accounts.revoke_session(session, token, now=now)


def start_guest(
    make_session: sessionmaker[Session],
    config: Settings,
    secret: str,
    address: str,
    *,
    guest_cookie: str | None = None,
    previous_cookie: str | None = None,
    user_agent: str = "",
    now: datetime | None = None,
) -> tuple[str, str]:
    """(session cookie, guest cookie) for this browser's guest: the same guest account whenever the
    browser still holds its signed guest cookie, so its caps continue."""
    now = now or utcnow()
    browser = unsign(secret, "guest", guest_cookie, now=now) or secrets.token_hex(16)
    with make_session() as session:
        user = accounts.ensure_account(session, accounts.GUEST, browser, display_name="Guest", role="guest")
        accounts.note_guest_visit(session, user, address, now.date())
        cookie = _new_session(session, config, secret, user, accounts.GUEST, address, user_agent, now)
        _revoke_presented(session, secret, previous_cookie, now)
        session.commit()
    return cookie, sign(secret, "guest", browser, now + GUEST_LIFETIME)


@dataclass(frozen=True)
class Resolved:
    """The account an open session cookie signs in to."""

    user_id: int
    session_id: int
    method: str
    subject: str
    display_name: str
    role: str


def resolve(
    make_session: sessionmaker[Session], secret: str, cookie: str | None, *, now: datetime | None = None
) -> Resolved | None:
    """The signed-in account behind a session cookie, or None: unsigned, expired, revoked or unknown."""
    now = now or utcnow()
    token = unsign(secret, "session", cookie, now=now)
    if not token:
        return None
    with make_session() as session:
        row = accounts.open_session(session, token, now=now)
        if row is None:
            return None
        user = session.get(accounts.User, row.user_id)
        if user is None:
            return None
        identity = next((i for i in accounts.identities_of(session, user) if i.method == row.method), None)
        accounts.touch_session(session, row, now=now)
        session.commit()
        return Resolved(
            user.id,
            row.id,
            row.method,
            identity.subject if identity else user.identity,
            user.display_name,
            user.role,
        )


def sign_out(make_session: sessionmaker[Session], secret: str, cookie: str | None) -> bool:
    """Revoke the session behind this cookie, for every tab and server; False if it was not open."""
    token = unsign(secret, "session", cookie)
    if not token:
        return False
    with make_session() as session:
        done = accounts.revoke_session(session, token)
        session.commit()
        return done


# ------------------------------------------------------------------------------------------ the page


MESSAGES = {
    "mismatch": "That name and password do not match.",
    "no-users": "No users are configured yet. The operator adds them under `[auth.users]` in secrets.",
    "origin": "That sign-in did not come from this site's own page, so it was refused. Try again here.",
    "no-guests": "Guest access is off on this server.",
    "signed-out": "You are signed out.",
    "unavailable": "Signing in did not work this time, because of a problem on Prism's side. Try again in a "
    "moment.",
    "sign-out-unavailable": "Signing out did not work this time, because of a problem on Prism's side. Try "
    "again in a moment.",
}


def message(code: str, retry: str = "", incident: str = "") -> str:
    """The page's words for a refusal code the routes put in the URL (and, for a failure on the server's
    side, the incident id its log line carries: eight hex digits, or nothing is said of it)."""
    if code in ("unavailable", "sign-out-unavailable") and _INCIDENT.match(incident or ""):
        return f"{MESSAGES[code]} If it keeps happening, give the operator incident {incident}."
    if code == "wait":
        seconds = int(retry) if retry.isdigit() else 1
        wait = (
            f"{seconds} second{'s' if seconds != 1 else ''}"
            if seconds < 120
            else f"{(seconds + 59) // 60} minutes"
        )
        return (
            "Too many wrong passwords for this name from your address. Try again in "
            f"{wait} (other addresses are not affected)."
        )
    return MESSAGES.get(code, "")


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path on this site only (never `//host` or `https://...`)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


# Inline styles (st.html keeps them; it has no theme variables): the page's own font and text colour,
# so the form reads the same in the light and the dark theme, with a border of the text colour's tint
# that keeps 3:1 against either background; the buttons as wide as the column they sit in, like the
# sidebar's own buttons.
_EDGE = "border:1px solid color-mix(in srgb,currentColor 45%,transparent);border-radius:.5rem"
_FIELD = (
    "box-sizing:border-box;width:100%;margin-top:.25rem;padding:.5rem .75rem;font:inherit;color:inherit;"
    f"background:transparent;{_EDGE}"
)
_PRIMARY = (
    "box-sizing:border-box;width:100%;min-height:2.5rem;padding:.5rem 1rem;font:inherit;cursor:pointer;"
    "border-radius:.5rem;border:0;background:#6b4fd8;color:#fff"
)
_PLAIN = (
    "box-sizing:border-box;width:100%;min-height:2.5rem;padding:.4rem .9rem;font:inherit;font-size:.875rem;"
    f"cursor:pointer;color:inherit;background:transparent;{_EDGE}"
)


def password_form(next_path: str) -> str:
    """The sign-in form (plain HTML: it posts to the route, so the browser keeps the cookie). Field
    names that are also form properties (`name`, `action`) would be stripped by st.html's sanitizer."""
    return f"""
<form method="post" action="{SIGN_IN_PATH}">
  <input type="hidden" name="return_to" value="{html.escape(safe_next(next_path))}">
  <p><label>Name<br><input name="username" autocomplete="username" required style="{_FIELD}"></label></p>
  <p><label>Password<br><input name="password" type="password" autocomplete="current-password" required
     style="{_FIELD}"></label></p>
  <p><button type="submit" style="{_PRIMARY}">Sign in</button></p>
</form>"""


def button_form(path: str, label: str, next_path: str = "/") -> str:
    """A one-button form posting to one of the routes (guest, sign-out)."""
    return f"""
<form method="post" action="{path}">
  <input type="hidden" name="return_to" value="{html.escape(safe_next(next_path))}">
  <button type="submit" style="{_PLAIN}">{html.escape(label)}</button>
</form>"""


# ---------------------------------------------------------------------------------------- the routes


def _same_origin(request, trusted: Sequence[str]) -> bool:  # type: ignore[no-untyped-def]
    """The POST came from a page of this host (Origin, else Referer, names it)."""
    peer = request.client.host if request.client else None
    host = request.headers.get("host", "")
    if _is_trusted(peer, trusted) and request.headers.get("x-forwarded-host"):
        host = request.headers["x-forwarded-host"].split(",")[0].strip()
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    if not source or source == "null":
        return False
    return bool(host) and urlsplit(source).netloc.lower() == host.lower()


def routes(settings: Callable[[], Settings], secret: Callable[[], str]) -> list:
    """The Starlette routes for `st.App(routes=...)`: sign-in, guest, sign-out."""
    from starlette.requests import Request
    from starlette.responses import RedirectResponse
    from starlette.routing import Route

    from storage import open_database, session_factory

    makers: dict[str, sessionmaker[Session]] = {}

    def sessions(config: Settings) -> sessionmaker[Session]:
        if config.database_url not in makers:
            makers[config.database_url] = session_factory(open_database(config.database_url))
        return makers[config.database_url]

    def context(request: Request) -> tuple[Settings, str, bool]:
        config = settings()
        peer = request.client.host if request.client else None
        address = client_address(peer, request.headers.getlist("x-forwarded-for"), config.trusted_proxies)
        https = proxied_https(
            peer, request.url.scheme, request.headers.get("x-forwarded-proto"), config.trusted_proxies
        )
        return config, address, https

    def back(next_path: str, **query: str) -> RedirectResponse:
        target = safe_next(next_path)
        if query:
            target += ("&" if "?" in target else "?") + urlencode(query)
        return RedirectResponse(target, status_code=303)

    async def guarded(work: Callable[[], object]) -> tuple[object, str]:
        """(what `work` returned, "") or, when it raised (a database that does not answer, say), (None,
        an incident id): the traceback goes to the server's log, the browser is sent back to the page
        with plain words and that id, never a 500 page, the exception's text or an address."""
        import anyio.to_thread

        try:
            return await anyio.to_thread.run_sync(work), ""
        except Exception as exc:
            incident = secrets.token_hex(4)
            LOG.error("incident %s: sign-in route: %s", incident, type(exc).__name__, exc_info=exc)
            return None, incident

    def set_cookie(response, name: str, value: str, max_age: int, https: bool) -> None:  # type: ignore[no-untyped-def]
        response.set_cookie(
            name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=https
        )

    async def sign_in_route(request: Request) -> RedirectResponse:
        config, address, https = context(request)
        form = await request.form()
        next_path = str(form.get("return_to") or "/")
        if not _same_origin(request, config.trusted_proxies):
            return back(next_path, auth="origin")
        result, incident = await guarded(
            lambda: attempt(
                sessions(config),
                config,
                secret(),
                str(form.get("username") or ""),
                str(form.get("password") or ""),
                address,
                previous_cookie=request.cookies.get(SESSION_COOKIE),
                user_agent=request.headers.get("user-agent", ""),
            )
        )
        if incident or not isinstance(result, Attempt):
            return back(next_path, auth="unavailable", incident=incident)
        if not result.ok:
            extra = {"retry": str(int(result.retry_after + 0.999))} if result.code == "wait" else {}
            return back(next_path, auth=result.code, **extra)
        response = back(next_path)
        set_cookie(response, SESSION_COOKIE, result.cookie, config.session_hours * 3600, https)
        return response

    async def guest_route(request: Request) -> RedirectResponse:
        config, address, https = context(request)
        form = await request.form()
        next_path = str(form.get("return_to") or "/")
        if not _same_origin(request, config.trusted_proxies):
            return back(next_path, auth="origin")
        if not config.guest_access:
            return back(next_path, auth="no-guests")
        made, incident = await guarded(
            lambda: start_guest(
                sessions(config),
                config,
                secret(),
                address,
                guest_cookie=request.cookies.get(GUEST_COOKIE),
                previous_cookie=request.cookies.get(SESSION_COOKIE),
                user_agent=request.headers.get("user-agent", ""),
            )
        )
        if incident or not isinstance(made, tuple):
            return back(next_path, auth="unavailable", incident=incident)
        cookie, guest = made
        response = back(next_path)
        set_cookie(response, SESSION_COOKIE, cookie, config.session_hours * 3600, https)
        set_cookie(response, GUEST_COOKIE, guest, int(GUEST_LIFETIME.total_seconds()), https)
        return response

    async def sign_out_route(request: Request) -> RedirectResponse:
        config, _, https = context(request)
        if not _same_origin(request, config.trusted_proxies):
            return back("/", auth="origin")
        cookie = request.cookies.get(SESSION_COOKIE)
        _, incident = await guarded(lambda: sign_out(sessions(config), secret(), cookie))
        if incident:  # the session may still be open: say so, and keep the cookie to try again with
            return back("/", auth="sign-out-unavailable", incident=incident)
        response = back("/", auth="signed-out")
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=https)
        return response

    return [
        Route(SIGN_IN_PATH, sign_in_route, methods=["POST"]),
        Route(GUEST_PATH, guest_route, methods=["POST"]),
        Route(SIGN_OUT_PATH, sign_out_route, methods=["POST"]),
    ]


def cookie_secret() -> str:
    """Streamlit's `server.cookieSecret` (STREAMLIT_SERVER_COOKIE_SECRET): every app server must share it."""
    from streamlit import config

    return str(config.get_option("server.cookieSecret") or "")


__all__ = ["attempt", "client_address", "resolve", "routes", "sign", "start_guest", "unsign"]
