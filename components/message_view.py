"""How one message looks: stored ones replayed from history (with their controls), and a live reply.

Model output, titles and prompts go through components/rendering.py (no remote image, no unsafe link,
raw HTML left as text); nothing here passes `unsafe_allow_html=True`.

Buttons never act in place: their callbacks put a typed request of `turns.conversation` (`Edit`,
`Regenerate`, `ToolResults`) in `st.session_state["chat.action"]` (or a branch choice in
`st.session_state["chat.choice"]`), and the page hands it to `turns` at the top of the next run, which
saves first and then streams, and stores the choice with the conversation (nothing lost).

A person's own messages are shown as they typed them: line breaks kept, nothing read as markdown.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import streamlit as st

from chat_client import Endpoint, events, snippets
from components import copy_button, error_view, incidents, metrics, rendering, reply_views
from turns import conversation
from turns.chat import Turn

ACTION_KEY = "chat.action"
CHOICE_KEY = "chat.choice"  # (parent id or None, child id): the version the person picked to follow
FLUSH_SECONDS = 0.03  # the shortest time between two updates of a streaming reply on screen
WAITING = "Waiting for the model..."
STATUS_NOTES = {
    "stopped": "Stopped: this is the part of the reply that arrived before you pressed Stop.",
    "interrupted": "Interrupted: the app stopped while this reply was streaming; this is what was saved.",
    "length": "Cut off at the token limit ({advice}).",
    "streaming": "Still streaming in another tab or app server.",
}
FINISH_NOTES = {"content_filter": "The provider's safety filter stopped this reply."}


def ask(request: conversation.Request) -> None:
    """Ask the page to hand `request` to turns on the next run (a button callback)."""
    st.session_state[ACTION_KEY] = request


def _choose(parent_id: int | None, child_id: int) -> None:
    """A branch button's callback: the page stores the choice with the conversation on the next run."""
    st.session_state[CHOICE_KEY] = (parent_id, child_id)


def _status_note(
    status: str | None, finish_reason: str | None = None, request_body: Mapping[str, Any] | None = None
) -> None:
    note = STATUS_NOTES.get(status or "") or FINISH_NOTES.get(finish_reason or "")
    if note:
        note = note.replace("{advice}", metrics.length_advice(request_body))
        st.caption(rendering.trusted(f":orange[{note}]"))


def _branch_nav(message: Any, number: int, count: int, group_leaders: Sequence[int]) -> None:
    """The "‹ 2/3 ›" control that moves between a message's alternatives (sized like the text by
    styles.py: a navigator in caption size was too small and faint to read)."""
    if count < 2:
        return
    with st.container(
        horizontal=True,
        vertical_alignment="center",
        gap="small",
        width="content",
        key=f"chat.nav.{message.id}",
    ):
        st.button(
            "‹",
            key=f"chat.prev.{message.id}",
            type="tertiary",
            disabled=number == 1,
            on_click=_choose,
            args=(message.parent_id, group_leaders[max(number - 2, 0)]),
            help="Previous version",
        )
        st.caption(rendering.trusted(f"{number}/{count}"), width="content")
        st.button(
            "›",
            key=f"chat.next.{message.id}",
            type="tertiary",
            disabled=number == count,
            on_click=_choose,
            args=(message.parent_id, group_leaders[min(number, count - 1)]),
            help="Next version",
        )


def _images(message: Any) -> None:
    images = list(getattr(message, "attachments", None) or [])
    if images:
        st.image([a.thumbnail or a.data for a in images], width=120)


