"""The offline model's HTTP server: Starlette routes that speak the Chat Completions protocol.

Why it exists: the app's default when no key is set, the server every test and benchmark talks to, and a
way to show what each parameter does (docs/architecture.md).

What must stay true:
- Gemini's dialect by default (compat notes): ``delta.role`` on every chunk, usage on the final content
  chunk (always sent, whatever ``stream_options``), ids without ``chatcmpl-``, no ``system_fingerprint``,
  thoughts inline in ``delta.content`` between ``<thought>`` and ``</thought>`` with the
  ``extra_content.google.thought`` flag, tool calls whole in one delta without ``index`` and a stream
  that then finishes ``stop``, errors as a JSON list with RetryInfo and no Retry-After.
- ``strict_openai`` switches to OpenAI's shapes: role once per choice, a separate finish chunk, usage only
  with ``stream_options.include_usage`` and then on a last chunk with ``choices: []``, ``index`` on tool
  calls whose arguments arrive in pieces, ``finish_reason: "tool_calls"``, no thought text.
- Usage: Gemini counts thinking on top (``total = prompt + completion + reasoning``); OpenAI counts it
  inside completion (``total = prompt + completion``). ``reasoning_tokens`` is the same number in both.
- Every POST to /v1/chat/completions is appended to ``received`` (its body, its headers without the
  Authorization header, and ``arrived``, its wall-clock arrival time) before anything can refuse it.
"""

from __future__ import annotations

import asyncio
import copy
import hmac
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from offline_model.errors import STATUS_MESSAGES, ProviderError, rate_limited
from offline_model.faults import Faults, parse_faults, take_markers
from offline_model.images import read_request_images
from offline_model.ngram import NgramModel, default_model
from offline_model.replies import ChoicePlan, Plan, message_text, plan_reply
from offline_model.validation import MODELS, ChatRequest, validate_request

THOUGHT_FLAG = {"google": {"thought": True}}
OPEN_TAG, CLOSE_TAG = "<thought>", "</thought>"
BATCH = 32  # events per write when the stream is not paced


@dataclass(frozen=True)
class ServerConfig:
    api_key: str | None = None
    tokens_per_second: float = 0.0
    ttft_ms: int = 0
    strict_openai: bool = False


class Disconnect(Exception):
    """Raised inside a stream to make uvicorn drop the connection (the disconnect fault)."""


class _QuietDisconnect(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, Disconnect):
                return False
            exc = exc.__cause__ or exc.__context__ or _first_of_group(exc)
        return True


def _first_of_group(exc: BaseException) -> BaseException | None:
    inner = getattr(exc, "exceptions", None)
    return inner[0] if inner else None


logging.getLogger("uvicorn.error").addFilter(_QuietDisconnect())


