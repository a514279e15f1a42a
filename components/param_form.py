"""The parameter form: every request field of the API reference, grouped, with the provider's defaults.

The form produces the request fields in their wire shape (a dict holding only what the user set) and
hands them to `chat_client.Params.from_dict`, so the client's validation is the one source of truth:
its messages are shown next to the field they name. Empty inputs mean "not set": the provider's own
default applies and the field is not sent (an unknown or null field is a 400 upstream).

Widget keys carry a caller-chosen prefix (e.g. `chat.p.12.` for conversation 12, `compare.p.3.` for a
compare column), so several forms can live on one page and each keeps its own values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
import streamlit as st

from chat_client import ParamError, Params, validate, wire_fields
from chat_client.schemas import MAX_SCHEMA_DEPTH, schema_problem
from components import rendering

# The provider's defaults, shown as placeholders (compat notes and API reference).
DEFAULTS = {
    "temperature": "1.0",
    "top_p": "0.95",
    "frequency_penalty": "0",
    "presence_penalty": "0",
    "n": "1",
    "max_completion_tokens": "model limit (65,535)",
    "max_tokens": "legacy name of the above",
    "seed": "random",
    "top_logprobs": "0",
    "thinking_budget": "dynamic",
}
FLOAT_FIELDS = ("temperature", "top_p", "frequency_penalty", "presence_penalty")
REASONING_CHOICES = ["not set", "none", "low", "medium", "high"]
FORMAT_CHOICES = ["text", "json_object", "json_schema"]
TOO_DEEP = (
    f"The JSON is nested far more than {MAX_SCHEMA_DEPTH} levels deep; Prism checks schemas up to that."
)
TOOL_CHOICES = ["not set", "auto", "none", "required", "a named function"]
EXAMPLE_SCHEMA = (
    '{\n  "type": "object",\n  "properties": {"answer": {"type": "string"}},\n  "required": ["answer"]\n}'
)
EXAMPLE_TOOLS = (
    '[{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",\n'
    '  "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]'
)


@dataclass
class FormResult:
    """What the form holds now: the wire fields, the Params (None if they cannot be built), problems."""

    fields: dict[str, Any]
    params: Params | None
    problems: list[ParamError]

    @property
    def ok(self) -> bool:
        return self.params is not None and not self.problems


def _seed_state(prefix: str, stored: Mapping[str, Any]) -> None:
    """Put the stored values into session state once, so widgets start from them."""
    marker = prefix + "__seeded"
    if st.session_state.get(marker):
        return
    st.session_state[marker] = True
    try:  # accept the flat shape too (Params.to_dict), as older presets or imports may hold it
        stored = wire_fields(Params.from_dict(dict(stored)))
    except (TypeError, ValueError):
        stored = dict(stored)
    google = (stored.get("extra_body") or {}).get("google") or {}
    thinking = google.get("thinking_config") or {}
    fmt = stored.get("response_format") or {}
    schema = fmt.get("json_schema") or {}
    stop = stored.get("stop")
    tool_choice = stored.get("tool_choice")
    values = {
        "model": stored.get("model"),
        "stream": stored.get("stream", True),
        "include_usage": (stored.get("stream_options") or {}).get("include_usage", True),
        "max_completion_tokens": stored.get("max_completion_tokens"),
        "max_tokens": stored.get("max_tokens"),
        "n": stored.get("n"),
        "temperature": stored.get("temperature"),
        "top_p": stored.get("top_p"),
        "frequency_penalty": stored.get("frequency_penalty"),
        "presence_penalty": stored.get("presence_penalty"),
        "seed": stored.get("seed"),
        "stop": "\n".join([stop] if isinstance(stop, str) else (stop or [])),
        "reasoning_effort": stored.get("reasoning_effort") or "not set",
        "thinking_budget": thinking.get("thinking_budget"),
        "include_thoughts": bool(thinking.get("include_thoughts", False)),
        "cached_content": google.get("cached_content", ""),
        "logprobs": bool(stored.get("logprobs", False)),
        "top_logprobs": stored.get("top_logprobs"),
        "format": fmt.get("type", "text"),
        "schema_name": schema.get("name", "reply"),
        "schema_text": json.dumps(schema["schema"], indent=2) if "schema" in schema else EXAMPLE_SCHEMA,
        "schema_strict": bool(schema.get("strict", False)),
        "tools_text": json.dumps(stored["tools"], indent=2) if stored.get("tools") else "",
        "tool_choice": (
            "a named function"
            if isinstance(tool_choice, dict)
            else (tool_choice if tool_choice in TOOL_CHOICES else "not set")
        ),
        "tool_name": (tool_choice or {}).get("function", {}).get("name", "")
        if isinstance(tool_choice, dict)
        else "",
        "parallel_tool_calls": stored.get("parallel_tool_calls") is False,
    }
    for name in FLOAT_FIELDS:
        if values[name] is not None:
            values[name] = float(values[name])
    for name, value in values.items():
        st.session_state[prefix + name] = value


def reseed(prefix: str, stored: Mapping[str, Any]) -> None:
    """Replace the form's values (from a callback): e.g. when a parameter preset is applied."""
    st.session_state[prefix + "__seeded"] = False
    _seed_state(prefix, stored)


