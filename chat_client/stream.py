"""Send a chat request and yield typed events: the sync and async entry points, retries, timeouts.

`stream_chat` (httpx.Client) and `astream_chat` (httpx.AsyncClient) never raise for API or network
problems: the last event is then `StreamError`. Policy lives here; parsing lives in decoder.py, which
both share, so the two entry points cannot drift apart.

What must stay true:
- Retries happen only before the first byte of a reply body: a refused connection, a 5xx (capped
  exponential backoff), a per-minute 429 (after the delay the server gave). Each is announced with a
  `RetryWait` event first, is bounded by `RetryPolicy`, and the wait ends at once on cancel. Once any
  body byte arrived, nothing is retried: the person may already have seen tokens.
- Closing the generator, or setting `cancel`, closes the HTTP response (and so the connection) at once.
  A thread blocked in a read cannot notice either a clock or an Event, so timeouts and cancel are
  enforced by watchdog.py, which shuts the socket down under the reader. Limit: on a reused (pooled)
  connection the socket is only known once the response headers arrive, so a cancel set before then
  takes effect when they do (bounded by `Timeouts.first_byte`); on a new connection it is immediate.
- Timeouts: `connect`; `first_byte`, from the request being sent to the first body byte; `stall`,
  the longest silence between two reads. Time the caller spends handling events does not count.
- The API key never appears in an event, an error message, or a repr.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from chat_client import errors
from chat_client.decoder import StreamDecoder
from chat_client.endpoint import Endpoint
from chat_client.events import Event, RetryWait, StreamError
from chat_client.params import Params, validate
from chat_client.request import build_body
from chat_client.watchdog import POLL_SECONDS, WATCHDOG, Guard

DRAIN_SECONDS = 1.0  # after [DONE], how long the rest of the body may take before we just close


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait: to connect, for the first byte of the reply, and between two chunks (stall)."""

    connect: float = 10.0
    first_byte: float = 120.0
    stall: float = 60.0
    write: float = 30.0

    def for_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.first_byte, write=self.write, pool=self.connect)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry what is safe to retry (see the module docstring)."""

    max_attempts: int = 3  # tries in all, the first included; 1 = never retry
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    max_rate_limit_wait: float = 60.0  # a 429 asking for a longer wait is reported, not waited out
    retry_rate_limits: bool = True
    retry_server_errors: bool = True
    retry_connection_errors: bool = True

    def backoff(self, attempt: int) -> float:
        """Delay before try number attempt + 1: doubling from backoff_initial, capped at backoff_max."""
        return min(self.backoff_max, self.backoff_initial * (2 ** (attempt - 1)))

    def delay_for(self, error: errors.ChatError, attempt: int) -> float | None:
        """Seconds to wait before retrying after `error` on try `attempt`, or None: do not retry."""
        if attempt >= self.max_attempts:
            return None
        if isinstance(error, errors.RateLimitError):
            if not self.retry_rate_limits or error.per_day:
                return None
            delay = error.retry_after if error.retry_after is not None else self.backoff(attempt)
            return delay if delay <= self.max_rate_limit_wait else None
        if isinstance(error, errors.ServerError) and error.status in (500, 502, 503, 504):
            return self.backoff(attempt) if self.retry_server_errors else None
        if isinstance(error, errors.ConnectionFailed | errors.StreamTimeout):
            return self.backoff(attempt) if self.retry_connection_errors else None
        return None


NO_RETRY = RetryPolicy(max_attempts=1)


@dataclass(frozen=True)
class _Prepared:
    url: str
    content: bytes
    headers: dict[str, str] = field(repr=False)  # holds the key
    timeout: httpx.Timeout
    secret: str | None = field(default=None, repr=False)


class _Retryable:
    """An attempt failed before any reply byte arrived: the error may be retried."""

    __slots__ = ("error",)

    def __init__(self, error: errors.ChatError) -> None:
        self.error = error


class _Final:
    """An attempt failed in a way that must not be retried."""

    __slots__ = ("error",)

    def __init__(self, error: errors.ChatError) -> None:
        self.error = error


_CANCELLED = object()  # an attempt ended because the caller cancelled: no error event


def _prepare(endpoint: Endpoint, params: Params, messages: list[dict[str, Any]], timeouts: Timeouts):
    problems = validate(params)
    if problems:
        first = problems[0]
        more = f" ({len(problems) - 1} more problem(s) in the parameters)" if len(problems) > 1 else ""
        return StreamError(errors.BadRequestError(first.message + more, None, field=first.field))
    if not params.model:
        return StreamError(errors.BadRequestError("Choose a model before sending.", None, field="model"))
    body = build_body(params, messages)
    try:
        content = orjson.dumps(body)
    except TypeError as exc:
        return StreamError(errors.BadRequestError(f"The request could not be written as JSON: {exc}.", None))
    headers = {
        "Content-Type": "application/json",
        "Accept": "text/event-stream" if body["stream"] else "application/json",
        **endpoint.auth_headers(),
    }
    return _Prepared(endpoint.chat_url, content, headers, timeouts.for_httpx(), endpoint.api_key)


def _is_sse(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/event-stream")


def _status_error(response: httpx.Response, raw: bytes) -> errors.ChatError:
    return errors.error_from_response(
        response.status_code, raw, retry_after_header=response.headers.get("retry-after")
    )


def _host(url: str) -> str:
    try:
        u = httpx.URL(url)
        return f"{u.host}:{u.port}" if u.port else u.host
    except Exception:
        return "the server"


def _network_error(exc: httpx.HTTPError, url: str, *, phase: str, got_bytes: bool, timeouts: Timeouts):
    """Map an httpx exception to (ChatError, retryable). phase: request (no response yet) or body."""
    host = _host(url)
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return errors.StreamTimeout(
            f"Could not connect to {host} within {timeouts.connect:g} s.", "connect", seconds=timeouts.connect
        ), True
    if isinstance(exc, httpx.WriteTimeout):
        return errors.StreamTimeout(
            f"Sending the request to {host} took longer than {timeouts.write:g} s.",
            "connect",
            seconds=timeouts.write,
        ), False
    if isinstance(exc, httpx.ReadTimeout):
        return _timeout_error(
            "stall" if phase == "body" and got_bytes else "first_byte", host, timeouts
        ), False
    if isinstance(exc, httpx.ConnectError):
        return errors.ConnectionFailed(
            f"Could not connect to {host}: is the server running and the URL right?"
        ), True
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return errors.ConnectionFailed(f"The endpoint URL is not usable: {exc}"), False
    if phase == "request":
        return errors.ConnectionFailed(f"The connection to {host} closed before the server answered."), True
    return errors.ConnectionFailed("The connection dropped before the reply was finished."), False


def _timeout_error(kind: str, host: str, timeouts: Timeouts) -> errors.StreamTimeout:
    if kind == "stall":
        return errors.StreamTimeout(
            f"The reply stalled: nothing arrived for {timeouts.stall:g} s.", "stall", seconds=timeouts.stall
        )
    return errors.StreamTimeout(
        f"No reply from {host} within {timeouts.first_byte:g} s.", "first_byte", seconds=timeouts.first_byte
    )


def _on_headers(resp: httpx.Response, guard: Guard, timeouts: Timeouts) -> None:
    """Headers arrived: hand the socket to the guard and let it, not httpx, time the body reads."""
    guard.attach(resp.extensions.get("network_stream"))
    if guard.deadline == math.inf:  # no trace events from this transport: start the clock now
        guard.extend(timeouts.first_byte, "first_byte")
    timeout = resp.request.extensions.get("timeout")
    if isinstance(timeout, dict):
        # httpcore reads this when the body starts; the guard enforces first byte and stall exactly,
        # this only backs it up should the guard be unable to reach the socket.
        timeout["read"] = max(timeouts.first_byte, timeouts.stall) + 1.0


def _failure(exc: httpx.HTTPError, guard: Guard, prep: _Prepared, phase: str, got_bytes: bool, t: Timeouts):
    if guard.fired == "cancel":
        return _CANCELLED
    if guard.fired in ("first_byte", "stall"):
        return _Final(_timeout_error(guard.fired, _host(prep.url), t))
    err, retryable = _network_error(exc, prep.url, phase=phase, got_bytes=got_bytes, timeouts=t)
    return _Retryable(err) if retryable else _Final(err)


def stream_chat(
    http: httpx.Client,
    endpoint: Endpoint,
    params: Params,
    messages: list[dict[str, Any]],
    *,
    timeouts: Timeouts = Timeouts(),
    retry: RetryPolicy = RetryPolicy(),
    cancel: threading.Event | None = None,
) -> Iterator[Event]:
    """Send one chat request and yield its events; never raises for API or network problems."""
    prep = _prepare(endpoint, params, messages, timeouts)
    if isinstance(prep, StreamError):
        yield prep
        return
    attempt = 1
    while True:
        if cancel is not None and cancel.is_set():
            return
        outcome = yield from _attempt(http, prep, timeouts, cancel)
        if outcome is None or outcome is _CANCELLED:
            return
        err = outcome.error.redacted(endpoint.api_key)
        delay = retry.delay_for(err, attempt) if isinstance(outcome, _Retryable) else None
        if delay is None:
            yield StreamError(err)
            return
        attempt += 1
        yield RetryWait(delay, attempt, err.message)
        if cancel is not None:
            if cancel.wait(delay):
                return
        else:
            time.sleep(delay)


def _attempt(http: httpx.Client, prep: _Prepared, t: Timeouts, cancel: threading.Event | None):
    """One try. Yields events; returns None (done), _CANCELLED, _Retryable or _Final."""
    guard = WATCHDOG.guard(cancel, first_byte=t.first_byte)
    phase = "request"
    got_bytes = False
    decoder: StreamDecoder | None = None
    try:
        with http.stream(
            "POST",
            prep.url,
            content=prep.content,
            headers=prep.headers,
            timeout=prep.timeout,
            extensions={"trace": guard.trace},
        ) as resp:
            phase = "body"
            _on_headers(resp, guard, t)
            if guard.fired == "cancel":
                return _CANCELLED
            if resp.status_code >= 400:
                return _Retryable(_status_error(resp, resp.read()))
            decoder = StreamDecoder(sse=_is_sse(resp), secret=prep.secret)
            stall = t.stall
            body = resp.iter_bytes()
            for chunk in body:
                got_bytes = True
                events = decoder.feed(chunk)
                if events:
                    guard.deadline = math.inf  # time the consumer spends is not the server's silence
                    yield from events
                if decoder.finished or guard.fired is not None:
                    break
                guard.extend(stall, "stall")
            if guard.fired is not None:  # the read ended because the watchdog shut the socket
                return _failure(httpx.ReadError(""), guard, prep, phase, got_bytes, t)
            if not decoder.finished:
                yield from decoder.close()
                return None
            if not decoder.saw_done:
                return None  # ended by an error event: close rather than read on
            # [DONE] or an error event: read the rest of the body (normally just the chunked terminator)
            # so the connection can be reused, but never wait long for it.
            guard.extend(min(t.stall, DRAIN_SECONDS), "stall")
            for _ in body:
                pass
            return None
    except httpx.HTTPError as exc:
        if decoder is not None and decoder.finished:
            return None  # the reply was complete; only the drain after [DONE] failed
        return _failure(exc, guard, prep, phase, got_bytes, t)
    finally:
        guard.close()


async def astream_chat(
    http: httpx.AsyncClient,
    endpoint: Endpoint,
    params: Params,
    messages: list[dict[str, Any]],
    *,
    timeouts: Timeouts = Timeouts(),
    retry: RetryPolicy = RetryPolicy(),
    cancel: threading.Event | asyncio.Event | None = None,
) -> AsyncIterator[Event]:
    """Async twin of `stream_chat`, for several concurrent streams (the compare page)."""
    prep = _prepare(endpoint, params, messages, timeouts)
    if isinstance(prep, StreamError):
        yield prep
        return
    t = timeouts
    attempt = 1
    while True:
        if cancel is not None and cancel.is_set():
            return
        outcome: Any = None
        phase = "request"
        got_bytes = False
        decoder: StreamDecoder | None = None
        guard = WATCHDOG.guard(cancel, first_byte=t.first_byte)
        try:
            async with http.stream(
                "POST",
                prep.url,
                content=prep.content,
                headers=prep.headers,
                timeout=prep.timeout,
                extensions={"trace": guard.atrace},
            ) as resp:
                phase = "body"
                _on_headers(resp, guard, t)
                if guard.fired == "cancel":
                    return
                if resp.status_code >= 400:
                    outcome = _Retryable(_status_error(resp, await resp.aread()))
                else:
                    decoder = StreamDecoder(sse=_is_sse(resp), secret=prep.secret)
                    stall = t.stall
                    body = resp.aiter_bytes()
                    async for chunk in body:
                        got_bytes = True
                        events = decoder.feed(chunk)
                        if events:
                            guard.deadline = math.inf  # the consumer's time is not the server's silence
                            for event in events:
                                yield event
                        if decoder.finished or guard.fired is not None:
                            break
                        guard.extend(stall, "stall")
                    if guard.fired is not None:
                        outcome = _failure(httpx.ReadError(""), guard, prep, phase, got_bytes, t)
                    elif not decoder.finished:
                        for event in decoder.close():
                            yield event
                        return
                    elif not decoder.saw_done:
                        return
                    else:
                        guard.extend(min(t.stall, DRAIN_SECONDS), "stall")
                        async for _ in body:
                            pass
                        return
        except httpx.HTTPError as exc:
            if decoder is not None and decoder.finished:
                return
            outcome = _failure(exc, guard, prep, phase, got_bytes, t)
        finally:
            guard.close()
        if outcome is _CANCELLED:
            return
        err = outcome.error.redacted(endpoint.api_key)
        delay = retry.delay_for(err, attempt) if isinstance(outcome, _Retryable) else None
        if delay is None:
            yield StreamError(err)
            return
        attempt += 1
        yield RetryWait(delay, attempt, err.message)
        if await _cancellable_sleep(delay, cancel):
            return


async def _cancellable_sleep(seconds: float, cancel: threading.Event | asyncio.Event | None) -> bool:
    """Sleep; True when cancel was set meanwhile."""
    if cancel is None:
        await asyncio.sleep(seconds)
        return False
    if isinstance(cancel, asyncio.Event):
        try:
            await asyncio.wait_for(cancel.wait(), seconds)
            return True
        except TimeoutError:
            return False
    deadline = time.monotonic() + seconds
    while not cancel.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        await asyncio.sleep(min(left, POLL_SECONDS))
    return True
