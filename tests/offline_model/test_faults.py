"""Every fault switch produces what it says, asked for by header or by a [[fault:...]] marker; a bad
spec is a 400 naming where it came from. Stream faults are read event by event over real HTTP."""

from __future__ import annotations

import httpx
import orjson
import pytest

from offline_model.runner import OfflineServer
from tests.offline_model.support import body, complete, error_of, field_of

FAULT = "X-Offline-Fault"


def read_events(
    client: httpx.Client, spec: str, *, timeout: float = 30, **params
) -> tuple[list[bytes], Exception | None]:
    """Stream a reply with a fault; return the SSE data payloads received and the error that ended it."""
    payload = body("Tell me about Prism", stream=True, seed=1, **params)
    received = b""
    error: Exception | None = None
    with client.stream(
        "POST",
        "chat/completions",
        json=payload,
        headers={FAULT: spec},
        timeout=httpx.Timeout(30, read=timeout),
    ) as r:
        assert r.status_code == 200
        try:
            for piece in r.iter_raw():
                received += piece
        except (httpx.RemoteProtocolError, httpx.ReadTimeout) as exc:
            error = exc
    frames = received.split(b"\n\n")
    events = [f[len(b"data: ") :] for f in frames[:-1] if f.startswith(b"data: ")]
    trailing = frames[-1]
    if trailing:
        events.append(b"RAW:" + trailing)
    return events, error


@pytest.mark.parametrize("after", [0, 1, 3, 7])
def test_disconnect_drops_the_connection_after_n_chunks(http, after):
    events, error = read_events(http, f"disconnect:after={after}")
    assert isinstance(error, httpx.RemoteProtocolError)
    assert len(events) == after
    assert all(orjson.loads(e)["object"] == "chat.completion.chunk" for e in events)


def test_disconnect_beyond_the_stream_happens_at_its_end(http):
    events, error = read_events(http, "disconnect:after=100000")
    assert isinstance(error, httpx.RemoteProtocolError)
    assert events and b"[DONE]" not in events
    assert orjson.loads(events[-1])["choices"][0]["finish_reason"] == "stop"


def test_stall_sends_nothing_for_the_given_seconds(http):
    events, error = read_events(http, "stall:after=2,seconds=30", timeout=2)
    assert isinstance(error, httpx.ReadTimeout)
    assert len(events) == 2


def test_stall_then_goes_on(http):
    events, error = read_events(http, "stall:after=1,seconds=0.05")
    assert error is None
    assert events[-1] == b"[DONE]"


def test_malformed_sends_one_event_that_is_not_json_and_goes_on(http):
    events, error = read_events(http, "malformed:after=2")
    assert error is None
    assert events[-1] == b"[DONE]"
    orjson.loads(events[0]), orjson.loads(events[1])
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(events[2])
    for e in events[3:-1]:
        orjson.loads(e)


@pytest.mark.parametrize(
    ("spec", "code", "status"), [("", 503, "UNAVAILABLE"), (",code=500", 500, "INTERNAL")]
)
def test_error_sends_a_mid_stream_error_object_and_no_done(http, spec, code, status):
    events, error = read_events(http, f"error:after=2{spec}")
    assert error is None
    assert len(events) == 3
    err = orjson.loads(events[2])["error"]
    assert (err["code"], err["status"]) == (code, status)


def test_error_raw_is_trailing_json_not_an_sse_event(http):
    events, _ = read_events(http, "error:after=1,raw=1")
    assert len(events) == 2
    assert events[1].startswith(b"RAW:")
    assert orjson.loads(events[1][4:])["error"]["code"] == 503


def test_no_done_ends_the_stream_without_done(http):
    events, error = read_events(http, "no-done")
    assert error is None
    assert b"[DONE]" not in events
    assert orjson.loads(events[-1])["choices"][0]["finish_reason"] == "stop"


def test_ttft_delays_the_first_chunk(http):
    events, error = read_events(http, "ttft:ms=30000", timeout=0.3)
    assert isinstance(error, httpx.ReadTimeout)
    assert events == []
    events, error = read_events(http, "ttft:ms=20")
    assert error is None and events[-1] == b"[DONE]"


def test_faults_combine_with_semicolons(http):
    events, error = read_events(http, "ttft:ms=10; malformed:after=0; no-done")
    assert error is None
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(events[0])
    assert b"[DONE]" not in events


def test_a_marker_in_the_last_user_message_works_like_the_header(http, server):
    r = http.post("chat/completions", json=body("[[fault:status:503]] Tell me about Prism"))
    assert r.status_code == 503
    assert error_of(r)["status"] == "UNAVAILABLE"
    assert server.received[-1]["body"]["messages"][0]["content"].startswith("[[fault:")


