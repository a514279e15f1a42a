"""The compare page's figures as plain functions: spread, distinct outputs, JSON pass rate, the word
diff (and that model output cannot inject markdown or HTML through it), run again marks, sweeps, and
the CSV and JSON exports."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from chat_client import Params
from components import compare_stats, compare_sweep

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
JSON_BODY = {"response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": SCHEMA}}}


@dataclass
class Result:
    content: str
    request_body: dict = field(default_factory=dict)
    status: str = "complete"
    turn_index: int = 0
    column_index: int = 0
    repeat_index: int = 0
    prompt: str = "hi"
    thought: str | None = None
    finish_reason: str | None = "stop"
    usage: dict | None = None
    timings: dict | None = None
    error: str | None = None
    tool_calls: list | None = None
    logprobs: list | None = None
    candidate_index: int = 0
    created_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Run:
    results: list[Result]
    columns: list[dict[str, Any]]
    id: int = 1
    title: str = "t"
    prompt: str = "hi"
    history: list = field(default_factory=list)
    repeats: int = 1
    attachments: list = field(default_factory=list)
    created_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    updated_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([3, 1, 2], (1, 2, 3)), ([4, None, 1, 2, 3], (1, 2.5, 4)), ([None], None), ([], None)],
)
def test_spread_is_min_median_max_of_known_values(values, expected):
    assert compare_stats.spread(values) == expected


def test_distinct_outputs_count_each_reply_most_frequent_first():
    assert compare_stats.distinct_outputs(["b", "a", "b", "c", "a", "b"]) == [("b", 3), ("a", 2), ("c", 1)]


def test_json_pass_rate_counts_replies_that_parse_and_match_the_schema():
    results = [
        Result('{"answer": "yes"}', JSON_BODY),
        Result('{"other": 1}', JSON_BODY),
        Result("not json", JSON_BODY),
        Result('{"answer": "no"}', JSON_BODY),
    ]
    assert compare_stats.json_pass_rate(results) == (2, 4)
    assert compare_stats.json_pass_rate([Result("plain text")]) is None


def test_word_diff_marks_added_and_removed_words():
    diff = compare_stats.word_diff("the cat sat here", "the dog sat")
    assert [(k, t.strip()) for k, t in diff if t.strip()] == [
        ("same", "the"),
        ("removed", "cat"),
        ("added", "dog"),
        ("same", "sat"),
        ("removed", "here"),
    ]
    shown = compare_stats.diff_markdown("the cat sat here", "the dog sat")
    assert ":red-background[~~cat~~] :green-background[dog]" in shown
    assert shown.endswith(":red-background[~~here~~]")


def test_identical_texts_have_no_marks():
    assert ":green" not in compare_stats.diff_markdown("same words", "same words")
    assert compare_stats.similarity("same words", "same words") == 1.0


@pytest.mark.parametrize(
    "evil",
    ["<script>alert(1)</script>", "]:red[owned", "[link](javascript:alert(1))", "**bold** `code`"],
)
def test_the_diff_escapes_model_output(evil):
    shown = compare_stats.diff_markdown("plain words", f"plain {evil}")
    inside = shown.split(":green-background[", 1)[1].rsplit("]", 1)[0]
    for char in "<>[]()*`:":
        assert char not in inside.replace("\\" + char, "")


def test_run_again_marks_which_columns_are_identical():
    assert compare_stats.identical_columns(["a", "b", "c"], ["a", "x", None]) == [True, False, None]
    assert compare_stats.identical_columns([], ["a"]) == [None]


def run_with_two_columns() -> Run:
    return Run(
        columns=[
            {"label": "cold", "model": "m", "params": {"temperature": 0}, "system_prompt": ""},
            {"label": "hot", "model": "m", "params": {"temperature": 2}, "system_prompt": 'Be, "odd"'},
        ],
        results=[
            Result(
                "first, with a comma\nand a line",
                column_index=0,
                usage={"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
                timings={"ttft_s": 0.1, "duration_s": 0.5, "tokens_per_s": 17.5},
            ),
            Result("second", column_index=1, status="length", finish_reason="length"),
        ],
    )


def test_csv_export_has_one_row_per_reply_with_metrics_and_text():
    text = compare_stats.run_as_csv(run_with_two_columns(), lambda model: {"input": 1.0, "output": 2.0})
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["label"] for r in rows] == ["cold", "hot"]
    assert rows[0]["content"] == "first, with a comma\nand a line"
    assert rows[0]["completion_tokens"] == "7" and rows[0]["ttft_s"] == "0.1"
    assert float(rows[0]["cost_usd"]) == pytest.approx((5 * 1.0 + 7 * 2.0) / 1_000_000)
    assert rows[1]["status"] == "length" and rows[1]["system_prompt"] == 'Be, "odd"'
    assert json.loads(rows[1]["params"]) == {"temperature": 2}


def test_json_export_holds_the_run_and_every_result():
    data = json.loads(compare_stats.run_as_json(run_with_two_columns()))
    assert data["prompt"] == "hi"
    assert [c["label"] for c in data["columns"]] == ["cold", "hot"]
    assert [(r["column_index"], r["status"], r["content"]) for r in data["results"]] == [
        (0, "complete", "first, with a comma\nand a line"),
        (1, "length", "second"),
    ]


@pytest.mark.parametrize(
    ("name", "text", "values"),
    [
        ("temperature", "0, 0.5, 1, 1.5, 2", [0.0, 0.5, 1.0, 1.5, 2.0]),
        ("reasoning_effort", "none, low, medium, high", ["none", "low", "medium", "high"]),
        ("seed", "1, 2, 3, 4, 5", [1, 2, 3, 4, 5]),
        ("seed", "1; 1; 2", [1, 2]),
    ],
)
def test_sweep_values_parse(name, text, values):
    assert compare_sweep.parse_values(name, text) == (values, None)


@pytest.mark.parametrize(
    ("name", "text"),
    [("temperature", "0, 3"), ("temperature", "hot"), ("reasoning_effort", "max"), ("seed", "")],
)
def test_sweep_values_the_api_would_refuse_are_explained(name, text):
    values, problem = compare_sweep.parse_values(name, text)
    assert values == [] and problem


def test_a_sweep_value_replaces_what_it_conflicts_with():
    base = Params(model="m", thinking_budget=512)
    assert compare_sweep.apply(base, "reasoning_effort", "low") == Params(model="m", reasoning_effort="low")
    assert compare_sweep.apply(Params(reasoning_effort="high"), "thinking_budget", 0) == Params(
        thinking_budget=0
    )
    assert compare_sweep.apply(Params(max_tokens=9), "max_completion_tokens", 16) == Params(
        max_completion_tokens=16
    )


def test_a_column_summary_reads_either_stored_shape():
    from components.compare_view import params_summary

    older = {"temperature": 0.5, "extra_body": {"google": {"thinking_config": {"thinking_budget": 512}}}}
    flat = {"temperature": 0.5, "thinking_budget": 512}
    assert params_summary(older) == params_summary(flat) == "temperature 0.5 · thinking_budget 512"
    assert params_summary(Params(temperature=0.5)) == "temperature 0.5"
    assert params_summary(None) == "provider defaults"
