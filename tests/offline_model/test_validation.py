"""The offline model refuses what the provider refuses: a 400 in Gemini's list-shaped body naming the
field (and an OpenAI error object under --strict-openai); an unknown model is a 404."""

from __future__ import annotations

import httpx
import pytest

from tests.offline_model.support import MODEL, body, error_of, field_of

USER = [{"role": "user", "content": "hi"}]

CASES = [
    # (what is wrong, body changes, field named)
    ("unknown top-level field", {"frobnicate": 1}, "frobnicate"),
    ("temperature above 2", {"temperature": 2.5}, "temperature"),
    ("temperature below 0", {"temperature": -0.1}, "temperature"),
    ("temperature not a number", {"temperature": "hot"}, "temperature"),
    ("top_p above 1", {"top_p": 1.01}, "top_p"),
    ("frequency_penalty below -2", {"frequency_penalty": -2.5}, "frequency_penalty"),
    ("presence_penalty above 2", {"presence_penalty": 2.01}, "presence_penalty"),
    ("n is 0", {"n": 0}, "n"),
    ("n is 9", {"n": 9}, "n"),
    ("n not an integer", {"n": 1.5}, "n"),
    ("max_tokens 0", {"max_tokens": 0}, "max_tokens"),
    ("max_completion_tokens 0", {"max_completion_tokens": 0}, "max_completion_tokens"),
    ("six stop strings", {"stop": ["a", "b", "c", "d", "e", "f"]}, "stop"),
    ("empty stop string", {"stop": ["a", ""]}, "stop[1]"),
    ("stop not strings", {"stop": [1]}, "stop"),
    ("top_logprobs without logprobs", {"top_logprobs": 3}, "top_logprobs"),
    ("top_logprobs above 20", {"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
    ("logprobs not a bool", {"logprobs": "yes"}, "logprobs"),
    ("seed not an integer", {"seed": "x"}, "seed"),
    ("stream not a bool", {"stream": "yes"}, "stream"),
    ("stream_options without stream", {"stream_options": {"include_usage": True}}, "stream_options"),
    ("minimal reasoning effort", {"reasoning_effort": "minimal"}, "reasoning_effort"),
    (
        "reasoning_effort with thinking_budget",
        {"reasoning_effort": "low", "extra_body": {"google": {"thinking_config": {"thinking_budget": 100}}}},
        "extra_body.google.thinking_config.thinking_budget",
    ),
    (
        "thinking_budget out of range",
        {"extra_body": {"google": {"thinking_config": {"thinking_budget": 99999}}}},
        "extra_body.google.thinking_config.thinking_budget",
    ),
    ("unknown google field", {"extra_body": {"google": {"colour": 1}}}, "extra_body.google.colour"),
    (
        "bad cached_content",
        {"extra_body": {"google": {"cached_content": "abc"}}},
        "extra_body.google.cached_content",
    ),
    ("bad response_format", {"response_format": {"type": "yaml"}}, "response_format.type"),
    (
        "json_schema without schema",
        {"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
        "response_format.json_schema.schema",
    ),
    ("tool without function", {"tools": [{"type": "function"}]}, "tools[0].function"),
    (
        "tool with a bad name",
        {"tools": [{"type": "function", "function": {"name": "has space"}}]},
        "tools[0].function.name",
    ),
    (
        "tool_choice names an undeclared tool",
        {
            "tools": [{"type": "function", "function": {"name": "a"}}],
            "tool_choice": {"type": "function", "function": {"name": "b"}},
        },
        "tool_choice.function.name",
    ),
    ("tool_choice required without tools", {"tool_choice": "required"}, "tool_choice"),
    ("parallel_tool_calls true", {"parallel_tool_calls": True}, "parallel_tool_calls"),
    ("no messages", {"messages": []}, "messages"),
    ("messages not a list", {"messages": "hi"}, "messages"),
    ("bad role", {"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
    ("empty user message", {"messages": [{"role": "user", "content": "  "}]}, "messages[0].content"),
    ("empty parts", {"messages": [{"role": "user", "content": []}]}, "messages[0].content"),
    (
        "unknown part type",
        {"messages": [{"role": "user", "content": [{"type": "audio", "audio": "x"}]}]},
        "messages[0].content[0].type",
    ),
    (
        "assistant with nothing",
        {"messages": [*USER, {"role": "assistant", "content": None}, *USER]},
        "messages[1].content",
    ),
    (
        "tool message without tool_call_id",
        {"messages": [*USER, {"role": "tool", "content": "42"}]},
        "messages[1].tool_call_id",
    ),
    (
        "image in a system message",
        {
            "messages": [
                {"role": "system", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]},
                *USER,
            ]
        },
        "messages[0].content[0].type",
    ),
    (
        "image that is not an image",
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "look"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,bm90IGFuIGltYWdl"}},
                    ],
                }
            ]
        },
        "messages[0].content[1].image_url",
    ),
    (
        "image by remote URL",
        {
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}],
                }
            ]
        },
        "messages[0].content[0].image_url",
    ),
    (
        "json_schema whose $ref is itself",
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": {"anyOf": [{"$ref": "#"}]}},
            }
        },
        "response_format.json_schema.schema",
    ),
    (
        "json_schema with an allOf $ref cycle",
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "x",
                    "schema": {"$defs": {"a": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"},
                },
            }
        },
        "response_format.json_schema.schema",
    ),
    (
        "tool parameters with a $ref cycle",
        {
            "tools": [
                {
                    "type": "function",
                    "function": {"name": "f", "parameters": {"oneOf": [{"$ref": "#"}, {"$ref": "#"}]}},
                }
            ]
        },
        "tools[0].function.parameters",
    ),
]


