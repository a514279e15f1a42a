"""Share links from the pages: the Share button and dialog, the "Shared links" list with revoke, and the
read-only view of a snapshot.

Storage makes the link (storage/sharing.py: a snapshot at sharing time, a 192-bit token, optional
expiry, revocable); this component only asks for the expiry, shows the address to copy and draws
what a link shows. What must stay true:
- A snapshot is drawn read-only: no widget in it changes anything, and model output goes through
  st.markdown without HTML (never unsafe_allow_html).
- The list shows only the viewer's own links, except on the admin page, which passes every link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from components import rendering
from storage import sharing
from storage.models import ShareLink, User, utcnow

PAGE_PATH = "shared"  # the url_path of views/shared.py in app.py
EXPIRY_CHOICES: dict[str, int | None] = {"Never": None, "1 day": 1, "7 days": 7, "30 days": 30}
OPEN_KEY = "share.open"


def link_url(token: str) -> str:
    """The address of a link, on the server the sharer is using (a relative one when it is unknown)."""
    here = st.context.url or "/"
    return urljoin(here, f"{PAGE_PATH}?token={token}")


def _open(kind: str, target_id: int) -> None:
    st.session_state[OPEN_KEY] = (kind, target_id)
    st.session_state.pop("share.made", None)


def _close() -> None:
    st.session_state.pop(OPEN_KEY, None)
    st.session_state.pop("share.made", None)


@st.dialog("Share a read-only copy", on_dismiss=_close)
def _dialog(make_session: sessionmaker[Session], user_id: int, kind: str, target_id: int) -> None:
    st.write(
        "The link shows this "
        + ("conversation" if kind == "conversation" else "comparison")
        + " as it is now; later changes are not shared. You can revoke it at any time under Shared links."
    )
    expiry = st.selectbox("Link expires", list(EXPIRY_CHOICES), key="share.expiry")
    if st.button("Create link", type="primary", icon=":material/link:", key="share.create"):
        days = EXPIRY_CHOICES[expiry]
        with make_session() as session:
            link = sharing.create_share_link(
                session,
                session.get(User, user_id),
                conversation_id=target_id if kind == "conversation" else None,
                compare_run_id=target_id if kind == "compare" else None,
                expires_at=utcnow() + timedelta(days=days) if days else None,
            )
            session.commit()
            st.session_state["share.made"] = link.token if link else ""
    made = st.session_state.get("share.made")
    if made == "":
        st.error("That was not found.")
    elif made:
        st.caption("Copy this link:")
        st.code(link_url(made), language=None)
    st.page_link(f"views/{PAGE_PATH}.py", label="All your shared links", icon=":material/list:")


def share_button(
    make_session: sessionmaker[Session],
    user_id: int,
    *,
    conversation_id: int | None = None,
    compare_run_id: int | None = None,
    in_sidebar: bool = True,
) -> None:
    """A Share button for one conversation or compare run (in the sidebar unless told otherwise); it
    opens the share dialog (dialogs cannot live in the sidebar, so the dialog is opened from the main
    area)."""
    kind, target_id = ("conversation", conversation_id) if conversation_id else ("compare", compare_run_id)
    if target_id is None:
        return
    (st.sidebar if in_sidebar else st).button(
        "Share",
        icon=":material/share:",
        key=f"share.button.{kind}.{target_id}",
        on_click=_open,
        args=(kind, target_id),
        width="stretch",
    )
    if st.session_state.get(OPEN_KEY) == (kind, target_id):
        _dialog(make_session, user_id, kind, target_id)


def _state(link: ShareLink) -> str:
    if link.revoked_at is not None:
        return "revoked"
    if not link.is_open():
        return "expired"
    return "open"


def _revoke(make_session: sessionmaker[Session], user_id: int, link_id: int) -> None:
    with make_session() as session:
        sharing.revoke_share_link(session, session.get(User, user_id), link_id)
        session.commit()


def links_list(
    make_session: sessionmaker[Session],
    user_id: int,
    links: Sequence[ShareLink],
    *,
    owners: Mapping[int, str] | None = None,
    show_address: bool = True,
) -> None:
    """The links as rows, each with its state, address and a Revoke button while it is open."""
    if not links:
        st.caption("No shared links yet. Use the Share button on a conversation or a comparison.")
        return
    owners = dict(owners or {})
    for link in links:
        state = _state(link)
        with st.container(border=True):
            top = st.columns([6, 1])
            with top[0]:
                who = f" by {owners[link.user_id]}" if link.user_id in owners else ""
                expires = f", expires {link.expires_at:%Y-%m-%d %H:%M} UTC" if link.expires_at else ""
                st.markdown(
                    rendering.trusted(f"**{rendering.label(link.title or 'Untitled')}** ({link.kind}{who})")
                )
                st.caption(
                    rendering.trusted(
                        f"Shared {link.created_at:%Y-%m-%d %H:%M} UTC{expires}. State: {state}."
                    )
                )
                if state == "open" and show_address:
                    st.code(link_url(link.token), language=None)
            with top[1]:
                if state == "open":
                    st.button(
                        "Revoke",
                        key=f"share.revoke.{link.id}",
                        icon=":material/link_off:",
                        on_click=_revoke,
                        args=(make_session, user_id, link.id),
                    )


# -- the read-only view ----------------------------------------------------------------------------


def _show_text(text: str, as_typed: bool) -> None:
    if as_typed:  # a person's own words, as on the chat page: line breaks kept, nothing read as markdown
        st.text(text, width="stretch")
    else:
        st.markdown(rendering.outside(text))


def _show_content(content: Any, as_typed: bool = False) -> None:
    if isinstance(content, str):
        if content:
            _show_text(content, as_typed)
        return
    for part in content or []:
        if not isinstance(part, Mapping):
            continue
        if part.get("type") == "text" and part.get("text"):
            _show_text(str(part["text"]), as_typed)
        elif part.get("type") == "image_url":
            url = str((part.get("image_url") or {}).get("url") or "")
            if url.startswith("data:image/"):
                st.image(url, width=240)


def show_conversation(snapshot: Mapping[str, Any]) -> None:
    """A conversation snapshot (storage.interchange's shape), read-only."""
    for message in snapshot.get("messages") or []:
        role = message.get("role")
        if role == "system":
            with st.expander("System prompt", icon=":material/tune:"):
                st.text(str(message.get("content") or ""))
            continue
        if role not in ("user", "assistant"):
            continue
        with st.chat_message(role):
            _show_content(message.get("content"), as_typed=role == "user")
            for call in message.get("tool_calls") or []:
                function = call.get("function") or {}
                st.caption(f"Called tool {rendering.code(function.get('name', '?'))}")


def show_compare(snapshot: Mapping[str, Any]) -> None:
    """A compare-run snapshot (storage.sharing's shape), read-only: the prompt, then each column's replies."""
    columns = list(snapshot.get("columns") or [])
    results = list(snapshot.get("results") or [])
    turns = sorted({int(r.get("turn_index") or 0) for r in results}) or [0]
    for turn in turns:
        prompts = [
            r.get("prompt") for r in results if int(r.get("turn_index") or 0) == turn and r.get("prompt")
        ]
        prompt = prompts[0] if prompts else snapshot.get("prompt", "")
        with st.chat_message("user"):
            st.markdown(rendering.outside(prompt or ""))
        if not columns:
            continue
        for index, slot in enumerate(st.columns(len(columns))):
            column = columns[index] if isinstance(columns[index], Mapping) else {}
            with slot:
                st.markdown(f"**{rendering.label(column.get('label') or f'Column {index + 1}')}**")
                if column.get("model"):
                    st.caption(f"Model {rendering.code(column['model'])}")
                replies = sorted(
                    (
                        r
                        for r in results
                        if r.get("column_index") == index and int(r.get("turn_index") or 0) == turn
                    ),
                    key=lambda r: r.get("repeat_index") or 0,
                )
                for reply in replies:
                    with st.container(border=True):
                        st.markdown(rendering.outside(reply.get("content") or ""))
                        if reply.get("error"):
                            st.caption(rendering.outside(f"Error: {reply['error']}"))
