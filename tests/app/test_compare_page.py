"""The compare page end to end under AppTest, against the offline model on loopback: each column's own
parameters reach the wire, repeats, sweeps and grids fill the columns, diff marks, JSON pass rate,
run again, multi-turn, reopening a saved run, forking a column into a chat, and images."""

from __future__ import annotations

import io
import os
import re

import pytest
from PIL import Image

from storage import compare as compare_store
from storage import open_database, repository, session_factory


def compare_page(new_app):
    at = new_app().run()
    at.switch_page("views/compare.py").run()
    assert not at.exception
    return at


def send(at, text="What does temperature do?"):
    at.chat_input(key="compare.input").set_value(text).run()
    assert not at.exception, at.exception
    return at


def unescaped(markdown: str) -> str:
    """Escaped markdown as the page shows it (`1\\.5` reads `1.5`)."""
    return re.sub(r"\\(.)", r"\1", str(markdown))


def bodies(server):
    return [r["body"] for r in server.received]


def texts(at):
    return [m.value for m in at.markdown]


@pytest.fixture
def make_session(app_env):
    """The app's database, for looking at what the page stored."""
    return session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))


def stored_runs(make_session):
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        return [
            (r.id, len(r.columns), len(r.results)) for r in compare_store.list_compare_runs(session, user)
        ]


def test_each_column_sends_its_own_parameters_and_system_prompt(app_env, new_app):
    at = compare_page(new_app)
    at.number_input(key="compare.ncols").set_value(3).run()
    at.number_input(key="compare.p.0.temperature").set_value(0.0)
    at.number_input(key="compare.p.1.temperature").set_value(1.5)
    at.number_input(key="compare.p.1.seed").set_value(7)
    at.number_input(key="compare.p.2.top_p").set_value(0.5)
    at.text_area(key="compare.sys.2").set_value("Answer briefly.")
    send(at)
    sent = sorted(
        (
            (b.get("temperature"), b.get("seed"), b.get("top_p"), b["messages"][0]["role"])
            for b in bodies(app_env)
        ),
        key=repr,
    )
    assert sent == sorted(
        [(0.0, None, None, "user"), (1.5, 7, None, "user"), (None, None, 0.5, "system")], key=repr
    )
    system = next(b for b in bodies(app_env) if b.get("top_p") == 0.5)["messages"][0]
    assert system == {"role": "system", "content": "Answer briefly."}


def test_a_run_shows_every_column_with_its_metrics_and_is_saved(app_env, new_app, make_session):
    at = compare_page(new_app)
    send(at, "Tell me about seeds")
    assert sum(1 for t in texts(at) if t.startswith("**1 ·") or t.startswith("**2 ·")) == 2
    captions = " ".join(c.value for c in at.caption)
    assert "first token" in captions and "finish: stop" in captions and "total" in captions
    runs = stored_runs(make_session)
    assert len(runs) == 1 and runs[0][1:] == (2, 2)
    assert at.query_params["run"] in (str(runs[0][0]), [str(runs[0][0])])


def test_repeats_send_k_requests_per_column_and_count_distinct_outputs(app_env, new_app):
    at = compare_page(new_app)
    at.number_input(key="compare.repeats").set_value(4)
    at.number_input(key="compare.p.0.temperature").set_value(0.0)
    at.number_input(key="compare.p.1.temperature").set_value(2.0)
    send(at)
    assert len(app_env.received) == 8
    counts = [t for t in texts(at) if "distinct**" in t]
    assert counts[0] == "**1 distinct** of 4 replies"  # temperature 0 is repeatable
    assert counts[1].endswith("of 4 replies") and counts[1] != counts[0]
    assert any("×4" in t for t in texts(at))
    # Folded into a line per column, not a table per column: the page stays short with k repeats.
    assert not [df for df in at.dataframe if "median" in list(df.value.columns)]
    spreads = [c.value for c in at.caption if c.value.startswith("median ")]
    assert len(spreads) == 2
    assert all(f" {what} " in spreads[1] for what in ("words", "total", "first token", "tokens"))
    folded = [e for e in at.expander if e.label == "Distinct outputs"]
    assert len(folded) == 2 and not any(e.proto.expanded for e in folded)


def test_a_temperature_sweep_fills_the_columns(app_env, new_app):
    at = compare_page(new_app)
    at.selectbox(key="compare.sweep.a").set_value("temperature").run()
    at.button(key="compare.sweep.fill").click().run()
    assert not at.exception
    assert at.number_input(key="compare.ncols").value == 5
    assert [at.number_input(key=f"compare.p.{i}.temperature").value for i in range(5)] == [0, 0.5, 1, 1.5, 2]
    send(at)
    assert sorted(b["temperature"] for b in bodies(app_env)) == [0, 0.5, 1, 1.5, 2]


