"""Setting up a comparison: the columns (each its own parameters, system prompt and endpoint), copying
and presets, the sweep that fills the columns, and the list of saved runs.

Each column's widgets carry the prefix `compare.p.N.` (its parameter form) or `compare.sys.N`,
`compare.label.N`, `compare.ep.N`; `compare.cols` holds the settings each column starts from (its
parameters a `Params`, never a wire dict) and `compare.params.N` what its form holds now. Loading new
settings into a column (a sweep, a copy, a preset, a reopened run) happens in widget callbacks, before
the widgets are drawn: the column's widget state is dropped and the form seeds itself again.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from chat_client import Endpoint, Params
from components import compare_sweep, rendering, url_ids
from components.compare_view import params_summary
from components.param_form import parameter_form
from components.resources import Target
from storage import compare as compare_store
from storage import presets as presets_store
from storage import repository
from storage.models import User
from turns import compare as compare_turns
from turns.chat import to_wire_messages

RUN_QUERY_KEY = "run"


def form_prefix(index: int) -> str:
    """The widget-key prefix of column `index`'s parameter form."""
    return f"compare.p.{index}."


def _blank() -> dict[str, Any]:
    return {"label": "", "system_prompt": "", "endpoint": None, "params": Params()}


def init_state() -> None:
    """The page's session state, made once per browser session."""
    s = st.session_state
    if "compare.cols" not in s:
        s["compare.cols"] = [_blank() for _ in range(compare_turns.MAX_COLUMNS)]
    s.setdefault("compare.ncols", 2)
    s.setdefault("compare.repeats", 1)
    s.setdefault("compare.grid", None)


# -- the open run lives in the URL ----------------------------------------------------------------------


def open_run_id() -> int | None:
    """The run named in the URL (`?run=ID`), if any."""
    return url_ids.id_param(RUN_QUERY_KEY)


def set_open_run(run_id: int | None) -> None:
    """Open a run (None: back to a new comparison)."""
    if run_id is None:
        st.query_params.pop(RUN_QUERY_KEY, None)
    else:
        st.query_params[RUN_QUERY_KEY] = str(run_id)


# -- loading settings into columns (callbacks) ----------------------------------------------------------


def reset_column(index: int, stored: Mapping[str, Any]) -> None:
    """Make column `index` start from `stored` ({label, system_prompt, endpoint, params}).

    `params` may be a `Params` or what a run stored; the column keeps a `Params`."""
    own = (f"compare.sys.{index}", f"compare.label.{index}", f"compare.ep.{index}", f"compare.params.{index}")
    for key in list(st.session_state):
        if isinstance(key, str) and (key.startswith(form_prefix(index)) or key in own):
            del st.session_state[key]
    column = {**_blank(), **copy.deepcopy(dict(stored))}
    column["params"] = Params.from_stored(column["params"])
    st.session_state["compare.cols"][index] = column


def load_columns(columns: Sequence[Mapping[str, Any]]) -> None:
    """Put a list of column settings into the editors (sweeps and reopened runs)."""
    grid = [c for c in columns if c.get("grid")]
    if grid:
        st.session_state["compare.grid"] = [
            {**c, "params": Params.from_stored(c.get("params"))} for c in columns
        ]
        return
    st.session_state["compare.grid"] = None
    for index, column in enumerate(columns[: compare_turns.MAX_COLUMNS]):
        reset_column(index, {k: v for k, v in column.items() if k in _blank()})
    st.session_state["compare.ncols"] = max(2, min(len(columns), compare_turns.MAX_COLUMNS))


def current_column(index: int) -> dict[str, Any]:
    """What column `index` holds now (as drawn in the last run)."""
    stored = st.session_state["compare.cols"][index]
    return {
        "label": st.session_state.get(f"compare.label.{index}", stored.get("label", "")),
        "system_prompt": st.session_state.get(f"compare.sys.{index}", stored.get("system_prompt", "")),
        "endpoint": st.session_state.get(f"compare.ep.{index}", stored.get("endpoint")),
        "params": st.session_state.get(f"compare.params.{index}", stored["params"]),
    }


