"""astream_chat over httpx: text, usage, finish, typed HTTP errors, the key hidden."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from chat_client import NO_RETRY, Endpoint, Params, astream_chat, errors
from chat_client.events import Finish, StreamError, TextDelta, Usage
from tests.client.wire import KEY, MODEL, chunk, collect, mock_client, sse, stream

USAGE = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
BODY = sse(chunk("Hel"), chunk("lo"), chunk(None, finish="stop", usage=USAGE))


def test_text_then_finish_then_usage():
    with mock_client(BODY) as http:
        assert collect(http) == [TextDelta("Hel"), TextDelta("lo"), Finish("stop"), Usage(3, 2, 5)]


def test_request_carries_key_body_and_accept_header():
    seen = []

    def handler(request: httpx.Request):
        seen.append(request)
        return httpx.Response(200, content=BODY, headers={"content-type": "text/event-stream"})

    with mock_client(handler) as http:
        collect(http, Params(model=MODEL, temperature=0.5))
    (req,) = seen
    assert str(req.url) == "http://test.invalid/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.headers["accept"] == "text/event-stream"
    assert json.loads(req.content) == {
        "model": MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "temperature": 0.5,
    }


def test_async_gives_the_same_events():
    async def run():
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(
                lambda r: httpx.Response(200, content=BODY, headers={"content-type": "text/event-stream"})
            )
        ) as http:
            ep = Endpoint("http://test.invalid/v1/", api_key=KEY)
            return [
                e
                async for e in astream_chat(http, ep, Params(model=MODEL), [{"role": "user", "content": "x"}])
            ]

    assert asyncio.run(run()) == [TextDelta("Hel"), TextDelta("lo"), Finish("stop"), Usage(3, 2, 5)]


def test_invalid_params_are_refused_before_sending():
    sent = []
    with mock_client(lambda r: sent.append(r) or httpx.Response(200)) as http:
        (event,) = collect(http, Params(model=MODEL, temperature=3))
    assert sent == []
    assert isinstance(event.error, errors.BadRequestError) and event.error.field == "temperature"


def test_missing_model_is_refused_before_sending():
    with mock_client(lambda r: httpx.Response(500)) as http:
        (event,) = collect(http, Params())
    assert event.error.field == "model"


def _gemini(code, status, message, details=()):
    return json.dumps(
        [{"error": {"code": code, "message": message, "status": status, "details": list(details)}}]
    )


def _openai(message, type_, code=None, param=None):
    return json.dumps({"error": {"message": message, "type": type_, "code": code, "param": param}})


ERRORS = [
    (401, _gemini(401, "UNAUTHENTICATED", "API key not valid."), errors.AuthError),
    (
        401,
        _openai("Incorrect API key provided", "invalid_request_error", "invalid_api_key"),
        errors.AuthError,
    ),
    (403, _gemini(403, "PERMISSION_DENIED", "Forbidden"), errors.AuthError),
    (404, _gemini(404, "NOT_FOUND", "models/nope is not found"), errors.NotFoundError),
    (404, _openai("The model `nope` does not exist", "invalid_request_error"), errors.NotFoundError),
    (400, _gemini(400, "INVALID_ARGUMENT", 'Unknown name "foo": Cannot find field.'), errors.BadRequestError),
    (400, _openai("bad", "invalid_request_error", param="temperature"), errors.BadRequestError),
    (429, _gemini(429, "RESOURCE_EXHAUSTED", "quota"), errors.RateLimitError),
    (500, _gemini(500, "INTERNAL", "oops"), errors.ServerError),
    (503, _openai("overloaded", "server_error"), errors.ServerError),
    (502, "<html>bad gateway</html>", errors.ServerError),
]


@pytest.mark.parametrize(("status", "body", "cls"), ERRORS)
def test_http_errors_become_typed_errors_in_either_body_shape(status, body, cls):
    with mock_client(body.encode(), status=status, content_type="application/json") as http:
        events = collect(http, retry=NO_RETRY)
    (event,) = events
    assert isinstance(event, StreamError) and type(event.error) is cls
    assert event.error.status == status
    assert KEY not in event.error.message


def test_bad_request_names_the_field_in_both_shapes():
    for body in (
        _gemini(
            400, "INVALID_ARGUMENT", 'Invalid JSON payload received. Unknown name "foo": Cannot find field.'
        ),
        _openai("Unrecognized request argument supplied: foo", "invalid_request_error", param="foo"),
    ):
        with mock_client(body.encode(), status=400, content_type="application/json") as http:
            (event,) = collect(http)
        assert event.error.field == "foo"
        assert "`foo`" in event.error.message


def test_the_key_never_shows_even_when_the_server_echoes_it():
    body = _gemini(401, "UNAUTHENTICATED", f"API key {KEY} not valid")
    with mock_client(body.encode(), status=401, content_type="application/json") as http:
        (event,) = collect(http)
    assert KEY not in event.error.message and KEY not in repr(event) and KEY not in str(event.error)
    assert "[key hidden]" in event.error.message


def test_endpoint_repr_hides_the_key():
    ep = Endpoint("http://x/v1/", api_key=KEY, models=["a"])
    assert KEY not in repr(ep) and KEY not in str(ep) and "api_key=<set>" in repr(ep)
    assert ep.models == ("a",)
    assert ep.chat_url == "http://x/v1/chat/completions"


def test_non_streaming_reply_gives_the_same_events():
    body = {
        "id": "x",
        "object": "chat.completion",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}
        ],
        "usage": USAGE,
    }
    with mock_client(json.dumps(body).encode(), content_type="application/json") as http:
        events = collect(http, Params(model=MODEL, stream=False))
    assert events == [TextDelta("Hello"), Finish("stop"), Usage(3, 2, 5)]


def test_connection_refused_is_a_connection_error():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    ep = Endpoint(f"http://127.0.0.1:{port}/v1/", api_key=KEY)
    (event,) = stream(ep, Params(model=MODEL), [{"role": "user", "content": "hi"}], retry=NO_RETRY)
    assert isinstance(event.error, errors.ConnectionFailed)
    assert "Could not connect" in event.error.message


def test_the_key_is_scrubbed_from_errors_found_inside_the_stream():
    err = {"error": {"code": 500, "message": f"bad key {KEY}", "status": "INTERNAL"}}
    for body in (
        sse(chunk("a"), err),
        sse(chunk("a"), f"not json {KEY}"),
        sse(chunk("a"), done=False) + (b'{"error": {"code": 503, "message": "' + KEY.encode() + b'"}}\n'),
    ):
        with mock_client(body) as http:
            events = collect(http)
        assert isinstance(events[-1], StreamError)
        assert (
            KEY not in repr(events)
            and KEY not in events[-1].error.message
            and KEY not in events[-1].error.detail
        )


def test_text_events_are_frozen_dataclasses():
    import dataclasses

    from chat_client.events import ThoughtDelta

    for cls in (TextDelta, ThoughtDelta):
        e = cls("a", index=2)
        assert (
            dataclasses.is_dataclass(e)
            and e == cls("a", 2)
            and e != cls("a")
            and hash(e) == hash(cls("a", 2))
        )
        assert repr(e) == f"{cls.__name__}(text='a', index=2)" and cls("b").index == 0
        with pytest.raises(dataclasses.FrozenInstanceError):
            e.text = "b"
    assert TextDelta("a") != ThoughtDelta("a")
