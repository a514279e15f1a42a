"""Time to first event: our client vs bare httpx, same loopback server, same run.

Both send the same request to one offline model (tokens as fast as possible, no artificial delay) on a
kept-alive connection of one `httpx.AsyncClient`, and each request is read to its end. "Bare httpx"
stops its clock at the first body bytes; ours at the first TextDelta, so the difference is everything
chat_client adds: validation, building and encoding the body, the asyncio deadline, SSE and JSON
decoding of the first chunk, events. A third line measures what the chat page sees: the same request
run as a turn's request on the engine (turns/engine.py), read from another thread, first TextDelta.
Runs are interleaved so machine noise hits all alike. Prints median and p90 (goal: < 1 ms added at
the median).

    .venv/bin/python bench/first_byte.py [--requests 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from chat_client import NO_RETRY, Endpoint, Params, astream_chat, build_body, messages
from chat_client.events import StreamError, TextDelta
from offline_model.runner import OfflineServer
from turns.engine import Engine

PARAMS = Params(model="gemini-2.5-flash", max_tokens=8, temperature=0)
MSGS = [messages.user_message("Tell me about the compare page")]


async def ours(http: httpx.AsyncClient, ep: Endpoint) -> float:
    t0 = time.perf_counter()
    first = None
    async for event in astream_chat(http, ep, PARAMS, MSGS, retry=NO_RETRY):
        if first is None and isinstance(event, TextDelta):
            first = time.perf_counter() - t0
        elif isinstance(event, StreamError):
            raise RuntimeError(event.error.message)
    assert first is not None
    return first


async def bare(http: httpx.AsyncClient, ep: Endpoint) -> float:
    body = orjson.dumps(build_body(PARAMS, MSGS))
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream", **ep.auth_headers()}
    t0 = time.perf_counter()
    first = None
    async with http.stream("POST", ep.chat_url, content=body, headers=headers) as r:
        async for _ in r.aiter_bytes():
            if first is None:
                first = time.perf_counter() - t0
    assert first is not None
    return first


def via_engine(engine: Engine, ep: Endpoint) -> float:
    """From this thread, as the page does: the request runs on the engine's loop, events come back here."""

    t0 = time.perf_counter()
    first = None
    gen = _engine_events(engine, ep)
    for event in gen:
        if first is None and isinstance(event, TextDelta):
            first = time.perf_counter() - t0
    assert first is not None
    return first


def _engine_events(engine: Engine, ep: Endpoint):
    import queue

    box: queue.SimpleQueue = queue.SimpleQueue()
    done = object()

    async def pump() -> None:
        try:
            async for event in astream_chat(engine.http, ep, PARAMS, MSGS, retry=NO_RETRY):
                box.put(event)
        finally:
            box.put(done)

    engine.call_soon(lambda: engine.loop.create_task(pump()))
    while (item := box.get()) is not done:
        yield item


def pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(p * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=300)
    args = ap.parse_args()

    async def measure(http: httpx.AsyncClient, ep: Endpoint) -> tuple[float, float]:
        return await ours(http, ep), await bare(http, ep)

    with OfflineServer.start() as srv, Engine(httpx.AsyncClient()) as engine:
        ep = Endpoint(srv.base_url, api_key="bench-key")
        for _ in range(20):  # warm up: connection, imports, caches
            engine.run_sync(measure(engine.http, ep))
            via_engine(engine, ep)
        a, b, c = [], [], []
        for _ in range(args.requests):
            x, y = engine.run_sync(measure(engine.http, ep))
            a.append(x)
            b.append(y)
            c.append(via_engine(engine, ep))
    ma, mb, mc = statistics.median(a), statistics.median(b), statistics.median(c)
    print(f"{args.requests} requests each, loopback offline model, interleaved")
    print(f"bare httpx  : median {mb * 1e3:.3f} ms   p90 {pct(b, 0.9) * 1e3:.3f} ms")
    print(f"chat_client : median {ma * 1e3:.3f} ms   p90 {pct(a, 0.9) * 1e3:.3f} ms")
    print(f"via engine  : median {mc * 1e3:.3f} ms   p90 {pct(c, 0.9) * 1e3:.3f} ms  (another thread reads)")
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    print(
        f"added       : median {(ma - mb) * 1e3:+.3f} ms   (median of paired differences "
        f"{statistics.median(diffs) * 1e3:+.3f} ms; goal < 1 ms)"
    )


if __name__ == "__main__":
    main()
