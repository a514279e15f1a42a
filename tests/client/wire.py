"""Helpers to build recorded wire bytes and run the client over MockTransport (shared by the client tests)."""

from __future__ import annotations

import json

import httpx

from chat_client import Endpoint, Params, stream_chat
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


def mock_client(handler_or_body, status=200, content_type="text/event-stream", headers=None) -> httpx.Client:
    """An httpx.Client whose every request gets the given body (or whatever handler returns)."""
    if callable(handler_or_body):
        return httpx.Client(transport=httpx.MockTransport(handler_or_body))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, content=handler_or_body, headers={"content-type": content_type, **(headers or {})}
        )

    return httpx.Client(transport=httpx.MockTransport(handler))


def collect(http, params=None, messages=None, endpoint=None, **kw):
    ep = endpoint or Endpoint("http://test.invalid/v1/", api_key=KEY)
    return list(
        stream_chat(
            http, ep, params or Params(model=MODEL), messages or [{"role": "user", "content": "hi"}], **kw
        )
    )
