"""Fault switches: how a test or a demo asks the offline model to misbehave on purpose.

A request carries faults in the header ``X-Offline-Fault: SPEC`` or as ``[[fault:SPEC]]`` in the last user
message (the marker is removed before the model reads the message). Several specs may be joined with
``;`` or given as several markers. SPEC is one of:

- ``status:CODE``  answer CODE at once (400, 401, 403, 404, 429, 500, 503) in the provider's error shape.
  For 429: ``status:429,per=day`` (quotaId ...PerDay...) or the default ``per=minute``, and
  ``retry=SECONDS`` for RetryInfo.retryDelay (default 28.5 per minute, 3600 per day).
  ``times=N`` answers CODE only to the first N requests carrying this same spec, then serves them
  normally: a quota that clears, so a client's retry (or a person's Retry) can be seen to succeed.
- ``disconnect:after=N``  close the connection after N stream chunks (no [DONE], no chunked terminator).
- ``stall:after=N,seconds=S``  after N chunks send nothing for S seconds, then go on.
- ``malformed:after=N``  after N chunks send one ``data:`` event that is not JSON, then go on.
- ``error:after=N``  after N chunks send a mid-stream error event and end without [DONE]
  (``code=500|503|429``, default 503; ``raw=1`` sends the trailing JSON as raw bytes, not as an SSE event,
  as the native API has been seen to do).
- ``no-done``  end the stream without ``data: [DONE]``.
- ``ttft:ms=M``  wait M milliseconds before the first chunk.
- ``no-logprobs``  refuse a request that asks for logprobs with the 400 Gemini 2.5 Flash has been seen to
  send on some routes (``Logprobs is not enabled for models/gemini-2.5-flash``), naming ``logprobs``.
- ``no-usage``  report no token usage at all (no ``usage`` in the reply or on any chunk), as llama.cpp and
  other local servers do in a stream; the client must say the server reported none.
- ``tags:split`` / ``tags:whole``  split (or never split) the ``<thought>``/``</thought>`` tags across
  chunks; without it the tags are split on some requests and not others, decided by the request's seed.

What must stay true: an unknown or malformed SPEC is a 400 naming the header, never ignored, so a typo in
a test cannot pass silently.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from offline_model.errors import ProviderError

MARKER_RE = re.compile(r"\[\[fault:([^\]]*)\]\]")
STATUS_CODES = (400, 401, 403, 404, 429, 500, 503)


@dataclass
class Faults:
    """The faults asked for on one request; all off by default."""

    status: int | None = None
    status_times: int | None = None
    status_spec: str = ""
    per_day: bool = False
    retry_delay: float | None = None
    disconnect_after: int | None = None
    stall_after: int | None = None
    stall_seconds: float = 0.0
    malformed_after: int | None = None
    error_after: int | None = None
    error_code: int = 503
    error_raw: bool = False
    no_done: bool = False
    ttft_ms: int | None = None
    split_tags: bool | None = None
    no_logprobs: bool = False
    no_usage: bool = False

    def due_at_end(self, sent: int) -> Faults:
        """A copy where every stream fault set for ``sent`` chunks or more happens at ``sent``."""
        return dataclasses.replace(
            self,
            **{
                name: sent
                for name in ("malformed_after", "stall_after", "error_after", "disconnect_after")
                if getattr(self, name) is not None and getattr(self, name) >= sent
            },
        )

    def any_at(self, sent: int) -> bool:
        """Whether a stream fault is due once ``sent`` chunks have gone out."""
        return sent in (self.malformed_after, self.stall_after, self.error_after, self.disconnect_after)


def _options(text: str, where: str) -> dict[str, str]:
    opts: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise ProviderError(400, f"fault spec option {item!r} needs the form key=value.", field=where)
        opts[key.strip()] = value.strip()
    return opts


def _count(opts: dict[str, str], key: str, where: str, *, required: bool = True) -> int | None:
    if key not in opts:
        if required:
            raise ProviderError(400, f"fault spec needs {key}=N.", field=where)
        return None
    try:
        value = int(opts[key])
    except ValueError:
        raise ProviderError(
            400, f"fault spec {key}={opts[key]!r} is not a whole number.", field=where
        ) from None
    if value < 0:
        raise ProviderError(400, f"fault spec {key} must not be negative.", field=where)
    return value


def _seconds(value: str, where: str) -> float:
    try:
        seconds = float(value.removesuffix("s"))
    except ValueError:
        raise ProviderError(400, f"fault spec seconds {value!r} is not a number.", field=where) from None
    if seconds < 0:
        raise ProviderError(400, "fault spec seconds must not be negative.", field=where)
    return seconds


def parse_faults(specs: list[str], where: str = "X-Offline-Fault") -> Faults:
    """Read fault specs into Faults, or raise a 400 naming ``where``."""
    faults = Faults()
    for raw in specs:
        for spec in filter(None, (s.strip() for s in raw.split(";"))):
            name, _, rest = spec.partition(":")
            name = name.strip().lower()
            if name == "status":
                code_text, _, opt_text = rest.partition(",")
                try:
                    code = int(code_text)
                except ValueError:
                    code = -1
                if code not in STATUS_CODES:
                    raise ProviderError(
                        400, f"fault status must be one of {', '.join(map(str, STATUS_CODES))}.", field=where
                    )
                opts = _options(opt_text, where)
                faults.status = code
                faults.status_spec = spec
                faults.status_times = _count(opts, "times", where, required=False)
                if opts.get("per", "minute") not in ("minute", "day"):
                    raise ProviderError(400, "fault per= must be minute or day.", field=where)
                faults.per_day = opts.get("per") == "day"
                if "retry" in opts:
                    faults.retry_delay = _seconds(opts["retry"], where)
            elif name == "disconnect":
                faults.disconnect_after = _count(_options(rest, where), "after", where)
            elif name == "stall":
                opts = _options(rest, where)
                faults.stall_after = _count(opts, "after", where)
                if "seconds" not in opts:
                    raise ProviderError(400, "fault stall needs seconds=S.", field=where)
                faults.stall_seconds = _seconds(opts["seconds"], where)
            elif name == "malformed":
                faults.malformed_after = _count(_options(rest, where), "after", where)
            elif name == "error":
                opts = _options(rest, where)
                faults.error_after = _count(opts, "after", where)
                code = _count(opts, "code", where, required=False)
                if code is not None:
                    if code not in (429, 500, 503):
                        raise ProviderError(400, "fault error code must be 429, 500 or 503.", field=where)
                    faults.error_code = code
                faults.error_raw = opts.get("raw", "0") not in ("0", "false", "")
            elif name == "no-done":
                faults.no_done = True
            elif name == "no-logprobs":
                faults.no_logprobs = True
            elif name == "no-usage":
                faults.no_usage = True
            elif name == "ttft":
                faults.ttft_ms = _count(_options(rest, where), "ms", where)
            elif name == "tags":
                if rest.strip() not in ("split", "whole"):
                    raise ProviderError(400, "fault tags must be tags:split or tags:whole.", field=where)
                faults.split_tags = rest.strip() == "split"
            else:
                raise ProviderError(400, f"unknown fault spec {spec!r}.", field=where)
    return faults


def take_markers(text: str) -> tuple[str, list[str]]:
    """Remove ``[[fault:SPEC]]`` markers from a message text; return the text and the specs."""
    specs = MARKER_RE.findall(text)
    if not specs:
        return text, []
    return MARKER_RE.sub("", text).strip(), specs
