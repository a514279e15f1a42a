"""The compare page: one prompt, 2 to 6 columns of settings, every column streaming at once.

A straight script, top to bottom (house style): set up the columns (or a sweep, or a grid), show the
open run from the database, take a prompt, run it. Running (concurrent streaming, timing, saving) is
`turns.compare.CompareTurn`; this page only draws it. The open run lives in the URL (`?run=ID`), so a
reload, the saved-runs list and a fresh run all show the same stored view.
"""

from __future__ import annotations

import streamlit as st

from components import (
    cached_reads,
    compare_setup,
    compare_stats,
    compare_view,
    downloads,
    rendering,
    resources,
    share,
    styles,
)
from storage import ImageRejected
from storage import compare as compare_store
from storage.models import User
from turns import compare as compare_turns
from turns import quota

make_session = resources.sessions()
user_id = resources.current_user_id()
config = resources.settings()
targets = resources.targets(config)
default_target = targets[0]


def prices_for(column: dict):
    """The price table of a column's replies: its endpoint's (the offline model is free), its model's."""
    target = next((t for t in targets if t.endpoint.name == column.get("endpoint")), default_target)
    return resources.prices_for(target, column.get("model"), config)


styles.compare_page()
compare_setup.init_state()
run_id = compare_setup.open_run_id()
compare_setup.load_open_run_once(make_session, user_id, run_id)
compare_setup.sidebar_runs(make_session, user_id, run_id)

st.title("Compare", anchor=False)
st.caption(
    "One prompt, several settings side by side, all streaming at once. "
    f"Talking to {rendering.trusted(default_target.label)}."
)
if run_id is None:
    st.caption(
        "What does temperature do? Open **Sweep a parameter** and fill the columns. Is a seed "
        "reproducible? Set one, repeat each column 5 times, and count the distinct replies."
    )

# -- the columns ---------------------------------------------------------------------------------------

# Keyed by the open run, so the settings fold away when a run opens and unfold for a new comparison.
with st.expander(
    "Columns", icon=":material/view_column:", expanded=run_id is None, key=f"compare.setup.{run_id}"
):
    top = st.columns(3)
    with top[0]:
        st.number_input(
            "Columns",
            min_value=2,
            max_value=compare_turns.MAX_COLUMNS,
            step=1,
            key="compare.ncols",
            disabled=st.session_state["compare.grid"] is not None,
        )
    with top[1]:
        st.number_input(
            "Repeat each column",
            min_value=1,
            max_value=compare_turns.MAX_REPEATS,
            step=1,
            key="compare.repeats",
            help="Send the same request k times to see how much the replies vary.",
        )
    with top[2]:
        history = compare_setup.history_picker(make_session, user_id)
    compare_setup.sweep_panel()
    if st.session_state["compare.grid"]:
        columns = compare_setup.grid_columns(targets)
        problems: list[str] = []
    else:
        columns, problems = compare_setup.column_editors(targets, make_session, user_id)
for problem in problems:
    st.error(rendering.outside(problem), icon=":material/error:")


def run_turn(
    run_id: int,
    run_columns: list[compare_turns.Column],
    wire: list[list[dict]],
    *,
    repeats: int,
    turn_index: int,
    prompt: str,
) -> None:
    """Stream one turn of a run into live placeholders, then rerun to show it from the database."""
    turn = compare_turns.CompareTurn(
        make_session=make_session,
        user_id=user_id,
        run_id=run_id,
        columns=run_columns,
        messages=wire,
        repeats=repeats,
        turn_index=turn_index,
        prompt=prompt,
        engine=resources.engine(),
        limits=quota.Limits.from_settings(config),
    )
    with st.chat_message("user"):
        st.markdown(rendering.outside(prompt))
    turn.run(compare_view.LiveView(turn, [c.stored() for c in run_columns]))
    st.rerun()


def start_run(
    prompt: str,
    run_columns: list[compare_turns.Column],
    *,
    repeats: int,
    history: list[dict],
    images: list[tuple[bytes, str]],
) -> None:
    """Save a new run (before anything is sent), open it, and stream its first turn."""
    new_id = compare_turns.create_run(
        make_session,
        user_id,
        prompt=prompt,
        columns=run_columns,
        repeats=repeats,
        history=history,
        images=images,
    )
    compare_setup.set_open_run(new_id)
    with make_session() as session:
        run = compare_store.get_compare_run(session, session.get(User, user_id), new_id)
        urls = compare_turns.image_data_urls(run)
    wire = [compare_turns.first_messages(c.system_prompt, history, prompt, urls) for c in run_columns]
    run_turn(new_id, run_columns, wire, repeats=repeats, turn_index=0, prompt=prompt)