def _copy_column(target: int, source: int) -> None:
    reset_column(target, current_column(source))


def _apply_preset(index: int, preset: Mapping[str, Any]) -> None:
    column = current_column(index)
    if preset["kind"] == "system":
        column["system_prompt"] = preset["system_prompt"]
    else:
        column["params"] = column["params"].merged(Params.from_stored(preset["params"]))
    reset_column(index, column)


def _open_run(make_session: sessionmaker[Session], user_id: int, run_id: int) -> None:
    with make_session() as session:
        run = compare_store.get_compare_run(session, session.get(User, user_id), run_id)
        columns = [dict(c) for c in run.columns] if run else []
        repeats = run.repeats if run else 1
    set_open_run(run_id)
    if columns:
        load_columns(columns)
        st.session_state["compare.repeats"] = repeats


def load_open_run_once(make_session: sessionmaker[Session], user_id: int, run_id: int | None) -> None:
    """In a browser session's first run of the page, put the run named in the URL into the editors.

    A reload (or a bookmark) opens the run from the URL in a new session; without this its editors
    fell back to two blank columns, so "Start a new comparison" no longer held the settings just run.
    Later runs of the page leave the editors alone: they hold what the person set."""
    if st.session_state.get("compare.loaded"):
        return
    st.session_state["compare.loaded"] = True
    if run_id is not None:
        _open_run(make_session, user_id, run_id)


def _new_comparison() -> None:
    set_open_run(None)


# -- the sweep -------------------------------------------------------------------------------------------


def _fill_from_sweep() -> None:
    s = st.session_state
    s["compare.sweep.problem"] = None
    a = s["compare.sweep.a"]
    a_values, problem = compare_sweep.parse_values(a, s.get(f"compare.sweep.values.{a}", ""))
    b = s.get("compare.sweep.b", "(none)")
    b_values: list[Any] = []
    if problem is None and b != "(none)":
        if b == a:
            problem = "Pick two different parameters for a grid."
        else:
            b_values, problem = compare_sweep.parse_values(b, s.get(f"compare.sweep.values.b.{b}", ""))
    base = current_column(0)
    if problem is None and not b_values:
        if len(a_values) < 2:
            problem = "Give at least two values to compare."
        elif len(a_values) > compare_turns.MAX_COLUMNS:
            problem = (
                f"At most {compare_turns.MAX_COLUMNS} columns: give fewer values, or a second parameter "
                "for a grid."
            )
        else:
            load_columns(
                [
                    {
                        **base,
                        "label": compare_sweep.value_label(a, v),
                        "params": compare_sweep.apply(base["params"], a, v),
                    }
                    for v in a_values
                ]
            )
    elif problem is None:
        cells = compare_sweep.grid_cells(a, a_values, b, b_values)
        if len(cells) > compare_turns.MAX_CELLS:
            problem = f"A grid has at most {compare_turns.MAX_CELLS} cells; this one would have {len(cells)}."
        else:
            load_columns(
                [
                    {
                        **base,
                        "label": f"{compare_sweep.value_label(a, x)} · {compare_sweep.value_label(b, y)}",
                        "params": compare_sweep.apply(compare_sweep.apply(base["params"], a, x), b, y),
                        "grid": {"row": [a, x], "col": [b, y]},
                    }
                    for (_, x), (_, y) in cells
                ]
            )
    s["compare.sweep.problem"] = problem


def _leave_grid() -> None:
    st.session_state["compare.grid"] = None


