"""Time to first event: our client vs bare httpx, same loopback server, same run.

Both send the same request to one offline model (tokens as fast as possible, no artificial delay) on a
kept-alive connection, and each request is read to its end. "Bare httpx" stops its clock at the first
body bytes; ours at the first TextDelta, so the difference is everything chat_client adds: validation,
building and encoding the body, the watchdog guard, SSE and JSON decoding of the first chunk, events.
Runs are interleaved so machine noise hits both alike. Prints median and p90 (goal: < 1 ms added at
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

from chat_client import NO_RETRY, Endpoint, Params, build_body, messages, stream_chat
from chat_client.events import StreamError, TextDelta
from offline_model.runner import OfflineServer

PARAMS = Params(model="gemini-2.5-flash", max_tokens=8, temperature=0)
MSGS = [messages.user_message("Tell me about the compare page")]


def ours(http: httpx.Client, ep: Endpoint) -> float:
    t0 = time.perf_counter()
    first = None
    for event in stream_chat(http, ep, PARAMS, MSGS, retry=NO_RETRY):
        if first is None and isinstance(event, TextDelta):
            first = time.perf_counter() - t0
        elif isinstance(event, StreamError):
            raise RuntimeError(event.error.message)
    assert first is not None
    return first


def bare(http: httpx.Client, ep: Endpoint) -> float:
    body = orjson.dumps(build_body(PARAMS, MSGS))
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream", **ep.auth_headers()}
    t0 = time.perf_counter()
    first = None
    with http.stream("POST", ep.chat_url, content=body, headers=headers) as r:
        for _ in r.iter_bytes():
            if first is None:
                first = time.perf_counter() - t0
    assert first is not None
    return first


def pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(p * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=300)
    args = ap.parse_args()
    with OfflineServer.start() as srv, httpx.Client() as http:
        ep = Endpoint(srv.base_url, api_key="bench-key")
        for _ in range(20):  # warm up: connection, imports, caches
            ours(http, ep)
            bare(http, ep)
        a, b = [], []
        for _ in range(args.requests):
            a.append(ours(http, ep))
            b.append(bare(http, ep))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{args.requests} requests each, loopback offline model, interleaved")
    print(f"bare httpx  : median {mb * 1e3:.3f} ms   p90 {pct(b, 0.9) * 1e3:.3f} ms")
    print(f"chat_client : median {ma * 1e3:.3f} ms   p90 {pct(a, 0.9) * 1e3:.3f} ms")
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    print(
        f"added       : median {(ma - mb) * 1e3:+.3f} ms   (median of paired differences "
        f"{statistics.median(diffs) * 1e3:+.3f} ms; goal < 1 ms)"
    )


if __name__ == "__main__":
    main()
