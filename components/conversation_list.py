"""The sidebar's "New chat" button and the list of the user's conversations.

The open conversation lives in the URL (`?c=ID`), so a reload or a bookmark finds it again. Titles are
the user's own words: they go into button labels, which Streamlit renders as plain markdown without
HTML, so a title holding HTML or script is shown as text.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from storage import repository
from storage.models import User

QUERY_KEY = "c"


def selected_id() -> int | None:
    """The conversation named in the URL, if any."""
    raw = st.query_params.get(QUERY_KEY)
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def select(conversation_id: int | None) -> None:
    """Open a conversation (None: start a new one)."""
    if conversation_id is None:
        st.query_params.pop(QUERY_KEY, None)
    else:
        st.query_params[QUERY_KEY] = str(conversation_id)


def sidebar(make_session: sessionmaker[Session], user_id: int, *, limit: int = 50) -> None:
    """Draw the new-chat button and the conversation list in the sidebar."""
    current = selected_id()
    with st.sidebar:
        st.button(
            "New chat", icon=":material/add:", key="chat.new", on_click=select, args=(None,), width="stretch"
        )
        with make_session() as session:
            user = session.get(User, user_id)
            conversations = repository.list_conversations(session, user, limit=limit)
            rows = [(c.id, c.title or "Untitled", bool(getattr(c, "pinned", False))) for c in conversations]
        if not rows:
            st.caption("No conversations yet.")
        for conversation_id, title, pinned in rows:
            label = ("📌 " if pinned else "") + title
            st.button(
                label,
                key=f"chat.open.{conversation_id}",
                on_click=select,
                args=(conversation_id,),
                type="primary" if conversation_id == current else "tertiary",
                width="stretch",
            )
