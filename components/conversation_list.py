"""The sidebar: new chat, the user's conversations (search, rename, pin, delete), export and import.

The list reads like the chat apps people know: pinned conversations first, then the rest under Today,
Yesterday, Previous 7 days and Older (days in the browser's time zone), each row its title and how long
ago it was last active; a search shows, under each title, the words of the message that matched.

The open conversation lives in the URL (`?c=ID`), so a reload or a bookmark finds it again. Titles are
the user's own words: they go into button labels, which Streamlit renders as markdown without HTML, so a
title holding HTML or script is shown as text. Every storage call passes the acting user, so another
person's conversation id simply finds nothing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from components import cached_reads, downloads, incidents, rendering, resources, url_ids
from storage import interchange, repository
from storage.models import User

QUERY_KEY = "c"
PAGE_SIZE = 30
WHOLE_PAGE_KEY = "chat.list_opens"  # set by a sidebar callback that changes what the page shows
# An import shows a progress bar once it has taken this long (a quick one shows none).
PROGRESS_AFTER_S = 1.0


class ProgressAfter:
    """A progress bar that appears only once `after` seconds have passed since it was made."""

    def __init__(self, after: float, clock=time.monotonic) -> None:
        self.after, self.clock = after, clock
        self.started = clock()
        self.bar = None

    def update(self, stage: str, done: int, total: int) -> None:
        if self.bar is None and self.clock() - self.started < self.after:
            return
        text = f"{stage} {done:,} of {total:,} messages..."
        fraction = done / total if total else 1.0
        if self.bar is None:
            self.bar = st.progress(fraction, text=text)
        else:
            self.bar.progress(fraction, text=text)

    def done(self) -> None:
        if self.bar is not None:
            self.bar.empty()


def selected_id() -> int | None:
    """The conversation named in the URL, if any (anything that is not a plain id: None)."""
    return url_ids.id_param(QUERY_KEY)


def select(conversation_id: int | None) -> None:
    """Open a conversation (None: start a new one)."""
    st.session_state.pop("chat.editing", None)
    # A new chat starts from the defaults, not from what the last new chat was given.
    for name in [
        k
        for k in st.session_state
        if str(k).startswith(("chat.p.new.", "chat.system.new", "chat.preset.new"))
    ]:
        del st.session_state[name]
    if conversation_id is None:
        st.query_params.pop(QUERY_KEY, None)
    else:
        st.query_params[QUERY_KEY] = str(conversation_id)


def _run(make_session: sessionmaker[Session], user_id: int, action, *args, **kwargs):
    with make_session() as session:
        result = action(session, session.get(User, user_id), *args, **kwargs)
        session.commit()
    cached_reads.forget_conversations()
    return result


def _open(conversation_id: int | None) -> None:
    """A sidebar button's callback: open that conversation, in a run of the whole page."""
    select(conversation_id)
    st.session_state[WHOLE_PAGE_KEY] = True


def _exporter(make_session: sessionmaker[Session], user_id: int, export, conversation_ids: list[int] | None):
    def make() -> str:
        with make_session() as session:
            return export(session, session.get(User, user_id), conversation_ids)

    return downloads.made_on_click(make)


def _delete(make_session: sessionmaker[Session], user_id: int, conversation_id: int) -> None:
    _run(make_session, user_id, repository.delete_conversation, conversation_id)
    st.session_state.pop("chat.confirm_delete", None)
    if selected_id() == conversation_id:
        _open(None)


def _manage(
    make_session: sessionmaker[Session], user_id: int, conversation_id: int, title: str, pinned: bool
):
    """Rename, pin, delete (with confirmation) and export the open conversation, in a popover.

    Its contents are drawn whether or not it is open: a popover that reruns the sidebar when it opens
    and closes (`on_change="rerun"`) also closes when a page link is clicked, and that rerun of the
    chat page's sidebar fragment, arriving as the next page starts, left that page blank."""
    with st.popover("Manage this chat", icon=":material/more_horiz:", width="stretch"):
        new_title = st.text_input("Title", value=title, key=f"chat.rename.{conversation_id}", max_chars=200)
        if st.button("Rename", key=f"chat.rename_btn.{conversation_id}") and new_title.strip():
            _run(make_session, user_id, repository.rename_conversation, conversation_id, new_title.strip())
            st.rerun()
        st.button(
            "Unpin" if pinned else "Pin to top",
            key=f"chat.pin.{conversation_id}",
            icon=":material/keep:",
            on_click=_run,
            args=(make_session, user_id, repository.pin_conversation, conversation_id, not pinned),
        )
        # Exports are made only when a button is pressed (a callable), not on every rerun.
        as_json = _exporter(make_session, user_id, interchange.export_json, [conversation_id])
        as_markdown = _exporter(make_session, user_id, interchange.export_markdown, [conversation_id])
        left, right = st.columns(2)
        left.download_button(
            "JSON",
            as_json,
            f"prism-chat-{conversation_id}.json",
            "application/json",
            key=f"chat.export_json.{conversation_id}",
            icon=":material/download:",
        )
        right.download_button(
            "Markdown",
            as_markdown,
            f"prism-chat-{conversation_id}.md",
            "text/markdown",
            key=f"chat.export_md.{conversation_id}",
            icon=":material/download:",
        )
        if st.session_state.get("chat.confirm_delete") == conversation_id:
            st.warning("Delete this conversation and its images for good?")
            yes, no = st.columns(2)
            yes.button(
                "Delete",
                type="primary",
                key=f"chat.delete_yes.{conversation_id}",
                on_click=_delete,
                args=(make_session, user_id, conversation_id),
            )
            no.button(
                "Keep it",
                key=f"chat.delete_no.{conversation_id}",
                on_click=st.session_state.pop,
                args=("chat.confirm_delete", None),
            )
        else:
            if st.button("Delete…", key=f"chat.delete.{conversation_id}", icon=":material/delete:"):
                st.session_state["chat.confirm_delete"] = conversation_id
                st.rerun()


