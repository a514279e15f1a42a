"""The one place where a client error becomes words on the page.

Every error the client can raise already carries a plain-language `.message` without the key; this
component only decides how loud to be and what the user can do next. Nothing here shows a traceback.
"""

from __future__ import annotations

import streamlit as st

from chat_client import errors
from components import rendering


def headline(error: BaseException) -> str:
    """A short title for an error, naming what went wrong from the user's side."""
    if isinstance(error, errors.AuthError):
        return "The API key was refused"
    if isinstance(error, errors.RateLimitError):
        return "Daily quota used up" if error.per_day else "Too many requests right now"
    if isinstance(error, errors.BadRequestError):
        return "The request was refused"
    if isinstance(error, errors.NotFoundError):
        return "Model or endpoint not found"
    if isinstance(error, errors.ServerError):
        return "The model's server had a problem"
    if isinstance(error, errors.StreamTimeout):
        return "The model took too long"
    if isinstance(error, errors.ConnectionFailed):
        return "Could not reach the model"
    if isinstance(error, errors.ProtocolError):
        return "The reply was garbled"
    return "Something went wrong"


def describe(error: BaseException) -> str:
    """The full plain-words message for an error (never the key, never a traceback)."""
    message = getattr(error, "message", None) or "The request failed."
    return f"**{headline(error)}.** {message}"


def show(error: BaseException) -> None:
    """Show an error where the reply would be."""
    st.error(rendering.outside(describe(error)), icon=":material/error:")


def show_saved(text: str) -> None:
    """Show the error text kept with a failed reply in the history."""
    st.error(rendering.outside(text), icon=":material/error:")
