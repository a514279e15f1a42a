"""Helpers to build recorded wire bytes and run the client over MockTransport (shared by the client tests)."""

from __future__ import annotations

import asyncio
import json

import httpx

from chat_client import Endpoint, Params, astream_chat
from chat_client.decoder import StreamDecoder

KEY = "sk-test-SECRET-0123456789"
MODEL = "gemini-2.5-flash"


def chunk(
    content=None, *, finish=None, index=0, role=True, usage=None, thought=False, tool_calls=None, **delta
):
    """One chat.completion.chunk as a dict."""
    d = dict(delta)
    if role:
        d["role"] = "assistant"
    if content is not None:
        d["content"] = content
    if thought:
        d["extra_content"] = {"google": {"thought": True}}
    if tool_calls is not None:
        d["tool_calls"] = tool_calls
    obj = {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": MODEL,
        "choices": [{"index": index, "delta": d, "finish_reason": finish}],
    }
    if usage is not None:
        obj["usage"] = usage
    return obj


def sse(*objs, done=True, eol="\n") -> bytes:
    """Frame dicts (or raw strings) as SSE events."""
    parts = []
    for o in objs:
        data = o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)
        parts.append(f"data: {data}{eol}{eol}")
    if done:
        parts.append(f"data: [DONE]{eol}{eol}")
    return "".join(parts).encode()


def decode(*pieces: bytes, sse_mode=True):
    """Run byte pieces through a StreamDecoder, as if each were one network read."""
    dec = StreamDecoder(sse=sse_mode)
    out = []
    for p in pieces:
        out += dec.feed(p)
    out += dec.close()
    return out


class MockServer:
    """A `httpx.MockTransport` that answers every request with the given body (or what the handler
    returns); `collect` sends through it. A context manager, like the clients it stands in for."""

    def __init__(self, handler) -> None:
        self.transport = httpx.MockTransport(handler)

    def __enter__(self) -> MockServer:
        return self

    def __exit__(self, *exc) -> None:
        pass


def mock_client(handler_or_body, status=200, content_type="text/event-stream", headers=None) -> MockServer:
    """A stand-in server whose every request gets the given body (or whatever handler returns)."""
    if callable(handler_or_body):
        return MockServer(handler_or_body)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, content=handler_or_body, headers={"content-type": content_type, **(headers or {})}
        )

    return MockServer(handler)


def stream(endpoint, params, messages, *, transport=None, **kw) -> list:
    """Every event of one request, through a fresh `httpx.AsyncClient` (over `transport` if given)."""

    async def run():
        async with httpx.AsyncClient(transport=transport) as http:
            return [e async for e in astream_chat(http, endpoint, params, messages, **kw)]

    return asyncio.run(run())


def collect(server: MockServer, params=None, messages=None, endpoint=None, **kw):
    ep = endpoint or Endpoint("http://test.invalid/v1/", api_key=KEY)
    return stream(
        ep,
        params or Params(model=MODEL),
        messages or [{"role": "user", "content": "hi"}],
        transport=server.transport,
        **kw,
    )