def _json(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json", headers=headers)


def _error(err: ProviderError, strict: bool) -> Response:
    return _json(err.body(strict), err.status, err.headers(strict))


def _completion_id(strict: bool) -> str:
    return "chatcmpl-" + secrets.token_hex(12) if strict else secrets.token_urlsafe(17)


def create_app(
    config: ServerConfig = ServerConfig(),
    *,
    received: list[dict] | None = None,
    model: NgramModel | None = None,
    max_received: int | None = None,
) -> Starlette:
    """Build the ASGI app. ``received`` (if given) collects every chat request, thread-safely; with
    ``max_received`` only the newest that many are kept."""
    model = model or default_model()
    log = received if received is not None else []
    lock = threading.Lock()
    status_seen: dict[str, int] = {}  # requests seen per status-fault spec, for ``times=N`` (one per app)
    strict = config.strict_openai

    def check_auth(request: Request) -> None:
        if config.api_key is None:
            return
        given = request.headers.get("authorization", "")
        expected = f"Bearer {config.api_key}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ProviderError(401, STATUS_MESSAGES[401])

    async def list_models(request: Request) -> Response:
        try:
            check_auth(request)
            header_spec = request.headers.get("x-offline-fault")
            faults = parse_faults([header_spec] if header_spec else [], "X-Offline-Fault")
            if faults.status is not None:
                raise _status_fault(faults)
        except ProviderError as err:
            return _error(err, strict)
        data = [{"id": m, "object": "model", "created": 1750000000, "owned_by": "google"} for m in MODELS]
        return _json({"object": "list", "data": data})

    async def chat_completions(request: Request) -> Response:
        arrived = time.time()  # wall clock: lines up with the app's and the browser's clocks (bench/)
        raw = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items() if k.lower() != "authorization"}
        try:
            body = orjson.loads(raw)
            parsed = True
        except orjson.JSONDecodeError:
            body, parsed = raw.decode("utf-8", "replace"), False
        with lock:
            log.append({"body": body, "headers": headers, "arrived": arrived})
            if max_received is not None and len(log) > max_received:
                del log[: len(log) - max_received]
        try:
            check_auth(request)
            if not parsed:
                raise ProviderError(
                    400, "Invalid JSON payload received. The body is not valid JSON.", field=""
                )
            body, last_text, specs = _take_fault_markers(body)
            header_spec = request.headers.get("x-offline-fault")
            faults = parse_faults([header_spec] if header_spec else [], "X-Offline-Fault")
            marker_faults = parse_faults(specs, "messages")
            faults = _merge(faults, marker_faults)
            if faults.status is not None and _status_due(faults, status_seen, lock):
                raise _status_fault(faults)
            req = validate_request(body)
            if faults.no_logprobs and req.logprobs:
                raise ProviderError(
                    400, "Logprobs is not enabled for models/gemini-2.5-flash", field="logprobs"
                )
            # Decoding images and sampling are CPU work: off the event loop, so the paced streams of
            # other requests (the compare page runs several at once) keep their rhythm meanwhile.
            plan = await run_in_threadpool(_plan, model, req, last_text)
        except ProviderError as err:
            return _error(err, strict)

        ttft = faults.ttft_ms if faults.ttft_ms is not None else config.ttft_ms
        if not req.stream:
            await _pace_whole(plan, ttft, config.tokens_per_second)
            return _json(_completion(plan, req, strict, report_usage=not faults.no_usage))
        chunks = _chunks(plan, req, strict, faults)
        return StreamingResponse(
            _sse(chunks, faults, ttft, config.tokens_per_second),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        # Unknown paths and methods answer in the provider's error shape too, not Starlette's plain text.
        code = getattr(exc, "status_code", 500)
        message = {404: f"Not found: {request.url.path}", 405: f"Method {request.method} not allowed here."}
        return _error(ProviderError(code, message.get(code, "Request failed.")), strict)

    return Starlette(
        routes=[
            Route("/v1/models", list_models, methods=["GET"]),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        ],
        exception_handlers={HTTPException: http_error},
    )


def _plan(model: NgramModel, req: ChatRequest, last_text: str) -> Plan:
    return plan_reply(model, req, last_text, read_request_images(req.messages))


def _take_fault_markers(body: object) -> tuple[object, str, list[str]]:
    """Strip ``[[fault:...]]`` from the last user message; return the body, that message's text, specs."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return body, "", []
    messages = body["messages"]
    for i in range(len(messages) - 1, -1, -1):
        msg = messages[i]
        if isinstance(msg, dict) and msg.get("role") == "user":
            break
    else:
        return body, "", []
    content = msg.get("content")
    specs: list[str] = []
    if isinstance(content, str):
        new_content, specs = take_markers(content)
        if new_content == content and not specs:
            return body, content, []
        if not new_content:
            new_content = "Hello."  # a message that only held a fault marker
    elif isinstance(content, list):
        new_content = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                text, found = take_markers(part["text"])
                specs += found
                part = {**part, "text": text or "Hello."} if found else part
            new_content.append(part)
    else:
        return body, "", []
    body = copy.copy(body)
    body["messages"] = [*messages[:i], {**msg, "content": new_content}, *messages[i + 1 :]]
    return body, message_text(body["messages"][i]), specs


def _merge(a: Faults, b: Faults) -> Faults:
    merged = Faults()
    for name in merged.__dataclass_fields__:
        default = getattr(merged, name)
        va, vb = getattr(a, name), getattr(b, name)
        setattr(merged, name, vb if vb != default else va)
    return merged


def _status_due(faults: Faults, seen_by_spec: dict[str, int], lock: threading.Lock) -> bool:
    """Whether a status fault applies to this request (``times=N`` lets only the first N fail)."""
    if faults.status_times is None:
        return True
    with lock:
        seen = seen_by_spec.get(faults.status_spec, 0)
        seen_by_spec[faults.status_spec] = seen + 1
    return seen < faults.status_times


def _status_fault(faults: Faults) -> ProviderError:
    code = faults.status
    if code == 429:
        delay = faults.retry_delay if faults.retry_delay is not None else (3600.0 if faults.per_day else 28.5)
        return rate_limited(faults.per_day, delay)
    return ProviderError(code, STATUS_MESSAGES[code])


async def _pace_whole(plan: Plan, ttft_ms: int, tokens_per_second: float) -> None:
    delay = ttft_ms / 1000
    if tokens_per_second > 0:
        tokens = sum(len(c.thought) + len(c.content) + len(c.tool_calls) for c in plan.choices)
        delay += tokens / tokens_per_second
    if delay > 0:
        await asyncio.sleep(delay)


# --- non-streaming -----------------------------------------------------------------------------------


def _completion(plan: Plan, req: ChatRequest, strict: bool, *, report_usage: bool = True) -> dict:
    choices = []
    for c in plan.choices:
        text = c.text
        if c.thought and not strict:
            text = OPEN_TAG + "".join(c.thought) + CLOSE_TAG + text
        message: dict = {"role": "assistant", "content": text if (text or not c.tool_calls) else None}
        if c.tool_calls:
            message["tool_calls"] = [_tool_call(call, strict, index=None) for call in c.tool_calls]
        choice: dict = {"index": c.index, "message": message, "finish_reason": _finish(c, strict, False)}
        if c.logprobs is not None:
            choice["logprobs"] = {"content": c.logprobs}
        elif strict:
            choice["logprobs"] = None
        choices.append(choice)
    out: dict = {
        "id": _completion_id(strict),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": req.model,
        "choices": choices,
        "usage": plan.usage(strict),
    }
    if not report_usage:  # a server that counts nothing (the no-usage fault)
        del out["usage"]
    if strict:
        out["system_fingerprint"] = "fp_offline"
    return out


def _finish(c: ChoicePlan, strict: bool, streaming: bool) -> str:
    if c.tool_calls and (strict or not streaming):
        return "tool_calls"
    return c.finish_reason


def _tool_call(call: dict, strict: bool, index: int | None) -> dict:
    out: dict = {}
    if index is not None:
        out["index"] = index
    out.update(
        {
            "id": call["id"],
            "type": "function",
            "function": {"name": call["name"], "arguments": call["arguments"]},
        }
    )
    if not strict and call.get("thought_signature"):
        out["extra_content"] = {"google": {"thought_signature": call["thought_signature"]}}
    return out


# --- streaming ---------------------------------------------------------------------------------------


def _split_tags(req: ChatRequest, faults: Faults, index: int) -> bool:
    if faults.split_tags is not None:
        return faults.split_tags
    # "Sometimes split", but repeatably: decided by the seed (or by chance without one).
    if req.seed is None:
        return secrets.randbelow(2) == 1
    return (req.seed + index) % 2 == 1


def _gemini_deltas(c: ChoicePlan, split: bool) -> Iterator[tuple[dict, list | None]]:
    """The deltas of one choice in Gemini's dialect, with the logprob entries each carries."""
    role = "assistant"
    if c.thought:
        first = True
        for tok in c.thought:
            if first and split:
                yield {"role": role, "content": "<tho", "extra_content": THOUGHT_FLAG}, None
                tok = "ught>" + tok
            elif first:
                tok = OPEN_TAG + tok
            first = False
            yield {"role": role, "content": tok, "extra_content": THOUGHT_FLAG}, None
    closing = CLOSE_TAG if c.thought else ""
    if closing and split:
        yield {"role": role, "content": "</thou"}, None
        closing = "ght>"
    for i, tok in enumerate(c.content):
        entry = [c.logprobs[i]] if c.logprobs is not None else None
        yield {"role": role, "content": closing + tok}, entry
        closing = ""
    if closing:
        yield {"role": role, "content": closing}, None
    if c.tool_calls:
        yield {"role": role, "tool_calls": [_tool_call(call, False, None) for call in c.tool_calls]}, None


def _openai_deltas(c: ChoicePlan) -> Iterator[tuple[dict, list | None]]:
    yield {"role": "assistant", "content": "", "refusal": None}, None
    for i, tok in enumerate(c.content):
        yield {"content": tok}, ([c.logprobs[i]] if c.logprobs is not None else None)
    for k, call in enumerate(c.tool_calls):
        head = _tool_call({**call, "arguments": ""}, True, k)
        yield {"tool_calls": [head]}, None
        args = call["arguments"]
        step = max(1, len(args) // 4)
        for start in range(0, len(args), step):
            yield {"tool_calls": [{"index": k, "function": {"arguments": args[start : start + step]}}]}, None


def _chunks(plan: Plan, req: ChatRequest, strict: bool, faults: Faults) -> Iterator[dict]:
    """Every chunk of the stream, choices interleaved round-robin, in the chosen dialect."""
    cid = _completion_id(strict)
    created = int(time.time())
    model = req.model

    def chunk(index: int, delta: dict, finish: str | None, entries: list | None) -> dict:
        choice: dict = {"index": index, "delta": delta, "finish_reason": finish}
        if entries is not None:
            choice["logprobs"] = {"content": entries}
        elif strict:
            choice["logprobs"] = None
        out: dict = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model}
        if strict:
            out["system_fingerprint"] = "fp_offline"
        out["choices"] = [choice]
        if strict and req.include_usage and not faults.no_usage:
            out["usage"] = None
        return out

    if strict:
        streams = [_openai_deltas(c) for c in plan.choices]
        live = list(range(len(streams)))
        while live:
            for i in list(live):
                step = next(streams[i], None)
                if step is None:
                    live.remove(i)
                    c = plan.choices[i]
                    yield chunk(c.index, {}, _finish(c, True, True), None)
                else:
                    yield chunk(plan.choices[i].index, step[0], None, step[1])
        if req.include_usage and not faults.no_usage:
            last = chunk(0, {}, None, None)
            last["choices"] = []
            last["usage"] = plan.usage(True)
            yield last
        return

    # Gemini: the last delta of a choice carries its finish_reason; the very last chunk carries usage.
    pending: list[tuple[int, dict, list | None, str | None]] = []
    streams = [_peekable(_gemini_deltas(c, _split_tags(req, faults, c.index))) for c in plan.choices]
    live = list(range(len(streams)))
    while live:
        for i in list(live):
            c = plan.choices[i]
            step = next(streams[i], None)
            if step is None:  # a choice with nothing to say still finishes
                live.remove(i)
                pending.append((c.index, {"role": "assistant", "content": ""}, None, c.finish_reason))
            else:
                delta, entries = step
                finish = None
                if streams[i].done():
                    live.remove(i)
                    finish = _finish(c, False, True)
                pending.append((c.index, delta, entries, finish))
            while len(pending) > 1:
                yield chunk(*_order(pending.pop(0)))
    if pending:
        last = chunk(*_order(pending.pop(0)))
        if not faults.no_usage:
            last["usage"] = plan.usage(False)
        yield last


def _order(item: tuple[int, dict, list | None, str | None]) -> tuple[int, dict, str | None, list | None]:
    index, delta, entries, finish = item
    return index, delta, finish, entries


class _peekable:
    """An iterator that can say whether it is exhausted without losing an item."""

    def __init__(self, it: Iterator) -> None:
        self._it = it
        self._next = next(it, _END)

    def __iter__(self) -> _peekable:
        return self

    def __next__(self):
        item = self._next
        if item is _END:
            raise StopIteration
        self._next = next(self._it, _END)
        return item

    def done(self) -> bool:
        return self._next is _END


_END = object()


def _mid_stream_error(code: int) -> dict:
    status = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}[code]
    return {
        "error": {"code": code, "message": STATUS_MESSAGES.get(code, "Resource exhausted."), "status": status}
    }


