"""The evaluate page end to end under AppTest, against the offline model on loopback: import a promptfoo
suite (unsupported assertions named, a malformed one refused with its line), the request count and
estimate, a run through the compare column editors, the matrix and one cell opened, the figures, the
export, reopening a saved run in a new session, blind review with labels hidden, and the command line
giving the page's pass rates for the same suite and settings."""

from __future__ import annotations

import json
import os

import pytest

from evals import cli
from evals import live as evals_live
from storage import evals as evals_store
from storage import open_database, repository, session_factory


def suite_yaml(n: int = 6) -> bytes:
    lines = ["description: JSON or not", "prompts: ['Tell me about {{topic}}']", "tests:"]
    for i in range(n):
        kind = "not-is-json" if i >= n - 2 else "is-json"
        lines += [
            f"  - description: T{i}",
            f"    vars: {{topic: topic {i}}}",
            f"    assert: [{{type: {kind}}}]",
        ]
    lines += [
        "  - description: Scripted",
        "    vars: {topic: scripts}",
        "    assert: [{type: javascript, value: 'output.length > 0'}]",
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def make_session(app_env):
    return session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))


def evaluate_page(new_app):
    at = new_app().run()
    at.switch_page("views/evaluate.py").run()
    assert not at.exception, at.exception
    return at


def upload(at, data: bytes, name: str = "suite.yaml"):
    at.file_uploader(key="evaluate.upload").set_value((name, data, "application/yaml")).run()
    assert not at.exception, at.exception
    return at


def json_vs_plain(at):
    """Setting 1 asks for JSON; setting 2 is plain text; both temperature 0 and seed 1."""
    for i in (0, 1):
        at.number_input(key=f"compare.p.{i}.temperature").set_value(0.0)
        at.number_input(key=f"compare.p.{i}.seed").set_value(1)
    at.text_input(key="compare.label.0").set_value("json")
    at.text_input(key="compare.label.1").set_value("plain")
    at.radio(key="compare.p.0.format").set_value("json_object")
    return at.run()


def local_user_id() -> int:
    with session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))() as session:
        return repository.ensure_user(session, "local").id


def wait_for_the_run(at):
    """The run goes on in its own thread: wait for it to store its end, then draw the page again."""
    going = evals_live.find(local_user_id(), int(at.query_params["eval"]))
    if going is not None:
        assert going.wait(60), "the evaluation did not end within a minute"
    at.run()
    assert not at.exception, at.exception
    return at


def run_page(at):
    at.button(key="evaluate.run").click().run()
    assert not at.exception, at.exception
    return wait_for_the_run(at)


