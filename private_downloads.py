"""Media reach only the browser that was shown them: an export to the one who clicked, a person's
images to the browser whose page shows them, to no one else.

Streamlit serves every file of its in-memory media storage at `/media/<id>.<ext>` to any request, with
no cookie and no session check: a download button's file, and every image a page draws with
`st.image` (attachments and their thumbnails in chat, compare and evaluate). An image's id is a hash
of its bytes, so the same picture has the same address in every session that shows it, and the
address stays good whenever its owner has the page open. So a compare export, or Ann's chat image,
fetched by URL (from a shared screen, a browser history, a proxy log) answered 200 to a request
without cookies, or to Bob's browser. The browser is known by the secret token in Streamlit's XSRF
cookie (`_streamlit_xsrf`, random per browser, kept across reloads and tabs; the cookie's mask
changes, the token does not). This middleware (installed by serve.py) answers a `/media` request only
for that browser:

1. Downloads. Every export in views/ and components/ is made when clicked (components/downloads.py
   wraps the callable `st.download_button` is given; tests/test_downloads.py checks every button):
   nothing exists before the click, and the file's address is sent only to the session that clicked.
   When the file is made, its owner is recorded here: the SHA-256 of its bytes, with the clicking
   browser's token. It is served to a request carrying that token within OWNER_LIFETIME of the click.
   Streamlit's page fetches a download once to check it and then once to save it, both from the
   owner's browser, which is why a download is not one-shot.
2. Everything else in the storage (images, thumbnails: "media" files). Streamlit records which live
   browser sessions show each file; serve.py's `viewers(file_id)` hands this module the XSRF cookies
   those sessions connected with. A media file is served to a request whose token is one of them,
   and once served, to that same browser for OWNER_LIFETIME more. A rerun drops a session's images
   when it starts and adds them again as it draws them, so a first fetch landing in between would
   miss; a request from a browser with a live session (serve.py's `browsers()`) that is not (yet)
   shown the file is therefore looked at again for up to REDRAW_WAIT before its 404. A reload is a
   new session of the same browser: it draws the image again and may fetch it again. A share link's
   snapshot carries its images inside the page (data: URLs, no `/media` file), so whoever opens the
   link sees them.

Anyone else (no cookies, another person's) gets a 404, as for a file that does not exist. What is
served carries `Cache-Control: no-store, private`, so no proxy or shared cache keeps a copy.

What must stay true: this module never imports streamlit (serve.py hands it the storage, the one
Streamlit's own media route serves from, and the viewers); a file with no recorded owner or viewer is
served to no one, nor is anything to a request without a browser token; other responses pass through
unchanged. XSRF protection must stay on (.streamlit/config.toml): without the cookie every browser is
"no browser", and no media file is served at all.
"""

from __future__ import annotations

import asyncio
import binascii
import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from starlette.requests import Request

XSRF_COOKIE = "_streamlit_xsrf"
OWNER_LIFETIME = 600.0  # seconds after the click (or the last view) during which that browser may fetch
REDRAW_WAIT = 2.0  # seconds a live browser's request for a media file it is not shown waits for a redraw
REDRAW_STEP = 0.05
DOWNLOADABLE = "downloadable"  # streamlit.runtime.media_file_storage.MediaFileKind.DOWNLOADABLE.value
_MEDIA = re.compile(r"(?:^|/)media/([^/]+)$")

_owners: dict[str, dict[bytes | None, float]] = {}  # sha256 of a file -> {browser token: valid until}
_owners_lock = threading.Lock()
_shown: dict[tuple[str, bytes], float] = {}  # (media file id, browser token) -> valid until


def browser_token(cookie: str | None) -> bytes | None:
    """The browser's secret in Streamlit's XSRF cookie ("2|mask|masked token|time"), or None."""
    value = (cookie or "").strip("\"'")
    try:
        if value.startswith("2|"):
            _, mask_hex, masked_hex, _stamp = value.split("|")
            mask, masked = binascii.a2b_hex(mask_hex), binascii.a2b_hex(masked_hex)
            return bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked)) or None
        return binascii.a2b_hex(value) or None
    except (ValueError, ZeroDivisionError, binascii.Error):
        return None


