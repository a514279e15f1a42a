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
from types import SimpleNamespace
from typing import Any
from urllib.parse import urljoin

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from components import compare_view, rendering
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
        # Wrapped: the whole address in view (it scrolled, cut after "token=..." in a dialog's width).
        st.code(link_url(made), language=None, wrap_lines=True)
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
        # As wide as its sidebar; in a page's row of buttons, as wide as its label, like the others.
        width="stretch" if in_sidebar else "content",
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
                    st.code(link_url(link.token), language=None, wrap_lines=True)
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


RESULT_DEFAULTS: dict[str, Any] = {
    "turn_index": 0,
    "column_index": 0,
    "repeat_index": 0,
    "candidate_index": 0,
    "prompt": "",
    "content": "",
    "thought": None,
    "status": "complete",
    "error": None,
    "finish_reason": None,
    "usage": None,
    "timings": None,
    "request_body": None,
    "tool_calls": None,
    "logprobs": None,
}


def snapshot_run(snapshot: Mapping[str, Any]) -> SimpleNamespace:
    """A compare-run snapshot (storage.compare.run_to_dict's shape) as an object the compare page's own
    views draw, so a shared board shows what its owner saw: headers with each column's model and
    settings, metrics, repeats, charts and differences. Keys an older snapshot lacks get defaults."""
    columns = [dict(c) if isinstance(c, Mapping) else {} for c in snapshot.get("columns") or []]
    results = [
        SimpleNamespace(**{**RESULT_DEFAULTS, **{k: r[k] for k in RESULT_DEFAULTS if r.get(k) is not None}})
        for r in snapshot.get("results") or []
        if isinstance(r, Mapping)
    ]
    return SimpleNamespace(
        id="shared",
        prompt=str(snapshot.get("prompt") or ""),
        columns=columns,
        repeats=int(snapshot.get("repeats") or 1),
        results=results,
    )


def show_compare(
    snapshot: Mapping[str, Any], prices_for: compare_view.PricesFor = lambda column: None
) -> None:
    """A compare-run snapshot, read-only: each turn's prompt and every column's replies with their
    settings and figures, then the metrics table and chart and the differences, as on the compare page."""
    run = snapshot_run(snapshot)
    images = [u for u in snapshot.get("images") or [] if isinstance(u, str) and u.startswith("data:image/")]
    if images:
        st.image(images, width=120)
    turns = sorted({r.turn_index for r in run.results}) or [0]
    for turn in turns:
        first = next((r for r in run.results if r.turn_index == turn and r.prompt), None)
        prompt = run.prompt if turn == 0 or first is None else first.prompt
        with st.chat_message("user"):
            st.markdown(rendering.outside(prompt or ""))
        if run.columns:
            compare_view.show_columns(run, turn, prices_for)
    if run.columns and run.results:
        metrics_tab, diff_tab = st.tabs(["Metrics", "Differences"])
        with metrics_tab:
            compare_view.show_metrics(run, turns[-1], prices_for)
        with diff_tab:
            compare_view.show_diff(run, turns[-1])
