"""The client against the offline model over loopback: its Gemini shapes and its strict OpenAI shapes give
the same reply, and every fault switch (offline_model/faults.py) comes out as its typed error.

The offline model is an independent implementation of the protocol (it does not import chat_client), so
agreement here means both sides read the wire the same way, not that one bug hides in a shared parser.
"""

from __future__ import annotations

import json

import pytest

from chat_client import NO_RETRY, Endpoint, Params, RetryPolicy, Timeouts, errors, messages
from chat_client.events import (
    Finish,
    LogprobsDelta,
    RetryWait,
    StreamError,
    TextDelta,
    ThoughtDelta,
    ToolCallDone,
    Usage,
)
from offline_model.runner import OfflineServer
from tests.client.wire import stream

MODEL = "gemini-2.5-flash"
DEFAULT = Timeouts()
KEY = "offline-key-0123456789"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture(scope="module")
def gemini():
    with OfflineServer.start(api_key=KEY) as srv:
        yield srv


@pytest.fixture(scope="module")
def strict():
    with OfflineServer.start(api_key=KEY, strict_openai=True) as srv:
        yield srv


def events(srv, text="Tell me about the compare page", *, retry=NO_RETRY, timeouts=DEFAULT, **params):
    p = Params(model=MODEL, **params)
    ep = Endpoint(srv.base_url, api_key=KEY)
    return stream(ep, p, [messages.user_message(text)], retry=retry, timeouts=timeouts)


def text_of(evs, index=0):
    return "".join(e.text for e in evs if isinstance(e, TextDelta) and e.index == index)


def thought_of(evs, index=0):
    return "".join(e.text for e in evs if isinstance(e, ThoughtDelta) and e.index == index)


def test_plain_reply_is_the_same_in_both_shapes(gemini, strict):
    a = events(gemini, temperature=0, max_tokens=40)
    b = events(strict, temperature=0, max_tokens=40, stream_options={"include_usage": True})
    assert text_of(a) and text_of(a) == text_of(b)
    assert [e for e in a if isinstance(e, Finish)] == [e for e in b if isinstance(e, Finish)]
    assert isinstance(a[-1], Usage) and isinstance(b[-1], Usage)
    assert not any(isinstance(e, StreamError) for e in a + b)


def test_streaming_and_non_streaming_give_the_same_reply(gemini):
    a = events(gemini, seed=7, temperature=1, max_tokens=30)
    b = events(gemini, seed=7, temperature=1, max_tokens=30, stream=False)
    assert text_of(a) == text_of(b) and [type(e) for e in b] == [TextDelta, Finish, Usage]


@pytest.mark.parametrize("tags", ["split", "whole"])
def test_thoughts_are_separated_with_tags_stripped(gemini, tags):
    evs = events(
        gemini,
        f"Explain temperature [[fault:tags:{tags}]]",
        include_thoughts=True,
        thinking_budget=512,
        seed=3,
    )
    thought, answer = thought_of(evs), text_of(evs)
    assert thought and answer
    for t in (thought, answer):
        assert "<thou" not in t and "</" not in t and "ght>" not in t
    usage = [e for e in evs if isinstance(e, Usage)]
    assert len(usage) == 1 and usage[0].reasoning_tokens > 0


def test_thoughts_non_streaming(gemini):
    evs = events(gemini, include_thoughts=True, reasoning_effort="low", seed=3, stream=False)
    assert thought_of(evs) and text_of(evs) and "<thought>" not in text_of(evs) + thought_of(evs)


def test_tool_calls_in_both_shapes(gemini, strict):
    choice = {"type": "function", "function": {"name": "get_weather"}}
    for srv in (gemini, strict):
        evs = events(srv, "What is the weather in Paris?", tools=[WEATHER], tool_choice=choice, seed=1)
        calls = [e.call for e in evs if isinstance(e, ToolCallDone)]
        assert len(calls) >= 1, evs
        assert calls[0].name == "get_weather" and "city" in json.loads(calls[0].arguments)
        assert calls[0].id
        assert [e.reason for e in evs if isinstance(e, Finish)] == ["tool_calls"]


def test_tool_result_round_trip_keeps_the_thought_signature(gemini):
    choice = {"type": "function", "function": {"name": "get_weather"}}
    user = messages.user_message("What is the weather in Paris?")
    p = Params(model=MODEL, tools=(WEATHER,), tool_choice=choice, seed=1)
    ep = Endpoint(gemini.base_url, api_key=KEY)
    evs = stream(ep, p, [user], retry=NO_RETRY)
    calls = [e.call for e in evs if isinstance(e, ToolCallDone)]
    history = [
        user,
        messages.assistant_message("", calls),
        messages.tool_message(calls[0].id, {"temp_c": 21}),
    ]
    evs2 = stream(ep, p.replace(tool_choice="none"), history, retry=NO_RETRY)
    assert text_of(evs2) and [e.reason for e in evs2 if isinstance(e, Finish)] == ["stop"]
    sent = gemini.received[-1]["body"]["messages"][1]["tool_calls"][0]
    if calls[0].thought_signature is not None:
        assert sent["extra_content"]["google"]["thought_signature"] == calls[0].thought_signature


def test_n_candidates_and_logprobs(gemini):
    evs = events(gemini, n=3, max_tokens=10, logprobs=True, top_logprobs=3, seed=5)
    assert sorted(e.index for e in evs if isinstance(e, Finish)) == [0, 1, 2]
    lps = [e for e in evs if isinstance(e, LogprobsDelta)]
    assert lps and all(len(t.top) <= 3 for e in lps for t in e.tokens)
    assert all(t.logprob <= 0 for e in lps for t in e.tokens)