# -- the open run ----------------------------------------------------------------------------------------

fork_request: dict[str, int] = {}
again_clicked = False
open_run: dict | None = None

if run_id is not None:
    with make_session() as session:
        run = compare_store.get_compare_run(session, session.get(User, user_id), run_id)
        if run is None:
            st.warning("That comparison was not found. Start a new one below.", icon=":material/search_off:")
            compare_setup.set_open_run(None)
            run_id = None
        else:
            is_grid = any(c.get("grid") for c in run.columns or [])
            turn_total = compare_turns.turn_count(run)
            previous_texts: list[str | None] = []
            again_of = (run.columns or [{}])[0].get("again_of")
            if again_of:
                earlier = compare_store.get_compare_run(session, session.get(User, user_id), again_of)
                if earlier is not None:
                    previous_texts = [
                        (found.content if (found := compare_turns.reply_of(earlier, 0, i)) else None)
                        for i in range(len(earlier.columns or []))
                    ]
            current_texts = [
                (found.content if (found := compare_turns.reply_of(run, 0, i)) else None)
                for i in range(len(run.columns or []))
            ]
            marks = compare_stats.identical_columns(previous_texts, current_texts) if previous_texts else []
            if again_of and marks:
                same = sum(1 for m in marks if m)
                st.info(
                    rendering.trusted(
                        f"Run again: {same} of {len(marks)} column(s) gave the identical reply."
                    ),
                    icon=":material/replay:",
                )
            if run.history:
                st.caption(f"Started from a conversation of {len(run.history)} message(s).")
            if run.attachments:
                st.image([a.thumbnail or a.data for a in run.attachments], width=120)

            def fork_button(index: int, run_id: int = run.id) -> None:
                if st.button(
                    "Open in chat", key=f"compare.fork.{run_id}.{index}", icon=":material/call_split:"
                ):
                    fork_request["column"] = index

            for turn_index in range(max(turn_total, 1)):
                first = compare_turns.reply_of(run, turn_index, 0)
                shown_prompt = run.prompt if turn_index == 0 else (first.prompt if first else "")
                with st.chat_message("user"):
                    st.markdown(rendering.outside(shown_prompt))
                last = turn_index == turn_total - 1
                if is_grid:
                    compare_view.show_grid(run, turn_index, prices_for)
                else:
                    compare_view.show_columns(
                        run,
                        turn_index,
                        prices_for,
                        again=marks if turn_index == 0 else (),
                        actions=fork_button if last else None,
                    )
            last_turn = max(turn_total - 1, 0)
            metrics_tab, diff_tab, export_tab = st.tabs(["Metrics", "Differences", "Save and export"])
            with metrics_tab:
                compare_view.show_metrics(run, last_turn, prices_for)
            with diff_tab:
                compare_view.show_diff(run, last_turn)
            with export_tab:
                st.caption("This comparison is saved; reopen it from the list in the sidebar.")
                row = st.container(horizontal=True, key="compare.export")
                row.download_button(
                    "Export CSV",
                    downloads.made_on_click(lambda run=run: compare_stats.run_as_csv(run, prices_for)),
                    file_name=f"comparison-{run.id}.csv",
                    mime="text/csv",
                    icon=":material/table:",
                    key="compare.export.csv",
                    on_click="ignore",
                )
                row.download_button(
                    "Export JSON",
                    downloads.made_on_click(lambda run=run: compare_stats.run_as_json(run)),
                    file_name=f"comparison-{run.id}.json",
                    mime="application/json",
                    icon=":material/data_object:",
                    key="compare.export.json",
                    on_click="ignore",
                )
                with row:
                    share.share_button(make_session, user_id, compare_run_id=run.id, in_sidebar=False)
            again_clicked = st.button(
                "Run again",
                icon=":material/replay:",
                key="compare.again",
                help="Send the first prompt again with the same columns; marks which replies are identical.",
            )
            open_run = {
                "id": run.id,
                "prompt": run.prompt,
                "history": list(run.history or []),
                "repeats": run.repeats,
                "columns": [dict(c) for c in run.columns or []],
                "images": [
                    (a.data, f"image-{i}.{a.mime.split('/')[-1]}") for i, a in enumerate(run.attachments)
                ],
                "labels": [
                    compare_view.column_title(i, c, run.columns or [])
                    for i, c in enumerate(run.columns or [])
                ],
            }

