"""Helpers the offline model's tests share: request bodies and reading a stream."""

from __future__ import annotations

import httpx
import orjson

MODEL = "gemini-2.5-flash"


def body(text: str = "What does the temperature do?", **params) -> dict:
    """A request body with one user message and the given parameters."""
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **params}


def sse_events(response: httpx.Response) -> list[bytes]:
    """The data payloads of an SSE response, split on blank lines (our server writes plain \\n\\n frames)."""
    raw = response.read() if not response.is_stream_consumed else response.content
    events = []
    for frame in raw.split(b"\n\n"):
        if frame.startswith(b"data: "):
            events.append(frame[len(b"data: ") :])
    return events


def stream_chunks(client: httpx.Client, payload: dict, headers: dict | None = None) -> list[dict]:
    """POST a streaming request and return its parsed chunks; asserts it ends with [DONE]."""
    r = client.post("chat/completions", json={**payload, "stream": True}, headers=headers or {})
    assert r.status_code == 200, r.text
    events = sse_events(r)
    assert events[-1] == b"[DONE]"
    return [orjson.loads(e) for e in events[:-1]]


def complete(client: httpx.Client, payload: dict, headers: dict | None = None) -> dict:
    """POST a non-streaming request and return the parsed completion."""
    r = client.post("chat/completions", json=payload, headers=headers or {})
    assert r.status_code == 200, r.text
    return r.json()
