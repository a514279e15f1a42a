"""Each assertion type passes and fails on crafted replies, with `not-` inverting it; unsupported types are
never run; `llm-rubric` is graded by the offline model and keeps the grader's reasoning."""

from __future__ import annotations

import asyncio
import threading

import pytest

from chat_client import Endpoint, Params
from evals import assertions
from evals.assertions import Observed
from evals.engine import Engine, Setting
from evals.suite import Assertion
from offline_model.runner import OfflineServer
from storage import open_database, repository, session_factory

SCHEMA = {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}

# (assertion, reply that passes, reply that fails)
CASES = [
    (Assertion("equals", "4"), "4", "4 "),
    (Assertion("equals", {"a": 1}), '{"a": 1}', '{"a": 2}'),
    (Assertion("contains", "Paris"), "It is Paris.", "It is paris."),
    (Assertion("icontains", "PARIS"), "It is paris.", "It is Lyon."),
    (Assertion("contains-any", ["red", "blue"]), "blue sky", "green grass"),
    (Assertion("contains-all", ["red", "blue"]), "red and blue", "red only"),
    (Assertion("icontains-any", ["RED"]), "red", "green"),
    (Assertion("icontains-all", ["RED", "BLUE"]), "Red, Blue", "Red"),
    (Assertion("starts-with", "Yes"), "Yes, it is.", "Well, yes."),
    (Assertion("regex", r"\d{4}"), "In 1969.", "Long ago."),
    (Assertion("is-json"), '{"city": "Paris"}', 'Here: {"city": "Paris"}'),
    (Assertion("is-json", SCHEMA), '{"city": "Paris"}', '{"town": "Paris"}'),
    (Assertion("contains-json"), 'Here: {"city": "Paris"} done', "no json here {"),
    (Assertion("contains-json", SCHEMA), 'a [1] then {"city": "Oslo"}', 'only {"city": 3}'),
]


@pytest.mark.parametrize(("assertion", "good", "bad"), CASES, ids=[c[0].name for c in CASES])
def test_each_type_passes_and_fails_and_not_inverts(assertion, good, bad):
    assert assertions.check(assertion, Observed(good)).passed is True
    failed = assertions.check(assertion, Observed(bad))
    assert failed.passed is False and failed.reason
    negated = Assertion(assertion.type, assertion.value, negate=True)
    assert assertions.check(negated, Observed(good)).passed is False
    assert assertions.check(negated, Observed(bad)).passed is True


def test_a_schema_failure_names_where():
    outcome = assertions.check(Assertion("is-json", SCHEMA), Observed('{"city": 5}'))
    assert outcome.passed is False
    assert "city" in outcome.reason and "schema" in outcome.reason


@pytest.mark.parametrize(
    ("assertion", "seen", "expected"),
    [
        (Assertion("cost", threshold=0.001), Observed("x", cost=0.0005), True),
        (Assertion("cost", threshold=0.001), Observed("x", cost=0.002), False),
        (Assertion("cost", threshold=0.001), Observed("x", cost=None), False),
        (Assertion("latency", threshold=500), Observed("x", latency_ms=499.0), True),
        (Assertion("latency", threshold=500), Observed("x", latency_ms=501.0), False),
        (Assertion("latency", threshold=500), Observed("x", latency_ms=None), False),
    ],
)
def test_cost_and_latency_pass_at_or_under_their_threshold(assertion, seen, expected):
    assert assertions.check(assertion, seen).passed is expected


def test_unsupported_types_are_not_run_and_count_neither_way():
    for assertion in (
        Assertion("javascript", "process.exit(1)"),
        Assertion("cost", negate=True, threshold=1),
    ):
        outcome = assertions.check(assertion, Observed("anything"))
        assert outcome.passed is None
        assert "not supported" in outcome.reason
    checks = [assertions.check(Assertion("javascript", "false"), Observed("x"))]
    assert assertions.verdict(checks) is True
    checks.append(assertions.check(Assertion("contains", "y"), Observed("x")))
    assert assertions.verdict(checks) is False


def test_a_failing_grader_fails_the_rubric_saying_so():
    async def broken(rubric, output):
        raise RuntimeError("its reply was not JSON")

    outcome = asyncio.run(assertions.acheck(Assertion("llm-rubric", "polite"), Observed("hi"), broken))
    assert outcome.passed is False
    assert "grader failed" in outcome.reason and "not JSON" in outcome.reason
    missing = asyncio.run(assertions.acheck(Assertion("llm-rubric", "polite"), Observed("hi"), None))
    assert missing.passed is False and "no grader" in missing.reason


def test_llm_rubric_is_graded_by_the_offline_model_and_keeps_its_reasoning(tmp_path):
    make_session = session_factory(open_database(f"sqlite:///{tmp_path / 'prism.db'}"))
    with make_session() as session:
        user_id = repository.ensure_user(session, "local").id
        session.commit()
    with OfflineServer.start(tokens_per_second=0, ttft_ms=0) as server:
        endpoint = Endpoint(base_url=server.base_url, name="offline")
        # The grader's own max_tokens would cut its verdict short: the engine lifts it for grading.
        grader_setting = Setting(
            "grader", endpoint, Params(model="gemini-2.5-flash", temperature=0, seed=7, max_tokens=3)
        )
        engine = Engine(make_session, user_id)
        grade = engine.grader(grader_setting, threading.Event())
        rubric = Assertion("llm-rubric", "Mentions the word banana")
        outcome = asyncio.run(assertions.acheck(rubric, Observed("A banana, peeled."), grade))
        inverse = asyncio.run(
            assertions.acheck(
                Assertion("llm-rubric", rubric.value, negate=True), Observed("A banana, peeled."), grade
            )
        )
        sent = server.received[0]["body"]
        engine.close()
    assert outcome.passed in (True, False)
    assert outcome.grader_reasoning  # the grader's words are kept, whatever it decided
    assert outcome.reason in ("the grader passed it", "the grader failed it")
    assert (
        inverse.passed is not outcome.passed
    )  # the same grading request at temperature 0 gives the same verdict
    assert sent["response_format"]["type"] == "json_schema"
    assert "max_tokens" not in sent
    assert "Mentions the word banana" in sent["messages"][-1]["content"]