def sweep_panel() -> None:
    """Pick a parameter and values (and optionally a second one for a grid); the columns fill."""
    names = list(compare_sweep.SWEEPS)
    with st.expander("Sweep a parameter", icon=":material/linear_scale:"):
        left, right = st.columns(2)
        with left:
            a = st.selectbox("Parameter", names, key="compare.sweep.a", format_func=rendering.plain)
            st.text_input(
                "Values (comma separated)",
                value=compare_sweep.SWEEPS[a][0],
                key=f"compare.sweep.values.{a}",
                help="One column per value, starting from column 1's settings.",
            )
        with right:
            b = st.selectbox(
                "Grid with (optional)",
                ["(none)", *names],
                key="compare.sweep.b",
                format_func=rendering.plain,
                help="A second parameter makes a grid: every pair of values is a cell of a table.",
            )
            if b != "(none)":
                st.text_input(
                    "Values (comma separated)",
                    value=compare_sweep.SWEEPS[b][0],
                    key=f"compare.sweep.values.b.{b}",
                )
        st.button(
            "Fill the columns" if b == "(none)" else "Make the grid",
            icon=":material/auto_awesome:",
            key="compare.sweep.fill",
            on_click=_fill_from_sweep,
        )
        problem = st.session_state.get("compare.sweep.problem")
        if problem:
            st.error(rendering.outside(problem), icon=":material/error:")


# -- the column editors ---------------------------------------------------------------------------------


def _target_named(targets: Sequence[Target], name: str | None) -> Target:
    for target in targets:
        if target.endpoint.name == name:
            return target
    return targets[0]


def column_from(stored: Mapping[str, Any], targets: Sequence[Target]) -> compare_turns.Column:
    """A runnable column from stored settings (the endpoint found by name; the default if gone).

    `params` may be a `Params` or what a run stored (either JSON shape)."""
    target = _target_named(targets, stored.get("endpoint"))
    params = Params.from_stored(stored.get("params"))
    if params.model is None:
        params = params.replace(model=target.model)
    extra = {
        k: v for k, v in stored.items() if k not in ("label", "endpoint", "model", "system_prompt", "params")
    }
    return compare_turns.Column(
        label=stored.get("label") or "",
        endpoint=Endpoint(
            base_url=target.endpoint.base_url,
            api_key=target.endpoint.api_key,
            name=target.endpoint.name,
            models=target.endpoint.models,
            length_field=target.endpoint.length_field,
        ),
        params=params,
        system_prompt=stored.get("system_prompt") or "",
        extra=extra,
    )


def _presets(make_session: sessionmaker[Session], user_id: int) -> list[dict[str, Any]]:
    with make_session() as session:
        found = presets_store.list_presets(session, session.get(User, user_id))
        return [
            {"id": p.id, "kind": p.kind, "name": p.name, "system_prompt": p.system_prompt, "params": p.params}
            for p in found
        ]


def column_editors(
    targets: Sequence[Target], make_session: sessionmaker[Session], user_id: int
) -> tuple[list[compare_turns.Column], list[str]]:
    """Draw one editor per column; return the runnable columns and the problems that stop a run."""
    count = st.session_state["compare.ncols"]
    names = [t.endpoint.name for t in targets]
    presets = _presets(make_session, user_id)
    columns: list[compare_turns.Column] = []
    problems: list[str] = []
    for index, slot in enumerate(st.columns(count)):
        stored = st.session_state["compare.cols"][index]
        with slot:
            st.session_state.setdefault(f"compare.label.{index}", stored.get("label", ""))
            st.session_state.setdefault(f"compare.sys.{index}", stored.get("system_prompt", ""))
            st.text_input("Label", key=f"compare.label.{index}", placeholder=f"Column {index + 1}")
            endpoint_name = stored.get("endpoint") if stored.get("endpoint") in names else names[0]
            if len(targets) > 1:
                st.session_state.setdefault(f"compare.ep.{index}", endpoint_name)
                endpoint_name = st.selectbox(
                    "Endpoint", names, key=f"compare.ep.{index}", format_func=rendering.plain
                )
            target = _target_named(targets, endpoint_name)
            st.text_area(
                "System prompt",
                key=f"compare.sys.{index}",
                height=68,
                placeholder="How the model should behave (optional).",
            )
            with st.expander("Parameters", icon=":material/tune:"):
                form = parameter_form(form_prefix(index), stored["params"], default_model=target.model)
            st.session_state[f"compare.params.{index}"] = form.params
            st.caption(rendering.label(params_summary(form.params)))
            with st.popover("Copy or preset", icon=":material/content_copy:"):
                for other in range(count):
                    if other != index:
                        st.button(
                            f"Copy column {other + 1}",
                            key=f"compare.copy.{index}.{other}",
                            on_click=_copy_column,
                            args=(index, other),
                        )
                for preset in presets:
                    kind = "System prompt" if preset["kind"] == "system" else "Parameters"
                    st.button(
                        f"{rendering.trusted(kind)}: {rendering.label(preset['name'])}",
                        key=f"compare.preset.{index}.{preset['id']}",
                        on_click=_apply_preset,
                        args=(index, preset),
                    )
            if not form.ok:
                problems.extend(f"Column {index + 1}: {p.message}" for p in form.problems)
                continue
            stored_now = {
                "label": st.session_state[f"compare.label.{index}"],
                "system_prompt": st.session_state[f"compare.sys.{index}"],
                "endpoint": target.endpoint.name,
                "params": form.params,
            }
            columns.append(column_from(stored_now, targets))
    return columns, problems


