"""What a compare board says about itself, on the compare page and on a shared link: column headers
name the model and what sets a column apart, an adopted reply is marked in every column, JSON wraps
inside its column, the chart keeps whole labels, and a shared board carries the parameters, the
figures and the chart."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

from tests.app.hosting_support import BOB, password_secrets, sign_in


def compare_page(at):
    at.run()
    at.switch_page("views/compare.py").run()
    assert not at.exception
    return at


def send(at, text="What does temperature do?"):
    at.chat_input(key="compare.input").set_value(text).run()
    assert not at.exception, at.exception
    return at


def headers(at):
    return [m.value.replace("\\", "") for m in at.markdown if re.match(r"\*\*\d · ", m.value)]


def test_headers_name_the_model_and_only_the_settings_that_differ(app_env, new_app):
    at = new_app()
    at.secrets["endpoints"] = [
        {"name": "lite", "base_url": app_env.base_url, "models": ["gemini-2.5-flash-lite"]}
    ]
    at = compare_page(at)
    at.number_input(key="compare.ncols").set_value(3).run()
    for index in range(3):
        at.number_input(key=f"compare.p.{index}.seed").set_value(4)
    at.number_input(key="compare.p.1.temperature").set_value(1.5)
    at.selectbox(key="compare.ep.2").set_value("lite").run()
    send(at)
    shown = headers(at)
    assert len(shown) == 3, [m.value for m in at.markdown][:20]
    assert shown[0].startswith("**1 · gemini-2.5-flash · temperature default")
    assert shown[1].startswith("**2 · gemini-2.5-flash · temperature 1.5")
    assert shown[2].startswith("**3 · gemini-2.5-flash-lite · temperature default")
    assert "endpoint lite" in shown[2]
    assert not any("seed" in h for h in shown), "the seed is the same everywhere: not a difference"
    settings = [c.value.replace("\\", "") for c in at.caption if c.value.startswith("Settings:")]
    assert len(settings) == 3 and all("seed 4" in c for c in settings)


def test_an_adopted_reply_is_marked_in_every_column(app_env, new_app):
    at = compare_page(new_app())
    at.number_input(key="compare.p.0.temperature").set_value(0.0)
    at.number_input(key="compare.p.1.temperature").set_value(2.0)
    at.number_input(key="compare.p.1.seed").set_value(5)
    send(at, "first question")
    assert not [c for c in at.caption if "Continued from" in c.value]
    at.radio(key="compare.next").set_value("Continue from one column's reply").run()
    at.selectbox(key="compare.adopt").set_value(1).run()
    send(at, "second question")
    marks = [c.value for c in at.caption if "Continued from" in c.value]
    assert len(marks) == 2, marks
    assert "its own reply" in marks[1] and "2 · gemini-2.5-flash" in marks[0].replace("\\", "")
    badges = [m.value for m in at.markdown if m.value.startswith(":blue-badge[") and "adopted" in m.value]
    assert len(badges) == 1


def test_continuing_in_every_column_marks_no_adoption(app_env, new_app):
    at = compare_page(new_app())
    at.number_input(key="compare.p.1.temperature").set_value(2.0)
    at.number_input(key="compare.p.1.seed").set_value(5)
    send(at, "first question")
    send(at, "second question")
    assert not [c for c in at.caption if "Continued from" in c.value]


def test_json_replies_wrap_inside_their_column_and_chart_labels_are_whole(app_env, new_app):
    at = compare_page(new_app())
    for index in range(2):
        at.radio(key=f"compare.p.{index}.format").set_value("json_schema").run()
    at.number_input(key="compare.p.1.temperature").set_value(1.5)
    send(at, "Give me a JSON object about temperature")
    blocks = [c for c in at.code if c.language == "json"]
    assert len(blocks) == 2 and all(c.proto.wrap_lines for c in blocks)
    charts = at.get("vega_lite_chart")
    assert charts, "the metrics chart is drawn"
    spec = json.loads(charts[0].proto.spec)
    assert spec["encoding"]["y"]["axis"]["labelLimit"] == 0, "Vega-Lite would cut labels at 180 px"
    labels = list(convert_arrow_bytes_to_pandas_df(charts[0].proto.data.data)["column"])
    assert labels[1].startswith("2 · gemini-2.5-flash · temperature 1.5")


@pytest.fixture
def hosted(app_env, new_app, monkeypatch):
    monkeypatch.setenv("PRISM_AUTH_MODE", "password")

    def make():
        at = new_app()
        at.secrets.update(password_secrets())
        return at

    return make


def test_a_shared_board_carries_parameters_metrics_and_the_chart(hosted):
    owner = sign_in(hosted().run(), "bob", BOB)
    owner.switch_page("views/compare.py").run()
    owner.number_input(key="compare.repeats").set_value(2)
    owner.number_input(key="compare.p.0.temperature").set_value(0.0)
    owner.number_input(key="compare.p.1.temperature").set_value(1.5)
    send(owner, "Tell me about seeds")
    share = next(b for b in owner.button if b.key and b.key.startswith("share.button.compare."))
    share.click().run()
    owner.button(key="share.create").click().run()
    token = re.search(r"shared\?token=([A-Za-z0-9_-]+)", " ".join(c.value for c in owner.code)).group(1)

    viewer = hosted()
    viewer.query_params["token"] = token
    viewer = sign_in(viewer.run(), "bob", BOB)
    viewer.switch_page("views/shared.py")
    viewer.query_params["token"] = token
    viewer.run()
    assert not viewer.exception
    shown = headers(viewer)
    assert len(shown) == 2 and "temperature 1.5" in shown[1]
    assert [c.value.replace("\\", "") for c in viewer.caption if c.value.startswith("Settings:")] == [
        "Settings: temperature 0.0",
        "Settings: temperature 1.5",
    ]
    lines = " ".join(c.value for c in viewer.caption)
    assert "first token" in lines and "finish: stop" in lines
    assert len([c for c in viewer.caption if c.value.startswith("median ")]) == 2
    table = next(t.value for t in viewer.table if "Completion tokens" in list(t.value.columns))
    assert len(table) == 2
    assert viewer.get("vega_lite_chart"), "the chart is on the shared board"
