"""The error boundary: an exception nobody else caught becomes a short plain sentence and an incident id.

What must stay true: the page never shows a traceback, a file path, SQL or the exception's text (any of
which may hold a person's data or the deployment's layout). The whole traceback goes to the server's log
under the same incident id, so an operator told "incident 3f9c2a1b" finds it with one search.

`report(exc)` has the shape Streamlit's `st.App(on_script_error=...)` takes (returning True tells
Streamlit the message is drawn), and app.py also calls it around `page.run()`. Streamlit's own
`st.stop()` and `st.rerun()` raise BaseException subclasses, which `except Exception` lets through.
`.streamlit/config.toml` sets `client.showErrorDetails = "none"` as a second line of defence.
A fragment (`fragment` below) carries the boundary inside it: Streamlit catches what a fragment raises
and draws its own error element there, which app.py's boundary would only see afterwards.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable
from typing import Any

import streamlit as st

from components import rendering

LOG = logging.getLogger("prism.incidents")


def new_incident_id() -> str:
    """Eight hex digits: short enough to read out, random enough not to collide in one log."""
    return secrets.token_hex(4)


def message(incident: str) -> str:
    """What the page says (no detail of the failure: that is in the server log)."""
    return (
        f"Something went wrong on Prism's side and this page could not be shown. Your saved chats are "
        f"not affected. Reload to try again; if it keeps happening, give the operator incident {incident}."
    )


def report(exc: Exception) -> bool:
    """Log `exc` with its traceback under a new incident id and show the plain message. Always True."""
    incident = new_incident_id()
    LOG.error("incident %s: %s", incident, type(exc).__name__, exc_info=exc)
    try:
        st.error(rendering.trusted(message(incident)), icon=":material/error:")
    except Exception:  # drawing failed too (no script context): the log line is all that can be done
        LOG.error("incident %s: the message could not be drawn", incident, exc_info=True)
    return True


def fragment(func: Callable[..., Any]) -> Callable[..., Any]:
    """`st.fragment`, with the error boundary inside: what the part raises is reported here (the
    plain message, in the part's place) and the call returns None."""

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            report(exc)
            return None

    return st.fragment(guarded)
