"""The errors a chat request can end with, and how server error bodies become them.

One small hierarchy, one module. Every error carries `message`: plain words a person can act on,
never the API key (messages built from server text are scrubbed of it by the stream before they are
raised or yielded), and `status`: the HTTP status when there was one.

Server error bodies come in two shapes and both must work (docs/architecture.md, "Gemini's wire"):
OpenAI's object `{"error": {"message", "type", "code", "param"}}` and Gemini's list
`[{"error": {"code", "message", "status", "details": [...]}}]`. A 429 carries its delay in
`details[].retryDelay` (google.rpc.RetryInfo) or in the message ("Please retry in 28.9s."), not in a
Retry-After header; a `quotaId` containing `PerDay` means retrying soon will not help.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from chat_client.params import Params


class ChatError(Exception):
    """Base of every chat_client error: `message` for people, `status` when HTTP gave one."""

    def __init__(self, message: str, status: int | None = None, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail  # the server's own words, when they add something to `message`

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"

    def __str__(self) -> str:
        return self.message

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and isinstance(other, ChatError) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.message, self.status))

    def redacted(self, secret: str | None) -> ChatError:
        """Return self with every occurrence of `secret` replaced by a placeholder."""
        if secret:
            for name, value in list(self.__dict__.items()):
                if isinstance(value, str) and secret in value:
                    setattr(self, name, value.replace(secret, "[key hidden]"))
            self.args = (self.message,)
        return self


class AuthError(ChatError):
    """401/403: the key is missing, wrong, or not allowed to use this model."""


class NotFoundError(ChatError):
    """404: usually the model name (or the base URL) is wrong."""


class BadRequestError(ChatError):
    """400: the server refused the request; `field` names the parameter when it can be told."""

    def __init__(self, message: str, status: int | None = 400, *, field: str | None = None, detail: str = ""):
        super().__init__(message, status, detail=detail)
        self.field = field


class RateLimitError(ChatError):
    """429: too many requests or quota used up. `per_day` quotas do not clear by retrying soon."""

    def __init__(
        self,
        message: str,
        status: int | None = 429,
        *,
        retry_after: float | None = None,
        per_day: bool = False,
        detail: str = "",
    ):
        super().__init__(message, status, detail=detail)
        self.retry_after = retry_after
        self.per_day = per_day


class ServerError(ChatError):
    """5xx: the provider failed; usually worth trying again later."""


class StreamTimeout(ChatError):
    """No answer in time: `kind` is connect, first_byte or stall (silence between chunks)."""

    def __init__(
        self, message: str, kind: Literal["connect", "first_byte", "stall"], *, seconds: float = 0.0
    ):
        super().__init__(message, None)
        self.kind = kind
        self.seconds = seconds


class ConnectionFailed(ChatError):
    """The connection could not be made, or it dropped before the reply finished."""


class ProtocolError(ChatError):
    """The server broke the protocol: a chunk that is not JSON, a raw error after the events, no finish."""


# --- reading error bodies -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Body:
    message: str = ""
    status_name: str = ""  # Google's status, e.g. RESOURCE_EXHAUSTED; OpenAI's type
    code: int | None = None
    param: str | None = None
    details: tuple[dict[str, Any], ...] = ()


def _read_body(raw: bytes | str | Any) -> _Body | None:
    """Find the error object in either shape; None when the body holds no error object."""
    data = raw
    if isinstance(raw, bytes | bytearray | memoryview | str):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
    if isinstance(data, list) and data:
        data = data[0]
    if not isinstance(data, dict) or "error" not in data:
        return None
    err = data["error"]
    if isinstance(err, str):
        return _Body(message=err)
    if not isinstance(err, dict):
        return _Body(message=str(err))
    code = err.get("code")
    details = err.get("details")
    return _Body(
        message=str(err.get("message") or ""),
        status_name=str(err.get("status") or err.get("type") or ""),
        code=code if isinstance(code, int) and not isinstance(code, bool) else _int_or_none(code),
        param=err.get("param") if isinstance(err.get("param"), str) else None,
        details=tuple(d for d in details if isinstance(d, dict)) if isinstance(details, list) else (),
    )


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*s\s*$")
_RETRY_IN_MESSAGE = re.compile(r"retry in\s+(\d+(?:\.\d+)?)\s*(ms|s)\b", re.IGNORECASE)


def parse_duration(text: Any) -> float | None:
    """Read a google.protobuf.Duration in JSON form ("45.837906927s") as seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str):
        return None
    m = _DURATION.match(text)
    return float(m.group(1)) if m else None


def _retry_delay(body: _Body, retry_after_header: str | None) -> float | None:
    for d in body.details:
        if str(d.get("@type", "")).endswith("google.rpc.RetryInfo"):
            delay = parse_duration(d.get("retryDelay"))
            if delay is not None:
                return delay
    m = _RETRY_IN_MESSAGE.search(body.message)
    if m:
        value = float(m.group(1))
        return value / 1000 if m.group(2).lower() == "ms" else value
    if retry_after_header:
        try:
            return max(0.0, float(retry_after_header))
        except ValueError:
            return None
    return None


