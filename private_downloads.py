"""Downloads reach only the browser that clicked: an export file is served to its owner, to no one else.

Streamlit serves a download button's file at `/media/<id>.<ext>` to any request, with no cookie and no
session check, for as long as the file sits in its in-memory media storage (a button given bytes keeps
one there for as long as the page shows it). So a compare export fetched by URL answered 200 to a
request without cookies. Two walls close it:

1. Every export in views/ and components/ is made when clicked (components/downloads.py wraps the
   callable `st.download_button` is given; tests/test_downloads.py checks every button): nothing
   exists before the click, and the file's address is sent only to the session that clicked. When the
   file is made, its owner is recorded here: the SHA-256 of its bytes, with the browser's secret
   token from Streamlit's XSRF cookie (`_streamlit_xsrf`, random per browser, kept across reloads and
   tabs; the cookie's mask changes, the token does not).
2. This middleware (installed by serve.py) answers a request for a download file only when the
   request carries the same browser token as its owner, within OWNER_LIFETIME of the click; anyone
   else, with no cookies or another person's, gets a 404, as for a file that does not exist. What it
   serves carries `Cache-Control: no-store`, so no proxy or shared cache keeps a copy. Images and other
   media (`st.image`) are untouched. Streamlit's page fetches a download once to check it and then
   once to save it, both from the owner's browser, which is why a download is not one-shot.

What must stay true: this module never imports streamlit (serve.py hands it the storage, the one
Streamlit's own media route serves from); a download file with no recorded owner is served to no one;
other responses pass through unchanged. XSRF protection must stay on (.streamlit/config.toml): without
the cookie every browser is "no browser", and downloads are not told apart.
"""

from __future__ import annotations

import binascii
import hashlib
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request

XSRF_COOKIE = "_streamlit_xsrf"
OWNER_LIFETIME = 600.0  # seconds after the click during which the owner's browser may fetch the file
DOWNLOADABLE = "downloadable"  # streamlit.runtime.media_file_storage.MediaFileKind.DOWNLOADABLE.value
_MEDIA = re.compile(r"(?:^|/)media/([^/]+)$")

_owners: dict[str, dict[bytes | None, float]] = {}  # sha256 of a file -> {browser token: valid until}
_owners_lock = threading.Lock()


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
    with _owners_lock:
        owners = _owners.get(hashlib.sha256(content).hexdigest(), {})
        return owners.get(browser_token(cookie), 0.0) >= now


class PrivateDownloads:
    """ASGI middleware: a download file in Streamlit's media storage goes only to the browser that made it."""

    def __init__(self, app: Any, storage: Callable[[], Any | None]) -> None:
        self.app = app
        self.storage = storage

    def _download(self, name: str) -> Any | None:
        """The stored download file called `name`, or None (not stored, or not a download)."""
        storage = self.storage()
        if storage is None:
            return None
        try:
            media_file = storage.get_file(name)
        except Exception:  # not stored (or not any more): Streamlit's own route answers 404
            return None
        return media_file if getattr(media_file.kind, "value", None) == DOWNLOADABLE else None

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        match = _MEDIA.search(scope.get("path", "")) if scope["type"] == "http" else None
        media_file = self._download(match.group(1)) if match else None
        if media_file is None:
            await self.app(scope, receive, send)
            return
        if not may_fetch(media_file.content, Request(scope).cookies.get(XSRF_COOKIE)):
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
