"""Checks a Chat Completions request body the way the provider does, and reads it into a ChatRequest.

Why it exists: the app must meet the provider's refusals in tests, not first in production. Every
refusal is a 400 ``ProviderError`` whose ``field`` is a JSON path into the body (``temperature``,
``messages[2].content[1].image_url``), the way Gemini names the field in its message.

What must stay true: an unknown top-level field is refused (``Unknown name "x": Cannot find field.``);
ranges are the provider's (temperature 0..2, top_p 0..1, penalties -2..2, n 1..8, top_logprobs
0..20 and only with logprobs, at most 5 stop strings, max tokens >= 1); ``reasoning_effort`` and
``thinking_config.thinking_budget`` together are refused; an unknown model is a 404.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from offline_model.errors import ProviderError, bad_request

MODELS = ("gemini-2.5-flash", "gemini-2.5-flash-lite")
MAX_OUTPUT_TOKENS = 65535
KNOWN_FIELDS = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "frequency_penalty",
        "presence_penalty",
        "stop",
        "n",
        "reasoning_effort",
        "seed",
        "logprobs",
        "top_logprobs",
        "response_format",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "extra_body",
    }
)
ROLES = ("system", "developer", "user", "assistant", "tool")
EFFORT_BUDGET = {"none": 0, "low": 1024, "medium": 8192, "high": 24576}
MAX_THINKING_BUDGET = 24576
TOOL_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")


@dataclass
class ChatRequest:
    """A request that passed validation, with defaults applied."""

    model: str
    messages: list[dict]
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    temperature: float = 1.0
    top_p: float | None = None
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    stop: list[str] = field(default_factory=list)
    n: int = 1
    seed: int | None = None
    logprobs: bool = False
    top_logprobs: int = 0
    response_format: dict | None = None
    tools: list[dict] = field(default_factory=list)
    tool_choice: str | dict | None = None
    thinking_budget: int = -1  # -1 = dynamic (Gemini 2.5 Flash thinks by default), 0 = off
    include_thoughts: bool = False
    cached_content: str | None = None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(body: dict, name: str, lo: float, hi: float) -> float | None:
    if name not in body:
        return None
    value = body[name]
    if not _is_number(value):
        raise bad_request(name, f"{name} must be a number.")
    if not lo <= value <= hi:
        raise bad_request(name, f"{name} must be between {lo:g} and {hi:g}, got {value:g}.")
    return float(value)


def _int(body: dict, name: str, lo: int, hi: int) -> int | None:
    if name not in body:
        return None
    value = body[name]
    if not _is_int(value):
        raise bad_request(name, f"{name} must be an integer.")
    if not lo <= value <= hi:
        raise bad_request(name, f"{name} must be between {lo} and {hi}, got {value}.")
    return value


def _bool(body: dict, name: str, where: str | None = None) -> bool | None:
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, bool):
        raise bad_request(where or name, f"{name} must be true or false.")
    return value


def validate_request(body: object) -> ChatRequest:
    """Check the body; return the request or raise ProviderError (400, or 404 for an unknown model)."""
    if not isinstance(body, dict):
        raise ProviderError(400, "Invalid JSON payload received. The body must be a JSON object.", field="")
    for name in body:
        if name not in KNOWN_FIELDS:
            raise ProviderError(
                400, f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.', field=name
            )

    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("model", "model is required and must be a string.")
    bare = model.removeprefix("models/")
    if bare not in MODELS:
        raise ProviderError(404, f"models/{bare} is not found for API version v1main, or is not supported.")

    req = ChatRequest(model=model, messages=_messages(body.get("messages")))

    stream = _bool(body, "stream")
    req.stream = bool(stream)
    if "stream_options" in body:
        opts = body["stream_options"]
        if not isinstance(opts, dict):
            raise bad_request("stream_options", "stream_options must be an object.")
        if not req.stream:
            raise bad_request("stream_options", "stream_options is only allowed when stream is true.")
        for key in opts:
            if key != "include_usage":
                raise bad_request(f"stream_options.{key}", f'Unknown name "{key}": Cannot find field.')
        req.include_usage = bool(_bool(opts, "include_usage", "stream_options.include_usage"))

    max_tokens = _int(body, "max_tokens", 1, MAX_OUTPUT_TOKENS)
    max_completion = _int(body, "max_completion_tokens", 1, MAX_OUTPUT_TOKENS)
    req.max_tokens = max_completion if max_completion is not None else max_tokens

    temperature = _number(body, "temperature", 0.0, 2.0)
    if temperature is not None:
        req.temperature = temperature
    req.top_p = _number(body, "top_p", 0.0, 1.0)
    req.frequency_penalty = _number(body, "frequency_penalty", -2.0, 2.0) or 0.0
    req.presence_penalty = _number(body, "presence_penalty", -2.0, 2.0) or 0.0
    req.n = _int(body, "n", 1, 8) or 1
    if "seed" in body:
        if not _is_int(body["seed"]):
            raise bad_request("seed", "seed must be an integer.")
        req.seed = body["seed"]

    if "stop" in body:
        stop = body["stop"]
        if isinstance(stop, str):
            stop = [stop]
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise bad_request("stop", "stop must be a string or a list of strings.")
        if len(stop) > 5:
            raise bad_request("stop", f"at most 5 stop sequences are allowed, got {len(stop)}.")
        for i, s in enumerate(stop):
            if not s:
                raise bad_request(f"stop[{i}]", "a stop sequence cannot be empty.")
        req.stop = stop

    req.logprobs = bool(_bool(body, "logprobs"))
    top_logprobs = _int(body, "top_logprobs", 0, 20)
    if top_logprobs is not None:
        if not req.logprobs:
            raise bad_request("top_logprobs", "top_logprobs is only allowed when logprobs is true.")
        req.top_logprobs = top_logprobs

    req.response_format = _response_format(body.get("response_format"))
    req.tools = _tools(body.get("tools"))
    req.tool_choice = _tool_choice(body.get("tool_choice"), req.tools) if "tool_choice" in body else None
    if body.get("parallel_tool_calls", False) is not False:
        raise bad_request("parallel_tool_calls", "only false is supported for parallel_tool_calls.")

    budget: int | None = None
    if "reasoning_effort" in body:
        effort = body["reasoning_effort"]
        if effort not in EFFORT_BUDGET:
            raise bad_request(
                "reasoning_effort",
                f"reasoning_effort must be one of none, low, medium, high; got {effort!r}.",
            )
        budget = EFFORT_BUDGET[effort]
    if "extra_body" in body:
        budget = _extra_body(body["extra_body"], req, budget, "reasoning_effort" in body)
    if budget is not None:
        req.thinking_budget = budget
    return req


def _extra_body(extra: object, req: ChatRequest, budget: int | None, has_effort: bool) -> int | None:
    if not isinstance(extra, dict):
        raise bad_request("extra_body", "extra_body must be an object.")
    for key in extra:
        if key != "google":
            raise bad_request(f"extra_body.{key}", f'Unknown name "{key}": Cannot find field.')
    google = extra.get("google", {})
    if not isinstance(google, dict):
        raise bad_request("extra_body.google", "extra_body.google must be an object.")
    for key in google:
        if key not in ("cached_content", "thinking_config"):
            raise bad_request(f"extra_body.google.{key}", f'Unknown name "{key}": Cannot find field.')
    if "cached_content" in google:
        name = google["cached_content"]
        if not isinstance(name, str) or not name.startswith("cachedContents/") or name == "cachedContents/":
            raise bad_request(
                "extra_body.google.cached_content",
                "cached_content must be a name like cachedContents/abc123.",
            )
        req.cached_content = name
    if "thinking_config" in google:
        cfg = google["thinking_config"]
        where = "extra_body.google.thinking_config"
        if not isinstance(cfg, dict):
            raise bad_request(where, "thinking_config must be an object.")
        for key in cfg:
            if key not in ("thinking_budget", "include_thoughts"):
                raise bad_request(f"{where}.{key}", f'Unknown name "{key}": Cannot find field.')
        if "thinking_budget" in cfg:
            if has_effort:
                raise bad_request(
                    f"{where}.thinking_budget",
                    "reasoning_effort and thinking_budget cannot both be set; send only one of them.",
                )
            value = cfg["thinking_budget"]
            if not _is_int(value) or not (value == -1 or 0 <= value <= MAX_THINKING_BUDGET):
                raise bad_request(
                    f"{where}.thinking_budget",
                    f"thinking_budget must be -1 (dynamic) or an integer from 0 to {MAX_THINKING_BUDGET}.",
                )
            budget = value
        include = _bool(cfg, "include_thoughts", f"{where}.include_thoughts")
        req.include_thoughts = bool(include)
    return budget


def _messages(messages: object) -> list[dict]:
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages", "messages must be a non-empty list.")
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise bad_request(where, "each message must be an object.")
        role = msg.get("role")
        if role not in ROLES:
            raise bad_request(f"{where}.role", f"role must be one of {', '.join(ROLES)}; got {role!r}.")
        content = msg.get("content")
        if role == "assistant":
            calls = msg.get("tool_calls")
            if calls is not None:
                _assistant_tool_calls(calls, f"{where}.tool_calls")
            if content is None and not calls:
                raise bad_request(f"{where}.content", "an assistant message needs content or tool_calls.")
            if content is not None:
                _content(content, f"{where}.content", allow_images=False, allow_empty=bool(calls))
        elif role == "tool":
            if not isinstance(msg.get("tool_call_id"), str) or not msg["tool_call_id"]:
                raise bad_request(f"{where}.tool_call_id", "a tool message needs its tool_call_id.")
            _content(content, f"{where}.content", allow_images=False, allow_empty=True)
        else:
            _content(content, f"{where}.content", allow_images=role == "user", allow_empty=False)
    return messages


def _content(content: object, where: str, *, allow_images: bool, allow_empty: bool) -> None:
    if isinstance(content, str):
        if not content.strip() and not allow_empty:
            raise bad_request(where, "message content must not be empty.")
        return
    if not isinstance(content, list):
        raise bad_request(where, "content must be a string or a list of parts.")
    if not content and not allow_empty:
        raise bad_request(where, "message content must not be empty.")
    has_something = False
    for j, part in enumerate(content):
        pwhere = f"{where}[{j}]"
        if not isinstance(part, dict):
            raise bad_request(pwhere, "each content part must be an object.")
        kind = part.get("type")
        if kind == "text":
            if not isinstance(part.get("text"), str):
                raise bad_request(f"{pwhere}.text", "a text part needs a text string.")
            has_something = has_something or bool(part["text"].strip())
        elif kind == "image_url":
            if not allow_images:
                raise bad_request(f"{pwhere}.type", "image parts are only allowed in user messages.")
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str) or not url:
                raise bad_request(f"{pwhere}.image_url", "an image part needs image_url.url.")
            has_something = True
        else:
            raise bad_request(f"{pwhere}.type", f"unsupported content part type {kind!r}.")
    if not has_something and not allow_empty:
        raise bad_request(where, "message content must not be empty.")


def _assistant_tool_calls(calls: object, where: str) -> None:
    if not isinstance(calls, list):
        raise bad_request(where, "tool_calls must be a list.")
    for k, call in enumerate(calls):
        cwhere = f"{where}[{k}]"
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise bad_request(f"{cwhere}.function", "a tool call needs function.name and function.arguments.")
        if not isinstance(fn.get("arguments", ""), str):
            raise bad_request(f"{cwhere}.function.arguments", "arguments must be a JSON string.")


def _response_format(fmt: object) -> dict | None:
    if fmt is None:
        return None
    if not isinstance(fmt, dict) or fmt.get("type") not in ("text", "json_object", "json_schema"):
        raise bad_request(
            "response_format.type", "response_format.type must be text, json_object or json_schema."
        )
    if fmt["type"] == "text":
        return None
    if fmt["type"] == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
            raise bad_request("response_format.json_schema.schema", "json_schema needs a schema object.")
        _refuse_ref_cycle(spec["schema"], "response_format.json_schema.schema")
    return fmt


def _tools(tools: object) -> list[dict]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise bad_request("tools", "tools must be a list.")
    seen = set()
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise bad_request(f"{where}.type", 'each tool must have type "function".')
        fn = tool.get("function")
        if not isinstance(fn, dict):
            raise bad_request(f"{where}.function", "a tool needs a function object.")
        name = fn.get("name")
        if not isinstance(name, str) or not TOOL_NAME_RE.match(name):
            raise bad_request(
                f"{where}.function.name",
                "a function name must start with a letter or underscore and use letters, digits, _ . -"
                " (at most 64).",
            )
        if name in seen:
            raise bad_request(f"{where}.function.name", f"duplicate function name {name!r}.")
        seen.add(name)
        if "parameters" in fn and not isinstance(fn["parameters"], dict):
            raise bad_request(f"{where}.function.parameters", "parameters must be a JSON schema object.")
        if "parameters" in fn:
            _refuse_ref_cycle(fn["parameters"], f"{where}.function.parameters")
    return tools


def _refuse_ref_cycle(schema: dict, field: str) -> None:
    """400 for a schema whose $ref/allOf/anyOf/oneOf/not lead back to a subschema without describing
    any part of the value: writing a value for it would never end (it used to be a 500)."""

    def same_value(path: tuple) -> list[tuple]:
        node: object = schema
        for part in path:
            if isinstance(node, dict):
                node = node.get(part)
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return []
        if not isinstance(node, dict):
            return []
        out = []
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            out.append(tuple(p.replace("~1", "/").replace("~0", "~") for p in ref[1:].split("/") if p))
        for key in ("allOf", "anyOf", "oneOf"):
            if isinstance(node.get(key), list):
                out.extend((*path, key, str(i)) for i in range(len(node[key])))
        out.extend((*path, key) for key in ("not", "if", "then", "else") if isinstance(node.get(key), dict))
        return out

    starts, stack = [], [((), schema)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            starts.append(path)
            stack.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, str(i)), v) for i, v in enumerate(node))
    state: dict[tuple, int] = {}
    for start in starts:
        if start in state:
            continue
        state[start] = 1
        walk = [(start, iter(same_value(start)))]
        while walk:
            path, children = walk[-1]
            child = next(children, None)
            if child is None:
                state[path] = 2
                walk.pop()
            elif state.get(child) == 1:
                where = "#/" + "/".join(child) if child else "#"
                raise bad_request(field, f"the $ref at {where} leads back to itself (a $ref cycle).")
            elif child not in state:
                state[child] = 1
                walk.append((child, iter(same_value(child))))


def _tool_choice(choice: object, tools: list[dict]) -> str | dict:
    if choice in ("none", "auto", "required"):
        if choice == "required" and not tools:
            raise bad_request("tool_choice", 'tool_choice "required" needs tools.')
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function":
        fn = choice.get("function")
        name = fn.get("name") if isinstance(fn, dict) else None
        names = [t["function"]["name"] for t in tools]
        if name not in names:
            raise bad_request("tool_choice.function.name", f"no tool named {name!r} is declared in tools.")
        return choice
    raise bad_request("tool_choice", 'tool_choice must be "none", "auto", "required" or a named function.')
