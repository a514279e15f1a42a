"""Helpers the offline model's tests share: request bodies, replies and reading a stream."""

from __future__ import annotations

import httpx
import orjson

MODEL = "gemini-2.5-flash"


def body(text: str = "What does the temperature do?", **params) -> dict:
    """A request body with one user message and the given parameters."""
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **params}


def sse_events(response: httpx.Response) -> list[bytes]:
    """The data payloads of an SSE response (our server writes plain ``data: ...\\n\\n`` frames)."""
    raw = response.read()
    return [frame[len(b"data: ") :] for frame in raw.split(b"\n\n") if frame.startswith(b"data: ")]


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


def reply(client: httpx.Client, text: str = "What does the temperature do?", **params) -> dict:
    """The first choice of a non-streaming reply to ``text``."""
    return complete(client, body(text, **params))["choices"][0]


def content(client: httpx.Client, text: str = "What does the temperature do?", **params) -> str:
    """The text of the first choice of a non-streaming reply."""
    return reply(client, text, **params)["message"]["content"]


def streamed_text(chunks: list[dict], index: int = 0) -> str:
    """The joined delta.content of one choice of a stream."""
    return "".join(
        ch["delta"].get("content") or "" for c in chunks for ch in c["choices"] if ch["index"] == index
    )


def error_of(response: httpx.Response) -> dict:
    """The inner error object of a Gemini list-shaped error body."""
    data = response.json()
    assert isinstance(data, list) and len(data) == 1, data
    return data[0]["error"]


def field_of(response: httpx.Response) -> str:
    """The field a 400 names, read from its google.rpc.BadRequest detail."""
    details = error_of(response)["details"]
    bad = [d for d in details if d["@type"].endswith("google.rpc.BadRequest")]
    return bad[0]["fieldViolations"][0]["field"]
