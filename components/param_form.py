"""The parameter form: every request field, grouped, generated from `chat_client.Params`.

Each field of `Params` carries its label, help, range, group (a tab here), placeholder, widget kind and
whether it is one of the common few shown in view (the rest wait behind "All parameters");
this module only knows how to draw, seed and read each widget kind (`WIDGETS`), so a field added to
`Params` appears here with nothing to change. The form reads its widgets into a `Params` and asks the
client's `validate`, the one source of truth: its messages are shown next to the field they name.
Empty inputs mean "not set": the provider's own default applies and the field is not sent (an unknown
or null field is a 400 upstream).

Widget keys are the caller's prefix plus the field's name (e.g. `chat.p.12.temperature` for
conversation 12, `compare.p.3.temperature` for a compare column), so several forms can live on one page
and each keeps its own values. The composite widgets use their own suffixes: `include_usage` (stream
options), `format`, `schema_name`, `schema_text`, `schema_strict` (response format), `tools_text`, and
`tool_choice` with `tool_name`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from chat_client import ParamError, Params, Spec, validate
from chat_client.params import GROUPS, RESPONSE_FORMAT_TYPES, TOOL_CHOICES
from chat_client.schemas import MAX_SCHEMA_DEPTH, schema_problem
from components import rendering

NOT_SET = "not set"
NAMED_FUNCTION = "a named function"
TOO_DEEP = (
    f"The JSON is nested far more than {MAX_SCHEMA_DEPTH} levels deep; Prism checks schemas up to that."
)
TOOL_OPTIONS = [NOT_SET, *TOOL_CHOICES, NAMED_FUNCTION]
EXAMPLE_SCHEMA = (
    '{\n  "type": "object",\n  "properties": {"answer": {"type": "string"}},\n  "required": ["answer"]\n}'
)
EXAMPLE_TOOLS = (
    '[{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",\n'
    '  "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]'
)

Read = Callable[[str], Any]  # a widget's value by key suffix


@dataclass
class FormResult:
    """What the form holds now: the parameters (only what is set) and their problems."""

    params: Params
    problems: list[ParamError]

    @property
    def ok(self) -> bool:
        return not self.problems


def help_text(name: str) -> str:
    """A field's help as the form shows it: the spec's help, then its range where it has one."""
    spec = Params.spec(name)
    allowed = spec.range_text()
    return f"{spec.help} Allowed: {allowed}." if allowed else spec.help


# -- the widget kinds: how each is seeded from a value, read back into one, and drawn -------------------


class _Widget:
    """One widget kind. `seed` gives the session-state values (by key suffix) for a field's value."""

    def seed(self, name: str, value: Any) -> dict[str, Any]:
        return {name: value}

    def read(self, name: str, val: Read, problems: list[ParamError]) -> Any:
        return val(name)

    def draw(self, prefix: str, name: str, val: Read, placeholder: str | None) -> None:
        raise NotImplementedError


class _Text(_Widget):
    def seed(self, name: str, value: Any) -> dict[str, Any]:
        return {name: value or ""}

    def read(self, name: str, val: Read, problems: list[ParamError]) -> Any:
        return (val(name) or "").strip() or None

    def draw(self, prefix: str, name: str, val: Read, placeholder: str | None) -> None:
        spec = Params.spec(name)
        st.text_input(
            rendering.trusted(spec.label),
            key=prefix + name,
            placeholder=placeholder or spec.placeholder or None,
            help=rendering.trusted(spec.help),
        )


class _Number(_Widget):
    def seed(self, name: str, value: Any) -> dict[str, Any]:
        if value is not None and Params.value_type(name) is float:
            value = float(value)
        return {name: value}

    def draw(self, prefix: str, name: str, val: Read, placeholder: str | None) -> None:
        spec = Params.spec(name)
        st.number_input(
            rendering.trusted(spec.label),
            value=None,
            step=spec.step,
            format=spec.fmt,
            key=prefix + name,
            placeholder=spec.placeholder_text(),
            help=rendering.trusted(help_text(name)),
        )


