"""Prism with its security headers: `streamlit run serve.py` (Streamlit runs this ASGI app under uvicorn).

app.py stays the app; this file only wraps it (security_headers.py says which headers and why), and
hands every exception a script run or a widget callback did not catch to the error boundary
(components/incidents.py), so even the sign-in gate, which runs before app.py's own boundary around
the page, never shows a traceback; and it serves each download only to the browser that clicked it
(private_downloads.py). `streamlit run app.py` still works but sends none of these headers.
"""

import streamlit as st
from starlette.middleware import Middleware

from components import incidents
from private_downloads import PrivateDownloads
from security_headers import SecurityHeaders


def trusted_image_hosts() -> tuple[str, ...]:
    """The operator's trusted image hosts, read the way app.py reads every setting."""
    from components import resources

    try:
        return resources.settings().image_hosts
    except ValueError:  # a misconfigured deployment: app.py says so on the page; trust no host
        return ()


def media_storage():
    """The in-memory storage Streamlit's own /media route serves from (None before the runtime runs)."""
    from streamlit import runtime

    if not runtime.exists():
        return None
    return runtime.get_instance().media_file_mgr._storage  # Streamlit's own server reaches it the same way


app = st.App(
    "app.py",
    middleware=[
        Middleware(SecurityHeaders, image_hosts=trusted_image_hosts),
        Middleware(PrivateDownloads, storage=media_storage),
    ],
    on_script_error=incidents.report,
)