def table_with(at, column: str):
    """The first table on the page that has `column`."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def stats_rows(at):
    return table_with(at, "95% interval")[["setting", "passed"]].values.tolist()


def test_import_run_open_a_cell_and_export(app_env, new_app, make_session):
    at = upload(evaluate_page(new_app), suite_yaml())
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and "javascript" in warnings[0] and "will not be run" in warnings[0]
    assert at.text_input(key="evaluate.template").value == "Tell me about {{topic}}"
    at = json_vs_plain(at)
    estimate = [i.value for i in at.info if "request" in i.value]
    assert estimate and estimate[0].startswith("14 request")  # 7 cases x 2 settings
    assert "$" in estimate[0] and " s," in estimate[0]
    sent_before = len(app_env.received)

    at = run_page(at)
    assert len(app_env.received) - sent_before == 14
    bodies = [r["body"] for r in app_env.received[sent_before:]]
    assert sum(1 for b in bodies if (b.get("response_format") or {}).get("type") == "json_object") == 7
    assert at.query_params["eval"]
    assert stats_rows(at) == [["json", "5/7"], ["plain", "3/7"]]  # the unrun javascript case passes both
    matrix = next(d for d in at.dataframe if d.key == "evaluate.matrix").value
    assert list(matrix.columns) == ["case", "json", "plain"]
    assert matrix.iloc[0].tolist() == ["1. T0", "pass", "FAIL"]
    assert matrix.iloc[5].tolist() == ["6. T5", "FAIL", "pass"]

    # Open a cell: its reply and each assertion with why.
    at.selectbox(key="evaluate.cell_case").set_value(0)
    at.selectbox(key="evaluate.cell_setting").set_value(1).run()
    checks = table_with(at, "assertion")
    assert checks[["assertion", "result"]].values.tolist() == [["is-json", "FAIL"]]
    assert "not JSON" in checks["why"][0]
    assert at.code[0].value.strip()  # the reply itself

    # Export: the results JSON is the stored run, the CSV one row per cell.
    exported = next(b for b in at.get("download_button") if b.proto.label == "Results JSON")
    assert exported.proto.label == "Results JSON"
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        runs = evals_store.list_runs(session, user)
        assert len(runs) == 1 and runs[0].status == "finished" and len(runs[0].cells) == 14


def test_a_saved_run_reopens_in_a_new_session(app_env, new_app):
    at = run_page(json_vs_plain(upload(evaluate_page(new_app), suite_yaml())))
    run_id = at.query_params["eval"]
    first = stats_rows(at)
    again = evaluate_page(new_app)
    at_run = [b for b in again.sidebar.button if b.key == f"evaluate.open.{run_id}"]
    at_run[0].click().run()
    assert not again.exception
    assert stats_rows(again) == first


def test_a_malformed_suite_is_refused_naming_the_line(app_env, new_app):
    bad = b"tests:\n  - vars: {q: a}\n    assert:\n      - {type: regex, value: '(x'}\n"
    at = upload(evaluate_page(new_app), bad)
    assert any("not imported" in e.value for e in at.error)
    assert any("line 4" in t.value and "regular expression" in t.value for t in at.text)
    assert not [b for b in at.button if b.key == "evaluate.run"]


def test_blind_review_hides_labels_and_tallies_per_setting(app_env, new_app):
    at = run_page(json_vs_plain(upload(evaluate_page(new_app), suite_yaml(2))))
    shown = [t.value for t in at.text] + [c.value for c in at.caption]
    assert "Reply 1" in shown and "Reply 2" in shown
    review_captions = [c.value for c in at.caption if "left to review" in c.value]
    assert review_captions and not any("json" in c or "plain" in c for c in review_captions)
    left = review_captions[0]
    at.button(key="evaluate.vote.tie").click().run()
    assert not at.exception
    tally = table_with(at, "win rate")
    assert tally[["setting", "ties"]].values.tolist() == [["json", 1], ["plain", 1]]
    assert [c.value for c in at.caption if "left to review" in c.value] != [left]
    at.button(key="evaluate.vote.1").click().run()
    tally = table_with(at, "win rate")
    assert tally["wins"].sum() == 1 and tally["losses"].sum() == 1


def test_the_command_line_gives_the_page_s_pass_rates(app_env, new_app, tmp_path, monkeypatch):
    at = run_page(json_vs_plain(upload(evaluate_page(new_app), suite_yaml())))
    page = stats_rows(at)
    suite = tmp_path / "suite.yaml"
    suite.write_bytes(suite_yaml())
    out = tmp_path / "results.json"
    settings = {
        "json": {"temperature": 0, "seed": 1, "response_format": {"type": "json_object"}},
        "plain": {"temperature": 0, "seed": 1},
    }
    argv = ["run", str(suite), "--out", str(out), "--secrets", str(tmp_path / "none.toml")]
    for name, params in settings.items():
        argv += ["--setting", f"{name}={json.dumps(params)}"]
    assert cli.main(argv) == 0
    record = json.loads(out.read_text())
    assert [[s["name"], f"{s['passed']}/{s['counted']}"] for s in record["stats"]] == page


def test_a_shared_evaluation_shows_parameters_and_figures_read_only(app_env, new_app, make_session):
    at = run_page(json_vs_plain(upload(evaluate_page(new_app), suite_yaml())))
    figures = stats_rows(at)
    at.button(key="evaluate.share").click().run()
    assert not at.exception
    address = next(c.value for c in at.code if "token=" in c.value)
    token = address.split("token=", 1)[1]
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        from storage import sharing

        links = sharing.list_share_links(session, user)
        assert [(link.kind, link.token) for link in links] == [("evaluation", token)]

    viewer = new_app()
    viewer.query_params["token"] = token
    viewer.run()
    viewer.switch_page("views/shared.py")
    viewer.query_params["token"] = token
    viewer.run()
    assert not viewer.exception, viewer.exception
    assert stats_rows(viewer) == figures
    params = table_with(viewer, "parameters")
    assert params["setting"].tolist() == ["json", "plain"]
    assert '"json_object"' in params["parameters"][0] and '"seed": 1' in params["parameters"][1]
    assert not [b for b in viewer.button if b.key and b.key.startswith("evaluate.")]  # nothing to change


def test_a_csv_suite_imports_and_an_edit_in_the_table_is_checked(app_env, new_app):
    csv_suite = (
        b"question,__expected1,__description\nWhat is 2 + 2?,contains:4,Sum\nSay hi,javascript:1,Script\n"
    )
    at = upload(evaluate_page(new_app), csv_suite, name="cases.csv")
    assert at.text_input(key="evaluate.template").value == "{{question}}"
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1 and warnings[0].startswith("Script") and "javascript" in warnings[0]
    editor_key = f"evaluate.editor.{at.session_state['evaluate.version']}"
    at.session_state[editor_key] = {
        "edited_rows": {0: {"__expected1": "regex:(oops"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception
    said = [e.value.replace("\\", "") for e in at.error]  # the page escapes markdown in outside text
    assert any("row 1, column __expected1: the regular expression '(oops' is invalid" in e for e in said)
    assert at.button(key="evaluate.run").disabled


def test_a_run_can_be_deleted(app_env, new_app, make_session):
    at = run_page(json_vs_plain(upload(evaluate_page(new_app), suite_yaml(1))))
    at.button(key="evaluate.delete").click().run()
    assert not at.exception
    assert "eval" not in at.query_params
    with make_session() as session:
        assert evals_store.list_runs(session, repository.ensure_user(session, "local")) == []


def test_a_sweep_fills_the_settings(app_env, new_app):
    at = upload(evaluate_page(new_app), suite_yaml(1))
    at.selectbox(key="compare.sweep.a").set_value("temperature").run()
    at.text_input(key="compare.sweep.values.temperature").set_value("0, 1, 2").run()
    at.button(key="compare.sweep.fill").click().run()
    assert not at.exception
    assert at.number_input(key="evaluate.ncols").value == 3
    sent_before = len(app_env.received)
    at = run_page(at)
    temperatures = sorted(r["body"].get("temperature") for r in app_env.received[sent_before:])
    assert temperatures == [0, 0, 1, 1, 2, 2]  # 2 cases (one scripted) x 3 settings
    assert [row[0] for row in stats_rows(at)] == ["temperature 0", "temperature 1", "temperature 2"]


def test_a_small_grid_is_a_set_of_settings_and_a_large_one_is_refused(app_env, new_app):
    at = upload(evaluate_page(new_app), suite_yaml(1))
    at.selectbox(key="compare.sweep.a").set_value("temperature").run()
    at.text_input(key="compare.sweep.values.temperature").set_value("0, 1").run()
    at.selectbox(key="compare.sweep.b").set_value("seed").run()
    at.text_input(key="compare.sweep.values.b.seed").set_value("1, 2, 3").run()
    at.button(key="compare.sweep.fill").click().run()
    assert not at.exception
    assert not at.button(key="evaluate.run").disabled
    at.text_input(key="compare.sweep.values.b.seed").set_value("1, 2, 3, 4").run()
    at.button(key="compare.sweep.fill").click().run()
    assert any("at most 6 settings" in e.value for e in at.error)
    assert at.button(key="evaluate.run").disabled
    at.text_input(key="compare.sweep.values.b.seed").set_value("1, 2, 3").run()
    at.button(key="compare.sweep.fill").click().run()
    at = run_page(at)
    assert len(stats_rows(at)) == 6


def test_a_saved_suite_reopens_in_a_new_session(app_env, new_app):
    at = upload(evaluate_page(new_app), suite_yaml(2))
    at.text_input(key="evaluate.template").set_value("About {{topic}}, briefly").run()
    at.text_input(key="evaluate.suite_name").set_value("Kept suite").run()
    at.button(key="evaluate.save_suite").click().run()
    assert not at.exception
    again = evaluate_page(new_app)
    again.selectbox(key="evaluate.saved_pick").set_value(0).run()
    again.button(key="evaluate.saved_open").click().run()
    assert not again.exception
    assert again.text_input(key="evaluate.template").value == "About {{topic}}, briefly"
    rows = table_with(again, "__expected1")
    assert rows["topic"].tolist() == ["topic 0", "topic 1", "scripts"]
    assert rows["__expected1"].tolist() == ["not-is-json", "not-is-json", "javascript:output.length > 0"]


def stalling_suite() -> bytes:
    """Three quick cases and one whose reply stalls for a minute: the run is surely still going while
    the test clicks around, and only Stop (or the minute) ends it."""
    lines = ["prompts: ['Tell me about {{topic}}']", "tests:"]
    for i, topic in enumerate(
        ["seeds", "tokens", "temperature", "stalls [[fault:stall:after=1,seconds=60]]"]
    ):
        lines += [
            f"  - description: C{i}",
            f"    vars: {{topic: '{topic}'}}",
            "    assert: [{type: not-is-json}]",
        ]
    return ("\n".join(lines) + "\n").encode()


def wait_until(condition, what: str, timeout: float = 30.0):
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)  # the polling interval, not a stand-in for the condition


def test_clicks_and_a_reload_during_a_run_do_not_stop_it_and_stop_keeps_what_finished(app_env, new_app):
    at = upload(evaluate_page(new_app), stalling_suite())
    at.button(key="evaluate.run").click().run()
    assert not at.exception, at.exception
    run_id = int(at.query_params["eval"])
    going = evals_live.find(local_user_id(), run_id)
    assert going is not None and not going.finished  # the page returned while the run goes on
    wait_until(lambda: sum(c.state == "done" for c in going.run.cells) == 6, "the six quick cells")

    # A click in the page (opening a finished cell) redraws it; the run goes on.
    at.run()
    assert any("6 of 8 requests" in p.proto.text for p in at.get("progress"))
    at.selectbox(key="evaluate.cell_case").set_value(1)
    at.selectbox(key="evaluate.cell_setting").set_value(1).run()
    assert not at.exception, at.exception
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert "2. C1 · Setting 2 · repeat 1 · done" in captions
    assert at.code[-1].value.strip() not in ("", "(empty)")  # the finished cell's reply
    assert not going.finished and [c.state for c in going.run.cells].count("running") == 2

    # A reload (a new session on the same address) finds the run still going, and can stop it.
    reloaded = new_app()
    reloaded.query_params["eval"] = str(run_id)
    reloaded.run()
    reloaded.switch_page("views/evaluate.py")
    reloaded.query_params["eval"] = str(run_id)
    reloaded.run()
    assert not reloaded.exception, reloaded.exception
    assert not going.finished
    reloaded.button(key="evaluate.stop").click().run()
    assert not reloaded.exception, reloaded.exception
    assert going.finished

    # Stop kept the six finished cells; the two cut short count in no pass rate.
    for page in (reloaded, at.run()):
        assert not page.exception, page.exception
        assert not [b for b in page.button if b.key == "evaluate.stop"]
        assert any("did not finish" in i.value for i in page.info)
        assert stats_rows(page) == [["Setting 1", "3/3"], ["Setting 2", "3/3"]]


def test_a_saved_suite_is_deleted_after_a_confirmation_and_its_runs_stay_unless_asked(
    app_env, new_app, make_session
):
    at = upload(evaluate_page(new_app), suite_yaml(1))
    at.text_input(key="evaluate.suite_name").set_value("Doomed").run()
    at.button(key="evaluate.save_suite").click().run()
    at = run_page(at)  # the run is linked to the saved suite it was run from
    kept_run = at.query_params["eval"]

    at = evaluate_page(new_app)
    at.selectbox(key="evaluate.saved_pick").set_value(0).run()
    at.button(key="evaluate.saved_delete").click().run()
    assert not at.exception, at.exception
    assert any("Delete the saved suite “Doomed”?" in w.value for w in at.warning)
    assert at.checkbox(key="evaluate.delete_runs_too").label == "Also delete its 1 run(s)"
    at.button(key="evaluate.delete_suite_cancel").click().run()  # changing one's mind keeps it
    assert not [w for w in at.warning if "Delete the saved suite" in w.value]
    with make_session() as session:
        assert [
            s.name for s in evals_store.list_suites(session, repository.ensure_user(session, "local"))
        ] == ["Doomed"]

    at.button(key="evaluate.saved_delete").click().run()
    at.button(key="evaluate.delete_suite_confirm").click().run()
    assert not at.exception, at.exception
    assert not [s for s in at.selectbox if s.key == "evaluate.saved_pick"]  # no saved suite is left
    # The run stays, with its own copy of the suite: it still opens.
    reopened = evaluate_page(new_app)
    reopened.query_params["eval"] = kept_run
    reopened.run()
    assert not reopened.exception, reopened.exception
    assert stats_rows(reopened)[0][0] == "Setting 1"

    # Deleting with "also its runs" ticked takes them along.
    at = upload(evaluate_page(new_app), suite_yaml(1))
    at.text_input(key="evaluate.suite_name").set_value("Doomed too").run()
    at.button(key="evaluate.save_suite").click().run()
    run_page(at)
    at = evaluate_page(new_app)
    at.selectbox(key="evaluate.saved_pick").set_value(0).run()
    at.button(key="evaluate.saved_delete").click().run()
    at.checkbox(key="evaluate.delete_runs_too").check().run()
    at.button(key="evaluate.delete_suite_confirm").click().run()
    assert not at.exception, at.exception
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        assert evals_store.list_suites(session, user) == []
        assert [r.id for r in evals_store.list_runs(session, user)] == [int(kept_run)]


def test_images_come_with_the_suite_or_are_attached_in_the_page_and_follow_their_case(app_env, new_app):
    from tests.evals.test_import import png

    suite = (
        b"prompts: ['What colour is it? {{q}}']\ntests:\n"
        b"  - {description: First, vars: {q: one}}\n"
        b"  - {description: Second, vars: {q: two}, images: [red.png]}\n"
        b"  - {description: Third, vars: {q: three}}\n"
    )
    at = evaluate_page(new_app)
    # A suite that names an image, uploaded without it, is refused naming the case and the file.
    at.file_uploader(key="evaluate.upload").set_value([("suite.yaml", suite, "application/yaml")]).run()
    assert any("tests[1].images" in t.value and "'red.png' was not found" in t.value for t in at.text)
    at.file_uploader(key="evaluate.upload").set_value(
        [("suite.yaml", suite, "application/yaml"), ("red.png", png(), "image/png")]
    ).run()
    assert not at.exception, at.exception
    assert not any("not imported" in e.value for e in at.error)
    assert at.expander[0].label.startswith("Images · 1 attached")

    # Attach a picture to the third case in the page.
    at.selectbox(key="evaluate.image_case").set_value(2).run()
    uploader = next(u for u in at.get("file_uploader") if u.proto.label == "Attach images to this case")
    uploader.set_value([("blue.png", png((20, 30, 200)), "image/png")]).run()
    assert not at.exception, at.exception
    assert at.expander[0].label.startswith("Images · 2 attached")
    # Something that is not a picture is refused in words, nothing added.
    at.selectbox(key="evaluate.image_case").set_value(0).run()
    uploader = next(u for u in at.get("file_uploader") if u.proto.label == "Attach images to this case")
    uploader.set_value([("notes.png", b"not a picture at all", "image/png")]).run()
    assert any("image" in e.value.lower() for e in at.error) and not at.exception
    assert at.expander[0].label.startswith("Images · 2 attached")

    # Delete the first row in the table: each image stays with its own case.
    editor_key = f"evaluate.editor.{at.session_state['evaluate.version']}"
    at.session_state[editor_key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [0]}
    at.run()
    assert not at.exception, at.exception
    sent_before = len(app_env.received)
    at.number_input(key="evaluate.ncols").set_value(1).run()
    at = run_page(at)
    sent = [r["body"]["messages"][-1]["content"] for r in app_env.received[sent_before:]]

    def text_and_images(content):
        if isinstance(content, str):
            return content, 0
        words = " ".join(p["text"] for p in content if p.get("type") == "text")
        return words, sum(p.get("type") == "image_url" for p in content)

    assert sorted(text_and_images(c) for c in sent) == [
        ("What colour is it? three", 1),
        ("What colour is it? two", 1),
    ]
    # The opened cell shows the case's image with the reply.
    at.selectbox(key="evaluate.cell_case").set_value(0).run()
    images = at.get("image")
    assert len(images) == 1 and images[0].proto.imgs[0].caption == "image 1"


@pytest.mark.parametrize("raw", ["99999999999999999999", "2147483648", "-7", "1e3", "0"])
def test_an_impossible_evaluation_id_in_the_url_is_not_found(engine_db_url, new_app, raw):
    at = new_app().run()
    at.switch_page("views/evaluate.py")
    at.query_params["eval"] = raw
    at.run()
    assert not at.exception, at.exception
    assert [w.value for w in at.warning] == ["That evaluation was not found."]


ANOTHER_PROCESS = """
import sys
from chat_client import Endpoint, Params
from evals import live, promptfoo
from evals.engine import Engine, Setting
from evals.runner import EvalRun
from storage import open_database, repository, session_factory

