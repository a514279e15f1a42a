"""How fast a chat stream is parsed: our client vs the official openai SDK, same bytes, same run.

A 20,000-chunk Gemini-shaped SSE body (role on every chunk, usage on every chunk, as the provider sends
it) is served from memory through httpx.MockTransport in 64 KiB pieces (httpcore's read size), so the
figure is parsing cost alone: no sockets, no server. Both clients iterate the whole stream to its end;
ours yields typed events, the SDK yields its pydantic chunk objects. Prints chunks per second for each
and the ratio (design goal: at least 25x the SDK).

    .venv/bin/python bench/stream_parse.py [--chunks 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import httpx
import openai

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from chat_client import NO_RETRY, Endpoint, Params, astream_chat
from chat_client.events import StreamError, TextDelta

MODEL = "gemini-2.5-flash"
PIECE = 65536
WORDS = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", " é", " 🌍", ","]


def build_body(n: int) -> bytes:
    out = []
    for i in range(n):
        last = i == n - 1
        obj = {
            "id": "a3f9c2",
            "object": "chat.completion.chunk",
            "created": 1760032810,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": WORDS[i % len(WORDS)]},
                    "finish_reason": "stop" if last else None,
                }
            ],
            "usage": {"prompt_tokens": 13, "completion_tokens": i + 1, "total_tokens": 14 + i},
        }
        out.append(b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n")
    out.append(b"data: [DONE]\n\n")
    return b"".join(out)


def transport(body: bytes, *, asynchronous: bool = False) -> httpx.MockTransport:
    pieces = [body[i : i + PIECE] for i in range(0, len(body), PIECE)]

    async def apieces():
        for piece in pieces:
            yield piece

    def handler(request: httpx.Request) -> httpx.Response:
        content = apieces() if asynchronous else iter(pieces)
        return httpx.Response(200, content=content, headers={"content-type": "text/event-stream"})

    return httpx.MockTransport(handler)


def run_ours(body: bytes, n: int) -> float:
    async def go() -> tuple[float, int]:
        async with httpx.AsyncClient(transport=transport(body, asynchronous=True)) as http:
            ep = Endpoint("http://bench.invalid/v1/", api_key="k")
            t0 = time.perf_counter()
            texts = 0
            async for event in astream_chat(
                http, ep, Params(model=MODEL), [{"role": "user", "content": "hi"}], retry=NO_RETRY
            ):
                if isinstance(event, TextDelta):
                    texts += 1
                elif isinstance(event, StreamError):
                    raise RuntimeError(event.error.message)
            return time.perf_counter() - t0, texts

    elapsed, texts = asyncio.run(go())
    assert texts == n, texts
    return elapsed


def run_sdk(body: bytes, n: int) -> float:
    with httpx.Client(transport=transport(body)) as http:
        client = openai.OpenAI(
            base_url="http://bench.invalid/v1/", api_key="k", http_client=http, max_retries=0
        )
        t0 = time.perf_counter()
        texts = 0
        stream = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                texts += 1
        elapsed = time.perf_counter() - t0
    assert texts == n, texts
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    body = build_body(args.chunks)
    run_ours(body, args.chunks)  # warm up imports and caches for both
    run_sdk(body, args.chunks)
    ours, sdk = [], []
    for _ in range(args.repeat):  # interleaved, so drift in machine load hits both alike
        ours.append(run_ours(body, args.chunks))
        sdk.append(run_sdk(body, args.chunks))
    o, s = statistics.median(ours), statistics.median(sdk)
    print(f"body: {args.chunks:,} chunks, {len(body) / 1e6:.2f} MB, median of {args.repeat} runs")
    print(f"chat_client : {args.chunks / o:>12,.0f} chunks/s  ({o * 1e3:.1f} ms)")
    print(f"openai SDK  : {args.chunks / s:>12,.0f} chunks/s  ({s * 1e3:.1f} ms)")
    print(f"ratio       : {s / o:.1f}x  (goal >= 25x)")


if __name__ == "__main__":
    main()
