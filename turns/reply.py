"""What a reply has produced so far, built up from the client's events: shared by chat and compare turns.

Both kinds of turn read the same events and must agree on what they mean: which events are visible
output (they start the clock for time to first token and make the row worth saving), how a tool call
is written back in the wire shape, how a reply's end becomes a status, and how timings are measured.
Keeping that here means the chat page and the compare page report the same numbers for the same reply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chat_client import events

COMPLETE, STOPPED, ERROR, LENGTH = "complete", "stopped", "error", "length"
FINISHED = (COMPLETE, STOPPED, ERROR, LENGTH)


def tool_call_wire(call: events.ToolCall) -> dict[str, Any]:
    """A whole tool call in the OpenAI message shape, keeping Gemini's thought signature."""
    wire: dict[str, Any] = {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }
    if call.thought_signature:
        wire["extra_content"] = {"google": {"thought_signature": call.thought_signature}}
    return wire


def usage_dict(usage: events.Usage | None) -> dict[str, int] | None:
    """Usage as stored with a reply (None when the server reported none)."""
    if usage is None:
        return None
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "cached_tokens": usage.cached_tokens,
    }


def timings(
    started_at: float | None, first_token_at: float | None, end: float, usage: events.Usage | None
) -> dict[str, float]:
    """Time to first token, duration and tokens per second (over the streaming part), as far as known."""
    out: dict[str, float] = {}
    if started_at is None:
        return out
    out["duration_s"] = round(end - started_at, 4)
    if first_token_at is not None:
        out["ttft_s"] = round(first_token_at - started_at, 4)
        streaming = end - first_token_at
        if usage is not None and streaming > 0:
            out["tokens_per_s"] = round(usage.completion_tokens / streaming, 2)
    return out


def final_status(*, stopped: bool, error: object | None, finish_reason: str | None) -> str:
    """How a reply ended, in storage's words."""
    if stopped:
        return STOPPED
    if error is not None:
        return ERROR
    if finish_reason == "length":
        return LENGTH
    return COMPLETE


@dataclass
class Reply:
    """The text, thoughts, tool calls and log-probabilities of one reply (one choice) so far."""

    text: list[str] = field(default_factory=list)
    thought: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    logprobs: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    first_token_at: float | None = None

    @property
    def content(self) -> str:
        return "".join(self.text)

    @property
    def thought_text(self) -> str:
        return "".join(self.thought)

    def take(self, event: events.Event, now: float) -> bool:
        """Add an event of this choice; True when it was visible output (text, thought, tool call)."""
        if isinstance(event, events.TextDelta):
            self.text.append(event.text)
        elif isinstance(event, events.ThoughtDelta):
            self.thought.append(event.text)
        elif isinstance(event, events.ToolCallDone):
            self.tool_calls.append(tool_call_wire(event.call))
        elif isinstance(event, events.LogprobsDelta):
            self.logprobs.extend(
                {"token": t.token, "logprob": t.logprob, "top": [list(p) for p in t.top]}
                for t in event.tokens
            )
            return False
        elif isinstance(event, events.Finish):
            self.finish_reason = event.reason
            return False
        else:
            return False
        if self.first_token_at is None:
            self.first_token_at = now
        return True


def cost_usd(usage: Mapping[str, Any] | None, prices: Mapping[str, float] | None) -> float | None:
    """What a reply cost, from its usage and a price table per million tokens; None when unknown."""
    if not usage or not prices:
        return None
    prompt = int(usage.get("prompt_tokens") or 0)
    cached = int(usage.get("cached_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    reasoning = int(usage.get("reasoning_tokens") or 0)
    total = int(usage.get("total_tokens") or 0)
    # Whether completion includes reasoning differs by route: if the total says reasoning was extra,
    # bill it on top; otherwise it is already inside completion.
    output = completion + reasoning if total >= prompt + completion + reasoning and reasoning else completion
    fresh_input = max(prompt - cached, 0)
    return (
        fresh_input * prices.get("input", 0.0)
        + cached * prices.get("cached", 0.0)
        + output * prices.get("output", 0.0)
    ) / 1_000_000
