"""Typed events that a chat stream yields.

Every consumer of chat_client (turns, the compare page, benchmarks) sees these small frozen dataclasses
and nothing else: never raw chunk dicts, never SDK objects. Each carries `index`, the choice index, so
n > 1 candidates can be told apart. What must stay true: `StreamError` is the last event when present,
`Usage` is reported once per stream with the last usage the server sent (never a sum).
"""

from __future__ import annotations

from dataclasses import dataclass

from chat_client import errors


def _quick_init(cls):
    """Give a hot text event a faster __init__ that sets its two slots directly.

    A frozen dataclass sets every field through `object.__setattr__`, about three times the cost of
    the slot descriptors used here; a stream makes one of these per chunk. The class stays a frozen
    dataclass (equality, repr, hash, FrozenInstanceError on assignment all unchanged).
    """
    set_text, set_index = cls.text.__set__, cls.index.__set__

    def __init__(self, text: str, index: int = 0) -> None:
        set_text(self, text)
        set_index(self, index)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = __init__
    return cls


@_quick_init
@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer text."""

    text: str
    index: int = 0


@_quick_init
@dataclass(frozen=True, slots=True)
class ThoughtDelta:
    """A piece of the thought summary, `<thought>` tags already stripped."""

    text: str
    index: int = 0


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One whole function call the model asked for."""

    id: str
    name: str
    arguments: str
    thought_signature: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCallDone:
    """A tool call, emitted once all of its deltas have arrived."""

    call: ToolCall
    index: int = 0


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """The log-probability of one sampled token and its top alternatives."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class LogprobsDelta:
    """Log-probabilities of the tokens of the latest piece of text."""

    tokens: tuple[TokenLogprob, ...]
    index: int = 0


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the server reported them (the last report of the stream)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    reasoning_tokens: int = 0
    cached_tokens: int = 0
    index: int = 0


@dataclass(frozen=True, slots=True)
class Finish:
    """The choice ended; `reason` is the server's finish_reason (stop, length, tool_calls, ...)."""

    reason: str
    index: int = 0


@dataclass(frozen=True, slots=True)
class RetryWait:
    """The client will retry after `seconds`; nothing was shown yet, so the retry is safe.

    `attempt` is the number of the try about to start (2 for the first retry); `reason` is the failed
    try's error message, in plain words."""

    seconds: float
    attempt: int
    reason: str
    index: int = 0


@dataclass(frozen=True, slots=True)
class StreamError:
    """The request failed; always the last event of its stream."""

    error: errors.ChatError
    index: int = 0


Event = TextDelta | ThoughtDelta | ToolCallDone | LogprobsDelta | Usage | Finish | RetryWait | StreamError
