"""chat_client: the streaming client for OpenAI-compatible Chat Completions (Gemini 2.5 Flash).

Parameters and their validation, the request body, SSE -> typed events, errors, retries and
cancellation. No Streamlit, no storage, no offline_model: the app passes an httpx client in and gets
events out. docs/architecture.md describes the events and how Gemini's OpenAI-compatible endpoint
differs from OpenAI's (thought summaries, `extra_body.google`, thought signatures on tool calls).
"""

from chat_client import errors, events, messages, snippets
from chat_client.endpoint import Endpoint
from chat_client.params import ParamError, Params, Spec, summary, validate
from chat_client.request import build_body
from chat_client.stream import NO_RETRY, RetryPolicy, Timeouts, astream_chat

__all__ = [
    "NO_RETRY",
    "Endpoint",
    "ParamError",
    "Params",
    "RetryPolicy",
    "Spec",
    "Timeouts",
    "astream_chat",
    "build_body",
    "errors",
    "events",
    "messages",
    "snippets",
    "summary",
    "validate",
]
