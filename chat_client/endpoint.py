"""Where requests go: a base URL, an optional key, and the models offered there.

What must stay true: the key never shows in repr, str, or any message; it leaves this object only
as the Authorization header of a request (see `auth_headers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Which field carries the reply-length limit. Gemini's compatibility layer reads both names, so the
# default (None) sends the limit as the person set it: the form's "Max completion tokens" as
# `max_completion_tokens`, what Gemini documents. llama.cpp and other older OpenAI-style servers read
# only `max_tokens` and ignore the newer name: name the field, or "both", per endpoint.
LENGTH_FIELDS = ("max_completion_tokens", "max_tokens", "both")


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible API: base URL (ending in /v1/ or /openai/), key, display name, models."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)
    name: str = "default"
    models: tuple[str, ...] = ()
    length_field: str | None = None
    public_url: str | None = None  # what a request view may show people who may not see base_url

    def __post_init__(self) -> None:
        if isinstance(self.models, list):
            object.__setattr__(self, "models", tuple(self.models))
        if self.length_field is not None and self.length_field not in LENGTH_FIELDS:
            raise ValueError(
                f"length_field must be one of {', '.join(LENGTH_FIELDS)}, not {self.length_field!r}."
            )

    def __repr__(self) -> str:
        key = "set" if self.api_key else "none"
        shown = f"name={self.name!r}, base_url={self.base_url!r}, api_key=<{key}>, models={self.models!r}"
        return f"Endpoint({shown})"

    __str__ = __repr__

    @property
    def chat_url(self) -> str:
        """URL of POST /chat/completions."""
        return self.base_url.rstrip("/") + "/chat/completions"

    def auth_headers(self) -> dict[str, str]:
        """The Authorization header, or nothing when no key is set."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