class _Lines(_Widget):
    def seed(self, name: str, value: Any) -> dict[str, Any]:
        return {name: "\n".join([value] if isinstance(value, str) else (value or []))}

    def read(self, name: str, val: Read, problems: list[ParamError]) -> Any:
        lines = [line for line in (val(name) or "").split("\n") if line != ""]
        if not lines:
            return None
        return lines[0] if len(lines) == 1 else tuple(lines)

    def draw(self, prefix: str, name: str, val: Read, placeholder: str | None) -> None:
        spec = Params.spec(name)
        st.text_area(
            rendering.trusted(spec.label), key=prefix + name, height=80, help=rendering.trusted(spec.help)
        )


class _Choice(_Widget):
    def seed(self, name: str, value: Any) -> dict[str, Any]:
        return {name: value if value in Params.spec(name).choices else NOT_SET}

    def read(self, name: str, val: Read, problems: list[ParamError]) -> Any:
        return None if val(name) in (None, NOT_SET) else val(name)

    def draw(self, prefix: str, name: str, val: Read, placeholder: str | None) -> None:
        spec = Params.spec(name)
        st.selectbox(
            rendering.trusted(spec.label),
            [NOT_SET, *spec.choices],
            key=prefix + name,
            format_func=rendering.plain,
            help=rendering.trusted(spec.help),
        )


class _Toggle(_Widget):
    """On sends `on`; off sends nothing. `always` sends false too, and starts on (stream)."""

    def __init__(self, on: bool = True, always: bool = False) -> None:
        self.on, self.always = on, always

    def seed(self, name: str, value: Any) -> dict[str, Any]:
        return {name: value is not False if self.always else value is self.on}

    def read(self, name: str, val: Read, problems: list[ParamError]) -> Any:
        if self.always:
            return bool(val(name))
        return self.on if val(name) else None

    def draw(self, prefix: str, name: str, val: Read, placeholder: str | None) -> None:
        spec = Params.spec(name)
        st.toggle(rendering.trusted(spec.label), key=prefix + name, help=rendering.trusted(spec.help))


class _Usage(_Widget):
    """stream_options: one toggle for include_usage, sent only while the reply streams."""

    def seed(self, name: str, value: Any) -> dict[str, Any]:
        return {"include_usage": (value or {}).get("include_usage", True)}

    def read(self, name: str, val: Read, problems: list[ParamError]) -> Any:
        return {"include_usage": bool(val("include_usage"))} if val("stream") else None

    def draw(self, prefix: str, name: str, val: Read, placeholder: str | None) -> None:
        spec = Params.spec(name)
        st.toggle(
            rendering.trusted(spec.label), key=prefix + "include_usage", help=rendering.trusted(spec.help)
        )


class _Tools(_Widget):
    """A JSON list typed in; a typing slip is a problem next to the box, not an exception."""

    def seed(self, name: str, value: Any) -> dict[str, Any]:
        return {"tools_text": json.dumps(list(value), indent=2) if value else ""}

    def read(self, name: str, val: Read, problems: list[ParamError]) -> Any:
        text = (val("tools_text") or "").strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except RecursionError:
            problems.append(ParamError(name, TOO_DEEP))
            return None
        except json.JSONDecodeError as problem:
            problems.append(
                ParamError(name, f"The tool list is not valid JSON: {problem.msg} (line {problem.lineno}).")
            )
            return None

    def draw(self, prefix: str, name: str, val: Read, placeholder: str | None) -> None:
        spec = Params.spec(name)
        st.text_area(
            rendering.trusted(spec.label),
            key=prefix + "tools_text",
            height=160,
            placeholder=EXAMPLE_TOOLS,
            help=rendering.trusted(spec.help),
        )


