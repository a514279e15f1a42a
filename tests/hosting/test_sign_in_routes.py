"""The sign-in routes (sign_in.py) over real HTTP: cookie attributes, the cross-site check, the client
address behind a proxy, and that the page's refusal codes carry no password. A Starlette app holding
only these routes stands in for serve.py's `st.App` (the browser test runs serve.py itself)."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import passwords
import sign_in
from settings import Settings
from storage import accounts, open_database, session_factory

SECRET = "route test secret"
PASSWORD = "right horse"


@pytest.fixture
def served(db_url):
    """(make an httpx client from a given peer address, the session factory, settings overrides)."""
    overrides: dict = {}

    def config() -> Settings:
        return Settings(
            database_url=db_url,
            auth_mode="password",
            password_users={"ann": passwords.hash_password(PASSWORD, n=2**10)},
            guest_access=True,
            **overrides,
        )

    app = Starlette(routes=sign_in.routes(config, lambda: SECRET))

    def client(peer: str = "192.0.2.10", base: str = "http://prism.test") -> TestClient:
        return TestClient(app, base_url=base, follow_redirects=False, client=(peer, 50000))

    return client, session_factory(open_database(db_url)), overrides


def post(client: httpx.Client, path: str, data: dict, origin: str | None = "http://prism.test", **headers):
    if origin is not None:
        headers["origin"] = origin
    return client.post(path, data=data, headers=headers)


def test_a_right_password_sets_a_signed_httponly_lax_cookie_and_returns_to_the_page(served):
    client, make, _ = served
    response = post(
        client(), sign_in.SIGN_IN_PATH, {"username": "ann", "password": PASSWORD, "return_to": "/compare?x=1"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/compare?x=1"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{sign_in.SESSION_COOKIE}=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "max-age", "path"} <= attributes and "samesite=lax" in cookie.lower()
    assert "secure" not in attributes, "plain http without a trusted proxy"
    value = response.cookies[sign_in.SESSION_COOKIE]
    assert sign_in.resolve(make, SECRET, value).subject == "ann"


def test_a_wrong_password_returns_a_code_and_never_the_password(served):
    client, _, _ = served
    response = post(
        client(), sign_in.SIGN_IN_PATH, {"username": "ann", "password": "guess-123", "return_to": "/"}
    )
    assert response.headers["location"] == "/?auth=mismatch"
    assert "set-cookie" not in response.headers and "guess-123" not in response.text


@pytest.mark.parametrize(
    "origin, referer",
    [("https://evil.example", None), ("null", None), (None, None), (None, "https://evil.example/x")],
    ids=["other origin", "opaque origin", "no origin or referer", "other referer"],
)
def test_a_cross_site_post_signs_nobody_in(served, origin, referer):
    client, _, _ = served
    headers = {"referer": referer} if referer else {}
    response = post(
        client(), sign_in.SIGN_IN_PATH, {"username": "ann", "password": PASSWORD}, origin, **headers
    )
    assert response.headers["location"] == "/?auth=origin"
    assert "set-cookie" not in response.headers


def test_an_outside_next_address_is_not_followed(served):
    client, _, _ = served
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = post(
            client(), sign_in.SIGN_IN_PATH, {"username": "ann", "password": PASSWORD, "return_to": target}
        )
        assert response.headers["location"] == "/"


def test_sign_out_revokes_the_session_and_clears_the_cookie(served):
    client, make, _ = served
    browser = client()
    signed = post(browser, sign_in.SIGN_IN_PATH, {"username": "ann", "password": PASSWORD})
    value = signed.cookies[sign_in.SESSION_COOKIE]
    browser.cookies.set(sign_in.SESSION_COOKIE, value)
    response = post(browser, sign_in.SIGN_OUT_PATH, {})
    assert response.headers["location"] == "/?auth=signed-out"
    assert (
        f'{sign_in.SESSION_COOKIE}=""' in response.headers["set-cookie"]
        or "Max-Age=0" in response.headers["set-cookie"]
    )
    assert sign_in.resolve(make, SECRET, value) is None, "a copy of the old cookie is refused"


def test_forwarded_for_counts_only_from_a_trusted_proxy(served):
    client, make, overrides = served
    spoofed = {"x-forwarded-for": "198.51.100.77", "x-forwarded-proto": "https"}
    response = post(
        client("192.0.2.10"), sign_in.SIGN_IN_PATH, {"username": "ann", "password": "no"}, **spoofed
    )
    with make() as s:
        assert (
            accounts.failures(s, "ann", "192.0.2.10", since=accounts.utcnow().replace(year=2000)).failures
            == 1
        )
        assert (
            accounts.failures(s, "ann", "198.51.100.77", since=accounts.utcnow().replace(year=2000)).failures
            == 0
        )
    overrides["trusted_proxies"] = ("10.0.0.0/8",)
    response = post(
        client("10.1.2.3"), sign_in.SIGN_IN_PATH, {"username": "ann", "password": PASSWORD}, **spoofed
    )
    assert "secure" in {p.strip().lower() for p in response.headers["set-cookie"].split(";")}
    with make() as s:
        row = s.scalar(accounts.select(accounts.SignInSession).order_by(accounts.SignInSession.id.desc()))
        assert row.address == "198.51.100.77"


@pytest.mark.parametrize(
    "peer, header, expected",
    [
        ("203.0.113.5", "1.2.3.4", "203.0.113.5"),  # not a proxy: the header is ignored
        ("10.0.0.2", "1.2.3.4", "1.2.3.4"),
        ("10.0.0.2", "1.2.3.4, 10.0.0.9", "1.2.3.4"),  # skips trusted hops from the right
        ("10.0.0.2", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # what the client wrote itself is left of it
        ("10.0.0.2", "", "10.0.0.2"),
        ("10.0.0.2", "junk, 1.2.3.4", "1.2.3.4"),
        ("10.0.0.2", "1.2.3.4, junk", "10.0.0.2"),
    ],
)
def test_the_client_address_rules(peer, header, expected):
    assert sign_in.client_address(peer, [header], ("10.0.0.0/8",)) == expected


def test_a_guest_keeps_its_account_across_sign_ins_in_one_browser(served):
    client, make, _ = served
    browser = client()
    first = post(browser, sign_in.GUEST_PATH, {"return_to": "/"})
    guest_cookie = first.cookies[sign_in.GUEST_COOKIE]
    browser.cookies.set(sign_in.GUEST_COOKIE, guest_cookie)
    second = post(browser, sign_in.GUEST_PATH, {"return_to": "/"})
    one = sign_in.resolve(make, SECRET, first.cookies[sign_in.SESSION_COOKIE])
    two = sign_in.resolve(make, SECRET, second.cookies[sign_in.SESSION_COOKIE])
    assert one is None, "the new guest session replaced the old one"
    assert two.method == "guest"
    other = post(client(), sign_in.GUEST_PATH, {"return_to": "/"})  # another browser: another guest
    assert sign_in.resolve(make, SECRET, other.cookies[sign_in.SESSION_COOKIE]).user_id != two.user_id
    with make() as s:
        assert accounts.find_user(s, "guest", sign_in.unsign(SECRET, "guest", guest_cookie)).id == two.user_id


@pytest.fixture
def unreachable(caplog):
    """The routes in front of a database that does not answer (nothing listens on port 1)."""
    caplog.set_level("ERROR", logger="prism.incidents")

    def config() -> Settings:
        return Settings(
            database_url="postgresql+psycopg://prism@127.0.0.1:1/prism",
            auth_mode="password",
            password_users={"ann": passwords.hash_password(PASSWORD, n=2**10)},
            guest_access=True,
        )

    app = Starlette(routes=sign_in.routes(config, lambda: SECRET))
    return TestClient(app, base_url="http://prism.test", follow_redirects=False, client=("192.0.2.10", 50000))


@pytest.mark.parametrize(
    ("path", "data", "code"),
    [
        (sign_in.SIGN_IN_PATH, {"username": "ann", "password": PASSWORD, "return_to": "/"}, "unavailable"),
        (sign_in.GUEST_PATH, {"return_to": "/"}, "unavailable"),
        (sign_in.SIGN_OUT_PATH, {}, "sign-out-unavailable"),
    ],
)
def test_a_database_that_does_not_answer_gets_plain_words_and_an_incident_never_a_500(
    unreachable, caplog, path, data, code
):
    response = post(unreachable, path, data)
    assert response.status_code == 303
    query = httpx.URL(response.headers["location"]).params
    assert query["auth"] == code and len(query["incident"]) == 8
    words = sign_in.message(query["auth"], "", query["incident"])
    assert "problem on Prism's side" in words and f"incident {query['incident']}" in words
    seen = response.text + response.headers["location"] + words
    for leak in ("127.0.0.1", "port 1", "Traceback", "psycopg", "OperationalError", PASSWORD):
        assert leak not in seen
    assert sign_in.SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert any(query["incident"] in r.getMessage() for r in caplog.records), "the operator can find it"


def test_an_incident_id_from_the_address_bar_is_shown_only_when_it_is_one():
    assert "incident" not in sign_in.message("unavailable", "", "<img src=x>")
    assert "incident" not in sign_in.message("mismatch", "", "0123abcd")
