"""Pick, apply and save presets: system prompts and parameter sets (built-in and the user's own), in
one menu and one save box, so the settings show a single place for presets.

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


def _option_text(preset: dict[str, Any]) -> str:
    kind = "System prompt" if preset["kind"] == "system" else "Parameters"
    own = "" if preset["builtin"] else " (yours)"
    about = f" — {preset['description']}" if preset["description"] else ""
    return f"{kind}: {preset['name']}{own}{about}"


def picker(
    make_session: sessionmaker[Session],
    user_id: int,
    key: str,
    *,
    system_key: str,
    current: Params,
    apply: Callable[[Params], None],
) -> None:
    """One menu of every preset: a system prompt fills the box whose widget key is `system_key`, a
    parameter set is merged over the current parameters (`apply`). The menu empties again once a
    preset is applied, so it never shows a stale choice (or a clear button on nothing)."""
    options = [
        {**p, "kind": kind} for kind in ("system", "params") for p in _load(make_session, user_id, kind)
    ]
    by_id = {p["id"]: p for p in options}

    def on_pick() -> None:
        chosen = by_id.get(st.session_state.get(key))
        st.session_state[key] = None
        if chosen is None:
            return
        if chosen["kind"] == "system":
            st.session_state[system_key] = chosen["system_prompt"]
        else:
            apply(current.merged(Params.from_stored(chosen["params"])))

    left, right = st.columns([4, 1], vertical_alignment="bottom")
    left.selectbox(
        "Preset",
        list(by_id),
        index=None,
        placeholder="Apply a system prompt or parameter preset…",
        format_func=lambda i: rendering.plain(_option_text(by_id[i])),
        key=key,
        on_change=on_pick,
        help="System prompts and parameter sets, built in and your own (manage them on the Presets page)",
    )
    with right.popover("Save", icon=":material/bookmark_add:", width="stretch"):
        _save_form(make_session, user_id, key, st.session_state.get(system_key) or "", current)


def _save_form(
    make_session: sessionmaker[Session], user_id: int, key: str, system_prompt: str, current: Params
) -> None:
    name = st.text_input("Preset name", key=key + ".name", max_chars=80)
    prompt_button, params_button = st.columns(2)
    problem = saved = None
    if prompt_button.button("Save the system prompt", key=key + ".save_system"):
        problem = (
            _save(make_session, user_id, kind="system", name=name, system_prompt=system_prompt)
            if system_prompt.strip()
            else "The system prompt is empty."
        )
        saved = problem is None
    if params_button.button("Save the parameters", key=key + ".save_params"):
        keep = current.replace(model=None, stream=None, stream_options=None).to_dict()
        problem = _save(make_session, user_id, kind="params", name=name, params=keep)
        saved = problem is None
    if problem:
        st.error(rendering.outside(problem))
    elif saved:
        st.success(f"Saved “{rendering.label(name)}”.")
