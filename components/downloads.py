"""Exports made when clicked, for the browser that clicked (private_downloads.py says why and how).

`made_on_click(make)` is what every `st.download_button` in the app is given as its data: Streamlit
runs it only when the person clicks, and the bytes it returns are recorded as that browser's, so
serve.py's middleware hands the file to that browser and to no one else.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

import private_downloads


def made_on_click(make: Callable[[], str | bytes]) -> Callable[[], bytes]:
    """A download button's data: `make()` run at the click, its bytes owned by this browser."""
    cookie = st.context.cookies.get(private_downloads.XSRF_COOKIE)

    def data() -> bytes:
        made = make()
        content = made.encode("utf-8") if isinstance(made, str) else bytes(made)
        private_downloads.record_owner(content, cookie)
        return content

    return data
