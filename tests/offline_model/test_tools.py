"""Tool calls: made when tool_choice requires or names a function or the user names it, with arguments
that fit the schema, in Gemini's stream shape (whole call in one delta, no index, finish "stop") and
OpenAI's under --strict-openai; after a tool message the answer uses the result."""

from __future__ import annotations

import httpx
import jsonschema
import orjson
import pytest

from tests.offline_model.support import MODEL, complete, stream_chunks

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a place",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["location"],
        },
    },
}
CLOCK = {
    "type": "function",
    "function": {"name": "read_clock", "parameters": {"type": "object", "properties": {}}},
}


def ask(text: str, **params) -> dict:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": text}],
        "tools": [CLOCK, WEATHER],
        **params,
    }


def test_user_naming_a_tool_gets_a_call_with_arguments_fitting_the_schema(http):
    done = complete(http, ask("What is the weather in Paris?"))
    choice = done["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    args = orjson.loads(call["function"]["arguments"])
    jsonschema.validate(args, WEATHER["function"]["parameters"])
    assert args["location"] == "Paris"
    assert call["id"]


def test_tool_choice_naming_a_function_calls_it(http):
    choice = complete(
        http, ask("hello", tool_choice={"type": "function", "function": {"name": "get_weather"}})
    )
    assert choice["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"


def test_tool_choice_required_calls_a_tool(http):
    choice = complete(http, ask("hello", tool_choice="required"))["choices"][0]
    assert choice["message"]["tool_calls"]


@pytest.mark.parametrize("tool_choice", ["auto", "none", None])
def test_no_call_when_nothing_asks_for_one(http, tool_choice):
    params = {"tool_choice": tool_choice} if tool_choice else {}
    choice = complete(http, ask("Tell me about Prism", **params))["choices"][0]
    assert "tool_calls" not in choice["message"]
    assert choice["message"]["content"]


def test_tool_choice_none_wins_over_naming(http):
    choice = complete(http, ask("What is the weather in Paris?", tool_choice="none"))["choices"][0]
    assert "tool_calls" not in choice["message"]


def test_stream_carries_the_whole_call_in_one_delta_without_index_and_finishes_stop(http):
    chunks = stream_chunks(http, ask("What is the weather in Paris?"))
    with_calls = [c for c in chunks if c["choices"][0]["delta"].get("tool_calls")]
    assert len(with_calls) == 1
    (call,) = with_calls[0]["choices"][0]["delta"]["tool_calls"]
    assert "index" not in call
    assert call["function"]["name"] == "get_weather"
    jsonschema.validate(orjson.loads(call["function"]["arguments"]), WEATHER["function"]["parameters"])
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(c["choices"][0]["delta"]["role"] == "assistant" for c in chunks)


def test_thinking_calls_carry_a_thought_signature(http):
    with_thinking = complete(http, ask("weather in Paris", reasoning_effort="low"))
    call = with_thinking["choices"][0]["message"]["tool_calls"][0]
    assert call["extra_content"]["google"]["thought_signature"]
    without = complete(http, ask("weather in Paris", reasoning_effort="none"))
    assert "extra_content" not in without["choices"][0]["message"]["tool_calls"][0]


def test_after_a_tool_message_the_answer_uses_the_result(http):
    call = complete(http, ask("What is the weather in Paris?"))["choices"][0]["message"]["tool_calls"][0]
    follow = {
        "model": MODEL,
        "tools": [WEATHER],
        "messages": [
            {"role": "user", "content": "What is the weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": '{"temperature_c": 21, "sky": "clear"}'},
        ],
    }
    choice = complete(http, follow)["choices"][0]
    text = choice["message"]["content"]
    assert "get_weather" in text and "21" in text and "clear" in text
    assert choice["finish_reason"] == "stop"
    assert "tool_calls" not in choice["message"]


def test_plain_text_tool_results_are_used_too(http):
    follow = {
        "model": MODEL,
        "messages": [
            {"role": "user", "content": "what time is it"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "read_clock", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "half past four"},
        ],
    }
    assert "half past four" in complete(http, follow)["choices"][0]["message"]["content"]


def test_strict_openai_streams_indexed_calls_in_pieces_and_finishes_tool_calls(strict_server):
    with httpx.Client(base_url=strict_server.base_url) as client:
        chunks = stream_chunks(client, ask("What is the weather in Paris?"))
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    pieces = [tc for d in deltas for tc in d.get("tool_calls", [])]
    assert len(pieces) > 2
    assert all(p["index"] == 0 for p in pieces)
    assert pieces[0]["function"]["name"] == "get_weather" and pieces[0]["id"]
    arguments = "".join(p["function"].get("arguments", "") for p in pieces)
    jsonschema.validate(orjson.loads(arguments), WEATHER["function"]["parameters"])
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
