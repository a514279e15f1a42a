"""The empty chat's four starter prompts: shown only while a chat is empty, each sent in one click,
with the parameters it needs set in the form, and each answered as promised by the offline model."""

from __future__ import annotations

import json

import pytest

from tests.app.conftest import open_settings

P = "chat.p.new."
LABELS = ["Temperature demo", "A JSON reply", "A tool call", "Describe an image"]


def starter_buttons(at):
    return [b for b in at.button if b.key and b.key.startswith("chat.starter.")]


def click(at, label):
    next(b for b in starter_buttons(at) if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def reply_text(at):
    last = at.chat_message[-1]
    return " ".join([m.value for m in last.markdown] + [c.value for c in last.code])


def test_an_empty_chat_offers_four_starters_and_a_chat_with_messages_none(app_env, new_app):
    at = new_app().run()
    assert [b.label for b in starter_buttons(at)] == LABELS
    at.chat_input[0].set_value("hello").run()
    assert starter_buttons(at) == []


def test_the_temperature_demo_is_sent_at_temperature_1_5_and_the_form_shows_it(app_env, new_app):
    at = click(new_app().run(), "Temperature demo")
    body = app_env.received[-1]["body"]
    assert body["temperature"] == 1.5
    assert "temperature" in body["messages"][-1]["content"]
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert starter_buttons(at) == []
    open_settings(at, at.query_params["c"])
    shown = [n.value for n in at.number_input if n.key and n.key.endswith(".temperature")]
    assert shown == [1.5], "the form shows the temperature that was sent"


def test_the_json_starter_gets_a_json_object_back(app_env, new_app):
    at = click(new_app().run(), "A JSON reply")
    body = app_env.received[-1]["body"]
    assert body["response_format"] == {"type": "json_object"}
    shown = [c.value for c in at.chat_message[-1].code]
    assert shown and isinstance(json.loads(shown[0]), dict)


def test_the_tool_starter_gets_a_call_to_get_weather(app_env, new_app):
    at = click(new_app().run(), "A tool call")
    body = app_env.received[-1]["body"]
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather"]
    reply = at.chat_message[-1]
    assert any("Tool call `get_weather`" in c.value for c in reply.caption)
    assert json.loads(reply.code[0].value) == {"city": "Paris"}


def test_the_image_starter_sends_an_image_and_the_reply_describes_it(app_env, new_app):
    at = click(new_app().run(), "Describe an image")
    content = app_env.received[-1]["body"]["messages"][-1]["content"]
    assert [p["type"] for p in content] == ["text", "image_url"]
    assert content[1]["image_url"]["url"].startswith("data:image/")
    assert "240" in reply_text(at) and "120" in reply_text(at), reply_text(at)


@pytest.mark.parametrize("label", LABELS)
def test_each_starter_is_sent_once(app_env, new_app, label):
    at = click(new_app().run(), label)
    at.run()  # another run of the page sends nothing more
    assert len(app_env.received) == 1
