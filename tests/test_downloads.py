"""Downloads reach only the browser that clicked, images only the browsers shown them
(private_downloads.py, components/downloads.py).

- Through Streamlit's own media route and storage: a download file is served (with `no-store`) to the
  browser recorded as its owner when it was made, and to nobody else: not to a request with no
  cookies, not to another browser, not to anyone once the owner's time is up, and not at all when no
  owner was recorded. An image in the same storage is served (with `no-store`) to a browser whose
  live session shows it, and to nobody else. (tests/browser/test_private_images.py: the same in
  chromium, with serve.py reading Streamlit's sessions.)
- The browser is known by the token inside Streamlit's XSRF cookie, whose mask changes per page load.
- Every `st.download_button` in views/ and components/ is given `downloads.made_on_click(...)`, so no
  export is made, or stored at an address, before the person clicks, and each is owned.
- serve.py installs the middleware (the app the README's first command starts).
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.runtime.media_file_storage import MediaFileKind
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string
from streamlit.web.server.starlette.starlette_routes import create_media_routes

import private_downloads
from private_downloads import XSRF_COOKIE, PrivateDownloads

ROOT = Path(__file__).resolve().parents[1]


def browser(
    storage: MemoryMediaFileStorage,
    token: bytes | None = None,
    viewers=lambda file_id: (),
    browsers=lambda: (),
) -> TestClient:
    """A client of Streamlit's media route behind the middleware; with `token`, a browser's XSRF cookie;
    `viewers(file_id)` the XSRF cookies of the sessions showing a media file, `browsers()` of them all."""
    app = Starlette(routes=create_media_routes(storage, None))
    app.add_middleware(PrivateDownloads, storage=lambda: storage, viewers=viewers, browsers=browsers)
    client = TestClient(app)
    if token is not None:
        client.cookies.set(XSRF_COOKIE, generate_xsrf_token_string(token, 1_700_000_000))
    return client


def stored_download(storage: MemoryMediaFileStorage, content: bytes, name: str = "run.json") -> str:
    return storage.get_url(
        storage.load_and_get_id(content, "application/json", MediaFileKind.DOWNLOADABLE, name)
    )


def test_a_download_goes_to_the_browser_that_made_it_and_to_nobody_else():
    storage = MemoryMediaFileStorage("/media")
    ann, bob = os.urandom(32), os.urandom(32)
    content = b'{"secret": "ann-' + os.urandom(8).hex().encode() + b'"}'
    private_downloads.record_owner(content, generate_xsrf_token_string(ann, 1_700_000_000))
    url = stored_download(storage, content)
    mine = browser(storage, ann).get(url)  # a later page load: same token, another mask
    assert mine.status_code == 200 and mine.content == content
    assert mine.headers["cache-control"] == "no-store, private"
    assert 'filename="run.json"' in mine.headers["content-disposition"]
    assert browser(storage, ann).get(url).status_code == 200  # Streamlit's check, then the save
    for stranger in (browser(storage), browser(storage, bob)):
        answer = stranger.get(url)
        assert answer.status_code == 404 and b"secret" not in answer.content
        assert stranger.head(url).status_code == 404


def test_a_download_nobody_owns_goes_to_nobody():
    storage = MemoryMediaFileStorage("/media")
    url = stored_download(storage, b'{"made": "without made_on_click ' + os.urandom(8).hex().encode() + b'"}')
    assert browser(storage).get(url).status_code == 404
    assert browser(storage, os.urandom(32)).get(url).status_code == 404


def test_the_owner_may_fetch_only_for_a_while():
    token = generate_xsrf_token_string(os.urandom(32), 1_700_000_000)
    content = os.urandom(64)
    private_downloads.record_owner(content, token, now=1000.0)
    assert private_downloads.may_fetch(content, token, now=1000.0 + private_downloads.OWNER_LIFETIME)
    assert not private_downloads.may_fetch(content, token, now=1001.0 + private_downloads.OWNER_LIFETIME)


def test_the_browser_token_survives_a_new_mask_and_rejects_garbage():
    token = os.urandom(32)
    first, second = (generate_xsrf_token_string(token, 1_700_000_000) for _ in range(2))
    assert first != second
    assert private_downloads.browser_token(first) == private_downloads.browser_token(second) == token
    assert private_downloads.browser_token("2|zz|not-hex|1") is None
    assert private_downloads.browser_token(None) is None


def cookie(token: bytes) -> str:
    return generate_xsrf_token_string(token, 1_700_000_000)


def stored_image(storage: MemoryMediaFileStorage) -> tuple[str, str, bytes]:
    content = b"\x89PNG ann's picture " + os.urandom(8)
    file_id = storage.load_and_get_id(content, "image/png", MediaFileKind.MEDIA)
    return file_id, storage.get_url(file_id), content


def test_an_image_goes_only_to_the_browsers_whose_pages_show_it():
    storage = MemoryMediaFileStorage("/media")
    ann, bob = os.urandom(32), os.urandom(32)
    file_id, url, content = stored_image(storage)
    shown = {file_id: [cookie(ann), None]}  # Ann's session, and one that connected without a cookie

    def viewers(name: str) -> list[str | None]:
        return shown.get(name, [])

    mine = browser(storage, ann, viewers).get(url)  # a fresh mask on the same token: a reload, a tab
    assert mine.status_code == 200 and mine.content == content
    assert mine.headers["cache-control"] == "no-store, private"
    for stranger in (browser(storage, viewers=viewers), browser(storage, bob, viewers)):
        answer = stranger.get(url)
        assert answer.status_code == 404 and b"ann's picture" not in answer.content
        assert stranger.head(url).status_code == 404
    shown[file_id].append(cookie(bob))  # Bob's page shows the same picture (the same bytes): his too
    assert browser(storage, bob, viewers).get(url).status_code == 200


def test_an_image_nobody_is_shown_goes_to_nobody():
    storage = MemoryMediaFileStorage("/media")
    _, url, _ = stored_image(storage)
    assert browser(storage).get(url).status_code == 404
    assert browser(storage, os.urandom(32)).get(url).status_code == 404


def test_a_browser_shown_an_image_keeps_it_for_a_while():
    """A rerun drops a session's images and adds them again as it draws them: a fetch in between
    still gets a picture it was shown a moment ago."""
    token = cookie(os.urandom(32))
    file_id = os.urandom(8).hex()
    assert private_downloads.may_view(file_id, token, lambda: [token], now=1000.0)
    later = 1000.0 + private_downloads.OWNER_LIFETIME
    assert private_downloads.may_view(file_id, token, lambda: [], now=later)
    assert not private_downloads.may_view(file_id, token, lambda: [], now=later + 1)
    assert not private_downloads.may_view(os.urandom(8).hex(), token, lambda: [], now=1000.0)


def test_a_first_fetch_in_the_middle_of_a_redraw_waits_for_it(monkeypatch):
    """The fetch lands after the rerun dropped the session's images and before it drew them again: the
    browser's live page is given the moment to draw it. A browser whose page never shows it still gets
    its 404, and one with no live page gets it at once."""
    monkeypatch.setattr(private_downloads, "REDRAW_WAIT", 0.5)
    storage = MemoryMediaFileStorage("/media")
    ann, bob = os.urandom(32), os.urandom(32)
    _, url, content = stored_image(storage)
    asked: list[str] = []

    def viewers(name: str) -> list[str]:
        asked.append(name)
        return [cookie(ann)] if len(asked) >= 3 else []  # drawn again on the third look

    live = [cookie(ann), cookie(bob)]
    answer = browser(storage, ann, viewers, lambda: live).get(url)
    assert answer.status_code == 200 and answer.content == content
    asked.clear()
    assert browser(storage, bob, lambda name: [], lambda: live).get(url).status_code == 404
    asked.clear()
    stranger = browser(storage, os.urandom(32), viewers, lambda: live)
    assert stranger.get(url).status_code == 404 and len(asked) == 1, "no live page: no waiting"


def test_no_browser_token_is_nobody():
    """A session or a click without Streamlit's XSRF cookie makes nothing fetchable without one."""
    content = os.urandom(64)
    private_downloads.record_owner(content, None)
    assert not private_downloads.may_fetch(content, None)
    assert not private_downloads.may_view(os.urandom(8).hex(), None, lambda: [None])