def grid_columns(targets: Sequence[Target]) -> list[compare_turns.Column]:
    """The cells of the grid made by the sweep, as runnable columns; shows what the grid is."""
    cells = st.session_state["compare.grid"]
    first = cells[0]["grid"]
    st.info(
        f"Grid: **{rendering.label(first['row'][0])}** × **{rendering.label(first['col'][0])}**, "
        f"{len(cells)} cells, each from column 1's settings. Send a prompt to run every cell at once.",
        icon=":material/grid_on:",
    )
    st.button(
        "Back to columns", key="compare.grid.leave", on_click=_leave_grid, icon=":material/view_column:"
    )
    return [column_from(c, targets) for c in cells]


def history_picker(make_session: sessionmaker[Session], user_id: int) -> list[dict[str, Any]]:
    """Optionally start from an existing conversation; return its messages (OpenAI format)."""
    with make_session() as session:
        user = session.get(User, user_id)
        options = [
            (c.id, c.title or "Untitled") for c in repository.list_conversations(session, user, limit=50)
        ]
    titles = dict(options)
    picked = st.selectbox(
        "Start from a conversation",
        [0, *titles],
        format_func=lambda i: "(none: a fresh start)" if i == 0 else rendering.plain(titles[i]),
        key="compare.from",
        help="Its messages are sent before your prompt, in every column.",
    )
    if not picked:
        return []
    with make_session() as session:
        user = session.get(User, user_id)
        path = repository.active_path(session, user, picked)
        return to_wire_messages("", path)


def sidebar_runs(make_session: sessionmaker[Session], user_id: int, current: int | None) -> None:
    """The "New comparison" button and the saved runs, most recent first."""
    with st.sidebar:
        st.button(
            "New comparison",
            icon=":material/add:",
            key="compare.new",
            on_click=_new_comparison,
            width="stretch",
        )
        with make_session() as session:
            runs = [
                (
                    r.id,
                    r.title or "Comparison",
                    len(r.columns or []),
                    "cells" if any(c.get("grid") for c in r.columns or []) else "columns",
                )
                for r in compare_store.list_compare_runs(session, session.get(User, user_id), limit=50)
            ]
        if not runs:
            st.caption("No saved comparisons yet: each one you run is kept here.")
        with st.container(key="compare.runs"):  # left-aligned, as a list reads (styles.py)
            for run_id, title, count, unit in runs:
                st.button(
                    f"{rendering.label(title)} · {count:d} " + ("cells" if unit == "cells" else "columns"),
                    key=f"compare.open.{run_id}",
                    on_click=_open_run,
                    args=(make_session, user_id, run_id),
                    type="primary" if run_id == current else "tertiary",
                    width="stretch",
                )