def _per_day(body: _Body) -> bool:
    for d in body.details:
        for v in d.get("violations") or ():
            if isinstance(v, dict) and "perday" in str(v.get("quotaId", "")).lower():
                return True
    return bool(re.search(r"per\s*day|daily", body.message, re.IGNORECASE))


_FIELD_PATTERNS = (
    re.compile(r'Unknown name "([\w.\[\]]+)"'),
    re.compile(r"Invalid value at '([\w.\[\]]+)'"),
    re.compile(r"\b(?:parameter|field|param)\s+[`'\"]?([a-z_][\w.\[\]]*)[`'\"]?", re.IGNORECASE),
    re.compile(r"^[`'\"]?([a-z][a-z_]*(?:\.[a-z_]+)*)[`'\"]?\s+(?:must|is|should)\b"),
)


# Request fields a refusal may mention in passing ("Logprobs is not enabled for models/..."). Only
# names unlikely to be ordinary words (not "stop", "model", "seed"); longest first so top_logprobs is
# not read as logprobs.
# Every field of `Params` and every key on its wire paths, so a new parameter is known here too.
_ORDINARY_WORDS = frozenset({"model", "stop", "seed", "n", "stream", "tools", "google"})
_KNOWN_FIELDS = tuple(
    sorted(
        {"messages", *Params.field_names(), *(k for f in Params.field_names() for k in Params.wire_path(f))}
        - _ORDINARY_WORDS,
        key=lambda name: (-len(name), name),
    )
)
_KNOWN_FIELD_RE = re.compile(r"(?<![\w.])(" + "|".join(_KNOWN_FIELDS) + r")(?!\w)", re.IGNORECASE)


def _field(body: _Body) -> str | None:
    if body.param:
        return body.param
    for d in body.details:
        for v in d.get("fieldViolations") or ():
            if isinstance(v, dict) and v.get("field"):
                return str(v["field"])
    for pattern in _FIELD_PATTERNS:
        m = pattern.search(body.message)
        if m:
            return m.group(1)
    m = _KNOWN_FIELD_RE.search(body.message)
    return m.group(1).lower() if m else None


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_from_response(
    status: int, raw: bytes | str | Any, *, retry_after_header: str | None = None
) -> ChatError:
    """Turn an HTTP error status and its body (either shape, or none) into a typed error."""
    body = _read_body(raw) or _Body(
        message=_short(raw.decode("utf-8", "replace")) if isinstance(raw, bytes) else ""
    )
    said = _short(body.message)
    tail = f" The server said: {said}" if said else ""
    if status in (401, 403):
        what = "refused the API key" if status == 401 else "does not allow this key to do that"
        return AuthError(
            f"The server {what} (HTTP {status}). Check the API key for this endpoint.{tail}",
            status,
            detail=said,
        )
    if status == 404:
        return NotFoundError(
            f"Not found (HTTP 404): the model name or the endpoint's base URL is probably wrong.{tail}",
            status,
            detail=said,
        )
    if status == 429:
        delay = _retry_delay(body, retry_after_header)
        per_day = _per_day(body)
        if per_day:
            text = "The daily quota for this model is used up (HTTP 429); retrying today will not help."
        elif delay is not None:
            text = f"Too many requests (HTTP 429): the server asks to wait {delay:.1f} s before trying again."
        else:
            text = "Too many requests (HTTP 429): wait a little before trying again."
        return RateLimitError(text + tail, status, retry_after=delay, per_day=per_day, detail=said)
    if 400 <= status < 500:
        field = _field(body)
        where = f" about `{field}`" if field else ""
        return BadRequestError(
            f"The server refused the request{where} (HTTP {status}).{tail}", status, field=field, detail=said
        )
    if status >= 500:
        return ServerError(
            f"The provider failed (HTTP {status}); trying again later may work.{tail}", status, detail=said
        )
    return ChatError(f"Unexpected HTTP status {status}.{tail}", status, detail=said)


def error_from_object(obj: Any) -> ChatError | None:
    """Turn an error object found inside a stream (`{"error": {...}}`) into a typed error, else None."""
    body = _read_body(obj)
    if body is None:
        return None
    status = body.code if body.code is not None and 400 <= body.code < 600 else None
    if status is None:
        status = _STATUS_NAMES.get(body.status_name.upper(), 500)
    return error_from_response(status, obj)


_STATUS_NAMES = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
    "INVALID_REQUEST_ERROR": 400,
    "AUTHENTICATION_ERROR": 401,
    "RATE_LIMIT_EXCEEDED": 429,
    "SERVER_ERROR": 500,
}