def record_owner(content: bytes, cookie: str | None, *, now: float | None = None) -> None:
    """The browser holding `cookie` made this file: it, and only it, may fetch it for a while."""
    now = time.monotonic() if now is None else now
    digest = hashlib.sha256(content).hexdigest()
    with _owners_lock:
        for key in [k for k, owners in _owners.items() if max(owners.values()) < now]:
            del _owners[key]  # forget owners whose time is up
        _owners.setdefault(digest, {})[browser_token(cookie)] = now + OWNER_LIFETIME


def may_fetch(content: bytes, cookie: str | None, *, now: float | None = None) -> bool:
    """True when the browser holding `cookie` made this file within OWNER_LIFETIME."""
    now = time.monotonic() if now is None else now
    token = browser_token(cookie)
    if token is None:  # no browser: nothing is anyone's without one
        return False
    with _owners_lock:
        owners = _owners.get(hashlib.sha256(content).hexdigest(), {})
        return owners.get(token, 0.0) >= now


def may_view(
    file_id: str, cookie: str | None, viewers: Callable[[], Iterable[str | None]], *, now: float | None = None
) -> bool:
    """True when the browser holding `cookie` is shown this media file: one of `viewers()` (the XSRF
    cookies of the live sessions showing it) is that browser, or it was within OWNER_LIFETIME."""
    now = time.monotonic() if now is None else now
    token = browser_token(cookie)
    if token is None:
        return False
    with _owners_lock:
        if _shown.get((file_id, token), 0.0) >= now:
            return True
    if not any(browser_token(viewer) == token for viewer in viewers()):
        return False
    with _owners_lock:
        for key in [k for k, until in _shown.items() if until < now]:
            del _shown[key]  # forget views whose time is up
        _shown[(file_id, token)] = now + OWNER_LIFETIME
    return True


class PrivateDownloads:
    """ASGI middleware: a file in Streamlit's media storage goes only to the browser it was made for
    (a download) or shown to (an image)."""

    def __init__(
        self,
        app: Any,
        storage: Callable[[], Any | None],
        viewers: Callable[[str], Iterable[str | None]] = lambda file_id: (),
        browsers: Callable[[], Iterable[str | None]] = lambda: (),
    ) -> None:
        self.app = app
        self.storage = storage
        self.viewers = viewers
        self.browsers = browsers

    def _stored(self, name: str) -> Any | None:
        """The stored media file called `name`, or None (not stored, or not any more)."""
        storage = self.storage()
        if storage is None:
            return None
        try:
            return storage.get_file(name)
        except Exception:  # not stored (or not any more): Streamlit's own route answers 404
            return None

    async def _allowed(self, name: str, media_file: Any, cookie: str | None) -> bool:
        if getattr(media_file.kind, "value", None) == DOWNLOADABLE:
            return may_fetch(media_file.content, cookie)
        file_id = os.path.splitext(name)[0]
        if may_view(file_id, cookie, lambda: self.viewers(file_id)):
            return True
        token = browser_token(cookie)
        if token is None or not any(browser_token(c) == token for c in self.browsers()):
            return False  # no live page of this browser: nothing of it is being drawn
        deadline = time.monotonic() + REDRAW_WAIT
        while time.monotonic() < deadline:  # its page may be redrawing: see whether it shows the file
            await asyncio.sleep(REDRAW_STEP)
            if may_view(file_id, cookie, lambda: self.viewers(file_id)):
                return True
        return False

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        match = _MEDIA.search(scope.get("path", "")) if scope["type"] == "http" else None
        media_file = self._stored(match.group(1)) if match else None
        if media_file is None:
            await self.app(scope, receive, send)
            return
        if not await self._allowed(match.group(1), media_file, Request(scope).cookies.get(XSRF_COOKIE)):
            await _not_found(send)
            return

        async def no_store(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                headers.append((b"cache-control", b"no-store, private"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, no_store)


async def _not_found(send: Callable) -> None:
    body = b"File not found"
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
