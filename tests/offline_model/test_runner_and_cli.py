"""OfflineServer as its callers rely on it (base_url, port, received, stop, context manager), and the
command line: ``python -m offline_model --help`` documents every switch, and the CLI serves."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from offline_model.runner import OfflineServer
from tests.offline_model.support import body

ROOT = Path(__file__).resolve().parents[2]


def test_base_url_port_and_received_log():
    with OfflineServer.start(port=0) as srv:
        assert srv.base_url == f"http://127.0.0.1:{srv.port}/v1/"
        with httpx.Client(base_url=srv.base_url) as client:
            client.post(
                "chat/completions", json=body("one"), headers={"Authorization": "Bearer k", "X-Trace": "1"}
            )
            client.post("chat/completions", content=b"not json")
        first, second = srv.received
        assert first["body"]["messages"][0]["content"] == "one"
        assert first["headers"]["x-trace"] == "1"
        assert "authorization" not in first["headers"]
        assert second["body"] == "not json"


def test_received_keeps_every_request_from_many_threads(server):
    before = len(server.received)

    with httpx.Client(base_url=server.base_url) as client:  # thread-safe, and costly to build

        def send(i: int) -> None:
            for k in range(5):
                client.post("chat/completions", json=body(f"thread {i} request {k}", max_tokens=2))

        threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    contents = [r["body"]["messages"][0]["content"] for r in server.received[before:]]
    assert len(contents) == 30
    for i in range(6):
        mine = [c for c in contents if c.startswith(f"thread {i} ")]
        assert mine == [f"thread {i} request {k}" for k in range(5)]  # arrival order per client


def test_stop_ends_the_server_even_with_a_stalled_stream_open():
    srv = OfflineServer.start()
    client = httpx.Client(base_url=srv.base_url, timeout=httpx.Timeout(5, read=30))
    with client.stream(
        "POST",
        "chat/completions",
        json=body(stream=True),
        headers={"X-Offline-Fault": "stall:after=1,seconds=60"},
    ) as r:
        next(r.iter_raw())
        srv.stop()
        assert not srv._thread.is_alive()
    client.close()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", srv.port), timeout=1):
        pass


def test_help_documents_every_switch_and_fault():
    out = subprocess.run(
        [sys.executable, "-m", "offline_model", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for word in [
        "--host",
        "--port",
        "--api-key",
        "--tokens-per-second",
        "--ttft-ms",
        "--strict-openai",
        "X-Offline-Fault",
        "[[fault:SPEC]]",
        "status:CODE",
        "per=day",
        "retry=",
        "disconnect:after=N",
        "stall:after=N,seconds=S",
        "malformed:after=N",
        "error:after=N",
        "no-done",
        "ttft:ms=M",
        "tags:split",
        "no-logprobs",
        "temperature",
        "top_p",
        "seed",
        "frequency_penalty",
        "presence_penalty",
        "max_completion_tokens",
        "stop",
        "logprobs",
        "top_logprobs",
        "response_format",
        "tools",
        "reasoning_effort",
        "include_thoughts",
        "cached_content",
        "tokenizer",
        "401",
    ]:
        assert word in out, word


def test_cli_serves_until_stopped():
    proc = subprocess.Popen(
        [sys.executable, "-m", "offline_model", "--port", "0", "--api-key", "k", "--strict-openai"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = proc.stderr.readline()  # printed once the socket listens
        port = int(banner.split("http://127.0.0.1:")[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/v1/models", headers={"Authorization": "Bearer wrong"})
        assert conn.getresponse().status == 401
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}/v1/", headers={"Authorization": "Bearer k"}
        ) as client:
            done = client.post("chat/completions", json=body()).json()
        assert done["id"].startswith("chatcmpl-")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_max_received_keeps_only_the_newest_requests():
    with OfflineServer.start(max_received=2) as srv, httpx.Client(base_url=srv.base_url) as client:
        for text in ("one", "two", "three"):
            client.post("chat/completions", json=body(text, max_tokens=1))
        assert [r["body"]["messages"][0]["content"] for r in srv.received] == ["two", "three"]


def test_help_says_exactly_which_instructions_it_follows(http):
    """Every length instruction --help lists has the effect it states, so nobody mistakes the model
    for one that follows more."""
    from offline_model.__main__ import DESCRIPTION
    from tests.offline_model.test_honest_replies import ask, sentences

    assert "The only instructions it follows are reply lengths" in DESCRIPTION
    for phrase, count in (("one sentence", 1), ("a single sentence", 1), ("one line", 1), ("brief", 2)):
        assert f'"{phrase}"' in DESCRIPTION
        reply = ask(http, "What does the seed do?", system=f"Answer: {phrase}.", seed=1)
        assert len(sentences(reply)) <= count, (phrase, reply)
    for phrase in ("in detail", "detailed", "in depth", "at length"):
        assert f'"{phrase}"' in DESCRIPTION
        reply = ask(http, "What does the seed do?", system=f"Answer {phrase}.", seed=1)
        assert len(sentences(reply)) >= 5, (phrase, reply)
    assert '"in N words"' in DESCRIPTION and '"N sentences"' in DESCRIPTION
    assert len(sentences(ask(http, "What is top p?", system="Use two sentences.", seed=2))) == 2
