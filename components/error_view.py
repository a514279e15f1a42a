"""The one place where a client error becomes words on the page.

Every error the client can raise already carries a plain-language `.message` without the key; this
component only decides how loud to be and what the user can do next. Nothing here shows a traceback.

A connection or timeout message names the host it could not reach; an endpoint's base URL may be an
internal address, so only an admin (or the one local user in mode `none`) sees it. Everyone else sees
the endpoint's public host when the operator configured `public_url`, else "the model's server", in
live errors and in errors saved with a reply alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import streamlit as st

from chat_client import errors
from components import auth, rendering, resources

HIDDEN_HOST = "the model's server"


def mask_hosts(text: str, hosts: Mapping[str, str]) -> str:
    """`text` with every internal host in `hosts` replaced by what may be shown in its place."""
    for internal in sorted(hosts, key=len, reverse=True):  # "10.0.0.5:8080" before "10.0.0.5"
        text = text.replace(internal, hosts[internal])
    return text


def _hidden_hosts() -> dict[str, str]:
    """Internal host -> what a viewer who is not an admin sees instead; empty when they may see all."""
    try:
        config = resources.settings()
    except ValueError:  # a misconfigured deployment: the page says so; hide nothing we cannot name
        return {}
    who = st.session_state.get(auth.WHO_KEY)
    if (who is None and config.auth_mode == "none") or getattr(who, "is_admin", False):
        return {}
    hosts: dict[str, str] = {}
    for target in resources.targets(config):
        if target.offline:
            continue
        public = urlsplit(target.endpoint.public_url or "").netloc or HIDDEN_HOST
        parts = urlsplit(target.endpoint.base_url)
        if parts.hostname:
            hosts[parts.netloc] = public
            # The client's messages name "host:port" (or the bare host when the URL has no port).
            hosts[f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname] = public
    return hosts


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
    return mask_hosts(f"**{headline(error)}.** {message}", _hidden_hosts())


def show(error: BaseException) -> None:
    """Show an error where the reply would be."""
    st.error(rendering.outside(describe(error)), icon=":material/error:")


def show_saved(text: str) -> None:
    """Show the error text kept with a failed reply in the history."""
    st.error(rendering.outside(mask_hosts(text, _hidden_hosts())), icon=":material/error:")