def test_every_field_reaches_the_wire_as_set(gemini):
    p = Params(
        model=MODEL,
        max_completion_tokens=20,
        temperature=0.5,
        top_p=0.9,
        frequency_penalty=0.1,
        presence_penalty=0.2,
        stop=["zzz"],
        n=2,
        seed=9,
        logprobs=True,
        top_logprobs=2,
        response_format={"type": "json_object"},
        stream_options={"include_usage": True},
        tools=(WEATHER,),
        tool_choice="auto",
        parallel_tool_calls=False,
        thinking_budget=128,
        include_thoughts=False,
    )
    ep = Endpoint(gemini.base_url, api_key=KEY)
    evs = stream(ep, p, [messages.user_message("Give me JSON")], retry=NO_RETRY)
    assert not any(isinstance(e, StreamError) for e in evs), evs
    body = gemini.received[-1]["body"]
    assert Params.from_body(body) == p.replace(stream=True)


def test_wrong_key_is_an_auth_error(gemini):
    ep = Endpoint(gemini.base_url, api_key="wrong-key-xyz")
    (e,) = stream(ep, Params(model=MODEL), [messages.user_message("hi")], retry=NO_RETRY)
    assert isinstance(e.error, errors.AuthError) and "wrong-key-xyz" not in e.error.message


def test_undecodable_image_is_a_bad_request_naming_the_field(gemini):
    msg = messages.user_message("look", ["data:image/png;base64,bm90IGFuIGltYWdl"])
    ep = Endpoint(gemini.base_url, api_key=KEY)
    (e,) = stream(ep, Params(model=MODEL), [msg], retry=NO_RETRY)
    assert isinstance(e.error, errors.BadRequestError) and e.error.field and "messages" in e.error.field


STATUS = [
    (400, errors.BadRequestError),
    (401, errors.AuthError),
    (403, errors.AuthError),
    (404, errors.NotFoundError),
    (429, errors.RateLimitError),
    (500, errors.ServerError),
    (503, errors.ServerError),
]


@pytest.mark.parametrize(("code", "cls"), STATUS, ids=[str(c) for c, _ in STATUS])
@pytest.mark.parametrize("shape", ["gemini", "strict"])
def test_status_faults(gemini, strict, code, cls, shape):
    srv = gemini if shape == "gemini" else strict
    (e,) = events(srv, f"hi [[fault:status:{code}]]")
    assert type(e.error) is cls and e.error.status == code and e.error.message


@pytest.mark.parametrize("shape", ["gemini", "strict"])
def test_429_per_minute_is_retried_after_its_delay_then_reported(gemini, strict, shape):
    srv = gemini if shape == "gemini" else strict
    evs = events(srv, "hi [[fault:status:429,retry=0.01]]", retry=RetryPolicy(max_attempts=3))
    assert [type(e) for e in evs] == [RetryWait, RetryWait, StreamError]
    assert evs[0].seconds == pytest.approx(0.01)
    assert evs[-1].error.retry_after == pytest.approx(0.01) and evs[-1].error.per_day is False


def test_429_per_day_is_not_retried(gemini):
    (e,) = events(gemini, "hi [[fault:status:429,per=day]]", retry=RetryPolicy())
    assert e.error.per_day is True and e.error.retry_after == 3600


def test_5xx_fault_is_retried(gemini):
    evs = events(gemini, "hi [[fault:status:503]]", retry=RetryPolicy(max_attempts=2, backoff_initial=0.001))
    assert [type(e) for e in evs] == [RetryWait, StreamError]


def test_disconnect_fault(gemini):
    evs = events(gemini, "hi [[fault:disconnect:after=2]]", retry=RetryPolicy())
    assert isinstance(evs[-1].error, errors.ConnectionFailed) and text_of(evs)
    assert not any(isinstance(e, RetryWait) for e in evs)


def test_stall_fault(gemini):
    evs = events(gemini, "hi [[fault:stall:after=2,seconds=30]]", timeouts=Timeouts(stall=0.2))
    assert isinstance(evs[-1].error, errors.StreamTimeout) and evs[-1].error.kind == "stall"


def test_ttft_fault_hits_the_first_byte_timeout(gemini):
    evs = events(gemini, "hi [[fault:ttft:ms=30000]]", timeouts=Timeouts(first_byte=0.2))
    assert isinstance(evs[-1].error, errors.StreamTimeout) and evs[-1].error.kind == "first_byte"


def test_malformed_fault(gemini):
    evs = events(gemini, "hi [[fault:malformed:after=2]]")
    assert isinstance(evs[-1].error, errors.ProtocolError) and text_of(evs)


@pytest.mark.parametrize(
    ("code", "cls"), [(503, errors.ServerError), (500, errors.ServerError), (429, errors.RateLimitError)]
)
def test_mid_stream_error_fault(gemini, code, cls):
    evs = events(gemini, f"hi [[fault:error:after=2,code={code}]]")
    assert type(evs[-1].error) is cls and evs[-1].error.status == code


def test_trailing_raw_error_fault(gemini):
    evs = events(gemini, "hi [[fault:error:after=2,raw=1]]")
    assert isinstance(evs[-1].error, errors.ProtocolError) and evs[-1].error.status == 503


def test_no_done_fault_is_still_a_complete_reply(gemini):
    evs = events(gemini, "hi [[fault:no-done]]", max_tokens=10)
    # unseeded sampling may end the reply before 10 tokens: either reason is a complete reply
    assert [e.reason for e in evs if isinstance(e, Finish)] in (["length"], ["stop"])
    assert not any(isinstance(e, StreamError) for e in evs)
