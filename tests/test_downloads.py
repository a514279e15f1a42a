"""Downloads reach only the person who clicked (private_downloads.py).

- Served through Streamlit's own media route and storage, a download file is served once, with
  `no-store`; the next request for its address (with cookies or without), and any HEAD, get a 404. An
  image in the same storage is served as often as asked.
- Every `st.download_button` in views/ and components/ is given a callable, so no export is made, or
  stored at an address, before the person clicks.
- serve.py installs the middleware (the app the README's first command starts).
"""

from __future__ import annotations

import ast
from pathlib import Path

from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.runtime.media_file_storage import MediaFileKind
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.web.server.starlette.starlette_routes import create_media_routes

from private_downloads import OneShotDownloads

ROOT = Path(__file__).resolve().parents[1]


def media_app(storage: MemoryMediaFileStorage) -> TestClient:
    app = Starlette(routes=create_media_routes(storage, None))
    app.add_middleware(OneShotDownloads, storage=lambda: storage)
    return TestClient(app)


def test_a_download_is_served_once_and_then_to_nobody():
    storage = MemoryMediaFileStorage("/media")
    file_id = storage.load_and_get_id(
        b'{"secret": 1}', "application/json", MediaFileKind.DOWNLOADABLE, "run.json"
    )
    url = storage.get_url(file_id)
    owner, stranger = media_app(storage), media_app(storage)
    owner.cookies.set("session", "the owner's")
    first = owner.get(url)
    assert first.status_code == 200 and first.content == b'{"secret": 1}'
    assert first.headers["cache-control"] == "no-store, private"
    assert 'filename="run.json"' in first.headers["content-disposition"]
    assert stranger.get(url).status_code == 404  # no cookies
    assert owner.get(url).status_code == 404  # nor the owner's own cookies: a second click makes a new one


def test_a_head_request_tells_nothing_and_does_not_use_the_download_up():
    storage = MemoryMediaFileStorage("/media")
    file_id = storage.load_and_get_id(b"a,b\n1,2\n", "text/csv", MediaFileKind.DOWNLOADABLE, "run.csv")
    url = storage.get_url(file_id)
    client = media_app(storage)
    head = client.head(url)
    assert head.status_code == 404 and "content-disposition" not in head.headers
    assert client.get(url).content == b"a,b\n1,2\n"


def test_images_are_served_as_often_as_asked():
    storage = MemoryMediaFileStorage("/media")
    file_id = storage.load_and_get_id(b"\x89PNG fake", "image/png", MediaFileKind.MEDIA)
    url = storage.get_url(file_id)
    client = media_app(storage)
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]


def _download_buttons(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "download_button":
            yield node


def _callables_bound(tree: ast.AST) -> set[str]:
    """Names bound to a function here: `def f`, or `x = _exporter(...)` (which returns one)."""
    names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
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
        callables = _callables_bound(tree)
        for call in _download_buttons(tree):
            data = (
                call.args[1]
                if len(call.args) > 1
                else next(k.value for k in call.keywords if k.arg == "data")
            )
            made_on_click = isinstance(data, ast.Lambda) or (
                isinstance(data, ast.Name) and data.id in callables
            )
            found.append((f"{path.relative_to(ROOT)}:{call.lineno}", made_on_click))
    assert len(found) >= 9, "every export: chat (3), compare (2), evaluation (4)"
    assert [where for where, ok in found if not ok] == []


def test_serve_installs_the_middleware():
    tree = ast.parse((ROOT / "serve.py").read_text())
    installed = [
        n.args[0].id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "Middleware" and n.args
    ]
    assert "OneShotDownloads" in installed