async def _sse(
    chunks: Iterator[dict], faults: Faults, ttft_ms: int, tokens_per_second: float
) -> AsyncIterator[bytes]:
    """Render chunks as SSE with pacing and the stream faults applied.

    Unpaced streams hand uvicorn up to ``BATCH`` events per write (the first one alone, so the time to
    first token stays honest): the events are the same, only fewer syscalls carry them."""
    if ttft_ms > 0:
        await asyncio.sleep(ttft_ms / 1000)
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent = 0
    batch: list[bytes] = []
    dumps = orjson.dumps
    try:
        for chunk in chunks:
            if faults.any_at(sent):
                if batch:
                    yield b"".join(batch)
                    batch.clear()
                async for event in _faults_at(sent, faults):
                    yield event
            event = b"data: " + dumps(chunk) + b"\n\n"
            sent += 1
            if tokens_per_second > 0:
                wait = start + (sent - 1) / tokens_per_second - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                yield event
            else:
                batch.append(event)
                if sent == 1 or len(batch) >= BATCH:
                    yield b"".join(batch)
                    batch.clear()
                    # Writes to a socket rarely suspend; without a real await here Starlette's
                    # disconnect listener never runs and a departed client is written to forever.
                    await asyncio.sleep(0)
        if batch:
            yield b"".join(batch)
            batch.clear()
        # A fault set for more chunks than the stream has happens at its end, never silently not at all.
        async for event in _faults_at(sent, faults.due_at_end(sent)):
            yield event
    except _EndStream:
        return
    if not faults.no_done:
        yield b"data: [DONE]\n\n"


async def _faults_at(sent: int, faults: Faults) -> AsyncIterator[bytes]:
    """Faults due once ``sent`` chunks have gone out; may end the stream by raising."""
    if faults.malformed_after == sent:
        yield b'data: {"choices": [{"delta": {"content": "unterminated\n\n'
    if faults.stall_after == sent and faults.stall_seconds > 0:
        await asyncio.sleep(faults.stall_seconds)
    if faults.error_after == sent:
        payload = orjson.dumps(_mid_stream_error(faults.error_code))
        yield payload + b"\n" if faults.error_raw else b"data: " + payload + b"\n\n"
        raise _EndStream
    if faults.disconnect_after == sent:
        raise Disconnect(f"disconnect fault after {sent} chunks")


class _EndStream(Exception):
    """Ends a stream early but cleanly (the error fault)."""
