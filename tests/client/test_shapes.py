"""Every wire shape Gemini has been seen to send (docs/architecture.md, "Gemini's wire"), as recorded
bytes, next to the same content in strict OpenAI shape: the events must be identical (usage last-wins,
thoughts by flag and tags, tool calls with or without index, finish stop after tool calls, n > 1,
logprobs, both error shapes).
"""

from __future__ import annotations

import json

import pytest

from chat_client import errors
from chat_client.events import (
    Finish,
    LogprobsDelta,
    StreamError,
    TextDelta,
    ThoughtDelta,
    TokenLogprob,
    ToolCall,
    ToolCallDone,
    Usage,
)
from chat_client.thoughts import ThoughtSplitter
from tests.client.wire import MODEL, chunk, decode, sse

U1 = {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
U2 = {
    "prompt_tokens": 5,
    "completion_tokens": 3,
    "total_tokens": 30,
    "prompt_tokens_details": {"cached_tokens": 2},
    "completion_tokens_details": {"reasoning_tokens": 22},
}
FINAL_USAGE = Usage(5, 3, 30, reasoning_tokens=22, cached_tokens=2)


def openai_chunks(*deltas, finish="stop", usage=U2, index=0):
    """Strict OpenAI: role once, a separate finish chunk with an empty delta, usage alone at the end."""
    out = []
    for i, d in enumerate(deltas):
        d = dict(d)
        if i == 0:
            d["role"] = "assistant"
        out.append(
            {
                "id": "chatcmpl-abc",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": MODEL,
                "system_fingerprint": "fp",
                "choices": [{"index": index, "delta": d, "logprobs": None, "finish_reason": None}],
            }
        )
    out.append(
        {
            "id": "chatcmpl-abc",
            "object": "chat.completion.chunk",
            "choices": [{"index": index, "delta": {}, "finish_reason": finish}],
        }
    )
    out.append({"id": "chatcmpl-abc", "object": "chat.completion.chunk", "choices": [], "usage": usage})
    return sse(*out)


PLAIN_EVENTS = [TextDelta("Hello"), TextDelta(" world"), Finish("stop"), FINAL_USAGE]
PLAIN_OPENAI = openai_chunks({"content": "Hello"}, {"content": " world"})

GEMINI_PLAIN = {
    # role on every chunk, usage on every chunk (growing), text and finish_reason in one chunk
    "usage on every chunk": sse(chunk("Hello", usage=U1), chunk(" world", finish="stop", usage=U2)),
    # usage only on the final content chunk
    "usage on final content chunk": sse(chunk("Hello"), chunk(" world", finish="stop", usage=U2)),
    # OpenAI's include_usage rule, but Gemini's other habits
    "usage on a final empty-choices chunk": sse(
        chunk("Hello"),
        chunk(" world", finish="stop"),
        {"object": "chat.completion.chunk", "choices": [], "usage": U2},
    ),
    # no [DONE] at the end
    "no done": sse(chunk("Hello"), chunk(" world", finish="stop", usage=U2), done=False),
}


@pytest.mark.parametrize("body", GEMINI_PLAIN.values(), ids=GEMINI_PLAIN.keys())
def test_gemini_plain_shapes_match_openai(body):
    assert decode(body) == decode(PLAIN_OPENAI) == PLAIN_EVENTS


def test_usage_is_reported_once_and_never_summed():
    events = decode(sse(*(chunk("x", usage=U1) for _ in range(5)), chunk("", finish="stop", usage=U1)))
    assert [e for e in events if isinstance(e, Usage)] == [Usage(5, 1, 6)]


# --- thoughts ------------------------------------------------------------------------------------

THOUGHT_EVENTS = [
    ThoughtDelta("Let me think."),
    ThoughtDelta(" Done."),
    TextDelta("Here is"),
    TextDelta(" it."),
    Finish("stop"),
    FINAL_USAGE,
]

GEMINI_THOUGHTS = {
    "tags whole": sse(
        chunk("<thought>Let me think.", thought=True),
        chunk(" Done.", thought=True),
        chunk("</thought>Here is"),
        chunk(" it.", finish="stop", usage=U2),
    ),
    "closing tag split": sse(
        chunk("<thought>Let me think.", thought=True),
        chunk(" Done.", thought=True),
        chunk("</thou"),
        chunk("ght>Here is"),
        chunk(" it.", finish="stop", usage=U2),
    ),
    "closing tag split, first half flagged": sse(
        chunk("<thought>Let me think.", thought=True),
        chunk(" Done.</thou", thought=True),
        chunk("ght>Here is"),
        chunk(" it.", finish="stop", usage=U2),
    ),
    "opening tag split": sse(
        chunk("<thou", thought=True),
        chunk("ght>Let me think.", thought=True),
        chunk(" Done.", thought=True),
        chunk("</thought>Here is"),
        chunk(" it.", finish="stop", usage=U2),
    ),
}

OPENAI_THOUGHTS = openai_chunks(
    {"reasoning_content": "Let me think."},
    {"reasoning_content": " Done."},
    {"content": "Here is"},
    {"content": " it."},
)


def _merge(events):
    out = []
    for e in events:
        if (
            out
            and type(e) is type(out[-1])
            and isinstance(e, TextDelta | ThoughtDelta)
            and e.index == out[-1].index
        ):
            out[-1] = type(e)(out[-1].text + e.text, e.index)
        else:
            out.append(e)
    return out


@pytest.mark.parametrize("body", GEMINI_THOUGHTS.values(), ids=GEMINI_THOUGHTS.keys())
def test_gemini_thoughts_are_separated_and_tags_stripped(body):
    assert _merge(decode(body)) == _merge(decode(OPENAI_THOUGHTS)) == _merge(THOUGHT_EVENTS)


def test_non_streaming_thoughts_in_content_are_split_the_same_way():
    body = {
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "<thought>Let me think. Done.</thought>Here is it.",
                },
                "finish_reason": "stop",
            }
        ],
        "usage": U2,
    }
    events = decode(json.dumps(body).encode(), sse_mode=False)
    assert _merge(events) == _merge(THOUGHT_EVENTS)


