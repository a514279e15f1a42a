"""Params: every request field, its bounds on both sides, plain-language messages, JSON round trip."""

from __future__ import annotations

import dataclasses

import pytest

from chat_client import Params, validate

# field, lowest valid, highest valid, just below, just above
RANGES = [
    ("max_completion_tokens", 1, 65535, 0, 65536),
    ("max_tokens", 1, 65535, 0, 65536),
    ("temperature", 0.0, 2.0, -0.001, 2.001),
    ("top_p", 0.0, 1.0, -0.01, 1.01),
    ("frequency_penalty", -2.0, 2.0, -2.01, 2.01),
    ("presence_penalty", -2.0, 2.0, -2.01, 2.01),
    ("n", 1, 8, 0, 9),
    ("seed", -(2**31), 2**31 - 1, -(2**31) - 1, 2**31),
    ("thinking_budget", -1, 24576, -2, 24577),
]


def _extra(field):
    # top_logprobs needs logprobs; nothing else needs a companion field
    return {"logprobs": True} if field == "top_logprobs" else {}


@pytest.mark.parametrize(("field", "lo", "hi", "below", "above"), [*RANGES, ("top_logprobs", 0, 20, -1, 21)])
def test_each_bound_is_accepted_and_the_next_value_out_is_refused(field, lo, hi, below, above):
    for ok in (lo, hi):
        assert validate(Params(**{field: ok}, **_extra(field))) == [], (field, ok)
    for bad in (below, above):
        problems = validate(Params(**{field: bad}, **_extra(field)))
        assert [p.field for p in problems] == [field]
        msg = problems[0].message
        assert field in msg and "from" in msg and "to" in msg, msg


def test_range_message_names_field_range_and_value():
    (p,) = validate(Params(temperature=2.5))
    assert p.message == "temperature must be a number from 0 to 2 (got 2.5)."
    (p,) = validate(Params(thinking_budget=30000))
    assert p.message == "thinking_budget must be a whole number from -1 to 24,576 (got 30000)."


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", "hot"),
        ("temperature", True),
        ("temperature", float("nan")),
        ("n", 2.0),
        ("max_tokens", "10"),
        ("logprobs", 1),
        ("stream", "yes"),
        ("include_thoughts", 0),
    ],
)
def test_wrong_types_are_refused(field, value):
    assert [p.field for p in validate(Params(**{field: value}))] == [field]


def test_stop_takes_a_string_or_up_to_five_strings():
    assert validate(Params(stop="END")) == []
    assert validate(Params(stop=["a", "b", "c", "d", "e"])) == []
    (p,) = validate(Params(stop=["a", "b", "c", "d", "e", "f"]))
    assert p.field == "stop" and "at most 5" in p.message and "6" in p.message
    assert [p.field for p in validate(Params(stop=[""]))] == ["stop"]
    assert [p.field for p in validate(Params(stop=[1]))] == ["stop"]


@pytest.mark.parametrize("effort", ["none", "low", "medium", "high"])
def test_reasoning_effort_values(effort):
    assert validate(Params(reasoning_effort=effort)) == []


def test_minimal_reasoning_effort_is_refused_with_a_reason():
    (p,) = validate(Params(reasoning_effort="minimal"))
    assert p.field == "reasoning_effort" and "none, low, medium, high" in p.message and "minimal" in p.message


def test_reasoning_effort_with_thinking_budget_is_refused_with_an_explanation():
    (p,) = validate(Params(reasoning_effort="low", thinking_budget=1024))
    assert p.field == "thinking_budget"
    assert "not both" in p.message and "refuses" in p.message


def test_top_logprobs_needs_logprobs():
    assert [p.field for p in validate(Params(top_logprobs=5))] == ["top_logprobs"]
    assert [p.field for p in validate(Params(top_logprobs=5, logprobs=False))] == ["top_logprobs"]
    assert validate(Params(top_logprobs=5, logprobs=True)) == []


def test_parallel_tool_calls_only_false():
    assert validate(Params(parallel_tool_calls=False)) == []
    (p,) = validate(Params(parallel_tool_calls=True))
    assert p.field == "parallel_tool_calls" and "false" in p.message


def test_cached_content_must_be_a_cached_contents_name():
    assert validate(Params(cached_content="cachedContents/abc")) == []
    assert [p.field for p in validate(Params(cached_content="abc"))] == ["cached_content"]


def test_stream_options_only_include_usage_and_only_when_streaming():
    assert validate(Params(stream_options={"include_usage": True})) == []
    assert validate(Params(stream=True, stream_options={"include_usage": False})) == []
    assert [p.field for p in validate(Params(stream_options={"x": 1}))] == ["stream_options"]
    assert [p.field for p in validate(Params(stream_options={"include_usage": "y"}))] == ["stream_options"]
    assert [p.field for p in validate(Params(stream=False, stream_options={"include_usage": True}))] == [
        "stream_options"
    ]


SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}}


@pytest.mark.parametrize(
    "rf",
    [
        {"type": "text"},
        {"type": "json_object"},
        {"type": "json_schema", "json_schema": {"name": "thing", "schema": SCHEMA}},
        {"type": "json_schema", "json_schema": {"name": "thing", "schema": SCHEMA, "strict": True}},
    ],
)
def test_response_format_accepted(rf):
    assert validate(Params(response_format=rf)) == []


@pytest.mark.parametrize(
    "rf",
    [
        {"type": "yaml"},
        {},
        "json",
        {"type": "json_schema"},
        {"type": "json_schema", "json_schema": {"schema": SCHEMA}},
        {"type": "json_schema", "json_schema": {"name": "has space", "schema": SCHEMA}},
        {"type": "json_schema", "json_schema": {"name": "t", "schema": "nope"}},
        {"type": "json_schema", "json_schema": {"name": "t", "schema": SCHEMA, "strict": "yes"}},
        {"type": "json_object", "json_schema": {}},
    ],
)
def test_response_format_refused(rf):
    assert [p.field for p in validate(Params(response_format=rf))] == ["response_format"]


TOOL = {"type": "function", "function": {"name": "get_weather", "description": "d", "parameters": SCHEMA}}


def test_tools_and_tool_choice():
    assert validate(Params(tools=[TOOL])) == []
    for choice in ("none", "auto", "required", {"type": "function", "function": {"name": "get_weather"}}):
        assert validate(Params(tools=[TOOL], tool_choice=choice)) == [], choice
    assert [p.field for p in validate(Params(tools=[TOOL], tool_choice="always"))] == ["tool_choice"]
    named_other = {"type": "function", "function": {"name": "other"}}
    assert [p.field for p in validate(Params(tools=[TOOL], tool_choice=named_other))] == ["tool_choice"]
    assert [p.field for p in validate(Params(tool_choice="required"))] == ["tool_choice"]
    assert [p.field for p in validate(Params(tools=[{"type": "function"}]))] == ["tools"]
    assert [p.field for p in validate(Params(tools=[TOOL, TOOL]))] == ["tools"]
    bad_name = {"type": "function", "function": {"name": "get weather"}}
    assert [p.field for p in validate(Params(tools=[bad_name]))] == ["tools"]


FULL = Params(
    model="gemini-2.5-flash",
    stream=True,
    max_completion_tokens=100,
    max_tokens=100,
    temperature=0.7,
    top_p=0.9,
    frequency_penalty=0.5,
    presence_penalty=-0.5,
    stop=("END", "STOP"),
    n=2,
    reasoning_effort="medium",
    seed=12345,
    logprobs=True,
    top_logprobs=5,
    response_format={"type": "json_schema", "json_schema": {"name": "t", "schema": SCHEMA, "strict": True}},
    stream_options={"include_usage": True},
    tools=(TOOL,),
    tool_choice={"type": "function", "function": {"name": "get_weather"}},
    parallel_tool_calls=False,
    thinking_budget=None,
    include_thoughts=True,
    cached_content="cachedContents/abc",
)


def test_every_field_set_validates():
    assert validate(FULL) == []
    unset = [f.name for f in dataclasses.fields(Params) if getattr(FULL, f.name) is None]
    assert unset == ["thinking_budget"]  # the one field that cannot go with reasoning_effort


def test_json_round_trip_keeps_every_field():
    assert Params.from_json(FULL.to_json()) == FULL
    other = FULL.replace(reasoning_effort=None, thinking_budget=-1)
    assert Params.from_json(other.to_json()) == other
    assert Params.from_dict(Params().to_dict()) == Params()
    assert Params().to_dict() == {}


def test_to_dict_holds_only_set_fields_and_is_json_ready():
    d = Params(temperature=0.0, stop=("a",), logprobs=False).to_dict()
    assert d == {"temperature": 0.0, "stop": ["a"], "logprobs": False}


def test_from_dict_refuses_unknown_fields_by_name():
    with pytest.raises(ValueError, match="temprature"):
        Params.from_dict({"temprature": 1})


def test_from_body_reads_the_wire_shape_back():
    from chat_client import build_body

    body = build_body(FULL, [{"role": "user", "content": "x"}])
    assert Params.from_body(body) == FULL


def test_lists_become_tuples_so_params_are_not_shared():
    stop = ["a"]
    p = Params(stop=stop)
    stop.append("b")
    assert p.stop == ("a",)


