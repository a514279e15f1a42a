"""A client that leaves mid-stream is noticed: the server stops writing to the closed socket (asyncio
logs "socket.send() raised exception." when a server keeps writing) and goes on serving others."""

from __future__ import annotations

import logging

import pytest

from tests.offline_model.support import body, complete

LONG_JSON = {
    "type": "json_schema",
    "json_schema": {"name": "l", "schema": {"type": "array", "items": {"type": "string"}, "minItems": 120}},
}


@pytest.mark.parametrize("fault", ["", "stall:after=3,seconds=0.01"])
def test_server_stops_writing_when_the_client_leaves(http, caplog, fault):
    caplog.set_level(logging.WARNING, logger="asyncio")
    headers = {"X-Offline-Fault": fault} if fault else {}
    for _ in range(3):
        with http.stream(
            "POST", "chat/completions", json=body(stream=True, response_format=LONG_JSON), headers=headers
        ) as r:
            next(r.iter_raw())
    # Later requests run on the same event loop, after whatever the abandoned streams still did.
    for _ in range(3):
        assert complete(http, body(max_tokens=5))["choices"][0]["message"]["content"]
    assert not [r for r in caplog.records if "socket.send() raised exception" in r.getMessage()]
