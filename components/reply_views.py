"""Extra ways to look at a finished reply: as checked JSON, and as tokens coloured by probability.

Both render model output through Streamlit's markdown or code elements, never as HTML.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from components import rendering
from components.rendering import escape_markdown


def check_json(text: str, schema: Mapping[str, Any] | None) -> tuple[Any, str | None]:
    """Parse a reply as JSON and check it against a schema; return (value, first problem or None)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as problem:
        return (
            None,
            f"The reply is not valid JSON: {problem.msg} (line {problem.lineno}, column {problem.colno}).",
        )
    if schema:
        import jsonschema  # here: only a reply checked against a schema needs it (2 MB per process)

        validator = jsonschema.Draft202012Validator(schema)
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        if errors:
            where = "/".join(str(p) for p in errors[0].path) or "the top level"
            return value, f"The reply does not match the schema at {where}: {errors[0].message}"
    return value, None


def schema_of(request_body: Mapping[str, Any] | None) -> tuple[bool, Mapping[str, Any] | None]:
    """Whether a request asked for JSON, and the schema it gave (if any)."""
    fmt = (request_body or {}).get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return True, (fmt.get("json_schema") or {}).get("schema")
    return fmt.get("type") == "json_object", None


def show_json(text: str, schema: Mapping[str, Any] | None) -> None:
    """Pretty-print a JSON reply and say whether it is valid (and matches the schema)."""
    value, problem = check_json(text, schema)
    if value is not None or problem is None:
        st.code(json.dumps(value, indent=2, ensure_ascii=False), language="json")
    if problem:
        st.warning(rendering.outside(problem), icon=":material/data_object:")
    else:
        st.caption(":green[Valid JSON" + (", matches the schema." if schema else ".") + "]")


def _band(logprob: float) -> str:
    p = math.exp(logprob)
    if p >= 0.9:
        return "green"
    if p >= 0.5:
        return "blue"
    if p >= 0.2:
        return "orange"
    return "red"


def coloured_tokens(tokens: Sequence[Mapping[str, Any]]) -> str:
    """Markdown showing each token on a background coloured by its probability, in its own colour too
    (a tint alone was too pale to read). Tokens carry their own spaces, so they are joined with
    nothing: a space is put only where the model put one, never before a comma."""
    parts = []
    for token in tokens:
        text = token.get("token", "")
        shown = escape_markdown(rendering.visible_controls(text.replace("\n", "⏎"))) or "∅"
        band = _band(float(token.get("logprob", 0.0)))
        parts.append(f":{band}-background[:{band}[{shown}]]")
    return "".join(parts)


def alternatives(token: Mapping[str, Any]) -> list[dict[str, str]]:
    """The rows of a token's alternatives table: the chosen token first (marked), then the others,
    each once (the API lists the chosen token among its own alternatives too)."""
    chosen = token.get("token", "")
    rows = [{"token": repr(chosen) + " (chosen)", "probability": f"{math.exp(token['logprob']):.1%}"}]
    rows += [
        {"token": repr(alt[0]), "probability": f"{math.exp(alt[1]):.1%}"}
        for alt in token.get("top") or []
        if alt[0] != chosen
    ]
    return rows


def show_logprobs(tokens: Sequence[Mapping[str, Any]], key: str) -> None:
    """Tokens coloured by probability; pick one to see its top alternatives."""
    if not tokens:
        st.caption("No log-probabilities were returned for this reply.")
        return
    with st.container(key=f"tokens.{key}"):  # styles.py underlines each token in its colour
        st.markdown(rendering.trusted(coloured_tokens(tokens)))  # each token escaped by coloured_tokens
    st.caption("green ≥ 90% · blue ≥ 50% · orange ≥ 20% · red < 20%")
    labels = [f"{i + 1}: {t.get('token', '')!r}" for i, t in enumerate(tokens)]
    picked = st.selectbox(
        "Alternatives for token",
        range(len(tokens)),
        format_func=lambda i: rendering.plain(labels[i]),
        key=key,
    )
    # A plain table: a few rows need no interactive grid (st.dataframe loads one into the page).
    st.table(alternatives(tokens[picked]), border="horizontal", hide_index=True)