class _Format(_Widget):
    """response_format: text, json_object, or json_schema with a name, a schema and strictness."""

    def seed(self, name: str, value: Any) -> dict[str, Any]:
        fmt = value if isinstance(value, dict) else {}
        schema = fmt.get("json_schema") or {}
        return {
            "format": fmt.get("type") if fmt.get("type") in RESPONSE_FORMAT_TYPES else "text",
            "schema_name": schema.get("name", "reply"),
            "schema_text": json.dumps(schema["schema"], indent=2) if "schema" in schema else EXAMPLE_SCHEMA,
            "schema_strict": bool(schema.get("strict", False)),
        }

    def read(self, name: str, val: Read, problems: list[ParamError]) -> Any:
        fmt = val("format") or "text"
        if fmt == "json_object":
            return {"type": "json_object"}
        if fmt != "json_schema":
            return None
        where = f"{name}.json_schema.schema"
        try:
            schema = json.loads(val("schema_text") or "")
        except RecursionError:
            problems.append(ParamError(where, TOO_DEEP))
            return None
        except json.JSONDecodeError as problem:
            problems.append(
                ParamError(
                    where,
                    f"The schema is not valid JSON: {problem.msg} "
                    f"(line {problem.lineno}, column {problem.colno}).",
                )
            )
            return None
        # Imported here: only a json_schema format needs it, and it is 2 MB every session would carry.
        import jsonschema

        try:
            # A schema Prism cannot check (too big, too deep, a $ref cycle) is reported once, by
            # chat_client.params.validate; the metaschema check is not run on it.
            if schema_problem(schema) is None:
                jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as problem:
            at = "/".join(str(p) for p in problem.path) or "the top level"
            problems.append(
                ParamError(where, f"The schema is not a valid JSON Schema at {at}: {problem.message}")
            )
        spec: dict[str, Any] = {"name": (val("schema_name") or "reply").strip(), "schema": schema}
        if val("schema_strict"):
            spec["strict"] = True
        return {"type": "json_schema", "json_schema": spec}

    def draw(self, prefix: str, name: str, val: Read, placeholder: str | None) -> None:
        spec = Params.spec(name)
        st.radio(
            rendering.trusted(spec.label),
            list(spec.choices),
            key=prefix + "format",
            horizontal=True,
            format_func=rendering.trusted,
            help=rendering.trusted(spec.help),
        )
        if (val("format") or "text") == "json_schema":
            st.text_input("Schema name", key=prefix + "schema_name")
            st.text_area("JSON schema", key=prefix + "schema_text", height=160)
            st.toggle("Strict", key=prefix + "schema_strict")


