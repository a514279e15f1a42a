"""Servers other than Gemini: the length limit goes under the field an endpoint reads
(`[[endpoints]] length_field`), and a server that reports no usage is said to, not silently blank.

The offline model's `no-usage` fault stands in for llama.cpp, whose streams carry no usage.
"""

from __future__ import annotations

import pytest

from chat_client import Endpoint, Params, build_body, messages
from chat_client.events import Finish, Usage
from components import metrics
from offline_model.runner import OfflineServer
from settings import load_settings
from tests.client.wire import stream

MSGS = [messages.user_message("hi")]


@pytest.mark.parametrize(
    ("length_field", "params", "expected"),
    [
        (None, Params(max_completion_tokens=9), {"max_completion_tokens": 9}),
        (None, Params(max_tokens=9), {"max_tokens": 9}),
        ("max_completion_tokens", Params(max_tokens=9), {"max_completion_tokens": 9}),
        ("max_tokens", Params(max_completion_tokens=9), {"max_tokens": 9}),
        ("both", Params(max_completion_tokens=9), {"max_completion_tokens": 9, "max_tokens": 9}),
        ("max_tokens", Params(), {}),
    ],
)
def test_the_length_limit_goes_under_the_endpoints_field(length_field, params, expected):
    body = build_body(params, MSGS, length_field)
    sent = {k: body[k] for k in ("max_completion_tokens", "max_tokens") if k in body}
    assert sent == expected


def test_an_unknown_length_field_is_refused():
    with pytest.raises(ValueError, match="length_field must be one of"):
        Endpoint("http://x/v1/", length_field="max_length")


def test_endpoints_in_secrets_carry_their_length_field_and_a_bad_one_is_named():
    config = load_settings(
        {},
        {
            "endpoints": [
                {"name": "llama", "base_url": "http://127.0.0.1:8080/v1/", "length_field": "max_tokens"},
                {"name": "gw", "base_url": "http://gw/v1/"},
            ]
        },
    )
    assert [e.length_field for e in config.extra_endpoints] == ["max_tokens", None]
    with pytest.raises(ValueError, match=r"'llama': length_field must be one of"):
        load_settings({}, {"endpoints": [{"name": "llama", "base_url": "http://x/", "length_field": "n"}]})


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("streaming", [True, False])
def test_the_no_usage_fault_reports_no_usage(strict, streaming):
    with OfflineServer.start(strict_openai=strict) as srv:
        endpoint = Endpoint(srv.base_url)
        usage = {"stream_options": {"include_usage": True}} if streaming else {}
        params = Params(model="gemini-2.5-flash", stream=streaming, **usage)
        plain = stream(endpoint, params, [messages.user_message("hello")])
        bare = stream(endpoint, params, [messages.user_message("hello [[fault:no-usage]]")])
    assert any(isinstance(e, Usage) for e in plain)
    assert not any(isinstance(e, Usage) for e in bare)
    assert any(isinstance(e, Finish) for e in bare)


def test_a_finished_reply_without_usage_says_the_server_reported_none():
    line = metrics.summary(None, {"ttft_s": 0.1}, "stop")
    assert line.endswith("this server did not report token usage")
    counted = metrics.summary({"prompt_tokens": 3, "completion_tokens": 4}, None, "stop")
    assert "did not report" not in counted
    assert "did not report" not in metrics.summary(None, None, None)  # not finished: nothing to say


def test_the_length_advice_names_the_field_that_was_sent():
    assert "max completion tokens" in metrics.length_advice({"max_completion_tokens": 5})
    assert "`max_tokens`" in metrics.length_advice({"max_tokens": 5})
    assert "max completion tokens" in metrics.length_advice({"max_tokens": 5, "max_completion_tokens": 5})