if "column" in fork_request and open_run is not None:
    conversation_id = compare_turns.fork_to_conversation(
        make_session, user_id, open_run["id"], fork_request["column"]
    )
    cached_reads.forget_conversations()  # the chat sidebar lists the new conversation at once
    st.switch_page("views/chat.py", query_params={"c": str(conversation_id)})

if again_clicked and open_run is not None:
    again_columns = [
        compare_setup.column_from({**c, "again_of": open_run["id"]}, targets) for c in open_run["columns"]
    ]
    start_run(
        open_run["prompt"],
        again_columns,
        repeats=open_run["repeats"],
        history=open_run["history"],
        images=open_run["images"],
    )

# -- the next prompt -------------------------------------------------------------------------------------

mode = "new"
adopt: int | None = None
if open_run is not None:
    choice = st.radio(
        "Your next prompt",
        ["Continue in every column", "Continue from one column's reply", "Start a new comparison"],
        horizontal=True,
        key="compare.next",
        help="Continuing keeps each column's own history; or every column takes one column's reply.",
    )
    mode = {"Continue in every column": "continue", "Continue from one column's reply": "adopt"}.get(
        choice, "new"
    )
    if mode == "adopt":
        adopt = st.selectbox(
            "Whose reply",
            range(len(open_run["labels"])),
            format_func=lambda i: rendering.plain(open_run["labels"][i]),
            key="compare.adopt",
        )

# A prompt that could not be sent goes back in the box, with the reason above it (nothing typed is lost).
unsent = st.session_state.pop("compare.unsent", None)
if unsent is not None:
    st.error(rendering.trusted(unsent["why"]), icon=":material/error:")  # give_back got rendered text
    st.session_state["compare.input"] = unsent["text"]


def give_back(text: str, why: str) -> None:
    """Refuse to send, say why, and put the prompt back in the chat input on the rerun."""
    st.session_state["compare.unsent"] = {"text": text, "why": why}
    st.rerun()


sent = st.chat_input(
    "Prompt for every column" if mode == "new" else "Next message in every column",
    key="compare.input",
    accept_file="multiple",
    submit_mode="stop",
)

if sent:
    text = sent if isinstance(sent, str) else (sent.text or "")
    uploads = [] if isinstance(sent, str) else [(f.getvalue(), f.name) for f in sent.files or []]
    try:
        # Checked before anything is saved or sent. A comparison about an image is meaningless without
        # it, so a file that is not a usable image (an SVG, a HEIC, a broken PNG) stops the whole send,
        # is named, and the prompt goes back in the box to send again with another file.
        image_urls = compare_turns.data_urls_of(uploads)
    except ImageRejected as rejected:
        give_back(text, rendering.outside(f"{rejected} Nothing was sent; your prompt is still in the box."))
    if mode == "new":
        repeats = int(st.session_state["compare.repeats"])
        if problems:
            give_back(text, "Fix the columns' settings above first; your prompt is still in the box.")
        elif len(columns) * repeats > compare_turns.MAX_REQUESTS:
            give_back(
                text,
                rendering.trusted(
                    f"{len(columns)} columns × {repeats} repeats would send {len(columns) * repeats} "
                    f"requests at once; the limit is {compare_turns.MAX_REQUESTS}. Lower the repeats or "
                    "use fewer cells; your prompt is still in the box."
                ),
            )
        elif not text.strip() and not uploads:
            st.warning("Type a prompt first.")
        else:
            start_run(
                text,
                columns,
                repeats=repeats,
                history=history,
                images=uploads,
            )
    elif open_run is not None:
        with make_session() as session:
            run = compare_store.get_compare_run(session, session.get(User, user_id), open_run["id"])
            wire, turn_index = compare_turns.continuation(
                run, text, adopt=adopt if mode == "adopt" else None, image_data_urls=image_urls
            )
        run_columns = [compare_setup.column_from(c, targets) for c in open_run["columns"]]
        run_turn(
            open_run["id"], run_columns, wire, repeats=open_run["repeats"], turn_index=turn_index, prompt=text
        )
