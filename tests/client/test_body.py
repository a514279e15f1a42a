"""build_body sends only what was set; the message builders produce the wire shapes."""

from __future__ import annotations

from chat_client import Params, build_body, messages
from chat_client.events import ToolCall
from storage.images import data_url

MSGS = [messages.user_message("hi")]


def test_unset_params_give_messages_and_stream_only():
    assert build_body(Params(), MSGS) == {"messages": MSGS, "stream": True}


def test_set_fields_and_nothing_else_no_nulls():
    body = build_body(Params(model="m", temperature=0.0, stream=False, stop="x"), MSGS)
    assert body == {"model": "m", "messages": MSGS, "stream": False, "temperature": 0.0, "stop": "x"}
    assert None not in body.values()


def test_gemini_fields_nest_under_extra_body_google():
    body = build_body(
        Params(thinking_budget=0, include_thoughts=False, cached_content="cachedContents/c"), MSGS
    )
    assert body["extra_body"] == {
        "google": {
            "thinking_config": {"thinking_budget": 0, "include_thoughts": False},
            "cached_content": "cachedContents/c",
        }
    }
    assert "thinking_budget" not in body and "include_thoughts" not in body
    assert build_body(Params(include_thoughts=True), MSGS)["extra_body"] == {
        "google": {"thinking_config": {"include_thoughts": True}}
    }


def test_tuples_become_lists():
    body = build_body(Params(stop=("a", "b")), MSGS)
    assert body["stop"] == ["a", "b"]


def test_user_message_with_several_images():
    urls = ["data:image/png;base64,AAA", "data:image/jpeg;base64,BBB"]
    assert messages.user_message("look", urls) == {
        "role": "user",
        "content": [
            {"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": urls[0]}},
            {"type": "image_url", "image_url": {"url": urls[1]}},
        ],
    }
    assert messages.user_message("", urls[:1])["content"] == [
        {"type": "image_url", "image_url": {"url": urls[0]}}
    ]


def test_system_and_tool_messages():
    assert messages.system_message("be brief") == {"role": "system", "content": "be brief"}
    assert messages.tool_message("call_1", "sunny") == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "sunny",
    }
    assert messages.tool_message("call_1", {"t": 20})["content"] == '{"t":20}'


def test_assistant_tool_calls_keep_the_thought_signature():
    call = ToolCall(id="call_1", name="get_weather", arguments='{"city":"Paris"}', thought_signature="sig==")
    msg = messages.assistant_message("", [call])
    assert msg == {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                "extra_content": {"google": {"thought_signature": "sig=="}},
            }
        ],
    }
    plain = messages.assistant_message("ok", [ToolCall("c", "f", "{}")])
    assert plain["content"] == "ok" and "extra_content" not in plain["tool_calls"][0]
    assert messages.assistant_message("hello") == {"role": "assistant", "content": "hello"}


def test_image_problem_names_type_and_size():
    assert messages.image_problem(data_url(b"x" * 100, "image/jpeg")) is None
    assert "PNG, JPEG or WEBP" in messages.image_problem(data_url(b"x", "image/gif"))
    assert "7 MB" in messages.image_problem(data_url(b"x" * (7 * 1024 * 1024 + 3), "image/png"))
    assert "data: URL" in messages.image_problem("https://example.com/cat.png")


def test_to_wire_is_the_body_without_messages_and_defaults():
    p = Params(
        model="m",
        temperature=1.0,
        thinking_budget=-1,
        include_thoughts=True,
        cached_content="cachedContents/x",
    )
    fields = p.to_wire()
    assert fields == {
        "model": "m",
        "temperature": 1.0,
        "extra_body": {
            "google": {
                "thinking_config": {"thinking_budget": -1, "include_thoughts": True},
                "cached_content": "cachedContents/x",
            }
        },
    }
    assert Params.from_dict(fields) == p
    assert Params().to_wire() == {}