url, base_url, suite_text = sys.argv[1], sys.argv[2], sys.argv[3]
make_session = session_factory(open_database(url))
with make_session() as session:
    user_id = repository.ensure_user(session, "local").id
    session.commit()
endpoint = Endpoint(base_url=base_url, name="offline")
run = EvalRun(
    promptfoo.load_yaml(suite_text),
    [Setting("plain", endpoint, Params(model="gemini-2.5-flash", temperature=0, seed=1))],
    engine=Engine(make_session, user_id),
)
going = live.start(make_session, user_id, run)
print(going.run_id, flush=True)
sys.exit(0 if going.wait(120) else 1)
"""


def test_stop_in_a_page_of_another_app_process_stops_the_run_there(app_env, new_app):
    """The run goes on in a child process (another app server); this page finds it in the database,
    draws it, and its Stop reaches the child through the database."""
    import subprocess
    import sys

    from tests.browser.support import ROOT

    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            ANOTHER_PROCESS,
            os.environ["PRISM_DATABASE_URL"],
            app_env.base_url,
            stalling_suite().decode(),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        run_id = child.stdout.readline().strip()
        assert run_id.isdigit(), child.stderr.read()
        make = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))

        def quick_cells_saved():
            with make() as session:
                run = evals_store.get_run(session, repository.ensure_user(session, "local"), int(run_id))
                return sum(c.data.get("state") == "done" for c in run.cells) == 3

        try:
            wait_until(quick_cells_saved, "the three quick cells in the database")
        except AssertionError:
            child.kill()
            raise AssertionError(child.stderr.read()[-3000:]) from None
        at = evaluate_page(new_app)
        at.query_params["eval"] = run_id
        at.run()
        assert not at.exception, at.exception
        assert any("3 of 4 requests" in p.proto.text for p in at.get("progress"))
        assert any("another app process" in c.value for c in at.caption)
        at.button(key="evaluate.stop").click().run()
        assert any("Stopping" in c.value for c in at.caption)
        assert child.wait(30) == 0  # the child saw the request and stopped its run
        at.run()
        assert not at.exception, at.exception
        assert any("did not finish" in i.value for i in at.info)
        assert stats_rows(at) == [["plain", "3/3"]]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
