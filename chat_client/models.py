"""GET /models: which models an endpoint offers, for the model picker.

Unlike a chat stream this is a plain call, so failures raise the same typed errors (`errors.ChatError`
subclasses) instead of being yielded. Google's endpoint names models `models/gemini-2.5-flash`; the
prefix is dropped so the names are the ones a request's `model` field takes.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from chat_client import errors
from chat_client.endpoint import Endpoint


def list_models(http: httpx.Client, endpoint: Endpoint, *, timeout: float = 10.0) -> list[str]:
    """Model ids the endpoint offers, in its order; raises a ChatError subclass on failure."""
    try:
        resp = http.get(endpoint.models_url, headers=endpoint.auth_headers(), timeout=timeout)
    except httpx.HTTPError as exc:
        raise _network_error(exc, timeout) from None
    return _read(resp, endpoint)


async def alist_models(http: httpx.AsyncClient, endpoint: Endpoint, *, timeout: float = 10.0) -> list[str]:
    """Async twin of `list_models`."""
    try:
        resp = await http.get(endpoint.models_url, headers=endpoint.auth_headers(), timeout=timeout)
    except httpx.HTTPError as exc:
        raise _network_error(exc, timeout) from None
    return _read(resp, endpoint)


def _network_error(exc: httpx.HTTPError, timeout: float) -> errors.ChatError:
    if isinstance(exc, httpx.TimeoutException):
        return errors.StreamTimeout(
            f"The model list did not arrive within {timeout:g} s.", "first_byte", seconds=timeout
        )
    return errors.ConnectionFailed("Could not reach the endpoint to list its models.")


def _read(resp: httpx.Response, endpoint: Endpoint) -> list[str]:
    if resp.status_code >= 400:
        raise errors.error_from_response(resp.status_code, resp.content).redacted(endpoint.api_key)
    return _ids(resp.content)


def _ids(raw: bytes) -> list[str]:
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.ProtocolError("The model list is not valid JSON.") from None
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise errors.ProtocolError('The model list has no "data" list.')
    out = []
    for item in items:
        mid = item.get("id") if isinstance(item, dict) else None
        if isinstance(mid, str) and mid:
            out.append(mid.removeprefix("models/"))
    return out