def _problems_for(problems: list[ParamError], *names: str) -> None:
    for problem in problems:
        if any(
            problem.field == n or problem.field.startswith(n + ".") or problem.field.endswith(n)
            for n in names
        ):
            st.error(rendering.outside(problem.message), icon=":material/error:")


def _number(
    label: str, prefix: str, name: str, *, step: float | int, fmt: str | None = None, help: str = ""
) -> Any:
    return st.number_input(
        rendering.trusted(label),
        value=None,
        step=step,
        format=fmt,
        key=prefix + name,
        placeholder=f"default: {DEFAULTS.get(name, 'not set')}",
        help=rendering.trusted(help) if help else None,
    )


def parameter_form(prefix: str, stored: Mapping[str, Any], *, default_model: str) -> FormResult:
    """Draw the form (in the current container) and return what it holds."""
    _seed_state(prefix, stored)
    s = st.session_state
    fields: dict[str, Any] = {}
    json_problems: list[ParamError] = []

    # Read the current widget values first, so problems can be shown next to their fields below.
    def val(name: str) -> Any:
        return s.get(prefix + name)

    fields["model"] = (val("model") or default_model).strip()
    fields["stream"] = bool(val("stream"))
    if fields["stream"]:
        fields["stream_options"] = {"include_usage": bool(val("include_usage"))}
    for name in (
        "max_completion_tokens",
        "max_tokens",
        "n",
        "temperature",
        "top_p",
        "frequency_penalty",
        "presence_penalty",
        "seed",
        "top_logprobs",
    ):
        if val(name) is not None:
            fields[name] = val(name)
    stops = [line for line in (val("stop") or "").split("\n") if line != ""]
    if stops:
        fields["stop"] = stops[0] if len(stops) == 1 else stops
    if val("reasoning_effort") not in (None, "not set"):
        fields["reasoning_effort"] = val("reasoning_effort")
    google: dict[str, Any] = {}
    thinking: dict[str, Any] = {}
    if val("thinking_budget") is not None:
        thinking["thinking_budget"] = val("thinking_budget")
    if val("include_thoughts"):
        thinking["include_thoughts"] = True
    if thinking:
        google["thinking_config"] = thinking
    if (val("cached_content") or "").strip():
        google["cached_content"] = val("cached_content").strip()
    if google:
        fields["extra_body"] = {"google": google}
    if val("logprobs"):
        fields["logprobs"] = True
    fmt = val("format") or "text"
    if fmt == "json_object":
        fields["response_format"] = {"type": "json_object"}
    elif fmt == "json_schema":
        try:
            schema = json.loads(val("schema_text") or "")
        except RecursionError:
            json_problems.append(ParamError("response_format.json_schema.schema", TOO_DEEP))
        except json.JSONDecodeError as problem:
            json_problems.append(
                ParamError(
                    "response_format.json_schema.schema",
                    f"The schema is not valid JSON: {problem.msg} "
                    f"(line {problem.lineno}, column {problem.colno}).",
                )
            )
        else:
            try:
                # A schema Prism cannot check (too big, too deep, a $ref cycle) is reported once, by
                # chat_client.params.validate below; the metaschema check is not run on it.
                if schema_problem(schema) is None:
                    jsonschema.Draft202012Validator.check_schema(schema)
            except jsonschema.SchemaError as problem:
                where = "/".join(str(p) for p in problem.path) or "the top level"
                json_problems.append(
                    ParamError(
                        "response_format.json_schema.schema",
                        f"The schema is not a valid JSON Schema at {where}: {problem.message}",
                    )
                )
            spec: dict[str, Any] = {"name": (val("schema_name") or "reply").strip(), "schema": schema}
            if val("schema_strict"):
                spec["strict"] = True
            fields["response_format"] = {"type": "json_schema", "json_schema": spec}
    tools_text = (val("tools_text") or "").strip()
    if tools_text:
        try:
            fields["tools"] = json.loads(tools_text)
        except RecursionError:
            json_problems.append(ParamError("tools", TOO_DEEP))
        except json.JSONDecodeError as problem:
            json_problems.append(
                ParamError(
                    "tools", f"The tool list is not valid JSON: {problem.msg} (line {problem.lineno})."
                )
            )
    choice = val("tool_choice")
    if choice == "a named function":
        fields["tool_choice"] = {"type": "function", "function": {"name": (val("tool_name") or "").strip()}}
    elif choice not in (None, "not set"):
        fields["tool_choice"] = choice
    if val("parallel_tool_calls"):
        fields["parallel_tool_calls"] = False

    params: Params | None = None
    problems = list(json_problems)
    try:
        params = Params.from_dict(fields)
    except (TypeError, ValueError) as problem:
        problems.append(ParamError("parameters", str(problem)))
    if params is not None:
        problems.extend(validate(params))

    basics, sampling, thinking_tab, output, tools_tab, advanced = st.tabs(
        ["Basics", "Sampling", "Thinking", "Output format", "Tools", "Advanced"]
    )
    with basics:
        st.text_input("Model", key=prefix + "model", placeholder=default_model)
        _number(
            "Max completion tokens",
            prefix,
            "max_completion_tokens",
            step=1,
            help="Longest reply, in tokens (Gemini's maxOutputTokens). The reply ends with finish "
            "reason `length` when it is reached.",
        )
        _problems_for(problems, "max_completion_tokens")
        _number("Candidates (n)", prefix, "n", step=1, help="How many replies to sample at once, 1 to 8.")
        _problems_for(problems, "n")
    with sampling:
        _number(
            "Temperature",
            prefix,
            "temperature",
            step=0.1,
            fmt="%.2f",
            help="0 to 2. Lower is more focused and repeatable; 0 always picks the likeliest word.",
        )
        _problems_for(problems, "temperature")
        _number(
            "Top P",
            prefix,
            "top_p",
            step=0.05,
            fmt="%.2f",
            help="0 to 1. Sample only from the likeliest words whose probabilities add up to this.",
        )
        _problems_for(problems, "top_p")
        _number(
            "Seed",
            prefix,
            "seed",
            step=1,
            help="Same seed and parameters give the same reply where possible.",
        )
        _problems_for(problems, "seed")
        _number(
            "Frequency penalty",
            prefix,
            "frequency_penalty",
            step=0.1,
            fmt="%.2f",
            help="-2 to 2. Positive values make repeated words less likely, more so the more they repeat.",
        )
        _problems_for(problems, "frequency_penalty")
        _number(
            "Presence penalty",
            prefix,
            "presence_penalty",
            step=0.1,
            fmt="%.2f",
            help="-2 to 2. Positive values make any word already used less likely.",
        )
        _problems_for(problems, "presence_penalty")
        st.text_area("Stop sequences (one per line, at most 5)", key=prefix + "stop", height=80)
        _problems_for(problems, "stop")
    with thinking_tab:
        st.selectbox(
            "Reasoning effort",
            REASONING_CHOICES,
            key=prefix + "reasoning_effort",
            help="none turns thinking off; low, medium and high allow 1,024, 8,192 and 24,576 "
            "thinking tokens. Set this or a thinking budget, not both.",
        )
        _problems_for(problems, "reasoning_effort")
        _number(
            "Thinking budget",
            prefix,
            "thinking_budget",
            step=256,
            help="-1 lets the model decide, 0 turns thinking off, up to 24,576 tokens. "
            "The API refuses a budget together with reasoning effort.",
        )
        _problems_for(problems, "thinking_budget", "thinking_config")
        st.toggle(
            "Show thought summary",
            key=prefix + "include_thoughts",
            help="Stream a summary of the model's thinking above the answer.",
        )
        st.text_input(
            "Cached content",
            key=prefix + "cached_content",
            placeholder="cachedContents/...",
            help="The name of a context cache made with Gemini's caching API.",
        )
        _problems_for(problems, "cached_content")
    with output:
        st.radio("Response format", FORMAT_CHOICES, key=prefix + "format", horizontal=True)
        if fmt == "json_schema":
            st.text_input("Schema name", key=prefix + "schema_name")
            st.text_area("JSON schema", key=prefix + "schema_text", height=160)
            st.toggle("Strict", key=prefix + "schema_strict")
        _problems_for(problems, "response_format")
        st.toggle(
            "Log-probabilities",
            key=prefix + "logprobs",
            help="Ask for the probability of each token (some routes of the API refuse it).",
        )
        _number(
            "Top logprobs",
            prefix,
            "top_logprobs",
            step=1,
            help="0 to 20 alternatives per token; needs logprobs.",
        )
        _problems_for(problems, "logprobs", "top_logprobs")
    with tools_tab:
        st.text_area(
            "Tools (JSON list of functions)", key=prefix + "tools_text", height=160, placeholder=EXAMPLE_TOOLS
        )
        _problems_for(problems, "tools")
        st.selectbox("Tool choice", TOOL_CHOICES, key=prefix + "tool_choice")
        if choice == "a named function":
            st.text_input("Function name", key=prefix + "tool_name")
        _problems_for(problems, "tool_choice")
        st.toggle(
            "Parallel tool calls off",
            key=prefix + "parallel_tool_calls",
            help="Sends parallel_tool_calls: false (the only value Gemini supports).",
        )
    with advanced:
        st.toggle(
            "Stream the reply",
            key=prefix + "stream",
            help="Off sends stream: false and shows the reply when it is complete.",
        )
        st.toggle("Include usage in the stream", key=prefix + "include_usage")
        _number(
            "Max tokens (legacy)",
            prefix,
            "max_tokens",
            step=1,
            help="The older name of max completion tokens; set one of the two.",
        )
        _problems_for(problems, "max_tokens", "stream", "parameters", "model")
    return FormResult(fields=fields, params=params, problems=problems)