def test_a_reasoning_effort_sweep_and_a_bad_value_says_why(app_env, new_app):
    at = compare_page(new_app)
    at.selectbox(key="compare.sweep.a").set_value("reasoning_effort").run()
    at.button(key="compare.sweep.fill").click().run()
    assert [at.selectbox(key=f"compare.p.{i}.reasoning_effort").value for i in range(4)] == [
        "none",
        "low",
        "medium",
        "high",
    ]
    at.text_input(key="compare.sweep.values.reasoning_effort").set_value("low, extreme")
    at.button(key="compare.sweep.fill").click().run()
    assert any("reasoning_effort" in e.value or "extreme" in e.value for e in at.error)


def test_a_two_parameter_grid_runs_every_cell_and_shows_a_table(app_env, new_app):
    at = compare_page(new_app)
    at.selectbox(key="compare.sweep.a").set_value("temperature").run()
    at.text_input(key="compare.sweep.values.temperature").set_value("0, 1.5")
    at.selectbox(key="compare.sweep.b").set_value("seed").run()
    at.text_input(key="compare.sweep.values.b.seed").set_value("1, 2, 3")
    at.button(key="compare.sweep.fill").click().run()
    assert any("6 cells" in i.value for i in at.info)
    send(at)
    assert sorted((b["temperature"], b["seed"]) for b in bodies(app_env)) == [
        (t, s) for t in (0, 1.5) for s in (1, 2, 3)
    ]
    # A static table (every column in view, cells wrap); its cells are escaped markdown, read here
    # as the page shows them.
    grid = next(t.value for t in at.table if "seed 1" in list(t.value.columns))
    grid.columns = [unescaped(c) for c in grid.columns]
    assert list(grid.columns) == ["temperature \\ seed", "seed 1", "seed 2", "seed 3"]
    assert [unescaped(c) for c in grid["temperature \\ seed"]] == ["temperature 0", "temperature 1.5"]
    assert all(str(cell).strip() for cell in grid["seed 1"])


def test_differences_against_the_baseline_are_marked(app_env, new_app):
    at = compare_page(new_app)
    at.number_input(key="compare.p.0.temperature").set_value(0.0)
    at.number_input(key="compare.p.1.temperature").set_value(2.0)
    at.number_input(key="compare.p.1.seed").set_value(11)
    send(at)
    marked = [t for t in texts(at) if ":green-background[" in t or ":red-background[~~" in t]
    assert marked, "the second column's reply differs from the baseline and is marked"
    assert all(not m.proto.allow_html for m in at.markdown)


def test_json_schema_columns_show_their_pass_rate(app_env, new_app):
    at = compare_page(new_app)
    at.radio(key="compare.p.0.format").set_value("json_schema").run()
    at.number_input(key="compare.repeats").set_value(3)
    send(at)
    formats = sorted((b.get("response_format") or {}).get("type", "text") for b in bodies(app_env))
    assert formats == ["json_schema"] * 3 + ["text"] * 3
    rates = [t for t in texts(at) if "JSON valid" in t]
    assert rates == [":green[JSON valid: 3/3 (100%)]"], rates


def test_run_again_marks_identical_replies(app_env, new_app):
    at = compare_page(new_app)
    at.number_input(key="compare.p.0.temperature").set_value(0.0)
    at.number_input(key="compare.p.1.temperature").set_value(2.0)
    send(at)
    at.button(key="compare.again").click().run()
    assert not at.exception
    assert len(app_env.received) == 4
    assert any("1 of 2 column(s) gave the identical reply" in i.value for i in at.info), [
        i.value for i in at.info
    ]


def test_continue_keeps_each_columns_history_or_adopts_one(app_env, new_app):
    at = compare_page(new_app)
    at.number_input(key="compare.p.0.temperature").set_value(0.0)
    at.number_input(key="compare.p.1.temperature").set_value(2.0)
    at.number_input(key="compare.p.1.seed").set_value(5)
    send(at, "first question")
    first = {b["temperature"]: b for b in bodies(app_env)}
    app_env.received.clear()
    send(at, "second question")
    second = {b["temperature"]: b for b in bodies(app_env)}
    assert [m["role"] for m in second[0.0]["messages"]] == ["user", "assistant", "user"]
    own_replies = {t: b["messages"][1]["content"] for t, b in second.items()}
    assert own_replies[0.0] != own_replies[2.0]
    assert first.keys() == second.keys()

    app_env.received.clear()
    at.radio(key="compare.next").set_value("Continue from one column's reply").run()
    at.selectbox(key="compare.adopt").set_value(1).run()
    send(at, "third question")
    third = bodies(app_env)
    adopted = {b["messages"][3]["content"] for b in third}
    assert len(adopted) == 1, "every column continued from the same reply"
    assert sum(1 for t in texts(at) if t in ("first question", "second question", "third question")) == 3


