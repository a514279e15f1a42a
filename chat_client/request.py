"""The request body: only the fields the user set, in the shape the provider expects.

What must stay true: an unset field (None) never appears in the body, and no field is ever sent as
null; `stream` alone has a default (true). Where each field goes (Gemini's extras nest under
`extra_body.google`) is `Params.to_wire`'s business, read from each field's spec. The length limit
goes under the name the endpoint reads (`Endpoint.length_field`): a person sets one limit, and a
server that knows only `max_tokens` still gets it.
"""

from __future__ import annotations

from typing import Any

from chat_client.endpoint import LENGTH_FIELDS
from chat_client.params import Params


def build_body(
    params: Params, messages: list[dict[str, Any]], length_field: str | None = None
) -> dict[str, Any]:
    """The JSON body of POST /chat/completions: messages plus every set field, nothing else.

    `length_field` (an `Endpoint.length_field`) names the field the length limit is sent as; None
    sends it as set."""
    if length_field is not None and length_field not in LENGTH_FIELDS:
        raise ValueError(f"length_field must be one of {', '.join(LENGTH_FIELDS)}, not {length_field!r}.")
    fields = params.to_wire()
    if length_field is not None and ("max_completion_tokens" in fields or "max_tokens" in fields):
        newer, legacy = fields.pop("max_completion_tokens", None), fields.pop("max_tokens", None)
        limit = newer if newer is not None else legacy
        names = ("max_completion_tokens", "max_tokens") if length_field == "both" else (length_field,)
        fields.update(dict.fromkeys(names, limit))
    body: dict[str, Any] = {}
    if "model" in fields:
        body["model"] = fields.pop("model")
    body["messages"] = list(messages)
    body["stream"] = fields.pop("stream", True)
    body.update(fields)
    return body
