"""Parameter sweeps for the compare page: which fields can be swept, their usual values, and how one
value is written into a column's parameters.

Plain Python (no Streamlit) so it is tested directly. Values are parsed from what a person types
("0, 0.5, 1") and checked with the client's own `validate`, so a sweep never sends a value the API
would refuse. Fields are the parameter form's wire-shaped dicts (`FormResult.fields`).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from chat_client import Params, validate

# name -> (values offered by default, type)
SWEEPS: dict[str, tuple[str, type]] = {
    "temperature": ("0, 0.5, 1, 1.5, 2", float),
    "seed": ("1, 2, 3, 4, 5", int),
    "reasoning_effort": ("none, low, medium, high", str),
    "top_p": ("0.1, 0.5, 0.9, 1", float),
    "max_completion_tokens": ("16, 64, 256", int),
    "frequency_penalty": ("0, 1, 2", float),
    "presence_penalty": ("0, 1, 2", float),
    "thinking_budget": ("0, 1024, 8192", int),
}


def parse_values(name: str, text: str) -> tuple[list[Any], str | None]:
    """The values typed for a sweep of `name`, and the first problem in plain words (or None)."""
    kind = SWEEPS[name][1]
    values: list[Any] = []
    for raw in (part.strip() for part in text.replace(";", ",").split(",")):
        if not raw:
            continue
        try:
            value = kind(raw) if kind is not int else int(float(raw))
        except ValueError:
            return [], f"“{raw}” is not a {'number' if kind is not str else 'value'} for {name}."
        if value in values:
            continue
        problems = validate(Params.from_dict(apply({"model": "m"}, name, value)))
        if problems:
            return [], problems[0].message
        values.append(value)
    if not values:
        return [], f"Give at least one value for {name}."
    return values, None


def apply(fields: Mapping[str, Any], name: str, value: Any) -> dict[str, Any]:
    """A copy of wire-shaped `fields` with `name` set to `value` (and what it conflicts with unset)."""
    out = copy.deepcopy(dict(fields))
    if name == "thinking_budget":
        out.pop("reasoning_effort", None)
        google = out.setdefault("extra_body", {}).setdefault("google", {})
        google.setdefault("thinking_config", {})["thinking_budget"] = value
        return out
    if name == "reasoning_effort":
        google = (out.get("extra_body") or {}).get("google") or {}
        (google.get("thinking_config") or {}).pop("thinking_budget", None)
        if google.get("thinking_config") == {}:
            del google["thinking_config"]
        if out.get("extra_body") == {"google": {}}:
            del out["extra_body"]
    if name == "max_completion_tokens":
        out.pop("max_tokens", None)
    out[name] = value
    return out


def format_value(value: Any) -> str:
    """A swept value as people write it: 0 rather than 0.0."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def value_label(name: str, value: Any) -> str:
    """How a swept value is named on a column: `temperature 0.5`."""
    return f"{name} {format_value(value)}"


def grid_cells(
    a: str, a_values: Sequence[Any], b: str, b_values: Sequence[Any]
) -> list[tuple[tuple[str, Any], tuple[str, Any]]]:
    """Every (a value, b value) pair, row by row."""
    return [((a, x), (b, y)) for x, y in itertools.product(a_values, b_values)]
