"""The process-wide things every page needs: settings, the database, the HTTP client, the endpoint.

Each heavy resource is made once per process with `st.cache_resource` (one database engine per URL,
one turn engine with its HTTP connection pool, one offline model), keyed by the setting that picks
it, so a test that points the app somewhere else gets a fresh one. The API key lives only in the
`Endpoint` handed to the client: it is never put in session state, where it could reach the browser
through a widget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx
import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from chat_client import Endpoint
from components.metrics import OFFLINE_PRICES
from settings import Settings, load_settings
from storage import open_database, repository, session_factory
from turns.engine import Engine

OFFLINE_ENDPOINT_NAME = "Offline model"


def _secrets() -> dict:
    try:
        return st.secrets.to_dict()
    except Exception:  # no secrets file is the normal case on a fresh machine
        return {}


def settings() -> Settings:
    """The settings for this run: environment first, then secrets (cheap; read on every rerun)."""
    return load_settings(secrets=_secrets())


@st.cache_resource(show_spinner=False)
def _sessions_for(database_url: str) -> sessionmaker[Session]:
    return session_factory(open_database(database_url))


def sessions() -> sessionmaker[Session]:
    """The session factory of the configured database (migrated to head on first use)."""
    return _sessions_for(settings().database_url)


@st.cache_resource(show_spinner=False)
def engine() -> Engine:
    """The one engine every turn runs on: an event loop of its own and one connection pool for the
    whole process (the client sets its own per-request timeouts; connections stay alive across turns)."""
    http = httpx.AsyncClient(
        timeout=None, limits=httpx.Limits(max_connections=64, max_keepalive_connections=16)
    )
    return Engine(http)


@st.cache_resource(show_spinner="Starting the offline model...")
def _offline_server(tokens_per_second: float, ttft_ms: int):
    from offline_model.runner import OfflineServer

    # The app's own offline model runs for the life of the process: keep only a short request log
    # (bodies hold images), not every request ever made.
    return OfflineServer.start(
        host="127.0.0.1", port=0, tokens_per_second=tokens_per_second, ttft_ms=ttft_ms, max_received=100
    )


@dataclass(frozen=True)
class Target:
    """Where a page sends its requests, and how to say so in plain words."""

    endpoint: Endpoint
    model: str
    offline: bool

    @property
    def label(self) -> str:
        if self.offline:
            return (
                f"the offline model (no API key set; replies are made on this machine), model `{self.model}`"
            )
        return f"`{self.endpoint.name}`, model `{self.model}`"


def targets(config: Settings | None = None) -> list[Target]:
    """Every endpoint the pages can use, the default first."""
    config = config or settings()
    found: list[Target] = []
    if config.uses_offline_model:
        server = _offline_server(config.offline_tokens_per_second, config.offline_ttft_ms)
        endpoint = Endpoint(base_url=server.base_url, api_key=None, name=OFFLINE_ENDPOINT_NAME)
        found.append(Target(endpoint, config.model, offline=True))
    else:
        endpoint = Endpoint(
            base_url=config.api_base_url,
            api_key=config.api_key,
            name="default",
            public_url=config.api_public_url,
        )
        found.append(Target(endpoint, config.model, offline=False))
    for extra in config.extra_endpoints:
        endpoint = Endpoint(
            base_url=extra.base_url,
            api_key=extra.api_key,
            name=extra.name,
            models=extra.models,
            length_field=extra.length_field,
            public_url=extra.public_url,
        )
        found.append(Target(endpoint, (extra.models or (config.model,))[0], offline=False))
    return found


def prices_for(target: Target, model: str | None, config: Settings) -> Mapping[str, float] | None:
    """The price table for a reply from ``target`` naming ``model``: the configured prices apply only
    to endpoints that charge; the built-in offline model is free."""
    if target.offline:
        return OFFLINE_PRICES
    return config.prices.get(model or target.model)


def current_user_id() -> int:
    """The acting user's id: the signed-in person (components.auth sets it), or in mode `none` the one
    local user. A page reached without a signed-in user stops here rather than act as anyone."""
    user_id = st.session_state.get("app.user_id")
    if user_id is None and settings().auth_mode != "none":
        st.stop()
    if user_id is None:
        with sessions()() as session:
            user = repository.ensure_user(session, "local", display_name="You", role="admin")
            session.commit()
            user_id = user.id
        st.session_state["app.user_id"] = user_id
    return user_id