@pytest.mark.parametrize(("what", "changes", "field"), CASES, ids=[c[0] for c in CASES])
def test_refused_with_a_400_naming_the_field(http, what, changes, field):
    r = http.post("chat/completions", json={**body(), **changes})
    assert r.status_code == 400, r.text
    err = error_of(r)
    assert err["status"] == "INVALID_ARGUMENT"
    assert err["code"] == 400
    assert field_of(r) == field
    assert field in err["message"]


def test_unknown_field_message_is_the_providers(http):
    r = http.post("chat/completions", json={**body(), "x": 1})
    assert 'Unknown name "x": Cannot find field.' in error_of(r)["message"]


def test_body_that_is_not_json_is_a_400(http):
    r = http.post("chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert error_of(r)["status"] == "INVALID_ARGUMENT"


def test_unknown_model_is_a_404(http):
    r = http.post("chat/completions", json={"model": "gpt-17", "messages": USER})
    assert r.status_code == 404
    assert error_of(r)["status"] == "NOT_FOUND"


def test_models_prefix_is_accepted(http):
    assert (
        http.post("chat/completions", json={"model": f"models/{MODEL}", "messages": USER}).status_code == 200
    )


@pytest.mark.parametrize(
    "ok",
    [
        {"stop": "x"},
        {"stop": ["a", "b", "c", "d", "e"]},
        {"temperature": 0, "top_p": 0, "n": 8, "max_tokens": 1},
        {"temperature": 2, "top_p": 1, "frequency_penalty": -2, "presence_penalty": 2},
        {"logprobs": True, "top_logprobs": 20},
        {"logprobs": True, "top_logprobs": 0},
        {"stream": True, "stream_options": {"include_usage": True}},
        {"reasoning_effort": "none"},
        {"extra_body": {"google": {"thinking_config": {"thinking_budget": -1, "include_thoughts": True}}}},
        {"parallel_tool_calls": False},
        {"response_format": {"type": "text"}},
        {"messages": [{"role": "developer", "content": "be brief"}, *USER]},
    ],
)
def test_valid_bodies_are_served(http, ok):
    assert http.post("chat/completions", json={**body(), **ok}).status_code == 200


def test_strict_openai_errors_are_objects_with_param(strict_server):
    with httpx.Client(base_url=strict_server.base_url) as client:
        r = client.post("chat/completions", json={**body(), "temperature": 5})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["param"] == "temperature"
    assert err["type"] == "invalid_request_error"