CONTENT = "Let me think. Done."
ANSWER = "Here is <thought> it."  # a later mention of the tag is answer text


@pytest.mark.parametrize("flags", [True, False], ids=["flagged", "tags only"])
def test_thought_tags_survive_every_split(flags):
    # Cut the Gemini content in two at every place; the flag follows the text it belongs to.
    full_thought = "<thought>" + CONTENT
    full_answer = "</thought>" + ANSWER
    whole = full_thought + full_answer
    for i in range(1, len(whole)):
        sp = ThoughtSplitter()
        pieces = []
        for part_start, part_end in ((0, i), (i, len(whole))):
            part = whole[part_start:part_end]
            # a piece that starts inside the thought is flagged (Gemini flags thinking deltas)
            flagged = flags and part_start < len(full_thought) and not part.startswith("</thought>")
            pieces += sp.feed(part, flagged)
        pieces += sp.flush()
        thought = "".join(t for is_t, t in pieces if is_t)
        answer = "".join(t for is_t, t in pieces if not is_t)
        assert (thought, answer) == (CONTENT, ANSWER), i


def test_answer_that_starts_with_a_lt_sign_is_kept():
    # "<" might start "<thought>", so it waits for the next piece, then goes out with it
    assert decode(sse(chunk("<"), chunk("b>bold</b>", finish="stop"))) == [
        TextDelta("<b>bold</b>"),
        Finish("stop"),
    ]
    assert decode(sse(chunk("<tho", finish="stop"))) == [TextDelta("<tho"), Finish("stop")]


# --- tool calls ----------------------------------------------------------------------------------

ARGS = '{"city": "Paris", "unit": "c"}'
CALL = ToolCall(id="call_1", name="get_weather", arguments=ARGS, thought_signature="c2ln")


def _gemini_call(cid, name, args, sig=None):
    tc = {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
    if sig:
        tc["extra_content"] = {"google": {"thought_signature": sig}}
    return tc


def test_gemini_whole_call_without_index_and_finish_stop_matches_openai():
    gemini = sse(
        chunk(None, tool_calls=[_gemini_call("call_1", "get_weather", ARGS, "c2ln")], finish="stop", usage=U2)
    )
    openai = openai_chunks(
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                    "extra_content": {"google": {"thought_signature": "c2ln"}},
                }
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": ARGS[:10]}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": ARGS[10:]}}]},
        finish="tool_calls",
    )
    expected = [ToolCallDone(CALL), Finish("tool_calls"), FINAL_USAGE]
    assert decode(gemini) == decode(openai) == expected


def test_two_calls_without_index_in_one_delta_and_in_two_deltas():
    a = _gemini_call("call_1", "get_weather", ARGS)
    b = _gemini_call("call_2", "get_time", "{}")
    one = sse(chunk(None, tool_calls=[a, b], finish="stop"))
    two = sse(chunk(None, tool_calls=[a]), chunk(None, tool_calls=[b], finish="stop"))
    openai = openai_chunks(
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ARGS},
                }
            ]
        },
        {
            "tool_calls": [
                {
                    "index": 1,
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": ""},
                }
            ]
        },
        {"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]},
        finish="tool_calls",
        usage=U1,
    )
    expected = [
        ToolCallDone(ToolCall("call_1", "get_weather", ARGS)),
        ToolCallDone(ToolCall("call_2", "get_time", "{}")),
        Finish("tool_calls"),
    ]
    assert decode(one) == decode(two) == decode(openai)[:-1] == expected


