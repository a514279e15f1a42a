"""response_format: json_object gives a valid JSON object; json_schema gives an instance that
validates against the schema, over many generated schemas (objects, arrays, strings, numbers, enums,
required); seeds and temperature show in the sampled strings."""

from __future__ import annotations

import jsonschema
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.offline_model.support import body, complete, stream_chunks, streamed_text

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# JSON integers beyond 64 bits are not interoperable (RFC 8259 section 6); the server parses with orjson.
INTS = st.integers(-(2**63), 2**63 - 1)
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10)


def _leaf():
    ints = st.tuples(st.integers(-1000, 1000), st.integers(0, 1000)).map(
        lambda t: {"type": "integer", "minimum": t[0], "maximum": t[0] + t[1]}
    )
    numbers = st.tuples(st.floats(-100, 100), st.floats(0, 100)).map(
        lambda t: {"type": "number", "minimum": t[0], "maximum": t[0] + t[1]}
    )
    strings = st.tuples(st.integers(0, 20), st.integers(0, 40)).map(
        lambda t: {"type": "string", "minLength": t[0], "maxLength": t[0] + t[1]}
    )
    enums = st.lists(st.one_of(st.text(max_size=8), INTS, st.booleans()), min_size=1, max_size=5, unique=True)
    return st.one_of(
        st.just({"type": "string"}),
        st.just({"type": "integer"}),
        st.just({"type": "number"}),
        st.just({"type": "boolean"}),
        st.just({"type": "null"}),
        st.just({"type": ["string", "null"]}),
        st.sampled_from([{"format": "date", "type": "string"}, {"format": "uuid", "type": "string"}]),
        ints,
        numbers,
        strings,
        enums.map(lambda e: {"enum": e}),
        INTS.map(lambda v: {"const": v}),
    )


def _extend(children):
    objects = st.dictionaries(NAMES, children, min_size=0, max_size=5).flatmap(
        lambda props: st.sets(
            st.sampled_from(sorted(props)) if props else st.nothing(), max_size=len(props)
        ).map(
            lambda req: {
                "type": "object",
                "properties": props,
                "required": sorted(req),
                "additionalProperties": False,
            }
        )
    )
    arrays = st.tuples(children, st.integers(0, 3), st.integers(0, 3)).map(
        lambda t: {"type": "array", "items": t[0], "minItems": t[1], "maxItems": t[1] + t[2]}
    )
    any_of = st.lists(children, min_size=1, max_size=3).map(lambda bs: {"anyOf": bs})
    return st.one_of(objects, arrays, any_of)


SCHEMAS = st.recursive(_leaf(), _extend, max_leaves=12)


def as_format(schema: dict) -> dict:
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}


@SETTINGS
@given(schema=SCHEMAS, seed=st.integers(0, 10**6), temperature=st.sampled_from([0, 1, 2]))
def test_json_schema_reply_validates(http, schema, seed, temperature):
    payload = body("Describe the seed", response_format=as_format(schema), seed=seed, temperature=temperature)
    text = complete(http, payload)["choices"][0]["message"]["content"]
    jsonschema.validate(orjson.loads(text), schema)


def test_refs_defs_and_all_of(http):
    schema = {
        "$defs": {
            "colour": {"enum": ["red", "green"]},
            "point": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
        },
        "allOf": [
            {"type": "object", "properties": {"c": {"$ref": "#/$defs/colour"}}, "required": ["c"]},
            {
                "properties": {
                    "p": {"$ref": "#/$defs/point"},
                    "when": {"type": "string", "format": "date-time"},
                }
            },
        ],
    }
    for seed in range(10):
        text = complete(http, body(response_format=as_format(schema), seed=seed))["choices"][0]["message"][
            "content"
        ]
        jsonschema.validate(orjson.loads(text), schema)


@SETTINGS
@given(seed=st.integers(0, 10**6), n=st.integers(1, 3))
def test_json_object_is_a_valid_object(http, seed, n):
    done = complete(http, body("What is Prism?", response_format={"type": "json_object"}, seed=seed, n=n))
    for choice in done["choices"]:
        assert isinstance(orjson.loads(choice["message"]["content"]), dict)


def test_streamed_json_is_the_same_json(http):
    payload = body(response_format={"type": "json_object"}, seed=3)
    assert (
        streamed_text(stream_chunks(http, payload))
        == complete(http, payload)["choices"][0]["message"]["content"]
    )


def test_json_strings_vary_with_the_seed_and_repeat_at_temperature_zero(http):
    fmt = as_format(
        {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}
    )
    sampled = {
        complete(http, body(response_format=fmt, seed=s))["choices"][0]["message"]["content"]
        for s in range(8)
    }
    assert len(sampled) >= 4
    greedy = {
        complete(http, body(response_format=fmt, temperature=0))["choices"][0]["message"]["content"]
        for _ in range(3)
    }
    assert len(greedy) == 1


def test_json_logprobs_are_zero_for_structure_and_true_for_choices(http):
    schema = {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}, "pick": {"enum": ["a", "b", "c", "d"]}},
    }
    choice = complete(http, body(response_format=as_format(schema), seed=1, logprobs=True, top_logprobs=4))[
        "choices"
    ][0]
    entries = choice["logprobs"]["content"]
    assert "".join(e["token"] for e in entries) == choice["message"]["content"]
    by_token = {e["token"]: e["logprob"] for e in entries}
    assert by_token["{"] == 0.0
    value_tokens = [e for e in entries if e["token"] in ("true", "false")]
    assert abs(value_tokens[0]["logprob"] - (-0.6931471805599453)) < 1e-12  # one of two


def test_a_recursive_schema_through_a_part_of_the_value_is_still_served(http):
    tree = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}},
        "required": ["name", "children"],
    }
    r = http.post(
        "chat/completions",
        json=body(response_format={"type": "json_schema", "json_schema": {"name": "tree", "schema": tree}}),
    )
    assert r.status_code == 200, r.text
    jsonschema.validate(orjson.loads(r.json()["choices"][0]["message"]["content"]), tree)
