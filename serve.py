"""Prism with its security headers and sign-in routes: `streamlit run serve.py` (Streamlit runs this ASGI
app under uvicorn).

app.py stays the app; this file only wraps it (security_headers.py says which headers and why), adds the
routes that set and clear the password and guest sign-in cookies (sign_in.py), and
hands every exception a script run or a widget callback did not catch to the error boundary
(components/incidents.py), so even the sign-in gate, which runs before app.py's own boundary around
the page, never shows a traceback; and it serves each download only to the browser that clicked it,
and each image only to the browsers whose pages show it (private_downloads.py). `streamlit run app.py`
still works in `none` mode, but sends none of these headers and has no sign-in routes (its sign-in
page says so).
"""

import streamlit as st
from starlette.middleware import Middleware

import sign_in
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


def media_viewers(file_id: str) -> list[str | None]:
    """The XSRF cookies (private_downloads.XSRF_COOKIE) of the live browser sessions whose pages show the
    media file `file_id`: Streamlit's media manager records which session shows which file (to know
    when a file may go), and each session keeps the cookies its browser connected with."""
    from streamlit import runtime

    import private_downloads

    if not runtime.exists():
        return []
    instance = runtime.get_instance()
    manager = instance.media_file_mgr
    with manager._lock:  # Streamlit's own bookkeeping, read under its own lock
        sessions = [
            session_id
            for session_id, by_place in manager._files_by_session_and_coord.items()
            if file_id in by_place.values()
        ]
    cookies: list[str | None] = []
    for session_id in sessions:
        client = instance.get_client(session_id)
        context = getattr(client, "client_context", None) if client is not None else None
        if context is not None:
            cookies.append(context.cookies.get(private_downloads.XSRF_COOKIE))
    return cookies


def media_browsers() -> list[str | None]:
    """The XSRF cookies of every live browser session (whatever its page shows right now)."""
    from streamlit import runtime

    import private_downloads

    if not runtime.exists():
        return []
    active = runtime.get_instance()._session_mgr.list_active_sessions()
    return [
        info.client.client_context.cookies.get(private_downloads.XSRF_COOKIE)
        for info in active
        if getattr(info.client, "client_context", None) is not None
    ]


def settings():  # type: ignore[no-untyped-def]
    """The settings, read per request the way app.py reads them (environment, then secrets)."""
    from components import resources

    return resources.settings()


sign_in.mounted["routes"] = True  # the page may offer the cookie sign-in (components/auth.py)
app = st.App(
    "app.py",
    routes=sign_in.routes(settings, sign_in.cookie_secret),
    middleware=[
        Middleware(SecurityHeaders, image_hosts=trusted_image_hosts),
        Middleware(PrivateDownloads, storage=media_storage, viewers=media_viewers, browsers=media_browsers),
    ],
    on_script_error=incidents.report,
)