def _import(make_session: sessionmaker[Session], user_id: int) -> None:
    """Import a file, or export every chat, in a popover drawn whether or not it is open (see
    `_manage`: one that reruns as it closes left the next page blank)."""
    with st.popover("Import", icon=":material/upload:", width="stretch"):
        upload = st.file_uploader(
            "A Prism export, or an OpenAI messages list (JSON or Markdown)",
            type=["json", "md"],
            key="chat.import_file",
        )
        if upload is not None and st.button("Import", key="chat.import_btn"):
            config = resources.settings()
            limits = interchange.ImportLimits(
                max_bytes=config.import_max_mb * 1024 * 1024 if config.import_max_mb else None,
                max_messages=config.import_max_messages,
            )
            bar = ProgressAfter(PROGRESS_AFTER_S)
            try:
                created = _run(
                    make_session,
                    user_id,
                    interchange.import_conversations,
                    upload.getvalue(),
                    limits=limits,
                    progress=bar.update,
                )
            except interchange.ImportRefused as problem:
                bar.done()
                st.error(rendering.outside(f"Nothing was imported: {problem}"))
            else:
                bar.done()
                st.success(f"Imported {len(created)} conversation(s).")
                if created:
                    select(created[0].id)
                    st.rerun()
        everything = _exporter(make_session, user_id, interchange.export_json, None)
        st.download_button(
            "Export all my chats (JSON)",
            everything,
            "prism-all-chats.json",
            "application/json",
            key="chat.export_all",
            icon=":material/download:",
        )


def _zone() -> tzinfo:
    """The browser's time zone (Today and Yesterday are the person's days), UTC when it is unknown."""
    try:
        return ZoneInfo(st.context.timezone or "UTC")
    except (ValueError, ZoneInfoNotFoundError):
        return UTC


def group_of(when: datetime, now: datetime) -> str:
    """Which heading of the list a conversation last active at `when` goes under (both in local time)."""
    days = (now.date() - when.date()).days
    if days <= 0:
        return "Today"
    if days == 1:
        return "Yesterday"
    if days <= 7:
        return "Previous 7 days"
    return "Older"


def relative(when: datetime, now: datetime) -> str:
    """How long ago, in few characters: "now", "5 min", "3 h", "2 d", then the date."""
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min"
    if seconds < 86400:
        return f"{seconds // 3600:.0f} h"
    if seconds < 8 * 86400:
        return f"{seconds // 86400:.0f} d"
    return f"{when:%-d %b}" if when.year == now.year else f"{when:%-d %b %Y}"


def _row(conversation_id: int, title: str, pinned: bool, when: str, current: int | None) -> None:
    """One conversation: its title (a button that opens it, left-aligned by styles.py) and how long ago."""
    with st.container(horizontal=True, wrap=False, vertical_alignment="center", gap="small"):
        st.button(
            rendering.label(title),
            key=f"chat.open.{conversation_id}",
            on_click=_open,
            args=(conversation_id,),
            type="primary" if conversation_id == current else "tertiary",
            icon=":material/keep:" if pinned else None,
            help="Pinned" if pinned else None,
            width="stretch",
        )
        st.caption(rendering.trusted(when), width="content")


def sidebar(make_session: sessionmaker[Session], user_id: int) -> None:
    """Draw the sidebar's conversation tools and list: pinned first, then by day, newest first.

    A fragment: typing a search, paging, pinning or renaming reruns only the sidebar. Opening another
    conversation (or deleting the open one) reruns the whole page. The rows come from
    components/cached_reads.py (cleared by every write made here)."""
    with st.sidebar:
        _sidebar(make_session, user_id)


@incidents.fragment
def _sidebar(make_session: sessionmaker[Session], user_id: int) -> None:
    if st.session_state.pop(WHOLE_PAGE_KEY, False):
        st.rerun()
    current = selected_id()
    zone = _zone()
    now = datetime.now(zone)
    st.button(
        "New chat", icon=":material/add:", key="chat.new", on_click=_open, args=(None,), width="stretch"
    )
    query = st.text_input(
        "Search chats",
        key="chat.search",
        placeholder="Search titles and messages",
        label_visibility="collapsed",
    )
    searching = bool(query.strip())
    limit = st.session_state.get("chat.list_limit", PAGE_SIZE)
    rows = cached_reads.conversations(make_session, user_id, query, limit if searching else limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if current is not None:
        open_row = next((r for r in rows if r[0] == current), None)
        if open_row is not None:
            _manage(make_session, user_id, *open_row[:3])
    if not rows:
        st.caption("No conversations match." if searching else "No conversations yet.")
    words = repository.search_words(query)
    folds = repository.search_folds_accents(make_session.kw["bind"].dialect.name)
    heading = None
    with st.container(key="chat-history", gap=None):
        for conversation_id, title, pinned, updated_at, hit in rows:
            when = updated_at.astimezone(zone)
            group = "Search results" if searching else "Pinned" if pinned else group_of(when, now)
            if group != heading:
                st.caption(rendering.trusted(f"**{group}**"))
                heading = group
            _row(conversation_id, title, pinned, relative(when, now), current)
            if hit:
                st.caption(rendering.highlighted(hit, words, fold_accents=folds))
    if more and st.button("Show more", key="chat.list_more"):
        st.session_state["chat.list_limit"] = limit + PAGE_SIZE
        st.rerun(scope="fragment")
    _import(make_session, user_id)
