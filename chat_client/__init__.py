"""chat_client: the streaming client for OpenAI-compatible Chat Completions (Gemini 2.5 Flash).

Parameters and their validation, the request body, SSE -> typed events, errors, retries and
cancellation. No Streamlit, no storage, no offline_model: the app passes an httpx client in and gets
events out. See /work/shared/design.md section 5 and reference/gemini-openai-compat-notes.md.
"""

from chat_client import errors, events, messages, snippets
from chat_client.endpoint import Endpoint
from chat_client.models import alist_models, list_models
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
    "alist_models",
    "astream_chat",
    "build_body",
    "errors",
    "events",
    "list_models",
    "messages",
    "snippets",
    "summary",
    "validate",
]