def test_a_marker_is_removed_before_the_model_reads_the_message(http):
    plain = complete(http, body("Tell me about Prism", temperature=0))
    marked = complete(http, body("Tell me about Prism [[fault:ttft:ms=1]]", temperature=0))
    assert marked["choices"][0]["message"]["content"] == plain["choices"][0]["message"]["content"]
    assert marked["usage"]["prompt_tokens"] == plain["usage"]["prompt_tokens"]


def test_only_the_last_user_message_carries_faults(http):
    payload = {
        "model": "gemini-2.5-flash",
        "messages": [
            {"role": "user", "content": "[[fault:status:500]] first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "second"},
        ],
    }
    assert http.post("chat/completions", json=payload).status_code == 200


@pytest.mark.parametrize(
    "spec",
    [
        "explode",
        "status:418",
        "disconnect",
        "disconnect:after=x",
        "stall:after=1",
        "tags:maybe",
        "error:after=1,code=404",
    ],
)
def test_a_bad_spec_is_a_400_naming_the_header(http, spec):
    r = http.post("chat/completions", json=body(), headers={FAULT: spec})
    assert r.status_code == 400
    assert field_of(r) == FAULT


def test_a_bad_marker_is_a_400_naming_messages(http):
    r = http.post("chat/completions", json=body("[[fault:nonsense]] hi"))
    assert r.status_code == 400
    assert field_of(r) == "messages"


@pytest.mark.parametrize(
    ("spec", "quota", "delay"),
    [
        ("status:429", "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "28.5s"),
        ("status:429,per=minute,retry=3", "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "3s"),
        ("status:429,per=day", "GenerateRequestsPerDayPerProjectPerModel-FreeTier", "3600s"),
        (
            "status:429,per=day,retry=45.837906927",
            "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
            "45.837906927s",
        ),
    ],
)
def test_429_carries_quota_and_retry_info_and_no_retry_after(http, spec, quota, delay):
    r = http.post("chat/completions", json=body(), headers={FAULT: spec})
    assert r.status_code == 429
    assert "retry-after" not in r.headers
    err = error_of(r)
    assert err["status"] == "RESOURCE_EXHAUSTED"
    by_type = {d["@type"].rsplit(".", 1)[-1]: d for d in err["details"]}
    assert by_type["QuotaFailure"]["violations"][0]["quotaId"] == quota
    assert by_type["RetryInfo"]["retryDelay"] == delay
    assert f"Please retry in {delay}" in err["message"]


def test_strict_openai_429_is_an_object_with_retry_after(strict_server):
    with httpx.Client(base_url=strict_server.base_url) as client:
        r = client.post("chat/completions", json=body(), headers={FAULT: "status:429,retry=7"})
    assert r.status_code == 429
    assert r.headers["retry-after"] == "7"
    assert r.json()["error"]["type"] == "rate_limit_exceeded"


def test_status_fault_applies_to_non_streaming_too(http):
    assert http.post("chat/completions", json=body(), headers={FAULT: "status:500"}).status_code == 500


def test_pacing_spaces_the_chunks():
    """At 0.2 tokens per second the second chunk is due five seconds after the first; a reader that
    waits at most 1.5 s for each read gets exactly one."""
    with OfflineServer.start(tokens_per_second=0.2) as srv, httpx.Client(base_url=srv.base_url) as client:
        events, error = read_events(client, "no-done", timeout=1.5)
    assert isinstance(error, httpx.ReadTimeout)
    assert len(events) == 1


def test_server_ttft_delays_the_first_chunk():
    with OfflineServer.start(ttft_ms=30000) as srv, httpx.Client(base_url=srv.base_url) as client:
        events, error = read_events(client, "no-done", timeout=0.2)
    assert isinstance(error, httpx.ReadTimeout)
    assert events == []


def test_no_logprobs_refuses_logprobs_like_some_gemini_routes(http):
    r = http.post("chat/completions", json=body(logprobs=True), headers={FAULT: "no-logprobs"})
    assert r.status_code == 400
    assert error_of(r)["message"] == "Logprobs is not enabled for models/gemini-2.5-flash"
    assert field_of(r) == "logprobs"
    assert http.post("chat/completions", json=body(), headers={FAULT: "no-logprobs"}).status_code == 200


def test_ttft_delays_a_non_streaming_reply_too(http):
    with pytest.raises(httpx.ReadTimeout):
        http.post(
            "chat/completions",
            json=body(),
            headers={FAULT: "ttft:ms=30000"},
            timeout=httpx.Timeout(5, read=0.2),
        )
