"""Reads every rerun would repeat, kept while the data has not changed: presets and the conversation list.

A page reruns on every click; these reads would give the same rows each time. What must stay true:
- a cached read is keyed by the database and the acting user, so nobody is ever shown another
  person's rows (nor another database's, when tests or operators point the app elsewhere);
- a write made through this app server clears the read it changes at once (`forget_*`), for every
  tab and session of the server;
- a write made by ANOTHER app server is seen too: presets are checked against a stamp read in one
  small query (their count, newest change and newest id), so a changed preset list is never served
  from the cache; the conversation list, whose renames and pins leave no cheap stamp, is kept at
  most LIST_TTL_S seconds.
Both return plain, picklable rows (`st.cache_data` hands every caller its own copy).
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from storage import presets as preset_store
from storage import repository
from storage.models import Preset, User

LIST_TTL_S = 3.0  # another app server's rename or pin shows in this server's sidebar within this long


def _database(make_session: sessionmaker[Session]) -> str:
    return str(make_session.kw["bind"].url)


@st.cache_data(show_spinner=False, max_entries=2000)
def _presets(database: str, user_id: int, kind: str, stamp: tuple, _make_session) -> list[dict[str, Any]]:
    with _make_session() as session:
        return [
            {
                "id": p.id,
                "name": p.name,
                "builtin": p.builtin,
                "system_prompt": p.system_prompt or "",
                "params": dict(p.params or {}),
                "description": p.description or "",
            }
            for p in preset_store.list_presets(session, session.get(User, user_id), kind)
        ]


def presets(make_session: sessionmaker[Session], user_id: int, kind: str) -> list[dict[str, Any]]:
    """The presets of `kind` the user can pick (built-ins first), as plain dicts."""
    with make_session() as session:
        stamp = session.execute(
            select(func.count(), func.max(Preset.updated_at), func.max(Preset.id)).where(
                or_(Preset.user_id.is_(None), Preset.user_id == user_id), Preset.kind == kind
            )
        ).one()
    return _presets(_database(make_session), user_id, kind, tuple(str(v) for v in stamp), make_session)


def forget_presets() -> None:
    """A preset was written here: read them again."""
    _presets.clear()


@st.cache_data(show_spinner=False, ttl=LIST_TTL_S, max_entries=2000)
def _conversations(
    database: str, user_id: int, query: str, limit: int, _make_session
) -> list[tuple[int, str, bool]]:
    with _make_session() as session:
        user = session.get(User, user_id)
        if query:
            found = repository.search_conversations(session, user, query, limit=limit)
        else:
            found = repository.list_conversations(session, user, limit=limit)
        return [(c.id, c.title or "Untitled", bool(c.pinned)) for c in found]


def conversations(
    make_session: sessionmaker[Session], user_id: int, query: str, limit: int
) -> list[tuple[int, str, bool]]:
    """(id, title, pinned) of the user's conversations: a search's matches, or the most recent first."""
    return _conversations(_database(make_session), user_id, query.strip(), limit, make_session)


def forget_conversations() -> None:
    """A conversation was created, written to, renamed, pinned or deleted here: list them again."""
    _conversations.clear()