def request_renderer(endpoint: Endpoint, *, show_url: bool):
    """Render a stored request body as curl and as Python for `endpoint` (the key as an env reference).

    `show_url` is for admins: anyone else sees the endpoint's public URL, or `$PRISM_API_BASE_URL`,
    never its base URL, which may be an internal address."""

    def render(body: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        return [
            ("Copy as curl", "bash", snippets.as_curl(endpoint, dict(body), show_url=show_url)),
            ("Copy as Python (httpx)", "python", snippets.as_httpx(endpoint, dict(body), show_url=show_url)),
        ]

    return render


@st.dialog("Request", width="large")
def _request_dialog(message: Any, render_request) -> None:
    """The exact request behind a reply, as JSON and as code to send it again (a dialog over the page,
    not a popover squeezed over the sidebar)."""
    st.caption("The exact JSON sent for this reply (the API key is never stored or shown).")
    st.json(message.request_body or {}, expanded=1)
    if render_request is not None:
        for label, language, text in render_request(message.request_body or {}):
            st.caption(rendering.trusted(label))
            st.code(text, language=language, wrap_lines=True)


def _request_button(message: Any, render_request) -> None:
    if st.button(
        "Request",
        key=f"chat.request.{message.id}",
        icon=":material/data_object:",
        type="tertiary",
        help="The exact request sent for this reply, and code to send it again",
    ):
        _request_dialog(message, render_request)


def _usage_line(message: Any, prices) -> None:
    line = metrics.summary(message.usage, message.timings, message.finish_reason, prices)
    if line:
        st.caption(rendering.outside(line))


def _body(message: Any, show_logprobs: bool) -> None:
    """The reply's text, as JSON when JSON was asked for, or as coloured tokens."""
    if show_logprobs and message.logprobs:
        reply_views.show_logprobs(message.logprobs, key=f"chat.lp.pick.{message.id}")
        return
    wants_json, schema = reply_views.schema_of(message.request_body)
    if wants_json and message.content and message.status == "complete":
        reply_views.show_json(message.content, schema)
    elif message.content:
        st.markdown(rendering.outside(message.content))


def _tool_calls(message: Any) -> None:
    for call in message.tool_calls or []:
        fn = call.get("function", {})
        st.caption(f"Tool call {rendering.code(fn.get('name'))} (id {rendering.code(call.get('id'))})")
        try:
            pretty = json.dumps(json.loads(fn.get("arguments") or "{}"), indent=2, ensure_ascii=False)
        except json.JSONDecodeError:
            pretty = fn.get("arguments", "")
        st.code(pretty, language="json")


def tool_result_form(message: Any) -> None:
    """A box per tool call for the user to type the result; sending continues the loop."""
    calls = message.tool_calls or []
    with st.form(key=f"chat.tools.{message.id}", border=True):
        st.markdown("**The model asked to call a tool.** Type what each call returned, then send.")
        for call in calls:
            st.text_area(
                f"Result of {rendering.code(call.get('function', {}).get('name'))}",
                key=f"chat.tool.{call.get('id')}",
                placeholder='e.g. {"temperature_c": 21}',
            )
        if st.form_submit_button("Send results", icon=":material/send:"):
            results = tuple(
                (c.get("id"), st.session_state.get(f"chat.tool.{c.get('id')}", "")) for c in calls
            )
            ask(conversation.ToolResults(assistant_id=message.id, results=results))
            st.rerun()


def show_stored(
    message: Any,
    *,
    prices: Mapping[str, float] | None,
    position: tuple[int, int, list[Any]],
    group_leaders: Sequence[int],
    is_last: bool,
    render_request=None,
) -> None:
    """Render a message from the database, with its controls, inside its `st.chat_message`.

    Each message is a fragment: its own controls (the Tokens toggle, a token picked, Edit and Cancel,
    Copy, the request) rerun only that message, not the page. A control that changes the
    conversation (Regenerate, Keep this one, another version, sending an edit or tool results) leaves
    its request in session state; the message's next run sees it and reruns the whole page, which
    hands it to turns."""
    _stored_fragment(
        message,
        prices=prices,
        position=position,
        group_leaders=group_leaders,
        is_last=is_last,
        render_request=render_request,
    )


@incidents.fragment
def _stored_fragment(
    message: Any,
    *,
    prices: Mapping[str, float] | None,
    position: tuple[int, int, list[Any]],
    group_leaders: Sequence[int],
    is_last: bool,
    render_request=None,
) -> None:
    if ACTION_KEY in st.session_state or CHOICE_KEY in st.session_state:
        st.rerun()  # the page takes the request at the top of a whole run
    number, count, group = position
    if message.role == "tool":
        # A tool's result is what the person typed for it, not the model's words: its own avatar.
        with st.chat_message("tool", avatar=":material/build:"):
            st.caption(f"Tool result for {rendering.code(message.tool_call_id)}")
            st.code(message.content or "", language="json", wrap_lines=True)
        return
    with st.chat_message("user" if message.role == "user" else "assistant"):
        if message.role == "user":
            _user(message, number, count, group_leaders)
            return
        candidates = [m for m in group if m.role == "assistant"]
        if len(candidates) > 1:
            _candidates(message, candidates, prices, render_request)
        else:
            _assistant(message, prices, is_last, render_request)
        _branch_nav(message, number, count, group_leaders)


def _user(message: Any, number: int, count: int, group_leaders: Sequence[int]) -> None:
    _images(message)
    if st.session_state.get("chat.editing") == message.id:
        text = st.text_area("Edit your message", value=message.content or "", key=f"chat.edit.{message.id}")
        send, cancel = st.columns(2, width=260)
        if send.button("Send edited", key=f"chat.edit_send.{message.id}", type="primary"):
            st.session_state.pop("chat.editing", None)
            ask(conversation.Edit(message_id=message.id, text=text))
            st.rerun()
        cancel.button(
            "Cancel",
            key=f"chat.edit_cancel.{message.id}",
            on_click=st.session_state.pop,
            args=("chat.editing", None),
        )
    else:
        st.text(message.content or "", width="stretch")  # as typed: line breaks kept, no markdown
        st.button(
            "Edit",
            key=f"chat.edit_btn.{message.id}",
            type="tertiary",
            icon=":material/edit:",
            on_click=st.session_state.__setitem__,
            args=("chat.editing", message.id),
            help="Edit and resend: makes a new branch, the original stays",
        )
    _branch_nav(message, number, count, group_leaders)


def _assistant(message: Any, prices, is_last: bool, render_request) -> None:
    if message.thought:
        with st.expander("Thought summary", icon=":material/psychology:", expanded=False):
            st.markdown(rendering.outside(message.thought))
    show_logprobs = bool(message.logprobs) and st.session_state.get(f"chat.lp.{message.id}", False)
    _body(message, show_logprobs)
    _tool_calls(message)
    if message.status == "error" and message.error:
        error_view.show_saved(message.error)
    _status_note(message.status, message.finish_reason, message.request_body)
    _usage_line(message, prices)
    # One row, also on a phone: a horizontal container does not stack the way columns do.
    with st.container(
        horizontal=True,
        wrap=False,
        vertical_alignment="center",
        gap="small",
        key=f"chat.actions.{message.id}",
    ):
        st.button(
            "Retry" if message.status == "error" else "Regenerate",
            key=f"chat.regen.{message.id}",
            type="tertiary",
            icon=":material/refresh:",
            on_click=ask,
            args=(conversation.Regenerate(parent_id=message.parent_id),),
        )
        copy_button.copy_button(message.content or "", key=f"chat.copy.{message.id}")
        _request_button(message, render_request)
        if message.logprobs:
            st.toggle("Tokens", key=f"chat.lp.{message.id}", help="Colour the reply by token probability")
    if is_last and message.tool_calls and message.status in ("complete", "length"):
        tool_result_form(message)


def _candidates(message: Any, candidates: Sequence[Any], prices, render_request) -> None:
    """n > 1: the candidates side by side; "Keep this one" makes one continue the conversation.

    A failed attempt shows its saved error in every candidate it cut short, as a single reply does,
    with Retry under the cards."""
    st.caption(f"{len(candidates)} candidates: keep the one the conversation should continue from.")
    for column, candidate in zip(st.columns(len(candidates)), candidates, strict=False):
        with column, st.container(border=True):
            st.caption(f"Candidate {candidate.candidate_index + 1}")
            _body(candidate, False)
            _tool_calls(candidate)
            if candidate.status == "error" and candidate.error:
                error_view.show_saved(candidate.error)
            _status_note(candidate.status, candidate.finish_reason, candidate.request_body)
            _usage_line(candidate, prices)
            with st.container(horizontal=True, wrap=False, vertical_alignment="center", gap="small"):
                copy_button.copy_button(candidate.content or "", key=f"chat.copy.{candidate.id}")
                _request_button(candidate, render_request)
            if candidate.id == message.id:
                st.caption(":green[Kept: the conversation continues from this one]")
            else:
                st.button(
                    "Keep this one",
                    key=f"chat.keep.{candidate.id}",
                    on_click=_choose,
                    args=(candidate.parent_id, candidate.id),
                )
    failed = any(c.status == "error" for c in candidates)
    st.button(
        "Retry" if failed else "Regenerate",
        key=f"chat.regen.{message.id}",
        type="tertiary",
        icon=":material/refresh:",
        on_click=ask,
        args=(conversation.Regenerate(parent_id=message.parent_id),),
    )


class Batch:
    """A streaming reply's text deltas, gathered into screen updates: the first is shown at once, then
    at most one update every `every` seconds (each update re-sends the whole reply to the browser)."""

    def __init__(self, every: float = FLUSH_SECONDS) -> None:
        self.every = every
        self.pending: list[str] = []
        self.last: float | None = None  # when the last update was sent; None: nothing shown yet

    def add(self, text: str, now: float) -> str | None:
        """Take a delta; the text to show now, or None to wait for more."""
        self.pending.append(text)
        if self.last is None or now - self.last >= self.every:
            return self.take(now)
        return None

    def take(self, now: float) -> str:
        """Everything gathered since the last update (sent now)."""
        text = "".join(self.pending)
        self.pending.clear()
        self.last = now
        return text


def stream_reply(turn: Turn, prices: Mapping[str, float] | None = None) -> None:
    """Stream a reply into the current `st.chat_message`: thoughts above, answer below.

    n > 1 streams each candidate into its own column. If the user presses Stop, Streamlit raises out of
    this function; the caller's `finally` must call `turn.close()` so the partial reply is kept.
    """
    count = max(turn.params.n or 1, 1)
    if count > 1:
        _stream_candidates(turn, count)
        return
    thought_slot = st.empty()
    notice_slot = st.empty()
    notice_slot.caption(rendering.trusted(WAITING))

    def answer() -> Iterator[str]:
        retry_at, retry_note = None, ""
        waiting = True
        shown: str | None = WAITING  # what the notice says now (None: nothing)
        batch = Batch()
        last_event = last_thought = started = time.monotonic()

        def notice(note: str | None) -> None:
            nonlocal shown
            if note == shown:
                # Nothing new to say: a session-state read lets Stop act now (Streamlit checks for it
                # there too) without sending the browser anything.
                st.session_state.get(ACTION_KEY)
            elif note is None:
                notice_slot.empty()
            elif retry_at is not None:  # the provider's words are in it
                notice_slot.info(rendering.outside(note), icon=":material/schedule:")
            else:
                notice_slot.caption(rendering.trusted(note))  # our own words and a count
            shown = note

        for event in turn.events_in_background():
            now = time.monotonic()
            if event is None:
                # A tick while nothing arrives: keep the screen honest, and give Stop a chance to act.
                if batch.pending:
                    yield batch.take(now)
                if retry_at is not None:
                    notice(f"{retry_note} Retrying in {max(retry_at - now, 0):.0f} s.")
                elif waiting:
                    notice(f"{WAITING} {now - started:.0f} s" if now - started >= 1 else WAITING)
                elif now - last_event > 2:
                    notice(f"No new text for {now - last_event:.0f} s...")
                else:
                    notice(None)
                continue
            last_event, retry_at = now, None
            if waiting and isinstance(event, events.TextDelta | events.ToolCallDone | events.StreamError):
                waiting = False
                if turn.reply.thought_text:  # the thinking is over: show all of it before the answer
                    with thought_slot.container(), st.expander("Thought summary", expanded=False):
                        st.markdown(rendering.outside(turn.reply.thought_text))
            if isinstance(event, events.TextDelta) and event.index == 0:
                # Each update re-sends the whole reply to the browser: at most one every FLUSH_SECONDS
                # (the first at once), so a fast stream or many sessions do not flood the socket.
                if (text := batch.add(event.text, now)) is not None:
                    yield text
            elif isinstance(event, events.ThoughtDelta) and event.index == 0 and now - last_thought >= 0.1:
                last_thought = now
                with thought_slot.container(), st.expander("Thinking...", expanded=True):
                    st.markdown(rendering.outside(turn.reply.thought_text))
            elif isinstance(event, events.RetryWait):
                retry_at, retry_note = now + event.seconds, f"{event.reason} (attempt {event.attempt})."
                notice(f"{retry_note} Retrying in {event.seconds:.0f} s.")
                continue
            if shown is not None:
                # Cleared once the event is drawn: the reply's first text is not queued behind this.
                notice(None)
        if batch.pending:
            yield batch.take(time.monotonic())

    rendering.stream_markdown(answer())  # not st.write_stream: it would render the raw text
    notice_slot.empty()
    if turn.error is not None:
        error_view.show(turn.error)


def _stream_candidates(turn: Turn, count: int) -> None:
    slots = [column.empty() for column in st.columns(count)]
    last_draw = 0.0
    for event in turn.events_in_background():
        if event is None or (
            isinstance(event, events.TextDelta | events.Finish) and time.monotonic() - last_draw > 0.05
        ):
            for index, slot in enumerate(slots):
                slot.markdown(
                    rendering.outside(
                        turn.candidates.get(index, turn.reply).content if index in turn.candidates else ""
                    )
                )
            last_draw = time.monotonic()
    if turn.error is not None:
        error_view.show(turn.error)