def test_start_from_an_existing_conversation(app_env, new_app, make_session):
    at = compare_page(new_app)
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        conversation = repository.create_conversation(session, user, title="Earlier chat")
        asked = repository.add_message(
            session, user, conversation.id, role="user", content="earlier question"
        )
        repository.add_message(
            session, user, conversation.id, role="assistant", content="earlier answer", parent_id=asked.id
        )
        session.commit()
        conversation_id = conversation.id
    at.run()
    at.selectbox(key="compare.from").set_value(conversation_id).run()
    send(at, "now this")
    for body in bodies(app_env):
        assert [(m["role"], m["content"]) for m in body["messages"]] == [
            ("user", "earlier question"),
            ("assistant", "earlier answer"),
            ("user", "now this"),
        ]


def test_a_saved_run_reopens_identically(app_env, new_app, make_session):
    at = compare_page(new_app)
    at.number_input(key="compare.repeats").set_value(2)
    at.number_input(key="compare.p.1.temperature").set_value(1.5)
    send(at)
    before = texts(at)
    run_id = stored_runs(make_session)[0][0]

    again = compare_page(new_app)  # a new browser session: open it from the saved list
    buttons = [b for b in again.sidebar.button if b.key == f"compare.open.{run_id}"]
    assert buttons
    buttons[0].click().run()
    assert not again.exception
    assert texts(again) == before
    assert again.number_input(key="compare.p.1.temperature").value == 1.5

    reloaded = new_app()  # a reload with the run in the URL
    reloaded.run()
    reloaded.query_params["run"] = str(run_id)
    reloaded.switch_page("views/compare.py").run()
    assert texts(reloaded) == before
    # Its settings are in the editors too, as they were before the reload.
    assert reloaded.number_input(key="compare.repeats").value == 2
    assert reloaded.number_input(key="compare.p.1.temperature").value == 1.5


def test_fork_a_column_into_a_chat_with_its_history(app_env, new_app, make_session):
    at = compare_page(new_app)
    at.text_area(key="compare.sys.1").set_value("Be kind.")
    at.number_input(key="compare.p.1.seed").set_value(9)
    send(at, "Tell me about seeds")
    run_id = stored_runs(make_session)[0][0]
    with make_session() as session:
        run = compare_store.get_compare_run(session, repository.ensure_user(session, "local"), run_id)
        reply = next(r.content for r in run.results if r.column_index == 1)
    at.button(key=f"compare.fork.{run_id}.1").click().run()
    assert not at.exception
    chat = [
        (m.name, " ".join([t.value for t in m.text] + [md.value for md in m.markdown]))
        for m in at.chat_message
    ]
    assert chat == [("user", "Tell me about seeds"), ("assistant", reply)]
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        conversation = repository.list_conversations(session, user)[0]
        assert conversation.system_prompt == "Be kind."
        assert conversation.params["seed"] == 9


def test_images_from_the_prompt_go_to_every_column(app_env, new_app):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buffer, format="PNG")
    at = compare_page(new_app)
    at.chat_input(key="compare.input").set_value("What is this?").upload(
        "red.png", buffer.getvalue(), "image/png"
    )
    at.run()
    assert not at.exception
    assert len(app_env.received) == 2
    for body in bodies(app_env):
        parts = body["messages"][-1]["content"]
        assert [p["type"] for p in parts] == ["text", "image_url"]
        assert parts[1]["image_url"]["url"].startswith("data:image/")


def test_bad_parameters_stop_the_run_and_say_which_column(app_env, new_app):
    at = compare_page(new_app)
    at.number_input(key="compare.p.1.temperature").set_value(3.0)
    at.run()
    send(at)
    assert app_env.received == []
    assert any(e.value.startswith("Column 2:") for e in at.error)


def test_user_isolation_a_run_of_someone_else_is_not_found(app_env, new_app, make_session):
    with make_session() as session:
        other = repository.ensure_user(session, "someone-else")
        run = compare_store.create_compare_run(session, other, prompt="secret", columns=[{"label": "x"}])
        session.commit()
        run_id = run.id
    at = new_app()
    at.run()
    at.query_params["run"] = str(run_id)
    at.switch_page("views/compare.py").run()
    assert not at.exception
    assert any("not found" in w.value for w in at.warning)
    assert "secret" not in " ".join(texts(at))