def test_every_field_has_a_label_help_and_a_form_group():
    from chat_client.params import GROUPS

    for name in Params.field_names():
        spec = Params.spec(name)
        assert spec.label and spec.help and spec.widget, name
        assert spec.group in GROUPS, name


# -- schemas Prism cannot check are refused before sending ------------------------------------------------

TREE = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}},
}


def _deep(levels: int) -> dict:
    schema: dict = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "array", "items": schema}
    return schema


def _schema_format(schema):
    return Params(response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}})


@pytest.mark.parametrize(
    "schema, words",
    [
        ({"$ref": "#"}, "$ref at # leads back to itself"),
        ({"anyOf": [{"type": "null"}, {"$ref": "#"}]}, "$ref at # leads back to itself"),
        (
            {
                "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}},
                "$ref": "#/$defs/a",
            },
            "a $ref cycle",
        ),
        ({"not": {"$ref": "#"}}, "a $ref cycle"),
        ({"enum": ["x" * 1000] * 150}, "Prism sends schemas up to 100,000 bytes"),
        (_deep(80), "nested more than 64 levels deep"),
    ],
    ids=["self", "anyof-self", "defs-cycle", "not-self", "too-big", "too-deep"],
)
def test_a_schema_prism_cannot_check_is_refused_at_the_field(schema, words):
    problems = validate(_schema_format(schema))
    assert [p.field for p in problems] == ["response_format"]
    assert words in problems[0].message


def test_a_recursive_schema_that_describes_a_part_of_the_value_is_accepted():
    assert validate(_schema_format(TREE)) == []
    assert validate(_schema_format({"$defs": {"t": TREE}, "$ref": "#/$defs/t"})) == []


def test_tool_parameters_with_a_ref_cycle_are_refused_at_the_tools_field():
    tool = {"type": "function", "function": {"name": "f", "parameters": {"allOf": [{"$ref": "#"}]}}}
    problems = validate(Params(tools=[tool]))
    assert [p.field for p in problems] == ["tools"]
    assert problems[0].message.startswith("tools[0].function.parameters: The schema's $ref at #")


def test_every_number_field_states_its_range_and_validation_holds_to_it():
    numbers = [n for n in Params.field_names() if Params.value_type(n) in (int, float)]
    assert "temperature" in numbers and "thinking_budget" in numbers
    for name in numbers:
        spec = Params.spec(name)
        assert spec.range_text(), name
        step = 1 if Params.value_type(name) is int else 0.5
        needs = {"logprobs": True} if name == "top_logprobs" else {}
        assert validate(Params(**{name: spec.min}, **needs)) == [], name
        [problem] = validate(Params(**{name: spec.max + step}, **needs))
        assert problem.field == name and spec.range_text() in problem.message, name


@pytest.mark.parametrize(
    ("params", "said"),
    [
        (Params(), "provider defaults"),
        (Params(model="m", stream=True, stream_options={"include_usage": True}), "provider defaults"),
        (Params(temperature=0.5, seed=3), "temperature 0.5 · seed 3"),
        (
            Params(thinking_budget=1024, cached_content="cachedContents/x"),
            "thinking_budget 1024 · cached content",
        ),
        (Params(response_format={"type": "json_object"}, tools=(TOOL,)), "format json_object · 1 tool(s)"),
        (Params(stop=("a", "b")), 'stop ["a", "b"]'),
    ],
)
def test_a_summary_names_each_set_field_as_its_spec_says(params, said):
    from chat_client import summary

    assert summary(params) == said


def test_every_nested_field_goes_where_its_wire_path_says_and_reads_back():
    nested = [n for n in Params.field_names() if len(Params.wire_path(n)) > 1]
    assert {"thinking_budget", "include_thoughts", "cached_content"} <= set(nested)
    for name in nested:
        value = FULL.replace(reasoning_effort=None, thinking_budget=-1).to_dict()[name]
        wire = Params(**{name: value}).to_wire()
        place = wire
        for key in Params.wire_path(name):
            place = place[key]
        assert place == value and name not in wire, name
        assert Params.from_dict(wire) == Params(**{name: value}), name


def test_a_stored_set_keeps_what_still_reads_and_passes_over_a_removed_field():
    older = {
        "temperature": 0.3,
        "top_k": 40,
        "extra_body": {"google": {"cached_content": "cachedContents/x"}},
    }
    assert Params.from_stored(older) == Params(temperature=0.3, cached_content="cachedContents/x")
    assert Params.from_stored(None) == Params() == Params.from_stored(["not", "a", "dict"])
    p = Params(seed=1)
    assert Params.from_stored(p) is p
