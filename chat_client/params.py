"""The parameter set of a chat request: the one description of every request field, and its validation.

A `Params` is what a person set, nothing more: every field is None until set, and only set fields
reach the wire (the provider answers an unknown or null field with a 400). Each field carries a `Spec`
(its dataclass metadata): the label, help text, range, form group and widget a person sees, the values a
sweep offers, how a summary names it, and where it goes in the request body. Everything that shows,
edits, sweeps, summarises or sends a parameter is generated from these specs (the chat form and the
compare column editor in `components/param_form.py`, the sweep axes in `components/compare_sweep.py`,
`summary` below, `Params.to_wire` for the body), so adding a parameter means adding a field here, the
offline model's validation of it, and a test.

What must stay true:
- `validate` is the one place that decides whether a parameter set can be sent; it explains each
  problem in plain words naming the field and, for numbers, the allowed range.
- `to_dict`/`to_json` is the stored form (presets, conversations, compare runs): flat, one key per set
  field. `from_dict` also reads the request-body shape older rows kept, with Gemini's extras nested
  under `extra_body.google` (`thinking_config`, `cached_content`).
- `to_wire` is the one mapping to the request-body shape; a field's `Spec.wire` path says where it goes,
  so the `extra_body.google` nesting is written down once, here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from chat_client.schemas import schema_problem

MAX_OUTPUT_TOKENS = 65_535
REASONING_EFFORTS = ("none", "low", "medium", "high")
TOOL_CHOICES = ("auto", "none", "required")
RESPONSE_FORMAT_TYPES = ("text", "json_object", "json_schema")
SEED_MIN, SEED_MAX = -(2**31), 2**31 - 1
THINKING_BUDGET_MIN, THINKING_BUDGET_MAX = -1, 24_576
_FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
# The form's tabs, in order; every field's `Spec.group` is one of them.
GROUPS = ("Basics", "Sampling", "Thinking", "Output format", "Tools", "Advanced")
# Gemini's extensions live in the body under this key (a top-level key of the JSON body, which is
# where Gemini's OpenAI-compatibility layer reads them).
_GOOGLE = ("extra_body", "google")
_THINKING = (*_GOOGLE, "thinking_config")


def _fmt(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else f"{x:,}"


def _shown(value: Any) -> str:
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _named(name: str, value: Any) -> str:
    return f"{name} {_shown(value)}"


@dataclass(frozen=True)
class Spec:
    """Everything about one request field except its value: how it is shown, checked, swept and sent.

    `widget` names how the form edits it (see `components/param_form.py`): `text`, `number`, `lines`
    (one string per line), `choice` (one of `choices`, or not set), `toggle` (on sends true), `switch`
    (always sent, on by default), `off_toggle` (on sends false), `json` (a JSON list typed in),
    and the composite `usage`, `format` and `tool_choice`.
    """

    label: str
    help: str
    group: str
    widget: str
    wire: tuple[str, ...] = ()  # where it sits in the body, the last part its key; () = top level, own name
    min: float | None = None
    max: float | None = None
    step: float | None = None
    fmt: str | None = None  # printf format of a number widget
    choices: tuple[str, ...] = ()
    max_items: int | None = None
    default: str = ""  # the provider's default, shown as a placeholder
    placeholder: str = ""
    sweep: str = ""  # the values a sweep offers first; "" = not sweepable
    replaces: tuple[str, ...] = ()  # fields a swept value unsets (the API refuses the pair)
    # How a summary names a set value; None leaves it out of summaries.
    summary: Callable[[str, Any], str] | None = _named
    # One of the few fields most people change: the form shows it in view, the rest behind
    # "All parameters".
    common: bool = False

    def range_text(self) -> str:
        """The allowed range in words (`0 to 2`), or "" for a field without one."""
        if self.min is None or self.max is None:
            return ""
        return f"{_fmt(self.min)} to {_fmt(self.max)}"

    def placeholder_text(self) -> str:
        """What an empty input shows: the provider's default, or the field's own hint."""
        if self.placeholder:
            return self.placeholder
        return f"default: {self.default or 'not set'}"


def _field(label: str, help: str, group: str, widget: str, **more: Any) -> Any:
    """A `Params` field: unset (None) by default, its `Spec` in the metadata."""
    return field(default=None, metadata={"spec": Spec(label, help, group, widget, **more)})


# The two penalties share their range, step, provider default and sweep values.
_PENALTY: dict[str, Any] = {
    "group": "Sampling",
    "widget": "number",
    "min": -2.0,
    "max": 2.0,
    "step": 0.1,
    "fmt": "%.2f",
    "default": "0",
    "sweep": "0, 1, 2",
}


@dataclass(frozen=True)
class ParamError:
    """One problem with a parameter set: the field and what is wrong, in plain words."""

    field: str
    message: str


@dataclass(frozen=True)
class Params:
    """Every request field of the API reference; None means "not set" and is never sent.

    Fields are in form order within each group (`GROUPS`); the sweep offers them in this order too.
    """

    model: str | None = _field(
        "Model", "Model name, e.g. gemini-2.5-flash.", "Basics", "text", summary=None, common=True
    )
    temperature: float | None = _field(
        "Temperature",
        "Lower is more focused and repeatable; 0 always picks the likeliest word.",
        "Sampling",
        "number",
        min=0.0,
        max=2.0,
        step=0.1,
        fmt="%.2f",
        default="1.0",
        sweep="0, 0.5, 1, 1.5, 2",
        common=True,
    )
    top_p: float | None = _field(
        "Top P",
        "Sample only from the likeliest words whose probabilities add up to this.",
        "Sampling",
        "number",
        min=0.0,
        max=1.0,
        step=0.05,
        fmt="%.2f",
        default="0.95",
        sweep="0.1, 0.5, 0.9, 1",
    )
    seed: int | None = _field(
        "Seed",
        "Same seed and parameters give the same reply where possible.",
        "Sampling",
        "number",
        min=SEED_MIN,
        max=SEED_MAX,
        step=1,
        default="random",
        sweep="1, 2, 3, 4, 5",
    )
    frequency_penalty: float | None = _field(
        "Frequency penalty",
        "Positive values make repeated words less likely, more so the more they repeat.",
        **_PENALTY,
    )
    presence_penalty: float | None = _field(
        "Presence penalty",
        "Positive values make any word already used less likely.",
        **_PENALTY,
    )
    stop: str | tuple[str, ...] | None = _field(
        "Stop sequences (one per line, at most 5)",
        "The reply ends where one of these strings would begin.",
        "Sampling",
        "lines",
        max_items=5,
    )
    max_completion_tokens: int | None = _field(
        "Max completion tokens",
        "Longest reply, in tokens, thinking included (Gemini's maxOutputTokens). The reply ends "
        "with finish reason `length` when it is reached.",
        "Basics",
        "number",
        min=1,
        max=MAX_OUTPUT_TOKENS,
        step=1,
        default="model limit (65,535)",
        sweep="16, 64, 256",
        replaces=("max_tokens",),
        common=True,
    )
    n: int | None = _field(
        "Candidates (n)",
        "How many replies to sample at once.",
        "Basics",
        "number",
        min=1,
        max=8,
        step=1,
        default="1",
    )
    reasoning_effort: str | None = _field(
        "Reasoning effort",
        "none turns thinking off; low, medium and high allow 1,024, 8,192 and 24,576 "
        "thinking tokens. Set this or a thinking budget, not both.",
        "Thinking",
        "choice",
        choices=REASONING_EFFORTS,
        sweep="none, low, medium, high",
        replaces=("thinking_budget",),
        common=True,
    )
    thinking_budget: int | None = _field(
        "Thinking budget",
        "-1 lets the model decide, 0 turns thinking off. The API refuses a budget together with "
        "reasoning effort.",
        "Thinking",
        "number",
        wire=(*_THINKING, "thinking_budget"),
        min=THINKING_BUDGET_MIN,
        max=THINKING_BUDGET_MAX,
        step=256,
        default="dynamic",
        sweep="0, 1024, 8192",
        replaces=("reasoning_effort",),
    )
    include_thoughts: bool | None = _field(
        "Show thought summary",
        "Stream a summary of the model's thinking above the answer.",
        "Thinking",
        "toggle",
        wire=(*_THINKING, "include_thoughts"),
    )
    cached_content: str | None = _field(
        "Cached content",
        "The name of a context cache made with Gemini's caching API.",
        "Thinking",
        "text",
        wire=(*_GOOGLE, "cached_content"),
        placeholder="cachedContents/...",
        summary=lambda name, value: "cached content",
    )
    response_format: dict[str, Any] | None = _field(
        "Response format",
        "text, json_object, or json_schema with a schema the reply must follow.",
        "Output format",
        "format",
        choices=RESPONSE_FORMAT_TYPES,
        summary=lambda name, value: f"format {value.get('type')}",
    )
    logprobs: bool | None = _field(
        "Log-probabilities",
        "Ask for the probability of each token (some routes of the API refuse it).",
        "Output format",
        "toggle",
    )
    top_logprobs: int | None = _field(
        "Top logprobs",
        "Alternatives per token; needs logprobs.",
        "Output format",
        "number",
        min=0,
        max=20,
        step=1,
        default="0",
    )
    tools: tuple[dict[str, Any], ...] | None = _field(
        "Tools (JSON list of functions)",
        "Functions the model may call, as a JSON list.",
        "Tools",
        "json",
        summary=lambda name, value: f"{len(value)} tool(s)",
    )
    tool_choice: str | dict[str, Any] | None = _field(
        "Tool choice",
        "none, auto, required, or a named function.",
        "Tools",
        "tool_choice",
        choices=TOOL_CHOICES,
    )
    parallel_tool_calls: bool | None = _field(
        "Parallel tool calls off",
        "Sends parallel_tool_calls: false (the only value Gemini supports).",
        "Tools",
        "off_toggle",
    )
    stream: bool | None = _field(
        "Stream the reply",
        "Off sends stream: false and shows the reply when it is complete.",
        "Advanced",
        "switch",
        summary=None,
    )
    stream_options: dict[str, Any] | None = _field(
        "Include usage in the stream",
        'Sends stream_options {"include_usage": true}: the last chunk counts the tokens.',
        "Advanced",
        "usage",
        summary=None,
    )
    max_tokens: int | None = _field(
        "Max tokens (legacy)",
        "The older name of max completion tokens; set one of the two.",
        "Advanced",
        "number",
        min=1,
        max=MAX_OUTPUT_TOKENS,
        step=1,
        default="legacy name of the above",
    )

    # --- the description ---------------------------------------------------------------------------

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
    def common_names(cls) -> tuple[str, ...]:
        """The fields a form shows in view (their spec's `common`), in form order."""
        return tuple(name for name in cls.field_names() if cls.spec(name).common)

    @classmethod
    def spec(cls, name: str) -> Spec:
        """How field `name` is shown, checked, swept and sent."""
        return cls.__dataclass_fields__[name].metadata["spec"]

    @classmethod
    def value_type(cls, name: str) -> type:
        """The plain type of field `name`'s value (`int` for `int | None`; the first of a union)."""
        return _value_types()[name]

    @classmethod
    def wire_path(cls, name: str) -> tuple[str, ...]:
        """Where field `name` sits in the request body, its own key last."""
        return cls.spec(name).wire or (name,)

    # --- construction, the stored form and the wire ------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Params:
        """Build from `to_dict()` output or from request-body keys (nested `extra_body` accepted)."""
        data = dict(data)
        nested = [name for name in cls.field_names() if len(cls.wire_path(name)) > 1]
        for name in nested:
            value: Any = data
            for key in cls.wire_path(name):
                value = value.get(key) if isinstance(value, Mapping) else None
            if value is not None:
                data.setdefault(name, value)
        for top in {cls.wire_path(name)[0] for name in nested}:
            data.pop(top, None)
        unknown = sorted(set(data) - set(cls.field_names()))
        if unknown:
            raise ValueError(f"Unknown parameter(s): {', '.join(unknown)}.")
        return cls(**{k: v for k, v in data.items() if v is not None})

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Params:
        """Read the parameters back out of a request body (messages are ignored)."""
        return cls.from_dict({k: v for k, v in body.items() if k != "messages"})

    @classmethod
    def from_stored(cls, data: Params | Mapping[str, Any] | None) -> Params:
        """What a row, preset or session kept (either JSON shape, or a Params already) as a Params.

        A key that is no longer a field (one since removed) is passed over rather than stopping the
        page; the fields that still read are kept.
        """
        if isinstance(data, Params):
            return data
        if not isinstance(data, Mapping):
            return cls()
        known = {*cls.field_names(), *(cls.wire_path(name)[0] for name in cls.field_names())}
        return cls.from_dict({k: v for k, v in data.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        """Only the set fields, JSON-ready (tuples become lists): the stored form."""
        out: dict[str, Any] = {}
        for name in self.field_names():
            value = getattr(self, name)
            if value is not None:
                out[name] = _jsonable(value)
        return out

    def to_wire(self) -> dict[str, Any]:
        """The set fields in request-body shape: each at its `Spec.wire` path, JSON-ready.

        The one mapping to the wire. It adds nothing (no messages, no default for `stream`);
        `request.build_body` does that. `from_dict` reads it back.
        """
        out: dict[str, Any] = {}
        for name, value in self.to_dict().items():
            *parents, key = self.wire_path(name)
            place = out
            for parent in parents:
                place = place.setdefault(parent, {})
            place[key] = value
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

    def merged(self, other: Params) -> Params:
        """A copy with every field `other` sets taken from `other` (a preset applied over a form)."""
        return self.replace(**{k: getattr(other, k) for k in other.to_dict()})

    def is_streaming(self) -> bool:
        """Whether the request streams (stream defaults to true when unset)."""
        return self.stream is not False


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


_TYPES: dict[str, type] = {}


def _value_types() -> dict[str, type]:
    if not _TYPES:
        for name, hint in typing.get_type_hints(Params).items():
            args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
            _TYPES[name] = typing.get_origin(args[0]) or args[0]
    return _TYPES


def summary(params: Params) -> str:
    """The set parameters in a few words (`temperature 0.5 · seed 3`), as each field's spec names them."""
    parts = []
    for name, value in params.to_dict().items():
        describe = Params.spec(name).summary
        if describe is not None:
            parts.append(describe(name, value))
    return " · ".join(parts) or "provider defaults"


# --- validation ------------------------------------------------------------------------------------


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (isinstance(v, int | float) and not isinstance(v, bool)) and math.isfinite(v)


def _check_range(errors: list[ParamError], name: str, value: Any) -> None:
    spec = Params.spec(name)
    integer = Params.value_type(name) is int
    kind = "a whole number" if integer else "a number"
    ok_type = _is_int(value) if integer else _is_number(value)
    if not ok_type or not (spec.min <= value <= spec.max):
        errors.append(ParamError(name, f"{name} must be {kind} from {spec.range_text()} (got {value!r})."))


def _check_bool(errors: list[ParamError], name: str, value: Any) -> None:
    if not isinstance(value, bool):
        errors.append(ParamError(name, f"{name} must be true or false (got {value!r})."))


def validate(params: Params) -> list[ParamError]:
    """Every problem with `params`, in plain words; an empty list means it can be sent."""
    errors: list[ParamError] = []
    p = params
    if p.model is not None and (not isinstance(p.model, str) or not p.model.strip()):
        errors.append(ParamError("model", "model must be a model name such as gemini-2.5-flash."))
    for name in Params.field_names():
        value = getattr(p, name)
        if value is None:
            continue
        if Params.value_type(name) is bool:
            _check_bool(errors, name, value)
        elif Params.spec(name).range_text():
            _check_range(errors, name, value)
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
    most = Params.spec("stop").max_items or 0
    if len(items) > most:
        errors.append(ParamError("stop", f"stop takes at most {most} sequences (got {len(items)})."))
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
