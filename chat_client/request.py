"""The request body: only the fields the user set, in the shape the provider expects.

What must stay true: an unset field (None) never appears in the body, and no field is ever sent as
null; `stream` alone has a default (true). The flattened Gemini fields of `Params` are nested back
under `extra_body.google` as a top-level body key, which is where Gemini's compatibility layer reads
them (reference/gemini-openai-compat-notes.md).
"""

from __future__ import annotations

from typing import Any

from chat_client.params import Params

_GOOGLE_FIELDS = ("thinking_budget", "include_thoughts", "cached_content")


def build_body(params: Params, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON body of POST /chat/completions: messages plus every set field, nothing else."""
    fields = params.to_dict()
    body: dict[str, Any] = {}
    if "model" in fields:
        body["model"] = fields.pop("model")
    body["messages"] = list(messages)
    body["stream"] = fields.pop("stream", True)
    google: dict[str, Any] = {}
    thinking: dict[str, Any] = {}
    if "thinking_budget" in fields:
        thinking["thinking_budget"] = fields.pop("thinking_budget")
    if "include_thoughts" in fields:
        thinking["include_thoughts"] = fields.pop("include_thoughts")
    if thinking:
        google["thinking_config"] = thinking
    if "cached_content" in fields:
        google["cached_content"] = fields.pop("cached_content")
    body.update(fields)
    if google:
        body["extra_body"] = {"google": google}
    return body
