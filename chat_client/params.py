"""The parameter set of a chat request: every request field of the API reference, and its validation.

A `Params` is what a person set, nothing more: every field is None until set, and only set fields
reach the wire (the provider answers an unknown or null field with a 400). It round-trips through
JSON so presets and stored conversations keep it. `validate` explains each problem in plain words
naming the field and the allowed range, before anything is sent.

The Gemini extension `extra_body.google` (thinking_config, cached_content) is flattened into
`thinking_budget`, `include_thoughts` and `cached_content`, so a form can show one control per field;
`request.build_body` nests them back. `from_dict` also accepts the nested wire shape.
Ranges follow reference/gemini-2.5-flash-openai-api.txt and reference/gemini-openai-compat-notes.md.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from chat_client.schemas import schema_problem

MAX_OUTPUT_TOKENS = 65_535
REASONING_EFFORTS = ("none", "low", "medium", "high")
TOOL_CHOICES = ("none", "auto", "required")
RESPONSE_FORMAT_TYPES = ("text", "json_object", "json_schema")
SEED_MIN, SEED_MAX = -(2**31), 2**31 - 1
THINKING_BUDGET_MIN, THINKING_BUDGET_MAX = -1, 24_576
_FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")


def _spec(label: str, help: str, **limits: Any) -> dict[str, Any]:
    return {"label": label, "help": help, **limits}


@dataclass(frozen=True)
class ParamError:
    """One problem with a parameter set: the field and what is wrong, in plain words."""

    field: str
    message: str


@dataclass(frozen=True)
class Params:
    """Every request field of the API reference; None means "not set" and is never sent."""

    model: str | None = field(default=None, metadata=_spec("Model", "Model name, e.g. gemini-2.5-flash."))
    stream: bool | None = field(
        default=None, metadata=_spec("Stream", "Send the reply as it is written (default on).")
    )
    max_completion_tokens: int | None = field(
        default=None,
        metadata=_spec(
            "Max completion tokens", "Longest reply, thinking included.", min=1, max=MAX_OUTPUT_TOKENS
        ),
    )
    max_tokens: int | None = field(
        default=None,
        metadata=_spec("Max tokens", "Legacy name of the reply limit.", min=1, max=MAX_OUTPUT_TOKENS),
    )
    temperature: float | None = field(
        default=None,
        metadata=_spec("Temperature", "0 is repeatable; higher is more varied.", min=0.0, max=2.0),
    )
    top_p: float | None = field(
        default=None, metadata=_spec("Top p", "Sample only from the most likely tokens.", min=0.0, max=1.0)
    )
    frequency_penalty: float | None = field(
        default=None,
        metadata=_spec("Frequency penalty", "Discourage repeating the same tokens.", min=-2.0, max=2.0),
    )
    presence_penalty: float | None = field(
        default=None, metadata=_spec("Presence penalty", "Encourage new topics.", min=-2.0, max=2.0)
    )
    stop: str | tuple[str, ...] | None = field(
        default=None, metadata=_spec("Stop sequences", "Up to 5 strings that end the reply.", max_items=5)
    )
    n: int | None = field(
        default=None, metadata=_spec("Candidates", "How many replies to write.", min=1, max=8)
    )
    reasoning_effort: str | None = field(
        default=None, metadata=_spec("Reasoning effort", "How hard to think.", choices=REASONING_EFFORTS)
    )
    seed: int | None = field(
        default=None,
        metadata=_spec("Seed", "Makes a sampled reply repeatable.", min=SEED_MIN, max=SEED_MAX),
    )
    logprobs: bool | None = field(
        default=None, metadata=_spec("Log-probabilities", "Report how likely each token was.")
    )
    top_logprobs: int | None = field(
        default=None, metadata=_spec("Top log-probabilities", "Alternatives per token.", min=0, max=20)
    )
    response_format: dict[str, Any] | None = field(
        default=None,
        metadata=_spec("Response format", "text, json_object or json_schema.", choices=RESPONSE_FORMAT_TYPES),
    )
    stream_options: dict[str, Any] | None = field(
        default=None, metadata=_spec("Stream options", '{"include_usage": true} asks for token counts.')
    )
    tools: tuple[dict[str, Any], ...] | None = field(
        default=None, metadata=_spec("Tools", "Functions the model may call.")
    )
    tool_choice: str | dict[str, Any] | None = field(
        default=None,
        metadata=_spec("Tool choice", "none, auto, required, or a named function.", choices=TOOL_CHOICES),
    )
    parallel_tool_calls: bool | None = field(
        default=None, metadata=_spec("Parallel tool calls", "Only false is supported by Gemini.")
    )
    thinking_budget: int | None = field(
        default=None,
        metadata=_spec(
            "Thinking budget",
            "Tokens to think with: 0 off, -1 dynamic.",
            min=THINKING_BUDGET_MIN,
            max=THINKING_BUDGET_MAX,
        ),
    )
    include_thoughts: bool | None = field(
        default=None, metadata=_spec("Include thoughts", "Stream a summary of the model's thinking.")
    )
    cached_content: str | None = field(
        default=None, metadata=_spec("Cached content", "A cachedContents/... name to reuse.")
    )

    # --- construction and JSON ---------------------------------------------------------------------

    def __post_init__(self) -> None:
        # Lists become tuples so a Params never shares a mutable list with its caller.
        if isinstance(self.stop, list):
            object.__setattr__(self, "stop", tuple(self.stop))
        if isinstance(self.tools, list):
            object.__setattr__(self, "tools", tuple(self.tools))

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Names of every field, in form order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def spec(cls, name: str) -> dict[str, Any]:
        """Label, help text and limits of one field, for forms."""
        return dict(cls.__dataclass_fields__[name].metadata)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Params:
        """Build from `to_dict()` output or from request-body keys (nested `extra_body` accepted)."""
        data = dict(data)
        extra = data.pop("extra_body", None)
        if extra is not None:
            google = (extra or {}).get("google") or {}
            thinking = google.get("thinking_config") or {}
            for key, value in (
                ("thinking_budget", thinking.get("thinking_budget")),
                ("include_thoughts", thinking.get("include_thoughts")),
                ("cached_content", google.get("cached_content")),
            ):
                if value is not None:
                    data.setdefault(key, value)
        known = set(cls.field_names())
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown parameter(s): {', '.join(unknown)}.")
        return cls(**{k: v for k, v in data.items() if v is not None})

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Params:
        """Read the parameters back out of a request body (messages are ignored)."""
        return cls.from_dict({k: v for k, v in body.items() if k != "messages"})

    def to_dict(self) -> dict[str, Any]:
        """Only the set fields, JSON-ready (tuples become lists)."""
        out: dict[str, Any] = {}
        for name in self.field_names():
            value = getattr(self, name)
            if value is not None:
                out[name] = _jsonable(value)
        return out

    def to_json(self) -> str:
        """The set fields as a JSON object."""
        return orjson.dumps(self.to_dict()).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Params:
        """Inverse of `to_json`."""
        data = orjson.loads(text)
        if not isinstance(data, dict):
            raise ValueError("Parameters must be a JSON object.")
        return cls.from_dict(data)

    def replace(self, **changes: Any) -> Params:
        """A copy with some fields changed (None unsets a field)."""
        return dataclasses.replace(self, **changes)

    def is_streaming(self) -> bool:
        """Whether the request streams (stream defaults to true when unset)."""
        return self.stream is not False


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


# --- validation ------------------------------------------------------------------------------------


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (isinstance(v, int | float) and not isinstance(v, bool)) and math.isfinite(v)


def _fmt(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else f"{x:,}"


def _check_range(errors: list[ParamError], name: str, value: Any, integer: bool) -> None:
    spec = Params.spec(name)
    lo, hi = spec["min"], spec["max"]
    kind = "a whole number" if integer else "a number"
    ok_type = _is_int(value) if integer else _is_number(value)
    if not ok_type or not (lo <= value <= hi):
        got = f"got {value!r}"
        errors.append(ParamError(name, f"{name} must be {kind} from {_fmt(lo)} to {_fmt(hi)} ({got})."))


def _check_bool(errors: list[ParamError], name: str, value: Any) -> None:
    if not isinstance(value, bool):
        errors.append(ParamError(name, f"{name} must be true or false (got {value!r})."))


def validate(params: Params) -> list[ParamError]:
    """Every problem with `params`, in plain words; an empty list means it can be sent."""
    errors: list[ParamError] = []
    p = params
    if p.model is not None and (not isinstance(p.model, str) or not p.model.strip()):
        errors.append(ParamError("model", "model must be a model name such as gemini-2.5-flash."))
    for name in ("stream", "logprobs", "include_thoughts", "parallel_tool_calls"):
        if getattr(p, name) is not None:
            _check_bool(errors, name, getattr(p, name))
    for name in ("max_completion_tokens", "max_tokens", "n", "seed", "top_logprobs", "thinking_budget"):
        if getattr(p, name) is not None:
            _check_range(errors, name, getattr(p, name), integer=True)
    for name in ("temperature", "top_p", "frequency_penalty", "presence_penalty"):
        if getattr(p, name) is not None:
            _check_range(errors, name, getattr(p, name), integer=False)
    _validate_stop(errors, p.stop)
    if p.reasoning_effort is not None and p.reasoning_effort not in REASONING_EFFORTS:
        hint = " (the live API rejects 'minimal')" if p.reasoning_effort == "minimal" else ""
        errors.append(
            ParamError(
                "reasoning_effort",
                "reasoning_effort must be one of none, low, medium, high "
                f"(got {p.reasoning_effort!r}){hint}.",
            )
        )
    if p.reasoning_effort is not None and p.thinking_budget is not None:
        errors.append(
            ParamError(
                "thinking_budget",
                "Set either reasoning_effort or thinking_budget, not both: the API refuses the pair. "
                "reasoning_effort low/medium/high means a budget of 1,024/8,192/24,576 tokens.",
            )
        )
    if p.top_logprobs is not None and p.logprobs is not True:
        errors.append(ParamError("top_logprobs", "top_logprobs needs logprobs set to true."))
    if p.parallel_tool_calls is True:
        errors.append(
            ParamError(
                "parallel_tool_calls", "parallel_tool_calls can only be false: Gemini does not support true."
            )
        )
    if p.cached_content is not None and (
        not isinstance(p.cached_content, str) or not p.cached_content.startswith("cachedContents/")
    ):
        errors.append(
            ParamError("cached_content", "cached_content must be a name like cachedContents/abc123.")
        )
    if p.stream_options is not None:
        _validate_stream_options(errors, p)
    if p.response_format is not None:
        _validate_response_format(errors, p.response_format)
    names = _validate_tools(errors, p.tools) if p.tools is not None else set()
    if p.tool_choice is not None:
        _validate_tool_choice(errors, p.tool_choice, p.tools, names)
    return errors


def _validate_stop(errors: list[ParamError], stop: Any) -> None:
    if stop is None:
        return
    items = (stop,) if isinstance(stop, str) else stop
    if not isinstance(items, tuple | list) or not all(isinstance(s, str) for s in items):
        errors.append(ParamError("stop", "stop must be a string or a list of strings."))
        return
    if len(items) > 5:
        errors.append(ParamError("stop", f"stop takes at most 5 sequences (got {len(items)})."))
    if any(s == "" for s in items):
        errors.append(ParamError("stop", "stop sequences cannot be empty."))


def _validate_stream_options(errors: list[ParamError], p: Params) -> None:
    so = p.stream_options
    if not isinstance(so, dict) or set(so) - {"include_usage"}:
        errors.append(
            ParamError("stream_options", 'stream_options takes only {"include_usage": true|false}.')
        )
    elif "include_usage" in so and not isinstance(so["include_usage"], bool):
        errors.append(ParamError("stream_options", "stream_options.include_usage must be true or false."))
    if p.stream is False:
        errors.append(ParamError("stream_options", "stream_options can only be set when stream is on."))


def _validate_response_format(errors: list[ParamError], rf: Any) -> None:
    kinds = ", ".join(RESPONSE_FORMAT_TYPES)
    if not isinstance(rf, dict) or rf.get("type") not in RESPONSE_FORMAT_TYPES:
        errors.append(ParamError("response_format", f'response_format needs "type": one of {kinds}.'))
        return
    if rf["type"] != "json_schema":
        if set(rf) - {"type"}:
            errors.append(ParamError("response_format", f'response_format {rf["type"]} takes only "type".'))
        return
    js = rf.get("json_schema")
    if not isinstance(js, dict):
        errors.append(
            ParamError(
                "response_format", 'response_format json_schema needs "json_schema": {"name", "schema"}.'
            )
        )
        return
    name = js.get("name")
    if not isinstance(name, str) or not _FUNCTION_NAME.match(name):
        errors.append(
            ParamError(
                "response_format",
                "response_format.json_schema.name must be 1 to 64 letters, digits, _ . or -.",
            )
        )
    if "schema" in js and not isinstance(js["schema"], dict):
        errors.append(
            ParamError("response_format", "response_format.json_schema.schema must be a JSON object.")
        )
    elif "schema" in js and (problem := schema_problem(js["schema"])) is not None:
        errors.append(ParamError("response_format", problem))
    if "strict" in js and not isinstance(js["strict"], bool):
        errors.append(
            ParamError("response_format", "response_format.json_schema.strict must be true or false.")
        )
    extra = set(js) - {"name", "schema", "strict", "description"}
    if extra:
        errors.append(
            ParamError(
                "response_format",
                f"response_format.json_schema has unknown keys: {', '.join(sorted(extra))}.",
            )
        )


def _validate_tools(errors: list[ParamError], tools: Any) -> set[str]:
    names: set[str] = set()
    if not isinstance(tools, tuple | list):
        errors.append(ParamError("tools", "tools must be a list of function definitions."))
        return names
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(fn, dict):
            errors.append(
                ParamError("tools", f'tools[{i}] must be {{"type": "function", "function": {{...}}}}.')
            )
            continue
        name = fn.get("name")
        if not isinstance(name, str) or not _FUNCTION_NAME.match(name):
            errors.append(
                ParamError("tools", f"tools[{i}].function.name must be 1 to 64 letters, digits, _ . or -.")
            )
        elif name in names:
            errors.append(ParamError("tools", f"tools has two functions named {name!r}."))
        else:
            names.add(name)
        if "parameters" in fn and not isinstance(fn["parameters"], dict):
            errors.append(
                ParamError("tools", f"tools[{i}].function.parameters must be a JSON schema object.")
            )
        elif "parameters" in fn and (problem := schema_problem(fn["parameters"])) is not None:
            errors.append(ParamError("tools", f"tools[{i}].function.parameters: {problem}"))
        if "description" in fn and not isinstance(fn["description"], str):
            errors.append(ParamError("tools", f"tools[{i}].function.description must be text."))
    return names


def _validate_tool_choice(errors: list[ParamError], choice: Any, tools: Any, names: set[str]) -> None:
    if isinstance(choice, str):
        if choice not in TOOL_CHOICES:
            errors.append(
                ParamError(
                    "tool_choice", f"tool_choice must be none, auto, required or a function (got {choice!r})."
                )
            )
        elif choice == "required" and not tools:
            errors.append(ParamError("tool_choice", "tool_choice required needs at least one tool."))
        return
    fn = choice.get("function") if isinstance(choice, dict) else None
    if not isinstance(choice, dict) or choice.get("type") != "function" or not isinstance(fn, dict):
        errors.append(
            ParamError(
                "tool_choice", 'A named tool_choice is {"type": "function", "function": {"name": ...}}.'
            )
        )
        return
    if fn.get("name") not in names:
        errors.append(
            ParamError("tool_choice", f"tool_choice names {fn.get('name')!r}, which is not in tools.")
        )
