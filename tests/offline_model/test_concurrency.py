"""Several streams at once (the compare page runs up to six columns): each paced stream arrives whole
and says what the same request says alone."""

from __future__ import annotations

import threading

import httpx

from offline_model.runner import OfflineServer
from tests.offline_model.support import body, complete, stream_chunks, streamed_text


def test_six_paced_streams_at_once_each_arrive_whole():
    payloads = [body("Tell me about the compare page", seed=s, max_tokens=30) for s in range(6)]
    results: dict[int, str] = {}
    # One client for all threads (httpx.Client is thread-safe; building one costs ~0.2 s of CPU).
    with (
        OfflineServer.start(tokens_per_second=400) as srv,
        httpx.Client(base_url=srv.base_url, timeout=30) as client,
    ):

        def run(i: int) -> None:
            results[i] = streamed_text(stream_chunks(client, payloads[i]))

        threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        alone = [complete(client, p)["choices"][0]["message"]["content"] for p in payloads]
    assert [results[i] for i in range(6)] == alone