class _ToolChoice(_Widget):
    """tool_choice: none, auto, required, or a function named in a second box."""

    def seed(self, name: str, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return {"tool_choice": NAMED_FUNCTION, "tool_name": (value.get("function") or {}).get("name", "")}
        return {"tool_choice": value if value in TOOL_CHOICES else NOT_SET, "tool_name": ""}

    def read(self, name: str, val: Read, problems: list[ParamError]) -> Any:
        choice = val("tool_choice")
        if choice == NAMED_FUNCTION:
            return {"type": "function", "function": {"name": (val("tool_name") or "").strip()}}
        return None if choice in (None, NOT_SET) else choice

    def draw(self, prefix: str, name: str, val: Read, placeholder: str | None) -> None:
        spec = Params.spec(name)
        st.selectbox(
            rendering.trusted(spec.label),
            TOOL_OPTIONS,
            key=prefix + "tool_choice",
            help=rendering.trusted(spec.help),
        )
        if val("tool_choice") == NAMED_FUNCTION:
            st.text_input("Function name", key=prefix + "tool_name")


WIDGETS: dict[str, _Widget] = {
    "text": _Text(),
    "number": _Number(),
    "lines": _Lines(),
    "choice": _Choice(),
    "toggle": _Toggle(),
    "off_toggle": _Toggle(on=False),
    "switch": _Toggle(always=True),
    "usage": _Usage(),
    "json": _Tools(),
    "format": _Format(),
    "tool_choice": _ToolChoice(),
}


def _widget(name: str) -> _Widget:
    spec: Spec = Params.spec(name)
    return WIDGETS[spec.widget]


# -- the form --------------------------------------------------------------------------------------------


def _seed_state(prefix: str, stored: Params | Mapping[str, Any] | None) -> None:
    """Put the stored values into session state once, so widgets start from them."""
    marker = prefix + "__seeded"
    if st.session_state.get(marker):
        return
    st.session_state[marker] = True
    params = Params.from_stored(stored)
    for name in Params.field_names():
        for suffix, value in _widget(name).seed(name, getattr(params, name)).items():
            st.session_state[prefix + suffix] = value


def reseed(prefix: str, stored: Params | Mapping[str, Any]) -> None:
    """Replace the form's values (from a callback): e.g. when a parameter preset is applied."""
    st.session_state[prefix + "__seeded"] = False
    _seed_state(prefix, stored)


def _problems_for(problems: list[ParamError], name: str) -> None:
    for problem in problems:
        if problem.field == name or problem.field.startswith(name + "."):
            st.error(rendering.outside(problem.message), icon=":material/error:")


def read_form(prefix: str, *, default_model: str) -> FormResult:
    """What the form's widgets hold, as parameters and their problems (nothing drawn)."""

    def val(suffix: str) -> Any:
        return st.session_state.get(prefix + suffix)

    problems: list[ParamError] = []
    values = {name: _widget(name).read(name, val, problems) for name in Params.field_names()}
    values["model"] = values["model"] or default_model.strip()
    params = Params(**{k: v for k, v in values.items() if v is not None})
    return FormResult(params=params, problems=[*problems, *validate(params)])


def _keep_values(prefix: str) -> None:
    """Keep the values of the fields not drawn in this run (behind a closed "All parameters").

    Streamlit forgets a widget's value after a run that does not draw it; written back as plain
    session state they stay, and the widget starts from them when it is drawn again."""
    for name in [k for k in st.session_state if str(k).startswith(prefix)]:
        st.session_state[name] = st.session_state[name]


def keep(*keys: str) -> None:
    """Keep the values of widgets this run does not draw (see `_keep_values`), by their whole keys."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def held_form(prefix: str, stored: Params | Mapping[str, Any] | None, *, default_model: str) -> FormResult:
    """What the form holds while it is not drawn (its box closed): seeded, kept and read, nothing drawn.

    A page whose form sits in a closed box calls this instead of `parameter_form`: a closed box's
    widgets would be sent to the browser on every page load (most of the page's elements) for nothing
    anyone sees. Every value stays as the person left it, and the form starts from it when drawn."""
    _seed_state(prefix, stored)
    _keep_values(prefix)
    return read_form(prefix, default_model=default_model)


def parameter_form(
    prefix: str,
    stored: Params | Mapping[str, Any] | None,
    *,
    default_model: str,
    common_columns: int = 1,
    all_key: str | None = None,
) -> FormResult:
    """Draw the form (in the current container) and return what it holds.

    The fields whose spec is `common` come first, in view (`common_columns` to a row); every other
    field is in a tab per group, behind an "All parameters" switch when `all_key` (its widget key)
    is given. `stored` is what the form starts from the first time: a `Params`, or what a
    row kept (either of its JSON shapes).
    """
    _seed_state(prefix, stored)
    _keep_values(prefix)
    # Read the current widget values first, so problems can be shown next to their fields below.
    result = read_form(prefix, default_model=default_model)

    def val(suffix: str) -> Any:
        return st.session_state.get(prefix + suffix)

    def draw(name: str) -> None:
        _widget(name).draw(prefix, name, val, placeholders.get(name))
        _problems_for(result.problems, name)

    placeholders = {"model": default_model}
    common = Params.common_names()
    for start in range(0, len(common), common_columns):
        row = common[start : start + common_columns]
        for name, cell in zip(row, st.columns(common_columns) if common_columns > 1 else [st], strict=False):
            with cell if common_columns > 1 else contextlib.nullcontext():
                draw(name)
    rest = [name for name in Params.field_names() if name not in common]
    if all_key is not None:
        if any(p.field.split(".")[0] in rest for p in result.problems):
            st.session_state[all_key] = True  # a problem is never hidden behind the switch
        st.toggle(
            "All parameters",
            key=all_key,
            help="Every field of the API: sampling, thinking, output format, tools and more",
        )
        if not st.session_state.get(all_key):
            return result
    groups = [g for g in GROUPS if any(Params.spec(n).group == g for n in rest)]
    for group, tab in zip(groups, st.tabs([rendering.trusted(g) for g in groups]), strict=True):
        with tab:
            for name in rest:
                if Params.spec(name).group == group:
                    draw(name)
    return result
