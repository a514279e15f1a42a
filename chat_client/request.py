"""The request body: only the fields the user set, in the shape the provider expects.

What must stay true: an unset field (None) never appears in the body, and no field is ever sent as
null; `stream` alone has a default (true). Where each field goes (Gemini's extras nest under
`extra_body.google`) is `Params.to_wire`'s business, read from each field's spec.
"""

from __future__ import annotations

from typing import Any

from chat_client.params import Params


def build_body(params: Params, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON body of POST /chat/completions: messages plus every set field, nothing else."""
    fields = params.to_wire()
    body: dict[str, Any] = {}
    if "model" in fields:
        body["model"] = fields.pop("model")
    body["messages"] = list(messages)
    body["stream"] = fields.pop("stream", True)
    body.update(fields)
    return body
