"""The small line under each reply: tokens, cost, time to first token, speed, finish reason.

Prices come from configuration (settings.prices, per million tokens), never from code, because they
change, and apply only to endpoints that charge: the built-in offline model is free, so its price table
is ``OFFLINE_PRICES`` and its line says "free (offline model)", and its thinking tokens, which it only
simulates, are labelled so. Thinking tokens are billed as output (the provider's pricing), so cost counts
them as output whether or not the provider included them in completion_tokens.

A finished reply with no usage at all says so ("this server did not report token usage"): llama.cpp and
other local servers send none in a stream, and a line without tokens or speed would otherwise read as a
fault of Prism's. The advice for a cut-off reply names the length field the request actually carried
(an endpoint's `length_field`), so it is right on servers that read only `max_tokens`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from turns.reply import cost_usd

# The price table of the built-in offline model: everything costs nothing (compared by identity).
OFFLINE_PRICES: Mapping[str, float] = MappingProxyType({"input": 0.0, "cached": 0.0, "output": 0.0})

NO_USAGE_NOTE = "this server did not report token usage"
FINISHED_REASONS = ("stop", "length", "tool_calls", "content_filter")


def length_advice(request_body: Mapping[str, Any] | None) -> str:
    """What to raise so a cut-off reply can finish, named as the request sent it."""
    body = request_body or {}
    if "max_tokens" in body and "max_completion_tokens" not in body:
        return "raise max tokens (this endpoint reads `max_tokens`) to let it finish"
    return "raise max completion tokens to let it finish"


def summary(
    usage: Mapping[str, Any] | None,
    timings: Mapping[str, Any] | None,
    finish_reason: str | None,
    prices: Mapping[str, float] | None = None,
) -> str:
    """One line of plain text describing a finished reply."""
    parts: list[str] = []
    offline = prices is OFFLINE_PRICES
    if usage:
        parts.append(f"{usage.get('prompt_tokens', 0)} in")
        parts.append(f"{usage.get('completion_tokens', 0)} out")
        if usage.get("reasoning_tokens"):
            simulated = " (simulated)" if offline else ""
            parts.append(f"{usage['reasoning_tokens']} thinking{simulated}")
        if usage.get("cached_tokens"):
            parts.append(f"{usage['cached_tokens']} cached")
        cost = cost_usd(usage, prices)
        if offline:
            parts.append("free (offline model)")
        elif cost is not None:
            parts.append(f"${cost:.6f}")
    if timings:
        if "ttft_s" in timings:
            parts.append(f"first token {timings['ttft_s'] * 1000:.0f} ms")
        if "tokens_per_s" in timings:
            parts.append(f"{timings['tokens_per_s']:.0f} tok/s")
    if finish_reason:
        parts.append(f"finish: {finish_reason}")
    if not usage and finish_reason in FINISHED_REASONS:
        parts.append(NO_USAGE_NOTE)
    return " · ".join(parts)
