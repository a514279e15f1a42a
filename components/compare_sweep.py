"""Parameter sweeps for the compare page: which fields can be swept, their usual values, and how one
value is written into a column's parameters.

Plain Python (no Streamlit) so it is tested directly. The axes come from `Params`: a field whose spec
offers `sweep` values is sweepable, its type says how typed values are read, and its `replaces` says
which fields a swept value unsets (the API refuses the pair). Values are parsed from what a person
types ("0, 0.5, 1") and checked with the client's own `validate`, so a sweep never sends a value the
API would refuse.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from chat_client import Params, validate

# name -> (values offered by default, type), in `Params` field order
SWEEPS: dict[str, tuple[str, type]] = {
    name: (Params.spec(name).sweep, Params.value_type(name))
    for name in Params.field_names()
    if Params.spec(name).sweep
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
        problems = validate(apply(Params(model="m"), name, value))
        if problems:
            return [], problems[0].message
        values.append(value)
    if not values:
        return [], f"Give at least one value for {name}."
    return values, None


def apply(params: Params, name: str, value: Any) -> Params:
    """`params` with `name` set to `value`, and what the API refuses alongside it unset."""
    return params.replace(**{other: None for other in Params.spec(name).replaces}, **{name: value})


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
