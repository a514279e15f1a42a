"""The client over real loopback HTTP against a scripted server: every error class, timeouts, retries,
cancellation, and proof from the server's side that no connection stays open after an error, a timeout
or a cancel. No sleeps stand in for conditions: stalls wait on events, cancels are set by the server
script at the exact moment it wants them.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading

import httpx
import pytest

from chat_client import NO_RETRY, Endpoint, Params, RetryPolicy, Timeouts, astream_chat, errors
from chat_client.events import Finish, RetryWait, StreamError, TextDelta
from tests.client.loopback import ScriptedServer
from tests.client.wire import KEY, MODEL, chunk, sse, stream

MSGS = [{"role": "user", "content": "hi"}]
FAST = RetryPolicy(backoff_initial=0.001, backoff_max=0.002)
OK_BODY = sse(chunk("Hello", finish="stop"))


def run(srv: ScriptedServer, **kw):
    """Every event of one request to the scripted server, through a fresh AsyncClient."""
    return stream(Endpoint(srv.base_url, api_key=KEY), Params(model=MODEL), MSGS, **kw)


def ok(req, conn):
    conn.start()
    conn.chunk(OK_BODY)
    conn.end()


def status(code, body, headers=None):
    def script(req, conn):
        conn.respond(code, json.dumps(body), headers=headers)

    return script


def gemini_error(code, name, message, details=()):
    return [{"error": {"code": code, "message": message, "status": name, "details": list(details)}}]


STATUS_CASES = [
    (
        400,
        gemini_error(400, "INVALID_ARGUMENT", 'Unknown name "foo": Cannot find field.'),
        errors.BadRequestError,
    ),
    (401, gemini_error(401, "UNAUTHENTICATED", "API key not valid."), errors.AuthError),
    (403, {"error": {"message": "forbidden", "type": "permission_error"}}, errors.AuthError),
    (404, gemini_error(404, "NOT_FOUND", "models/x is not found"), errors.NotFoundError),
    (429, gemini_error(429, "RESOURCE_EXHAUSTED", "quota"), errors.RateLimitError),
    (500, gemini_error(500, "INTERNAL", "oops"), errors.ServerError),
    (503, {"error": {"message": "overloaded", "type": "server_error"}}, errors.ServerError),
]


@pytest.mark.parametrize(("code", "body", "cls"), STATUS_CASES, ids=[str(c[0]) for c in STATUS_CASES])
def test_every_status_error_from_a_real_server(code, body, cls):
    async def main():
        async with httpx.AsyncClient() as http:
            (event,) = await _arun(srv, http, retry=NO_RETRY)
            assert type(event.error) is cls and event.error.status == code
            assert KEY not in event.error.message
            # the connection is not stuck: the next request on the same client works
            assert await _arun(srv, http) == [TextDelta("Hello"), Finish("stop")]

    with ScriptedServer(status(code, body), ok) as srv:
        asyncio.run(main())


def test_connection_refused():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    ep = Endpoint(f"http://127.0.0.1:{port}/v1/", api_key=KEY)
    events = stream(ep, Params(model=MODEL), MSGS, retry=FAST)
    # refused connections are retried (nothing was sent), then reported
    assert [type(e) for e in events] == [RetryWait, RetryWait, StreamError]
    assert isinstance(events[-1].error, errors.ConnectionFailed)


def test_connection_dropped_mid_stream_is_reported_and_not_retried():
    def drop(req, conn):
        conn.start()
        conn.chunk(sse(chunk("Hel"), done=False))
        conn.sock.shutdown(socket.SHUT_RDWR)

    with ScriptedServer(drop, ok) as srv:
        events = run(srv, retry=FAST)
        assert events[0] == TextDelta("Hel")
        assert isinstance(events[-1].error, errors.ConnectionFailed) and "dropped" in events[-1].error.message
        assert len(srv.requests) == 1  # a token was shown: never retried


def test_server_closing_before_answering_is_retried():
    def hang_up(req, conn):
        conn.sock.shutdown(socket.SHUT_RDWR)

    with ScriptedServer(hang_up, ok) as srv:
        events = run(srv, retry=FAST)
    assert [type(e) for e in events] == [RetryWait, TextDelta, Finish]
    assert isinstance(events[0], RetryWait) and events[0].attempt == 2


def test_stall_between_chunks_times_out_and_closes_the_connection():
    def stall(req, conn):
        conn.start()
        conn.chunk(sse(chunk("Hel"), done=False))
        conn.hold()

    with ScriptedServer(stall) as srv:
        events = run(srv, timeouts=Timeouts(stall=0.2))
        assert events[0] == TextDelta("Hel")
        err = events[-1].error
        assert isinstance(err, errors.StreamTimeout) and err.kind == "stall" and "stalled" in err.message
        assert srv.all_closed()  # the client closed it while its httpx.Client is still open
        assert len(srv.requests) == 1


def test_first_byte_timeout_when_headers_come_but_no_body():
    def silent(req, conn):
        conn.start()
        conn.hold()

    with ScriptedServer(silent) as srv:
        (event,) = run(srv, timeouts=Timeouts(first_byte=0.2))
        assert isinstance(event.error, errors.StreamTimeout) and event.error.kind == "first_byte"
        assert srv.all_closed()


def test_first_byte_timeout_when_not_even_headers_come():
    def mute(req, conn):
        conn.hold()

    with ScriptedServer(mute) as srv:
        (event,) = run(srv, timeouts=Timeouts(first_byte=0.2))
        assert isinstance(event.error, errors.StreamTimeout) and event.error.kind == "first_byte"
        assert srv.all_closed()


def test_connect_timeout():
    # A listening socket with a full backlog that never accepts: the kernel drops further SYNs.
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    port = lsock.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            f = socket.socket()
            f.setblocking(False)
            try:
                f.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fillers.append(f)
        ep = Endpoint(f"http://127.0.0.1:{port}/v1/", api_key=KEY)
        events = stream(ep, Params(model=MODEL), MSGS, timeouts=Timeouts(connect=0.2), retry=NO_RETRY)
        err = events[-1].error
        if isinstance(err, errors.StreamTimeout):
            assert err.kind == "connect"
        else:  # some kernels answer a full backlog with a reset instead
            assert isinstance(err, errors.ConnectionFailed)
    finally:
        for f in fillers:
            f.close()
        lsock.close()


def test_5xx_is_retried_with_capped_backoff_then_reported():
    err = status(503, gemini_error(503, "UNAVAILABLE", "overloaded"))
    policy = RetryPolicy(max_attempts=4, backoff_initial=0.001, backoff_max=0.002)
    with ScriptedServer(err) as srv:
        events = run(srv, retry=policy)
    waits = [e for e in events if isinstance(e, RetryWait)]
    assert [w.seconds for w in waits] == [0.001, 0.002, 0.002]
    assert [w.attempt for w in waits] == [2, 3, 4]
    assert isinstance(events[-1].error, errors.ServerError) and len(srv.requests) == 4


def test_5xx_then_success():
    with ScriptedServer(status(500, {"error": {"message": "x"}}), ok) as srv:
        events = run(srv, retry=FAST)
    assert [type(e) for e in events] == [RetryWait, TextDelta, Finish]


def _quota(per, delay):
    return gemini_error(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{"quotaId": f"GenerateRequestsPer{per}PerProjectPerModel-FreeTier"}],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
        ],
    )


def test_429_per_minute_waits_the_given_delay_then_retries():
    with ScriptedServer(status(429, _quota("Minute", "0.01s")), ok) as srv:
        events = run(srv)
    assert isinstance(events[0], RetryWait) and events[0].seconds == pytest.approx(0.01)
    assert events[1:] == [TextDelta("Hello"), Finish("stop")]


def test_429_per_day_is_not_retried():
    with ScriptedServer(status(429, _quota("Day", "0.01s")), ok) as srv:
        (event,) = run(srv)
    assert event.error.per_day is True and len(srv.requests) == 1


def test_429_asking_for_too_long_a_wait_is_reported_not_waited():
    with ScriptedServer(status(429, _quota("Minute", "3600s")), ok) as srv:
        (event,) = run(srv, retry=RetryPolicy(max_rate_limit_wait=60))
    assert event.error.retry_after == 3600 and len(srv.requests) == 1


def test_retry_wait_ends_at_once_on_cancel():
    async def main():
        async with httpx.AsyncClient() as http:
            gen = astream_chat(http, Endpoint(srv.base_url, KEY), Params(model=MODEL), MSGS)
            first = await gen.__anext__()
            assert isinstance(first, RetryWait) and first.seconds == 30
            task = asyncio.create_task(gen.__anext__())  # now waiting out the 30 s delay
            await asyncio.sleep(0)
            task.cancel()  # Stop: ends the wait at once instead of sleeping 30 s
            with pytest.raises(asyncio.CancelledError):
                await task

    with ScriptedServer(status(429, _quota("Minute", "30s")), ok) as srv:
        asyncio.run(main())
        assert len(srv.requests) == 1


def test_cancel_before_any_answer_closes_the_connection():
    arrived = threading.Event()

    def script(req, conn):
        arrived.set()
        conn.hold()

    async def main():
        async with httpx.AsyncClient() as http:
            task = asyncio.create_task(_arun(srv, http))
            await asyncio.to_thread(arrived.wait)  # the request is at the server, no answer yet
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await asyncio.to_thread(srv.all_closed)

    with ScriptedServer(script) as srv:
        asyncio.run(main())


def test_malformed_chunk_closes_the_connection():
    def script(req, conn):
        conn.start()
        conn.chunk(sse(chunk("Hel"), "{oops", done=False))
        conn.hold()

    with ScriptedServer(script) as srv:
        events = run(srv)
        assert isinstance(events[-1].error, errors.ProtocolError)
        assert srv.all_closed()


def test_trailing_raw_error_from_a_real_server():
    def script(req, conn):
        conn.start()
        conn.chunk(sse(chunk("Hel"), done=False))
        conn.chunk(b'{"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}\n')
        conn.end()

    with ScriptedServer(script) as srv:
        events = run(srv)
    assert events[0] == TextDelta("Hel")
    assert isinstance(events[-1].error, errors.ProtocolError) and events[-1].error.status == 503


def test_no_finish_reason_from_a_real_server():
    def script(req, conn):
        conn.start()
        conn.chunk(sse(chunk("Hel")))
        conn.end()

    with ScriptedServer(script) as srv:
        events = run(srv)
    assert isinstance(events[-1].error, errors.ProtocolError)


def test_connection_is_reused_after_done():
    async def main():
        async with httpx.AsyncClient() as http:
            assert await _arun(srv, http) == await _arun(srv, http) == [TextDelta("Hello"), Finish("stop")]

    with ScriptedServer(ok) as srv:
        asyncio.run(main())
        assert len(srv.conns) == 1  # the body was read to its end, so the connection went back to the pool


# --- async ---------------------------------------------------------------------------------------


async def _arun(srv, http, **kw):
    ep = Endpoint(srv.base_url, api_key=KEY)
    return [e async for e in astream_chat(http, ep, Params(model=MODEL), MSGS, **kw)]


def test_async_errors_timeouts_and_retries():
    def stall(req, conn):
        conn.start()
        conn.chunk(sse(chunk("Hel"), done=False))
        conn.hold()

    async def main():
        async with httpx.AsyncClient() as http:
            events = await _arun(srv, http, timeouts=Timeouts(stall=0.2))
            assert events[0] == TextDelta("Hel") and events[-1].error.kind == "stall"
            events = await _arun(srv2, http, retry=FAST)
            assert [type(e) for e in events] == [RetryWait, TextDelta, Finish]

    with ScriptedServer(stall) as srv, ScriptedServer(status(503, {"error": {"message": "x"}}), ok) as srv2:
        asyncio.run(main())
        assert srv.all_closed()


def test_async_generator_close_closes_the_connection():
    def script(req, conn):
        conn.start()
        conn.chunk(sse(chunk("Hel"), done=False))
        conn.hold()

    async def main():
        async with httpx.AsyncClient() as http:
            gen = astream_chat(http, Endpoint(srv.base_url, KEY), Params(model=MODEL), MSGS)
            assert await gen.__anext__() == TextDelta("Hel")
            await gen.aclose()
            assert await asyncio.to_thread(srv.all_closed)

    with ScriptedServer(script) as srv:
        asyncio.run(main())


def test_a_slow_consumer_is_not_a_stalled_server():
    # The stall clock runs only while the client waits for the network, not while the caller works,
    # whether the caller is slow after the first chunk (still the first-byte clock) or a later one.
    got = [threading.Event(), threading.Event()]

    def script(req, conn):
        conn.start()
        conn.chunk(sse(chunk("a"), done=False))
        got[0].wait()  # so each chunk is surely a later network read than the one before
        conn.chunk(sse(chunk("b"), done=False))
        got[1].wait()
        conn.chunk(sse(chunk("c", finish="stop")))
        conn.end()

    async def main():
        out = []
        async with httpx.AsyncClient() as http:
            ep = Endpoint(srv.base_url, KEY)
            quick = Timeouts(stall=0.2)
            async for event in astream_chat(http, ep, Params(model=MODEL), MSGS, timeouts=quick):
                out.append(event)
                if len(out) <= 2:
                    got[len(out) - 1].set()
                    await asyncio.sleep(0.4)  # the behaviour under test: a consumer slower than the stall
        return out

    with ScriptedServer(script) as srv:
        assert [type(e) for e in asyncio.run(main())] == [TextDelta, TextDelta, TextDelta, Finish]


def test_unknown_chunk_shapes_end_in_a_protocol_error_not_an_exception():
    from tests.client.wire import decode

    for bad in ('{"choices": [1]}', '{"choices": [{"delta": {"content": 5}}]}', '{"choices": {"a": 1}}'):
        events = decode(sse(bad))
        assert isinstance(events[-1], StreamError) and isinstance(events[-1].error, errors.ProtocolError), bad


def test_cancelling_the_asyncio_task_closes_the_connection():
    def script(req, conn):
        conn.start()
        conn.chunk(sse(chunk("Hel"), done=False))
        conn.hold()

    async def main():
        got_first = asyncio.Event()
        seen = []

        async def consume(http):
            ep = Endpoint(srv.base_url, api_key=KEY)
            async for event in astream_chat(http, ep, Params(model=MODEL), MSGS):
                seen.append(event)
                got_first.set()

        async with httpx.AsyncClient() as http:
            task = asyncio.create_task(consume(http))
            await got_first.wait()
            task.cancel()  # the compare page's Stop: the task is waiting on a silent server
            with pytest.raises(asyncio.CancelledError):
                await task
            assert seen == [TextDelta("Hel")]
            assert await asyncio.to_thread(srv.all_closed)

    with ScriptedServer(script) as srv:
        asyncio.run(main())
