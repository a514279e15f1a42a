"""The official openai SDK reads every shape the offline model sends, in both dialects: if the SDK
cannot read our server, our server is wrong."""

from __future__ import annotations

import jsonschema
import openai
import orjson
import pytest

from tests.offline_model.support import MODEL

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What does the seed do?"}]
THOUGHTS = {"extra_body": {"google": {"thinking_config": {"include_thoughts": True}}}}


@pytest.fixture(scope="module", params=["gemini", "strict"])
def sdk(request, server, strict_server):
    srv = server if request.param == "gemini" else strict_server
    with openai.OpenAI(base_url=srv.base_url, api_key="offline", max_retries=0) as client:
        yield client


def test_sdk_reads_a_completion(sdk):
    done = sdk.chat.completions.create(model=MODEL, messages=MESSAGES, seed=1)
    assert done.choices[0].message.content
    assert done.choices[0].finish_reason == "stop"
    assert done.usage.prompt_tokens > 0
    assert done.usage.completion_tokens_details.reasoning_tokens > 0


def test_sdk_reads_a_stream(sdk):
    stream = sdk.chat.completions.create(
        model=MODEL, messages=MESSAGES, seed=1, stream=True, stream_options={"include_usage": True}
    )
    text, finish, usage = "", None, None
    for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
        usage = chunk.usage or usage
    assert (
        text == sdk.chat.completions.create(model=MODEL, messages=MESSAGES, seed=1).choices[0].message.content
    )
    assert finish == "stop"
    assert usage.completion_tokens > 0


def test_sdk_reads_n_choices(sdk):
    done = sdk.chat.completions.create(model=MODEL, messages=MESSAGES, n=3, seed=2)
    assert [c.index for c in done.choices] == [0, 1, 2]
    seen = set()
    for chunk in sdk.chat.completions.create(model=MODEL, messages=MESSAGES, n=3, seed=2, stream=True):
        seen |= {c.index for c in chunk.choices}
    assert seen == {0, 1, 2}


def test_sdk_reads_tool_calls(sdk):
    messages = [{"role": "user", "content": "What is the weather in Oslo?"}]
    done = sdk.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    call = done.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert orjson.loads(call.function.arguments)["location"] == "Oslo"
    names, arguments = [], ""
    for chunk in sdk.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER], stream=True):
        for choice in chunk.choices:
            for tc in choice.delta.tool_calls or ():
                if tc.function.name:
                    names.append(tc.function.name)
                arguments += tc.function.arguments or ""
    assert names == ["get_weather"]
    assert orjson.loads(arguments)["location"] == "Oslo"


def test_sdk_reads_json(sdk):
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "n": {"type": "integer"}},
        "required": ["n"],
    }
    done = sdk.chat.completions.create(
        model=MODEL,
        messages=MESSAGES,
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
    )
    jsonschema.validate(orjson.loads(done.choices[0].message.content), schema)
    obj = sdk.chat.completions.create(model=MODEL, messages=MESSAGES, response_format={"type": "json_object"})
    assert isinstance(orjson.loads(obj.choices[0].message.content), dict)


def test_sdk_reads_logprobs(sdk):
    done = sdk.chat.completions.create(model=MODEL, messages=MESSAGES, logprobs=True, top_logprobs=3, seed=4)
    entries = done.choices[0].logprobs.content
    assert "".join(e.token for e in entries) == done.choices[0].message.content
    assert all(len(e.top_logprobs) <= 3 for e in entries)


def test_sdk_reads_thoughts_and_extra_body(sdk):
    text = ""
    for chunk in sdk.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True, extra_body=THOUGHTS
    ):
        for choice in chunk.choices:
            text += choice.delta.content or ""
    assert text


def test_sdk_raises_typed_errors(sdk):
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=3)
    with pytest.raises(openai.RateLimitError):
        sdk.chat.completions.create(
            model=MODEL, messages=MESSAGES, extra_headers={"X-Offline-Fault": "status:429"}
        )
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="no-such-model", messages=MESSAGES)


def test_sdk_lists_models(sdk):
    assert MODEL in [m.id for m in sdk.models.list()]