def test_a_column_copies_another_columns_settings(app_env, new_app):
    at = compare_page(new_app)
    at.number_input(key="compare.p.0.temperature").set_value(0.3)
    at.number_input(key="compare.p.0.seed").set_value(4)
    at.text_area(key="compare.sys.0").set_value("Be terse.")
    at.run()
    at.button(key="compare.copy.1.0").click().run()
    assert not at.exception
    assert at.number_input(key="compare.p.1.temperature").value == 0.3
    assert at.number_input(key="compare.p.1.seed").value == 4
    assert at.text_area(key="compare.sys.1").value == "Be terse."
    send(at)
    assert {(b["temperature"], b["seed"], b["messages"][0]["content"]) for b in bodies(app_env)} == {
        (0.3, 4, "Be terse.")
    }


def test_a_column_starts_from_a_preset(app_env, new_app, make_session):
    from storage import presets

    with make_session() as session:
        user = repository.ensure_user(session, "local")
        made = presets.create_preset(session, user, kind="params", name="Cold", params={"temperature": 0.2})
        prompt = presets.create_preset(session, user, kind="system", name="Pirate", system_prompt="Arr.")
        session.commit()
        params_id, system_id = made.id, prompt.id
    at = compare_page(new_app)
    at.button(key=f"compare.preset.1.{params_id}").click().run()
    at.button(key=f"compare.preset.1.{system_id}").click().run()
    assert not at.exception
    assert at.number_input(key="compare.p.1.temperature").value == 0.2
    assert at.text_area(key="compare.sys.1").value == "Arr."
    assert at.number_input(key="compare.p.0.temperature").value is None


def test_a_run_can_be_shared_read_only(app_env, new_app, make_session):
    from storage import sharing

    at = compare_page(new_app)
    send(at)
    run_id = stored_runs(make_session)[0][0]
    at.button(key=f"share.button.compare.{run_id}").click().run()
    at.button(key="share.create").click().run()
    assert not at.exception
    with make_session() as session:
        links = sharing.list_share_links(session, repository.ensure_user(session, "local"))
        assert [(link.kind, link.compare_run_id) for link in links] == [("compare", run_id)]


def test_a_follow_up_can_carry_an_image_and_a_bad_upload_is_refused(app_env, new_app):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (20, 30, 200)).save(buffer, format="PNG")
    at = compare_page(new_app)
    send(at, "first")
    app_env.received.clear()
    at.chat_input(key="compare.input").set_value("and this?").upload(
        "blue.png", buffer.getvalue(), "image/png"
    )
    at.run()
    assert not at.exception
    for body in bodies(app_env):
        assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
        assert [p["type"] for p in body["messages"][-1]["content"]] == ["text", "image_url"]

    app_env.received.clear()
    at.chat_input(key="compare.input").set_value("broken").upload("fake.png", b"not an image", "image/png")
    at.run()
    assert not at.exception
    assert app_env.received == []
    assert any("fake.png" in e.value and "still in the box" in e.value for e in at.error), at.error
    box = at.chat_input(key="compare.input").proto  # what the browser is told to put back in the box
    assert box.set_value and box.value == "broken", "the prompt was lost with the refused upload"

    at.chat_input(key="compare.input").set_value("a drawing").upload("logo.svg", b"<svg/>", "image/svg+xml")
    at.run()
    assert app_env.received == []
    assert any("logo.svg" in e.value and "SVG" in e.value for e in at.error), "the SVG is not named"


def test_too_many_requests_at_once_are_refused_with_the_numbers(app_env, new_app):
    at = compare_page(new_app)
    at.selectbox(key="compare.sweep.a").set_value("temperature").run()
    at.selectbox(key="compare.sweep.b").set_value("seed").run()
    at.button(key="compare.sweep.fill").click().run()
    assert any("25 cells" in i.value for i in at.info)
    at.number_input(key="compare.repeats").set_value(5)
    send(at)
    box = at.chat_input(key="compare.input").proto
    assert box.set_value and box.value == "What does temperature do?", "the prompt was lost with the refusal"
    assert app_env.received == []
    assert any("125 requests" in e.value for e in at.error)


def test_a_column_can_use_another_endpoint_and_its_model(app_env, new_app):
    at = new_app()
    at.secrets["endpoints"] = [{"name": "second", "base_url": app_env.base_url, "models": ["other-model"]}]
    at.run()
    at.switch_page("views/compare.py").run()
    at.selectbox(key="compare.ep.1").set_value("second").run()
    send(at)
    assert sorted(b["model"] for b in bodies(app_env)) == ["gemini-2.5-flash", "other-model"]
