"""The evaluate page: a prompt suite run over several settings, with pass rates and honest intervals.

A straight script, top to bottom: open a saved run if the URL names one (`?eval=ID`), else bring a
suite (a promptfoo YAML or CSV file, or a saved suite), edit it, pick the settings (the compare page's
column editors), see what the run will send, run it. Running is evals.runner.EvalRun (which sends
through the turn engine); this page only draws it. Text from the suite or the model is shown as data
(tables, st.text, st.code) or escaped, never as markdown.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import streamlit as st

from components import compare_setup, downloads, evaluation, rendering, resources, share, url_ids
from evals import live as live_runs
from evals import promptfoo, saved
from evals.engine import Engine, Setting
from evals.runner import DEFAULT_CONCURRENCY, MAX_CONCURRENCY, MAX_REPEATS, MAX_SETTINGS, EvalRun, estimate
from evals.runner import results_csv as results_as_csv
from evals.stats import wins_lines
from evals.suite import Case, Suite, SuiteError
from storage import evals as evals_store
from storage import sharing
from storage.images import ImageRejected
from storage.models import User
from turns import compare as compare_turns
from turns import quota

RUN_KEY = "eval"
CASE_COLUMN = "__case"
IMAGE_TYPES = ("png", "jpg", "jpeg", "webp", "gif")
LIVE_EVERY_SECONDS = 0.5  # how often a running evaluation's matrix is redrawn
STOP_WAIT_SECONDS = 10.0
make_session = resources.sessions()
user_id = resources.current_user_id()
config = resources.settings()
targets = resources.targets(config)
default_target = targets[0]


def prices_for(model: str | None):
    return config.prices.get(model or default_target.model)


def set_suite(suite: Suite, *, suite_id: int | None = None, in_place: bool = False) -> None:
    """Make `suite` the one being edited (a fresh editor, so old edits do not apply to it); `suite_id`
    is the saved suite it came from, which Save then updates and a run is linked to. `in_place`: the
    same suite with a change made below the template and name fields (its images), which stay."""
    st.session_state["evaluate.suite"] = suite.to_dict()
    st.session_state["evaluate.version"] = st.session_state.get("evaluate.version", 0) + 1
    if not in_place:
        st.session_state["evaluate.template"] = suite.prompt
        st.session_state["evaluate.suite_id"] = suite_id
        st.session_state["evaluate.suite_name"] = suite.name


st.session_state.setdefault("evaluate.suite", None)
st.session_state.setdefault("evaluate.version", 0)
st.session_state.setdefault("evaluate.seen_upload", None)
compare_setup.init_state()
run_id = url_ids.id_param(RUN_KEY)

# -- the sidebar: saved runs and suites -----------------------------------------------------------------

with make_session() as session:
    me = session.get(User, user_id)
    saved_runs = [(r.id, r.title, r.status) for r in evals_store.list_runs(session, me, limit=30)]
    saved_suites = [(s.id, s.name, s.suite) for s in evals_store.list_suites(session, me)]
with st.sidebar:
    st.subheader("Evaluations", anchor=False)
    if st.button("New evaluation", icon=":material/add:", key="evaluate.new", disabled=run_id is None):
        st.query_params.pop(RUN_KEY, None)
        st.rerun()
    for rid, title, status in saved_runs:
        if st.button(
            rendering.label(f"{title[:40]} · {status}"),
            key=f"evaluate.open.{rid}",
            icon=":material/fact_check:",
            type="primary" if rid == run_id else "secondary",
        ):
            st.query_params[RUN_KEY] = str(rid)
            st.rerun()

st.title("Evaluate", anchor=False)
st.caption(
    "Run a prompt suite over several settings and see which does better, with 95% intervals. "
    f"Talking to {rendering.trusted(default_target.label)}."
)

# -- an open run ----------------------------------------------------------------------------------------


def stored_record() -> dict | None:
    """The open run as stored. A finished run's document is read once and kept while the run is
    unchanged: with 400 cells, reading and summing them on every rerun would cost more than drawing."""
    with make_session() as session:
        version = evals_store.run_version(session, session.get(User, user_id), run_id)
    cached = st.session_state.get("evaluate.record")
    if (
        version is not None
        and version[1] != "running"
        and cached is not None
        and cached[0] == (run_id, version)
    ):
        return cached[1]
    found = saved.open_record(make_session, user_id, run_id)
    if found is not None and found["run"]["status"] != "running":
        with make_session() as session:
            version = evals_store.run_version(session, session.get(User, user_id), run_id)
        st.session_state["evaluate.record"] = ((run_id, version), found)
    return found


def current_record() -> tuple[dict | None, live_runs.LiveRun | None]:
    """The open run as it stands: from its thread while this process runs it, else as stored."""
    going = live_runs.find(user_id, run_id)
    if going is not None and not going.finished:
        return going.record(), going
    return stored_record(), None


@st.fragment(run_every=LIVE_EVERY_SECONDS)
def running_view() -> None:
    """A run still going: progress, Stop, the matrix filling in, any finished cell opened, the figures
    so far. Only this part reruns on its timer or a click in it, and no rerun stops the run: it goes
    on in its own thread (evals/live.py)."""
    record, going = current_record()
    if record is None or record["run"]["status"] != "running":
        st.rerun()  # it ended (or its process died): draw the whole finished page
    settled = sum(c["state"] in ("done", "stopped", "not run") for c in record["cells"])
    total = len(record["cells"])
    st.progress(settled / total if total else 1.0, text=f"{settled} of {total} requests")
    if going is not None:
        if st.button("Stop", icon=":material/stop_circle:", key="evaluate.stop"):
            going.stop()
            going.wait(STOP_WAIT_SECONDS)
            st.rerun()
        st.caption("Stop keeps every finished cell. You can open cells, leave or reload: the run goes on.")
    else:
        if st.button("Stop", icon=":material/stop_circle:", key="evaluate.stop"):
            with make_session() as session:
                evals_store.request_stop(session, session.get(User, user_id), run_id)
                session.commit()
            st.session_state["evaluate.stop_asked"] = run_id
        if st.session_state.get("evaluate.stop_asked") == run_id:
            st.caption("Stopping: the app process running it stops within a second or two.")
        else:
            st.caption(
                "This run is going on in another app process; its cells appear here as they finish, and "
                "Stop keeps every finished one."
            )
    evaluation.matrix_with_cell(record)
    st.dataframe(evaluation.stats_frame(record), hide_index=True, width="stretch", key="evaluate.stats")


if run_id is not None:
    record, _ = current_record()
    if record is None:
        st.warning("That evaluation was not found.", icon=":material/search_off:")
        st.query_params.pop(RUN_KEY, None)
        st.stop()
    names = [s["name"] for s in record["settings"]]
    st.subheader(rendering.label(record["run"]["title"]), anchor=False)
    st.caption(
        f"{len(record['suite'].get('tests') or [])} case(s) × {len(names)} setting(s) × "
        f"{int(record['repeats'])} repeat(s) · {rendering.label(record['run']['status'])}"
    )
    if record["run"]["status"] == "running":
        running_view()
        st.stop()
    if record["run"]["status"] in ("stopped", "interrupted"):
        st.info("This run did not finish: cells marked “not run” were never sent and do not count.")

    matrix_tab, figures_tab, review_tab, export_tab = st.tabs(["Matrix", "Figures", "Blind review", "Export"])
    with matrix_tab:
        evaluation.matrix_with_cell(record)

    with figures_tab:
        st.dataframe(evaluation.stats_frame(record), hide_index=True, width="stretch", key="evaluate.stats")
        figure = evaluation.chart(record)
        if figure is not None:
            st.altair_chart(figure, width="stretch")
        st.caption("The bars are pass rates; the lines are 95% Wilson intervals.")
        for note in record["notes"]:
            st.info(rendering.label(note), icon=":material/balance:")
        st.markdown("**Which setting wins on which cases**")
        for line in wins_lines(record["wins"], lambda i: evaluation.case_label(record, i)):
            st.text(line)

    with review_tab:
        if len(names) < 2:
            st.caption("Blind review compares two settings; this run has one.")
        else:
            st.caption(
                "Two settings' replies to the same case, labels hidden and in shuffled order: pick the "
                "better one, or a tie. The tallies become a win rate per setting."
            )
            pair = st.multiselect(
                "Settings to compare",
                range(len(names)),
                default=[0, 1],
                format_func=lambda i: rendering.plain(names[i]),
                max_selections=2,
                key="evaluate.review_pair",
            )
            if len(pair) == 2:
                a, b = pair
                todo = evaluation.review_pairs(record, a, b)
                if not todo:
                    st.success("Every case of this pair has been reviewed.", icon=":material/done_all:")
                else:
                    case_i, repeat_i = todo[0]
                    first, second = evaluation.blind_order(run_id, case_i, repeat_i, a, b)
                    by_pos = {(c["case"], c["repeat"], c["setting"]): c for c in record["cells"]}
                    st.caption(
                        f"{len(todo)} left to review · "
                        + rendering.label(evaluation.case_label(record, case_i))
                    )
                    one, two = st.columns(2)
                    with one:
                        st.text("Reply 1")
                        st.code(
                            by_pos[(case_i, repeat_i, first)].get("content") or "",
                            language=None,
                            wrap_lines=True,
                        )
                    with two:
                        st.text("Reply 2")
                        st.code(
                            by_pos[(case_i, repeat_i, second)].get("content") or "",
                            language=None,
                            wrap_lines=True,
                        )
                    vote = None
                    buttons = st.columns(3)
                    if buttons[0].button("Reply 1 is better", key="evaluate.vote.1"):
                        vote = first
                    if buttons[1].button("Tie", key="evaluate.vote.tie"):
                        vote = -1
                    if buttons[2].button("Reply 2 is better", key="evaluate.vote.2"):
                        vote = second
                    if vote is not None:
                        with make_session() as session:
                            evals_store.add_review(
                                session,
                                session.get(User, user_id),
                                run_id,
                                {
                                    "case": case_i,
                                    "repeat": repeat_i,
                                    "a": a,
                                    "b": b,
                                    "winner": None if vote < 0 else vote,
                                },
                            )
                            session.commit()
                        st.rerun()
            if record.get("reviews"):
                st.dataframe(evaluation.tally_frame(record), hide_index=True, key="evaluate.tally")

    with export_tab:
        slug = f"evaluation-{run_id}"
        suite_obj = Suite.from_dict(record["suite"])
        cols = st.columns(4)
        cols[0].download_button(
            "Results JSON",
            downloads.made_on_click(lambda record=record: json.dumps(record, indent=2, ensure_ascii=False)),
            file_name=f"{slug}.json",
            mime="application/json",
            key="evaluate.export.json",
            on_click="ignore",
            icon=":material/data_object:",
        )
        cols[1].download_button(
            "Results CSV",
            downloads.made_on_click(lambda record=record: results_as_csv(record)),
            file_name=f"{slug}.csv",
            mime="text/csv",
            key="evaluate.export.csv",
            on_click="ignore",
            icon=":material/table:",
        )
        cols[2].download_button(
            "Suite as promptfoo YAML",
            downloads.made_on_click(lambda suite_obj=suite_obj: promptfoo.dump_yaml(suite_obj)),
            file_name=f"{slug}-suite.yaml",
            mime="application/yaml",
            key="evaluate.export.suite_yaml",
            on_click="ignore",
        )
        cols[3].download_button(
            "Suite as promptfoo CSV",
            downloads.made_on_click(lambda suite_obj=suite_obj: promptfoo.dump_csv(suite_obj)),
            file_name=f"{slug}-suite.csv",
            mime="text/csv",
            key="evaluate.export.suite_csv",
            on_click="ignore",
        )
        st.caption("The results JSON is the same file `python -m evals run ... --out results.json` writes.")
        if st.button("Share read-only", icon=":material/share:", key="evaluate.share"):
            with make_session() as session:
                link = sharing.create_evaluation_link(
                    session, session.get(User, user_id), run_id=run_id, snapshot=record
                )
                session.commit()
                st.session_state["evaluate.shared_token"] = (run_id, link.token if link else None)
        if st.button("Delete this run", icon=":material/delete:", key="evaluate.delete"):
            with make_session() as session:
                evals_store.delete_run(session, session.get(User, user_id), run_id)
                session.commit()
            st.session_state.pop("evaluate.record", None)
            st.query_params.pop(RUN_KEY, None)
            st.rerun()
        shared = st.session_state.get("evaluate.shared_token")
        if shared and shared[0] == run_id and shared[1]:
            st.caption(
                "Anyone with this address (and, unless public links are on, signed in) sees a read-only copy:"
            )
            st.code(share.link_url(shared[1]), language=None)
    st.stop()

# -- 1. the suite -------------------------------------------------------------------------------------

st.subheader("1. The suite", anchor=False)
uploads = st.file_uploader(
    "Import a promptfoo suite (YAML with `tests:`, or CSV with `__expected` columns), with any image "
    "files its cases name",
    type=["yaml", "yml", "json", "csv", *IMAGE_TYPES],
    accept_multiple_files=True,
    key="evaluate.upload",
)
suite_files = [u for u in uploads or [] if u.name.rsplit(".", 1)[-1].lower() not in IMAGE_TYPES]
if uploads:
    by_name = {u.name: u.getvalue() for u in uploads}
    fingerprint = hashlib.sha256(
        b"".join(hashlib.sha256(d).digest() + n.encode() for n, d in by_name.items())
    )
    if st.session_state["evaluate.seen_upload"] != fingerprint.hexdigest():
        st.session_state["evaluate.seen_upload"] = fingerprint.hexdigest()
        if len(suite_files) != 1:
            st.session_state["evaluate.import_error"] = (
                "Upload one suite file (YAML or CSV) at a time, with the image files it names."
                if suite_files
                else "Images arrived without a suite file: upload the suite (YAML or CSV) with them."
            )
        else:
            try:
                set_suite(
                    promptfoo.load(
                        suite_files[0].name,
                        suite_files[0].getvalue(),
                        # A case's image is looked up by its file name among the files uploaded with it.
                        image_files=lambda name: by_name.get(name) or by_name.get(name.rsplit("/", 1)[-1]),
                    )
                )
                st.session_state["evaluate.import_error"] = None
            except SuiteError as refused:
                st.session_state["evaluate.import_error"] = str(refused)
if st.session_state.get("evaluate.import_error"):
    st.error("The suite was not imported:", icon=":material/error:")
    st.text(st.session_state["evaluate.import_error"])
if saved_suites:
    pick = st.selectbox(
        "Or open a saved suite",
        [None, *range(len(saved_suites))],
        format_func=lambda i: "—" if i is None else rendering.plain(saved_suites[i][1]),
        key="evaluate.saved_pick",
    )
    if pick is not None:
        picked_id, picked_name, picked_suite = saved_suites[pick]
        open_col, delete_col = st.columns(2)
        if open_col.button("Open this suite", key="evaluate.saved_open", icon=":material/folder_open:"):
            set_suite(Suite.from_dict({**picked_suite, "name": picked_name}), suite_id=picked_id)
            st.rerun()
        if delete_col.button("Delete this suite…", key="evaluate.saved_delete", icon=":material/delete:"):
            st.session_state["evaluate.confirm_delete"] = picked_id
        if st.session_state.get("evaluate.confirm_delete") == picked_id:
            with make_session() as session:
                its_runs = evals_store.runs_of_suite(session, session.get(User, user_id), picked_id)
                run_count = len(its_runs)
            with st.container(border=True, key="evaluate.confirm"):
                st.warning(
                    rendering.label(f"Delete the saved suite “{picked_name}”? This cannot be undone."),
                    icon=":material/warning:",
                )
                with_runs = False
                if run_count:
                    with_runs = st.checkbox(
                        f"Also delete its {run_count:d} run(s)",
                        key="evaluate.delete_runs_too",
                        help="Left unticked, its runs stay: each keeps its own copy of the suite, so it "
                        "still opens, exports and shares. A run still going is never deleted.",
                    )
                else:
                    st.caption("No run was made from this suite.")
                yes, no = st.columns(2)
                if yes.button("Delete the suite", type="primary", key="evaluate.delete_suite_confirm"):
                    with make_session() as session:
                        evals_store.delete_suite(
                            session, session.get(User, user_id), picked_id, with_runs=with_runs
                        )
                        session.commit()
                    st.session_state.pop("evaluate.confirm_delete", None)
                    st.session_state.pop("evaluate.saved_pick", None)
                    if st.session_state.get("evaluate.suite_id") == picked_id:
                        st.session_state["evaluate.suite_id"] = None  # what is open stays, unsaved
                    st.toast("Suite deleted.", icon=":material/delete:")
                    st.rerun()
                if no.button("Cancel", key="evaluate.delete_suite_cancel"):
                    st.session_state.pop("evaluate.confirm_delete", None)
                    st.rerun()

suite_dict = st.session_state["evaluate.suite"]
if suite_dict is None:
    st.info("Import a suite to begin.", icon=":material/upload_file:")
    st.stop()

base_suite = Suite.from_dict(suite_dict)
template = st.text_input(
    "Prompt template",
    key="evaluate.template",
    help="Each case's variables fill {{name}}.",
)
columns, rows = promptfoo.suite_rows(base_suite)
for position, row in enumerate(rows):
    row[CASE_COLUMN] = str(position)  # hidden: which case a row was, so its images follow it
st.caption(
    "One row per case: a column per variable, `__description`, and one assertion per `__expected` column "
    "in promptfoo's CSV form (`contains:Paris`, `not-icontains:sorry`, `is-json`, `latency(5000)`, "
    "`llm-rubric:is polite`). Add or delete rows as you like."
)
edited = st.data_editor(
    pd.DataFrame(rows, columns=[*columns, CASE_COLUMN], dtype="string"),
    column_order=columns,
    num_rows="dynamic",
    width="stretch",
    hide_index=True,
    key=f"evaluate.editor.{st.session_state['evaluate.version']}",
)
edit_problems: list[str] = []
cases = []
for position, row in enumerate(edited.astype(object).where(edited.notna(), "").to_dict("records")):
    origin = str(row.pop(CASE_COLUMN, "") or "")
    try:
        case = promptfoo.case_from_row({str(k): str(v) for k, v in row.items()}, where=f"row {position + 1}")
    except SuiteError as problem:
        edit_problems.append(str(problem))
        continue
    if origin.isdigit() and int(origin) < len(base_suite.cases) and base_suite.cases[int(origin)].images:
        case = Case(case.vars, case.asserts, case.description, base_suite.cases[int(origin)].images)
    if any(case.vars.values()) or case.asserts:
        cases.append(case)
st.session_state.setdefault("evaluate.suite_name", base_suite.name)
suite = Suite(
    prompt=template or "",
    cases=tuple(cases),
    name=(st.session_state["evaluate.suite_name"] or "").strip() or base_suite.name,
)
for line in suite.unsupported():
    st.warning(rendering.label(line), icon=":material/block:")
problems = edit_problems + suite.problems()
for problem in problems:
    st.error(rendering.label(problem), icon=":material/error:")

image_count = sum(len(c.images) for c in suite.cases)
with st.expander(f"Images · {image_count:d} attached", icon=":material/image:"):
    if edit_problems or not suite.cases:
        st.caption("Fix the table above first: images are attached to the cases it holds.")
    else:
        st.caption(
            "A case's images are sent with its prompt, to every setting. PNG, JPEG, WebP and GIF, "
            "normalised as chat images are (orientation applied, metadata removed)."
        )
        target = st.selectbox(
            "Case",
            range(len(suite.cases)),
            format_func=lambda i: rendering.plain(suite.cases[i].label(i)),
            key="evaluate.image_case",
        )
        target = min(int(target or 0), len(suite.cases) - 1)
        chosen_case = suite.cases[target]

        def with_images(images: tuple[str, ...]) -> Suite:
            changed = list(suite.cases)
            changed[target] = Case(chosen_case.vars, chosen_case.asserts, chosen_case.description, images)
            return Suite(prompt=suite.prompt, cases=tuple(changed), name=suite.name)

        added = st.file_uploader(
            "Attach images to this case",
            type=list(IMAGE_TYPES),
            accept_multiple_files=True,
            key=f"evaluate.case_images.{st.session_state['evaluate.version']}.{target}",
        )
        if added:
            try:
                urls = compare_turns.data_urls_of([(f.getvalue(), f.name) for f in added])
            except ImageRejected as refused:
                st.error(rendering.label(refused.message), icon=":material/error:")
            else:
                set_suite(with_images((*chosen_case.images, *urls)), in_place=True)
                st.rerun()
        for index, url in enumerate(chosen_case.images):
            thumb, remove = st.columns([4, 1])
            thumb.image(evaluation.image_bytes(url), width=160)
            if remove.button("Remove", key=f"evaluate.image_remove.{index}", icon=":material/close:"):
                set_suite(
                    with_images(chosen_case.images[:index] + chosen_case.images[index + 1 :]), in_place=True
                )
                st.rerun()

save_cols = st.columns([3, 1])
save_cols[0].text_input(
    "Suite name", key="evaluate.suite_name", help="Saving under the name it was opened with updates it."
)
if save_cols[1].button(
    "Save suite", icon=":material/save:", key="evaluate.save_suite", disabled=bool(edit_problems)
):
    with make_session() as session:
        me = session.get(User, user_id)
        kept = evals_store.get_suite(session, me, st.session_state.get("evaluate.suite_id") or -1)
        if kept is not None and kept.name == suite.name:
            evals_store.update_suite(session, me, kept.id, suite=suite.to_dict())
            said = "Suite updated."
        else:
            kept = evals_store.create_suite(session, me, name=suite.name, suite=suite.to_dict())
            said = "Suite saved."
        session.commit()
        st.session_state["evaluate.suite_id"] = kept.id
    st.toast(rendering.trusted(said), icon=":material/save:")
suite_slug = "".join(ch if ch.isalnum() else "-" for ch in suite.name).strip("-")[:60] or "suite"
yaml_col, csv_col = st.columns(2)
yaml_col.download_button(
    "Download as promptfoo YAML",
    downloads.made_on_click(lambda: promptfoo.dump_yaml(suite)),
    file_name=f"{suite_slug}.yaml",
    mime="application/yaml",
    key="evaluate.suite_yaml",
    on_click="ignore",
    icon=":material/download:",
)
csv_col.download_button(
    "Download as promptfoo CSV",
    downloads.made_on_click(lambda: promptfoo.dump_csv(suite)),
    file_name=f"{suite_slug}.csv",
    mime="text/csv",
    key="evaluate.suite_csv",
    on_click="ignore",
    icon=":material/download:",
    help="promptfoo's CSV form has no place for the prompt template; the YAML keeps it.",
)

# -- 2. the settings ----------------------------------------------------------------------------------

st.subheader("2. The settings", anchor=False)
st.caption("The same column editors as Compare (and its sweep): each column is one setting to evaluate.")
shared_count = st.session_state.get("compare.ncols", 2)
if st.session_state.get("evaluate.seen_compare_ncols") not in (None, shared_count):
    # A sweep (here or on the compare page) filled the columns: show as many settings as it made.
    st.session_state["evaluate.ncols"] = max(1, min(int(shared_count), MAX_SETTINGS))
st.session_state.setdefault("evaluate.ncols", 2)
compare_setup.sweep_panel()
if st.session_state["compare.grid"]:
    compare_columns = compare_setup.grid_columns(targets)
    setting_problems = (
        [
            f"An evaluation compares at most {MAX_SETTINGS} settings; "
            f"this grid has {len(compare_columns)} cells."
        ]
        if len(compare_columns) > MAX_SETTINGS
        else []
    )
else:
    count = st.number_input("Settings", min_value=1, max_value=MAX_SETTINGS, step=1, key="evaluate.ncols")
    shared_count = st.session_state.get("compare.ncols", 2)
    st.session_state["compare.ncols"] = int(count)
    try:
        compare_columns, setting_problems = compare_setup.column_editors(targets, make_session, user_id)
    finally:
        st.session_state["compare.ncols"] = shared_count  # the compare page keeps its own count
st.session_state["evaluate.seen_compare_ncols"] = st.session_state.get("compare.ncols", 2)
settings = [
    Setting(
        name=(c.label or f"Setting {i + 1}").strip(),
        endpoint=c.endpoint,
        params=c.params,
        system_prompt=c.system_prompt,
    )
    for i, c in enumerate(compare_columns)
]
if len({s.name for s in settings}) != len(settings):
    setting_problems.append("Give each setting its own label.")
for problem in setting_problems:
    st.error(rendering.label(problem), icon=":material/error:")

# -- 3. the run ---------------------------------------------------------------------------------------

st.subheader("3. Run", anchor=False)
knobs = st.columns(3)
repeats = knobs[0].number_input(
    "Repeat each case", min_value=1, max_value=MAX_REPEATS, step=1, key="evaluate.repeats"
)
concurrency = knobs[1].number_input(
    "Requests at once, per setting",
    min_value=1,
    max_value=MAX_CONCURRENCY,
    value=DEFAULT_CONCURRENCY,
    step=1,
    key="evaluate.concurrency",
    help="Each setting sends this many at a time, side by side. Fewer is kinder to rate limits.",
)
grader_index = knobs[2].selectbox(
    "Grade llm-rubric with",
    range(len(settings)) if settings else [0],
    format_func=lambda i: rendering.plain(settings[i].name) if i < len(settings) else "—",
    key="evaluate.grader",
    help="The setting whose model grades llm-rubric assertions (its reasoning is kept).",
)
blocked = bool(problems or setting_problems or not settings)
if not blocked:
    guess = estimate(
        suite,
        settings,
        repeats=int(repeats),
        concurrency=int(concurrency),
        prices_for=prices_for,
        seconds_per_request=3.0,
    )
    st.info(rendering.label(guess.words()), icon=":material/calculate:")
go = st.button(
    "Run the evaluation", type="primary", icon=":material/play_arrow:", key="evaluate.run", disabled=blocked
)

if go and not blocked:
    grader = settings[grader_index] if grader_index < len(settings) else settings[0]
    engine = Engine(make_session, user_id, limits=quota.Limits.from_settings(config))
    evaluation_run = EvalRun(
        suite,
        settings,
        engine=engine,
        repeats=int(repeats),
        concurrency=int(concurrency),
        grader=grader,
        prices_for=prices_for,
    )
    going = live_runs.start(
        make_session, user_id, evaluation_run, suite_id=st.session_state.get("evaluate.suite_id")
    )
    st.query_params[RUN_KEY] = str(going.run_id)
    st.rerun()
