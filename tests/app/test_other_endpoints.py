"""The chat page against servers that are not Gemini: the length limit is sent under the endpoint's
field and the cut-off advice names it; a reply from a server that reports no usage says so."""

from __future__ import annotations

P = "chat.p.new."


def captions(at):
    return [c.value for c in at.caption]


def test_a_reply_without_usage_says_the_server_reported_none(app_env, new_app):
    at = new_app().run()
    at.chat_input[0].set_value("hello [[fault:no-usage]]").run()
    assert not at.exception
    assert any("this server did not report token usage" in c for c in captions(at))
    at.chat_input[0].set_value("hello again").run()
    lines = [c for c in captions(at) if "finish:" in c]
    assert len(lines) == 2 and "did not report" not in lines[1] and " out" in lines[1]


def test_an_endpoint_reading_max_tokens_gets_the_limit_there_and_the_advice_names_it(app_env, new_app):
    at = new_app(settings_open=True)
    at.secrets["endpoints"] = [
        {
            "name": "llama",
            "base_url": app_env.base_url,
            "models": ["gemini-2.5-flash"],
            "length_field": "max_tokens",
        }
    ]
    at.run()
    at.selectbox(key="chat.endpoint.new").set_value("llama").run()
    at.number_input(key=P + "max_completion_tokens").set_value(2)
    at.chat_input[0].set_value("Tell me about temperature and sampling").run()
    assert not at.exception
    body = app_env.received[-1]["body"]
    assert body.get("max_tokens") == 2 and "max_completion_tokens" not in body
    assert any("this endpoint reads `max_tokens`" in c for c in captions(at)), captions(at)


def test_the_default_endpoint_keeps_max_completion_tokens_in_body_and_advice(app_env, new_app):
    at = new_app(settings_open=True).run()
    at.number_input(key=P + "max_completion_tokens").set_value(2)
    at.chat_input[0].set_value("Tell me about temperature and sampling").run()
    body = app_env.received[-1]["body"]
    assert body.get("max_completion_tokens") == 2 and "max_tokens" not in body
    assert any("raise max completion tokens" in c for c in captions(at)), captions(at)