def _download_buttons(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "download_button":
            yield node


def _made_on_click(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and ast.unparse(node.func) == "downloads.made_on_click"


def _owned_data(tree: ast.AST) -> set[str]:
    """Names bound to `_exporter(...)` here, when `_exporter` returns `downloads.made_on_click(...)`."""
    exporters = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "_exporter"]
    if not any(_made_on_click(r.value) for f in exporters for r in ast.walk(f) if isinstance(r, ast.Return)):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Name) and func.id == "_exporter":
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def test_every_download_button_is_made_on_click():
    found = []
    for path in sorted([*ROOT.glob("views/*.py"), *ROOT.glob("components/*.py"), ROOT / "app.py"]):
        tree = ast.parse(path.read_text(), str(path))
        owned = _owned_data(tree)
        for call in _download_buttons(tree):
            data = (
                call.args[1]
                if len(call.args) > 1
                else next(k.value for k in call.keywords if k.arg == "data")
            )
            ok = _made_on_click(data) or (isinstance(data, ast.Name) and data.id in owned)
            found.append((f"{path.relative_to(ROOT)}:{call.lineno}", ok))
    assert len(found) >= 9, "every export: chat (3), compare (2), evaluation (4)"
    assert [where for where, ok in found if not ok] == []


def test_serve_installs_the_middleware():
    tree = ast.parse((ROOT / "serve.py").read_text())
    installed = [
        n.args[0].id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "Middleware" and n.args
    ]
    assert "PrivateDownloads" in installed
