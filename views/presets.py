"""The presets page: see the built-in presets, and make, edit and delete your own.

System-prompt presets fill the system prompt box; parameter presets are sets of API fields merged over a
conversation's parameters (both are applied from the chat and compare pages). Built-ins come with Prism
(seeded by migrations) and are read-only here; every change acts on the signed-in person's own presets.
"""

from __future__ import annotations

import json

import streamlit as st

from chat_client import Params, validate
from components import cached_reads, rendering, resources
from storage import presets
from storage.models import User

make_session = resources.sessions()
user_id = resources.current_user_id()

st.title("Presets", anchor=False)
st.caption(
    "Built-in presets come with Prism. Yours are private to you; apply them from the chat or compare page."
)


def _rows(kind: str) -> list[dict]:
    with make_session() as session:
        return [
            {
                "id": p.id,
                "name": p.name,
                "builtin": p.builtin,
                "description": p.description or "",
                "system_prompt": p.system_prompt or "",
                "params": dict(p.params or {}),
            }
            for p in presets.list_presets(session, session.get(User, user_id), kind)
        ]


def _params_problem(text: str) -> tuple[dict | None, str | None]:
    """Read a parameter preset typed as JSON; the parameters, or a plain-words problem."""
    try:
        fields = json.loads(text or "{}")
    except json.JSONDecodeError as problem:
        return None, f"Not valid JSON: {problem.msg} (line {problem.lineno})."
    if not isinstance(fields, dict):
        return None, 'A parameter preset is a JSON object, such as {"temperature": 0}.'
    try:
        params = Params.from_dict(fields)
        problems = validate(params)
    except (TypeError, ValueError) as problem:
        return None, str(problem)
    if problems:
        return None, " ".join(p.message for p in problems)
    return params.to_dict(), None  # kept in Params' JSON form, whichever shape was typed


def _save(preset_id: int | None, **fields) -> None:
    try:
        with make_session() as session:
            user = session.get(User, user_id)
            if preset_id is None:
                presets.create_preset(session, user, **fields)
            else:
                fields.pop("kind", None)
                presets.update_preset(session, user, preset_id, **fields)
            session.commit()
    except ValueError as problem:
        st.error(rendering.outside(str(problem)))
    else:
        cached_reads.forget_presets()  # the chat and compare pickers read them again
        st.toast("Saved.")
        st.rerun()


def _delete(preset_id: int) -> None:
    with make_session() as session:
        presets.delete_preset(session, session.get(User, user_id), preset_id)
        session.commit()
    cached_reads.forget_presets()


def _editor(kind: str, row: dict | None) -> None:
    """The fields of one preset (a new one when row is None), with Save."""
    key = f"presets.{kind}.{row['id'] if row else 'new'}"
    name = st.text_input("Name", value=row["name"] if row else "", key=key + ".name", max_chars=80)
    description = st.text_input("Description", value=row["description"] if row else "", key=key + ".desc")
    if kind == "system":
        body = st.text_area(
            "System prompt", value=row["system_prompt"] if row else "", key=key + ".text", height=160
        )
    else:
        body = st.text_area(
            "Parameters (JSON)",
            value=json.dumps(row["params"], indent=2) if row else "{}",
            key=key + ".text",
            height=160,
            help='e.g. {"temperature": 0, "seed": 7}',
        )
    if st.button("Save", key=key + ".save", type="primary"):
        fields = {"kind": kind, "name": name, "description": description}
        if kind == "system":
            if not body.strip():
                st.error("The system prompt is empty.")
                return
            fields["system_prompt"] = body
        else:
            params, problem = _params_problem(body)
            if problem:
                st.error(rendering.outside(problem))
                return
            fields["params"] = params
        _save(row["id"] if row else None, **fields)


for kind, heading in (("system", "System prompts"), ("params", "Parameter sets")):
    st.subheader(rendering.trusted(heading), anchor=False)
    for row in _rows(kind):
        title = rendering.label(row["name"]) + ("" if row["builtin"] else " · yours")
        with st.expander(
            rendering.trusted(title), icon=":material/lock:" if row["builtin"] else ":material/edit:"
        ):
            if row["description"]:
                st.caption(rendering.label(row["description"]))
            if row["builtin"]:
                if kind == "system":
                    st.markdown(rendering.outside(row["system_prompt"]))
                else:
                    st.code(json.dumps(row["params"], indent=2), language="json")
            else:
                _editor(kind, row)
                st.button(
                    "Delete",
                    key=f"presets.delete.{row['id']}",
                    icon=":material/delete:",
                    on_click=_delete,
                    args=(row["id"],),
                )
    with st.expander(
        f"New {'system prompt' if kind == 'system' else 'parameter set'}", icon=":material/add:"
    ):
        _editor(kind, None)
