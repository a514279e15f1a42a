"""The security headers, the second wall behind the safe renderer: every response from `streamlit run
serve.py` carries them (the page, /_stcore/ endpoints, Streamlit's static files); the trusted image
hosts appear in img-src; `streamlit run app.py` sends none; the middleware leaves websockets alone and
never overwrites a header; the hosting files set and use them."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from security_headers import SecurityHeaders, content_security_policy
from tests.browser.support import AppServer, sqlite_url

ROOT = Path(__file__).resolve().parents[2]


def assert_headers(response: httpx.Response, hosts: tuple[str, ...] = ()) -> None:
    assert response.headers.get("x-content-type-options") == "nosniff", response.url
    assert response.headers.get("referrer-policy") == "same-origin", response.url
    policy = response.headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == ["'self'"], policy
    expected = ["'self'", "data:", "blob:"] + [f"{s}://{h}" for h in hosts for s in ("https", "http")]
    assert directives.get("img-src") == expected, policy


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    env = {"PRISM_DATABASE_URL": sqlite_url(folder / "prism.db"), "PRISM_IMAGE_HOSTS": "img.example"}
    server = AppServer(folder, env=env).start()
    yield server
    server.stop()


def test_every_response_from_serve_py_carries_the_headers(served):
    page = httpx.get(served.url, timeout=10)
    assert page.status_code == 200
    assert_headers(page, ("img.example",))
    assert_headers(httpx.get(served.url + "_stcore/health", timeout=10), ("img.example",))
    assert_headers(httpx.get(served.url + "_stcore/host-config", timeout=10), ("img.example",))
    script = re.search(r'src="\.?/?(static/js/[^"]+\.js)"', page.text)
    assert script, "the page names its script"
    static = httpx.get(served.url + script.group(1), timeout=10)
    assert static.status_code == 200
    assert_headers(static, ("img.example",))
    missing = httpx.get(served.url + "static/no-such-file.png", timeout=10)
    assert_headers(missing, ("img.example",))


def test_the_bare_app_py_sends_none_of_them(tmp_path):
    env = {"PRISM_DATABASE_URL": sqlite_url(tmp_path / "prism.db")}
    server = AppServer(tmp_path, env=env, entry="app.py").start()
    try:
        page = httpx.get(server.url, timeout=10)
    finally:
        server.stop()
    assert page.status_code == 200
    assert "content-security-policy" not in page.headers


def test_only_plain_host_names_reach_the_policy():
    policy = content_security_policy(["img.example", "evil.example; script-src *", "CDN.Example:8443"])
    assert "script-src" not in policy
    assert "https://cdn.example:8443" in policy and "https://img.example" in policy


def _run(middleware, scope):
    sent = []

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    return sent


def test_the_middleware_keeps_a_header_the_app_set_and_leaves_websockets_alone():
    async def app(scope, receive, send):
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            return
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"referrer-policy", b"origin")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})

    wrapped = SecurityHeaders(app, image_hosts=lambda: ["img.example"])
    start = _run(wrapped, {"type": "http"})[0]
    headers = dict(start["headers"])
    assert headers[b"referrer-policy"] == b"origin"
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert b"https://img.example" in headers[b"content-security-policy"]
    assert _run(wrapped, {"type": "websocket"}) == [{"type": "websocket.accept"}]


def test_the_hosting_files_send_the_headers_and_run_serve_py():
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(
        r'add_header Content-Security-Policy ".*img-src \'self\' data: blob:.*frame-ancestors', nginx
    )
    assert 'add_header X-Content-Type-Options "nosniff" always;' in nginx
    assert 'add_header Referrer-Policy "same-origin" always;' in nginx
    assert re.search(
        r'CMD \["python", "-m", "streamlit", "run", "serve.py"', (ROOT / "Dockerfile").read_text()
    )
