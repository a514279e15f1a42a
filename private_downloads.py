"""Downloads reach only the person who clicked: each export file is served once, then forgotten.

Streamlit serves a download button's file at `/media/<id>.<ext>` to any request, with no cookie and no
session check, for as long as the file sits in its in-memory media storage (a button given bytes keeps
one there for as long as the page shows it). So a compare export fetched by URL answered 200 to a
request without cookies. Two walls close it:

1. Every export in views/ and components/ passes `st.download_button` a callable (tests/test_downloads.py
   checks): nothing is made until the person clicks, and the file's address is sent only to the
   websocket of the session that clicked.
2. This middleware (installed by serve.py) serves a download file once: the first GET gets it, with
   `Cache-Control: no-store` so no proxy or browser cache keeps a copy, and the file is then deleted
   from the storage; any later request for that address, with or without cookies, is a 404, and so is
   a HEAD (it would tell the file's name and size). A second click runs the callable again and gets a
   new copy. Images and other media (`st.image`) are untouched.

What must stay true: this module never imports streamlit (serve.py hands it the storage, the one
Streamlit's own media route serves from); a download is never served twice; other responses pass
through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_MEDIA = re.compile(r"(?:^|/)media/([^/]+)$")
DOWNLOADABLE = "downloadable"  # streamlit.runtime.media_file_storage.MediaFileKind.DOWNLOADABLE.value


class OneShotDownloads:
    """ASGI middleware: a download file in Streamlit's media storage is served once, then deleted."""

    def __init__(self, app: Any, storage: Callable[[], Any | None]) -> None:
        self.app = app
        self.storage = storage
        self._serving: set[str] = set()

    def _download(self, name: str) -> tuple[Any, str] | None:
        """(storage, file id) when `name` is a download file in the storage now, else None."""
        storage = self.storage()
        if storage is None:
            return None
        try:
            media_file = storage.get_file(name)
        except Exception:  # not stored (or not any more): Streamlit's own route answers 404
            return None
        if getattr(media_file.kind, "value", None) != DOWNLOADABLE:
            return None
        return storage, name.split(".", 1)[0]

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        match = _MEDIA.search(scope.get("path", "")) if scope["type"] == "http" else None
        found = self._download(match.group(1)) if match else None
        if found is None:
            await self.app(scope, receive, send)
            return
        storage, file_id = found
        if scope.get("method") != "GET" or file_id in self._serving:
            await _not_found(send)
            return
        self._serving.add(file_id)  # claimed: a second request arriving meanwhile gets a 404

        async def no_store(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                headers.append((b"cache-control", b"no-store, private"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, no_store)
        finally:
            storage.delete_file(file_id)
            self._serving.discard(file_id)


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
