"""Builders for OpenAI-format chat messages: system, user (text and images), assistant, tool.

They return plain dicts exactly as the wire wants them, so what storage keeps and what is sent are
the same thing. An assistant message that made tool calls keeps each call's `thought_signature` under
`extra_content.google`, where Gemini expects it back in the next request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from chat_client.events import ToolCall


def system_message(text: str) -> dict[str, Any]:
    """A system prompt."""
    return {"role": "system", "content": text}


def user_message(text: str, image_data_urls: Iterable[str] = ()) -> dict[str, Any]:
    """A user turn; with images, content becomes a list of parts (text first, then each image)."""
    urls = list(image_data_urls)
    if not urls:
        return {"role": "user", "content": text}
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    parts.extend({"type": "image_url", "image_url": {"url": url}} for url in urls)
    return {"role": "user", "content": parts}


IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
MAX_IMAGE_BYTES = 7 * 1024 * 1024  # about what Gemini accepts per inline image


def image_problem(data_url: str) -> str | None:
    """Why the provider would refuse this image data URL (plain words), or None when it looks fine."""
    head, sep, payload = data_url.partition(",")
    if not sep or not head.startswith("data:") or not head.endswith(";base64"):
        return "An image must be sent as a base64 data: URL."
    mime = head[5 : -len(";base64")].lower()
    if mime not in IMAGE_TYPES:
        return f"Images must be PNG, JPEG or WEBP (this one is {mime or 'of unknown type'})."
    size = len(payload) * 3 // 4 - payload.count("=", -2)
    if size > MAX_IMAGE_BYTES:
        return f"This image is {size / 1e6:.1f} MB; the provider accepts about 7 MB per image."
    return None


def _tool_call_dict(call: ToolCall | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(call, Mapping):
        return dict(call)
    out: dict[str, Any] = {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }
    if call.thought_signature is not None:
        out["extra_content"] = {"google": {"thought_signature": call.thought_signature}}
    return out


def assistant_message(text: str, tool_calls: Iterable[ToolCall | Mapping[str, Any]] = ()) -> dict[str, Any]:
    """An assistant turn; with tool calls, content is left out when there is no text (OpenAI allows it)."""
    calls = [_tool_call_dict(c) for c in tool_calls]
    msg: dict[str, Any] = {"role": "assistant"}
    if text or not calls:
        msg["content"] = text
    if calls:
        msg["tool_calls"] = calls
    return msg


def tool_message(tool_call_id: str, content: Any) -> dict[str, Any]:
    """The result of a tool call; non-text results are sent as JSON text."""
    if not isinstance(content, str):
        content = orjson.dumps(content).decode()
    return {"role": "tool", "tool_call_id": tool_call_id, "content": content}