def test_text_then_tool_call():
    body = sse(chunk("Checking."), chunk(None, tool_calls=[_gemini_call("c", "f", "{}")], finish="stop"))
    assert decode(body) == [
        TextDelta("Checking."),
        ToolCallDone(ToolCall("c", "f", "{}")),
        Finish("tool_calls"),
    ]


def test_tool_call_without_id_gets_a_stable_one():
    body = sse(chunk(None, tool_calls=[{"function": {"name": "f", "arguments": "{}"}}], finish="stop"))
    assert decode(body)[0] == ToolCallDone(ToolCall("call_0_0", "f", "{}"))


def test_non_streaming_tool_calls():
    body = {
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [_gemini_call("call_1", "get_weather", ARGS, "c2ln")],
                },
            }
        ],
        "usage": U2,
    }
    assert decode(json.dumps(body).encode(), sse_mode=False) == [
        ToolCallDone(CALL),
        Finish("tool_calls"),
        FINAL_USAGE,
    ]


# --- n > 1 and logprobs --------------------------------------------------------------------------


def test_choices_are_kept_apart_by_index():
    body = sse(
        chunk("a0", index=0),
        chunk("b1", index=1),
        chunk("c0", index=0, finish="stop"),
        chunk("d1", index=1, finish="length"),
    )
    assert decode(body) == [
        TextDelta("a0", 0),
        TextDelta("b1", 1),
        TextDelta("c0", 0),
        Finish("stop", 0),
        TextDelta("d1", 1),
        Finish("length", 1),
    ]


def test_a_choice_that_never_finishes_is_an_error():
    events = decode(sse(chunk("a0", index=0, finish="stop"), chunk("b1", index=1)))
    assert isinstance(events[-1], StreamError)


def test_logprobs_content():
    lp = {
        "content": [
            {
                "token": "Hi",
                "logprob": -0.1,
                "bytes": [72, 105],
                "top_logprobs": [{"token": "Hi", "logprob": -0.1}, {"token": "Hey", "logprob": -2.5}],
            }
        ]
    }
    obj = chunk("Hi", finish="stop")
    obj["choices"][0]["logprobs"] = lp
    assert decode(sse(obj)) == [
        TextDelta("Hi"),
        LogprobsDelta((TokenLogprob("Hi", -0.1, (("Hi", -0.1), ("Hey", -2.5))),)),
        Finish("stop"),
    ]


# --- error bodies --------------------------------------------------------------------------------

GEMINI_429 = [
    {
        "error": {
            "code": 429,
            "message": "You exceeded your current quota ... Please retry in 28.9s.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}],
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "45.837906927s"},
            ],
        }
    }
]


def test_retry_delay_comes_from_retry_info_then_message_then_header():
    err = errors.error_from_response(429, json.dumps(GEMINI_429))
    assert isinstance(err, errors.RateLimitError)
    assert err.retry_after == pytest.approx(45.837906927) and err.per_day is False
    no_info = json.loads(json.dumps(GEMINI_429))
    no_info[0]["error"]["details"].pop()
    assert errors.error_from_response(429, json.dumps(no_info)).retry_after == pytest.approx(28.9)
    openai = {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}
    assert errors.error_from_response(429, json.dumps(openai), retry_after_header="7").retry_after == 7.0
    assert errors.error_from_response(429, json.dumps(openai)).retry_after is None


def test_per_day_quota_is_detected():
    body = json.loads(json.dumps(GEMINI_429))
    body[0]["error"]["details"][0]["violations"][0]["quotaId"] = (
        "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
    )
    err = errors.error_from_response(429, json.dumps(body))
    assert err.per_day is True and "daily quota" in err.message


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("58s", 58.0), ("45.837906927s", 45.837906927), ("0.5s", 0.5), ("1m", None), ("", None)],
)
def test_parse_retry_delay(text, seconds):
    assert errors.parse_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_both_error_shapes_give_equal_errors():
    gemini = [
        {
            "error": {
                "code": 400,
                "message": "bad temperature",
                "status": "INVALID_ARGUMENT",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"field": "temperature", "description": "too high"}],
                    }
                ],
            }
        }
    ]
    openai = {
        "error": {
            "message": "bad temperature",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": None,
        }
    }
    a = errors.error_from_response(400, json.dumps(gemini))
    b = errors.error_from_response(400, json.dumps(openai))
    assert a == b and a.field == "temperature"


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("Logprobs is not enabled for models/gemini-2.5-flash", "logprobs"),
        ("top_logprobs must be between 0 and 20", "top_logprobs"),
        (
            "Invalid value at 'messages[1].content[0].image_url': cannot decode",
            "messages[1].content[0].image_url",
        ),
        ('Invalid JSON payload received. Unknown name "foo": Cannot find field.', "foo"),
        ("Something went wrong", None),
    ],
)
def test_bad_request_field_from_the_message(message, field):
    body = [{"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}]
    assert errors.error_from_response(400, json.dumps(body)).field == field
