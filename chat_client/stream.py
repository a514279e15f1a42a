"""Send a chat request and yield typed events: retries and timeouts, all on asyncio.

`astream_chat` (over an `httpx.AsyncClient` the caller hands in) never raises for API or network
problems: the last event is then `StreamError`. Policy lives here; parsing lives in decoder.py.

What must stay true:
- Retries happen only before the first byte of a reply body: a refused connection, a 5xx (capped
  exponential backoff), a per-minute 429 (after the delay the server gave). Each is announced with a
  `RetryWait` event first and is bounded by `RetryPolicy`. Once any body byte arrived, nothing is
  retried: the person may already have seen tokens.
- Stopping is asyncio's own: cancel the task that iterates the stream (or close the generator) and the
  response is closed in `finally`, and with it the connection, whether the task was waiting on a
  silent server, a retry delay or nothing at all. Nothing here reaches below httpx's public API.
- Timeouts: `connect` and `write` are httpx's; `first_byte` (from the request being sent to the first
  body byte) and `stall` (the longest silence between two reads) are one `asyncio.timeout` whose
  deadline moves with the stream. Time the caller spends handling events does not count.
- The API key never appears in an event, an error message, or a repr.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
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

DRAIN_SECONDS = 1.0  # after [DONE], how long the rest of the body may take before we just close


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait: to connect, for the first byte of the reply, and between two chunks (stall)."""

    connect: float = 10.0
    first_byte: float = 120.0
    stall: float = 60.0
    write: float = 30.0

    def for_httpx(self) -> httpx.Timeout:
        # Reads are timed by the asyncio deadline in `_attempt` (first byte, then stall), not by httpx.
        return httpx.Timeout(connect=self.connect, read=None, write=self.write, pool=self.connect)


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


def _prepare(endpoint: Endpoint, params: Params, messages: list[dict[str, Any]], timeouts: Timeouts):
    problems = validate(params)
    if problems:
        first = problems[0]
        more = f" ({len(problems) - 1} more problem(s) in the parameters)" if len(problems) > 1 else ""
        return StreamError(errors.BadRequestError(first.message + more, None, field=first.field))
    if not params.model:
        return StreamError(errors.BadRequestError("Choose a model before sending.", None, field="model"))
    body = build_body(params, messages, endpoint.length_field)
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


def _failure(exc: httpx.HTTPError, prep: _Prepared, phase: str, got_bytes: bool, t: Timeouts):
    err, retryable = _network_error(exc, prep.url, phase=phase, got_bytes=got_bytes, timeouts=t)
    return _Retryable(err) if retryable else _Final(err)


async def astream_chat(
    http: httpx.AsyncClient,
    endpoint: Endpoint,
    params: Params,
    messages: list[dict[str, Any]],
    *,
    timeouts: Timeouts = Timeouts(),
    retry: RetryPolicy = RetryPolicy(),
) -> AsyncIterator[Event]:
    """Send one chat request and yield its events; never raises for API or network problems.

    Cancel the task that iterates it (or close the generator) to stop: the response is closed in
    `finally`, and with it the connection.
    """
    prep = _prepare(endpoint, params, messages, timeouts)
    if isinstance(prep, StreamError):
        yield prep
        return
    attempt = 1
    while True:
        outcome: Any = None
        async with contextlib.aclosing(_attempt(http, prep, timeouts)) as attempt_events:
            async for item in attempt_events:
                if isinstance(item, _Retryable | _Final):
                    outcome = item
                else:
                    yield item
        if outcome is None:
            return
        err = outcome.error.redacted(endpoint.api_key)
        delay = retry.delay_for(err, attempt) if isinstance(outcome, _Retryable) else None
        if delay is None:
            yield StreamError(err)
            return
        attempt += 1
        yield RetryWait(delay, attempt, err.message)
        await asyncio.sleep(delay)  # a cancel ends the wait at once


async def _attempt(http: httpx.AsyncClient, prep: _Prepared, t: Timeouts) -> AsyncIterator[Any]:
    """One try. Yields events, and last a _Retryable or _Final when it failed.

    The deadline is armed only while this waits for the network (first byte, then `stall` between
    reads) and disarmed while the caller handles what was yielded: a slow consumer is not a silent
    server. When it passes, asyncio cancels the read and `asyncio.timeout` turns that into TimeoutError.
    """
    loop = asyncio.get_running_loop()
    phase = "request"
    got_bytes = False
    decoder: StreamDecoder | None = None
    try:
        async with asyncio.timeout_at(loop.time() + t.first_byte) as deadline:
            async with http.stream(
                "POST", prep.url, content=prep.content, headers=prep.headers, timeout=prep.timeout
            ) as resp:
                phase = "body"
                if resp.status_code >= 400:
                    raw = await resp.aread()
                    deadline.reschedule(None)
                    yield _Retryable(_status_error(resp, raw))
                    return
                decoder = StreamDecoder(sse=_is_sse(resp), secret=prep.secret)
                body = resp.aiter_bytes()
                async for chunk in body:
                    deadline.reschedule(None)  # the consumer's time is not the server's silence
                    got_bytes = True
                    for event in decoder.feed(chunk):
                        yield event
                    if decoder.finished:
                        break
                    deadline.reschedule(loop.time() + t.stall)
                deadline.reschedule(None)
                if not decoder.finished:
                    for event in decoder.close():
                        yield event
                    return
                if not decoder.saw_done:
                    return  # ended by an error event: close rather than read on
                # [DONE]: read the rest of the body (normally just the chunked terminator) so the
                # connection can be reused, but never wait long for it.
                try:
                    async with asyncio.timeout(min(t.stall, DRAIN_SECONDS)):
                        async for _ in body:
                            pass
                except (TimeoutError, httpx.HTTPError):
                    return  # the reply was complete; only the drain failed: the connection is closed
    except TimeoutError:
        kind = "stall" if got_bytes else "first_byte"
        yield _Final(_timeout_error(kind, _host(prep.url), t))
    except httpx.HTTPError as exc:
        if decoder is not None and decoder.finished:
            return
        yield _failure(exc, prep, phase, got_bytes, t)
