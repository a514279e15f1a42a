"""The request body: only the fields the user set, in the shape the provider expects.

What must stay true: an unset field (None) never appears in the body, and no field is ever sent as
null; `stream` alone has a default (true). The flattened Gemini fields of `Params` are nested back
under `extra_body.google` as a top-level body key, which is where Gemini's compatibility layer reads
them (reference/gemini-openai-compat-notes.md).
"""

from __future__ import annotations

from typing import Any

from chat_client.params import Params


def wire_fields(params: Params) -> dict[str, Any]:
    """The set fields in request-body shape (Gemini's extras nested under `extra_body.google`).

    JSON-ready; `Params.from_dict` reads it back. Unlike `build_body` it adds nothing (no messages, no
    default for `stream`), so it is what presets and stored conversations keep.
    """
    fields = params.to_dict()
    thinking = {k: fields.pop(k) for k in ("thinking_budget", "include_thoughts") if k in fields}
    google: dict[str, Any] = {"thinking_config": thinking} if thinking else {}
    if "cached_content" in fields:
        google["cached_content"] = fields.pop("cached_content")
    if google:
        fields["extra_body"] = {"google": google}
    return fields


def build_body(params: Params, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON body of POST /chat/completions: messages plus every set field, nothing else."""
    fields = wire_fields(params)
    body: dict[str, Any] = {}
    if "model" in fields:
        body["model"] = fields.pop("model")
    body["messages"] = list(messages)
    body["stream"] = fields.pop("stream", True)
    body.update(fields)
    return body
