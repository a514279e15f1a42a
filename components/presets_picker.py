"""Pick, apply and save presets: system prompts and parameter sets (built-in and the user's own).

Applying a preset writes into the widgets' session state from a callback (before the widgets are drawn),
which is the only moment Streamlit allows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from chat_client import Params
from components import cached_reads, rendering
from storage import presets
from storage.models import User


def _load(make_session: sessionmaker[Session], user_id: int, kind: str) -> list[dict[str, Any]]:
    return cached_reads.presets(make_session, user_id, kind)


def _save(make_session: sessionmaker[Session], user_id: int, **fields: Any) -> str | None:
    """Save a new preset of the user's; the problem in plain words, or None."""
    try:
        with make_session() as session:
            presets.create_preset(session, session.get(User, user_id), **fields)
            session.commit()
    except ValueError as problem:
        return str(problem)
    cached_reads.forget_presets()
    return None


def system_prompt_picker(make_session: sessionmaker[Session], user_id: int, text_key: str) -> None:
    """A preset menu that fills the system prompt box whose widget key is `text_key`."""
    options = _load(make_session, user_id, "system")
    by_id = {p["id"]: p for p in options}

    def apply() -> None:
        chosen = by_id.get(st.session_state.get(text_key + ".preset"))
        if chosen is not None:
            st.session_state[text_key] = chosen["system_prompt"]

    st.selectbox(
        "System prompt preset",
        [None, *by_id],
        format_func=lambda i: (
            "Choose a preset…"
            if i is None
            else rendering.plain(by_id[i]["name"]) + ("" if by_id[i]["builtin"] else " (yours)")
        ),
        key=text_key + ".preset",
        on_change=apply,
    )


def save_system_prompt(make_session: sessionmaker[Session], user_id: int, text: str, key: str) -> None:
    """Save the current system prompt as a new preset."""
    with st.popover("Save as preset", icon=":material/bookmark_add:"):
        name = st.text_input("Preset name", key=key + ".name", max_chars=80)
        if st.button("Save", key=key + ".save"):
            problem = (
                _save(make_session, user_id, kind="system", name=name, system_prompt=text)
                if text.strip()
                else "The system prompt is empty."
            )
            if problem:
                st.error(rendering.outside(problem))
            else:
                st.success(f"Saved “{rendering.label(name)}”.")


def params_picker(
    make_session: sessionmaker[Session],
    user_id: int,
    key: str,
    current: Params,
    apply: Callable[[Params], None],
) -> None:
    """Apply a parameter preset (merged over the current parameters) or save the current ones as one."""
    options = _load(make_session, user_id, "params")
    by_id = {p["id"]: p for p in options}
    left, right = st.columns([3, 1], vertical_alignment="bottom")

    def on_pick() -> None:
        chosen = by_id.get(st.session_state.get(key + ".pick"))
        if chosen is not None:
            apply(current.merged(Params.from_stored(chosen["params"])))

    left.selectbox(
        "Parameter preset",
        [None, *by_id],
        format_func=lambda i: (
            "Apply a preset…"
            if i is None
            else rendering.plain(
                by_id[i]["name"] + (f" — {by_id[i]['description']}" if by_id[i]["description"] else "")
            )
        ),
        key=key + ".pick",
        on_change=on_pick,
    )
    with right.popover("Save", icon=":material/bookmark_add:"):
        name = st.text_input("Preset name", key=key + ".name", max_chars=80)
        if st.button("Save parameters", key=key + ".save"):
            keep = current.replace(model=None, stream=None, stream_options=None).to_dict()
            problem = _save(make_session, user_id, kind="params", name=name, params=keep)
            if problem:
                st.error(rendering.outside(problem))
            else:
                st.success(f"Saved “{rendering.label(name)}”.")
