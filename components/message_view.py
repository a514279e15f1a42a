"""How one message looks: stored ones replayed from history, and a reply while it streams.

Model output, titles and prompts are shown with Streamlit's markdown, which escapes raw HTML by
default; nothing here passes `unsafe_allow_html=True`, so HTML or script in a reply is shown as text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import streamlit as st

from chat_client import events
from components import error_view, metrics
from turns.chat import Turn

STATUS_NOTES = {
    "stopped": "Stopped: this is the part of the reply that arrived before you pressed Stop.",
    "interrupted": "Interrupted: the app stopped while this reply was streaming; this is what was saved.",
    "length": "Cut off at the token limit.",
}


def _status_note(status: str | None) -> None:
    note = STATUS_NOTES.get(status or "")
    if note:
        st.caption(f":orange[{note}]")


def show_stored(message: Any, prices: Mapping[str, float] | None = None) -> None:
    """Render a message from the database inside its `st.chat_message`."""
    role = "user" if message.role == "user" else "assistant"
    with st.chat_message(role):
        if message.role == "tool":
            st.caption(f"Tool result for `{message.tool_call_id}`")
        if message.thought:
            with st.expander("Thought summary", expanded=False):
                st.markdown(message.thought)
        images = list(getattr(message, "attachments", None) or [])
        if images:
            st.image([a.thumbnail or a.data for a in images], width=120)
        if message.content:
            st.markdown(message.content)
        for call in message.tool_calls or []:
            fn = call.get("function", {})
            st.caption(f"Tool call `{fn.get('name')}`")
            st.code(fn.get("arguments", ""), language="json")
        if message.role == "assistant":
            if message.status == "error" and message.error:
                error_view.show_saved(message.error)
            _status_note(message.status)
            line = metrics.summary(message.usage, message.timings, message.finish_reason, prices)
            if line:
                st.caption(line)


def stream_reply(turn: Turn, prices: Mapping[str, float] | None = None) -> None:
    """Stream a reply into the current `st.chat_message`: thoughts above, answer below, then metrics.

    If the user presses Stop, Streamlit raises out of `st.write_stream`; the caller's `finally` must
    call `turn.close()` so the partial reply is kept.
    """
    thought_slot = st.empty()
    notice_slot = st.empty()

    notice_slot.caption("Waiting for the model...")

    def answer() -> Iterator[str]:
        waiting = True
        for event in turn.events():
            if waiting and isinstance(event, (events.TextDelta, events.ToolCallDone, events.StreamError)):
                notice_slot.empty()
                waiting = False
            if isinstance(event, events.TextDelta) and event.index == 0:
                yield event.text
            elif isinstance(event, events.ThoughtDelta) and event.index == 0:
                with thought_slot.container(), st.expander("Thinking...", expanded=True):
                    st.markdown(turn.reply.thought_text)
            elif isinstance(event, events.RetryWait):
                notice_slot.info(
                    f"{event.reason} Retrying automatically in {event.seconds:.0f} s "
                    f"(attempt {event.attempt}).",
                    icon=":material/schedule:",
                )

    st.write_stream(answer())
    notice_slot.empty()
    if turn.reply.thought_text:
        with thought_slot.container(), st.expander("Thought summary", expanded=False):
            st.markdown(turn.reply.thought_text)
    if turn.error is not None:
        error_view.show(turn.error)
    _status_note(turn.status)
    usage = turn.usage_dict()
    line = metrics.summary(usage, turn.timings, turn.reply.finish_reason, prices)
    if line:
        st.caption(line)
