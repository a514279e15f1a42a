"""The response headers that are Prism's second wall behind the safe renderer (components/rendering.py).

If a reply ever slipped an image past the renderer, the browser would still refuse to fetch it: the
Content-Security-Policy's `img-src` allows only Prism's own origin, `data:` and `blob:` (Streamlit's own
images and the user's attachments) and the hosts an operator trusts (PRISM_IMAGE_HOSTS /
`rendering.image_hosts`). `frame-ancestors 'self'` stops another site framing Prism to trick clicks;
`object-src 'none'` and `base-uri 'self'` close two old injection routes; `nosniff` and
`Referrer-Policy: same-origin` keep a browser from guessing content types or telling a linked site
which conversation a person came from (same-origin, not no-referrer: under no-referrer a browser sends
`Origin: null` even with a form posted to Prism itself, and the sign-in routes check that Origin to
refuse cross-site posts, sign_in.py). Scripts, styles, fonts and the websocket are left to Streamlit's
defaults: its page needs inline styles and KaTeX's fonts, and restricting them bought nothing the
renderer does not already guarantee.

What must stay true: this module never imports streamlit (serve.py hands it the settings), every HTTP
response gets the headers (pages, /_stcore/ endpoints, static files, media), and a header the app
already set is not overwritten. deploy/nginx.conf sets the same headers for the hosted setup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

_HOST = re.compile(r"^[a-z0-9.-]+(?::\d{1,5})?$")


def content_security_policy(image_hosts: Sequence[str] = ()) -> str:
    """The policy: images only from here, data:, blob: and the trusted hosts; framed only by Prism."""
    trusted = [h.strip().lower() for h in image_hosts if _HOST.match(h.strip().lower())]
    sources = ["'self'", "data:", "blob:"] + [
        f"{scheme}://{h}" for h in trusted for scheme in ("https", "http")
    ]
    return "; ".join(
        [
            "img-src " + " ".join(sources),
            "frame-ancestors 'self'",
            "object-src 'none'",
            "base-uri 'self'",
        ]
    )


def security_headers(image_hosts: Sequence[str] = ()) -> list[tuple[bytes, bytes]]:
    """The headers every response carries, as ASGI header pairs."""
    return [
        (b"content-security-policy", content_security_policy(image_hosts).encode("latin-1")),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]


class SecurityHeaders:
    """ASGI middleware adding `security_headers()` to every HTTP response (websockets pass through).

    `image_hosts` is called once, at the first response, so the settings are read after Streamlit has
    set up its secrets."""

    def __init__(self, app: Any, image_hosts: Callable[[], Sequence[str]] = tuple) -> None:
        self.app = app
        self.image_hosts = image_hosts
        self._headers: list[tuple[bytes, bytes]] | None = None

    def headers(self) -> list[tuple[bytes, bytes]]:
        if self._headers is None:
            self._headers = security_headers(self.image_hosts())
        return self._headers

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers() if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
