"""Running a suite over settings on the offline model, without Streamlit: the matrix, pass rates and
intervals, wins, export, reopening a saved run, Stop keeping finished cells, a fault switch making one
failed cell, bounded concurrency, and quota admission per request.

The assertions rest only on what the offline model guarantees whatever its wording: a JSON mode gives
JSON, plain text is not JSON, a reply cut at a few tokens is not whole JSON, and fault switches fail on
purpose.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from chat_client import Endpoint, Params
from evals import saved
from evals.engine import Engine, Setting
from evals.runner import DONE, NOT_RUN, STOPPED, EvalRun, results_csv
from evals.suite import Assertion, Case, Suite
from offline_model.runner import OfflineServer
from storage import compare as compare_store
from storage import open_database, repository, session_factory
from storage.models import User
from turns import quota

BASE = Params(model="gemini-2.5-flash", temperature=0, seed=1)


@pytest.fixture
def db(tmp_path):
    make_session = session_factory(open_database(f"sqlite:///{tmp_path / 'prism.db'}"))
    with make_session() as session:
        user = repository.ensure_user(session, "local", display_name="You")
        session.commit()
        return make_session, user.id


@pytest.fixture(scope="module")
def fast_model():
    with OfflineServer.start(host="127.0.0.1", port=0, tokens_per_second=0, ttft_ms=0) as server:
        yield server


@pytest.fixture(scope="module")
def paced_model():
    with OfflineServer.start(host="127.0.0.1", port=0, tokens_per_second=200, ttft_ms=0) as server:
        yield server


def twenty_cases() -> Suite:
    """15 cases want JSON, 5 want anything but JSON."""
    cases = tuple(
        Case(
            vars={"topic": f"topic {i}"}, asserts=(Assertion("is-json", negate=i >= 15),), description=f"T{i}"
        )
        for i in range(20)
    )
    return Suite(prompt="Tell me about {{topic}}", cases=cases, name="Twenty")


def three_settings(server) -> list[Setting]:
    endpoint = Endpoint(base_url=server.base_url, name="offline")
    return [
        Setting("json", endpoint, BASE.replace(response_format={"type": "json_object"})),
        Setting("plain", endpoint, BASE),
        Setting("json-cut", endpoint, BASE.replace(response_format={"type": "json_object"}, max_tokens=4)),
    ]


def prices(model):
    return {"input": 0.30, "output": 2.50}


def test_twenty_cases_by_three_settings_give_matrix_rates_intervals_and_wins(db, fast_model):
    make_session, user_id = db
    run = EvalRun(
        twenty_cases(), three_settings(fast_model), engine=Engine(make_session, user_id), prices_for=prices
    )
    run_id = saved.start(make_session, user_id, run)
    run.run()
    saved.finish(make_session, user_id, run_id, run)
    record = run.record()

    assert len(record["cells"]) == 60
    assert all(c["state"] == DONE and c["status"] in ("complete", "length") for c in record["cells"])
    matrix = {(c["case"], c["setting"]): c["passed"] for c in record["cells"]}
    assert [matrix[(0, s)] for s in range(3)] == [True, False, False]
    assert [matrix[(19, s)] for s in range(3)] == [False, True, True]
    by_name = {s["name"]: s for s in record["stats"]}
    assert [(by_name[n]["passed"], by_name[n]["counted"]) for n in ("json", "plain", "json-cut")] == [
        (15, 20),
        (5, 20),
        (5, 20),
    ]
    json_stats = by_name["json"]
    assert json_stats["low"] == pytest.approx(0.531, abs=0.001)
    assert json_stats["high"] == pytest.approx(0.888, abs=0.001)
    assert json_stats["tokens"] > 0 and json_stats["cost"] > 0
    assert json_stats["mean_latency_ms"] is not None and json_stats["p95_latency_ms"] >= 0
    # json beats the others clearly; plain and json-cut cannot be told apart.
    assert len(record["notes"]) == 1 and "plain and json-cut are not distinguishable" in record["notes"][0]
    assert record["wins"] == {"json": list(range(15)), "plain": [], "json-cut": []}
    # Every check says what it found, next to the reply.
    first = record["cells"][0]
    assert first["checks"][0]["name"] == "is-json" and first["checks"][0]["reason"]
    assert json.loads(first["content"])

    # Export: the JSON document is JSON; the CSV has one row per cell.
    assert json.loads(json.dumps(record))["stats"] == record["stats"]
    rows = list(csv.DictReader(io.StringIO(results_csv(record))))
    assert len(rows) == 60
    assert {r["passed"] for r in rows if r["setting"] == "json" and r["case"] == "1"} == {"yes"}

    # Reopen: the stored run is the same document.
    reopened = saved.open_record(make_session, user_id, run_id)
    assert reopened["stats"] == record["stats"]
    assert reopened["cells"] == record["cells"]
    assert reopened["run"]["status"] == "finished"
    # The requests made no compare run: the Compare page does not list evaluations.
    with make_session() as session:
        assert compare_store.list_compare_runs(session, session.get(User, user_id)) == []


def test_stop_mid_run_keeps_finished_cells_and_counts_only_them(db, paced_model):
    make_session, user_id = db
    run = EvalRun(
        twenty_cases(), three_settings(paced_model)[:2], engine=Engine(make_session, user_id), concurrency=2
    )
    run_id = saved.start(make_session, user_id, run)

    def after_four(cell):
        if sum(c.state == DONE for c in run.cells) >= 4:
            run.stop()

    run.run(after_four)
    saved.finish(make_session, user_id, run_id, run)
    states = [c.state for c in run.cells]
    done = [c for c in run.cells if c.state == DONE]
    assert 4 <= len(done) < 10
    assert set(states) <= {DONE, STOPPED, NOT_RUN} and NOT_RUN in states
    assert all(c.passed is None for c in run.cells if c.state != DONE)
    record = run.record()
    assert sum(s["counted"] for s in record["stats"]) == len(done)
    reopened = saved.open_record(make_session, user_id, run_id)
    assert reopened["run"]["status"] == "stopped"
    assert [c["state"] for c in reopened["cells"]] == states
    assert [c["content"] for c in reopened["cells"] if c["state"] == DONE] == [c.content for c in done]


class Pressed(BaseException):
    """Stands in for Streamlit's StopException, a BaseException raised from the page's next call."""


def test_a_callback_that_raises_stops_the_run_saves_and_re_raises(db, paced_model):
    make_session, user_id = db
    run = EvalRun(
        twenty_cases(), three_settings(paced_model)[:1], engine=Engine(make_session, user_id), concurrency=2
    )
    run_id = saved.start(make_session, user_id, run)

    def press_after_two(cell):
        if sum(c.state == DONE for c in run.cells) >= 2:
            raise Pressed

    with pytest.raises(Pressed):
        run.run(press_after_two)
    assert all(c.state in (DONE, STOPPED, NOT_RUN) for c in run.cells)
    reopened = saved.open_record(make_session, user_id, run_id)
    assert sum(c["state"] == DONE for c in reopened["cells"]) >= 2
    assert reopened["cells"][-1]["state"] == NOT_RUN


def test_a_fault_switch_in_one_case_makes_one_failed_cell(db, fast_model):
    make_session, user_id = db
    cases = list(twenty_cases().cases[:4])
    cases[2] = Case(vars={"topic": "boom [[fault:status:500]]"}, asserts=cases[2].asserts)
    suite = Suite(prompt="Tell me about {{topic}}", cases=tuple(cases))
    run = EvalRun(suite, three_settings(fast_model)[:1], engine=Engine(make_session, user_id))
    run.run()
    failed = [c for c in run.cells if c.error]
    assert len(failed) == 1
    cell = failed[0]
    assert (cell.case, cell.state, cell.status, cell.passed) == (2, DONE, "error", False)
    assert "500" in cell.error and "Traceback" not in cell.error
    assert [c.passed for c in run.cells] == [True, True, False, True]  # the failed cell counts, as a fail
    assert run.record()["stats"][0]["errors"] == 1


def test_quota_admits_each_request_on_its_own(db, fast_model):
    make_session, user_id = db
    suite = Suite(prompt="{{topic}}", cases=twenty_cases().cases[:6])
    engine = Engine(make_session, user_id, limits=quota.Limits(requests_per_minute=3))
    run = EvalRun(suite, three_settings(fast_model)[:1], engine=engine, concurrency=1)
    run.run()
    assert [c.error is None for c in run.cells] == [True, True, True, False, False, False]
    assert "3 requests per minute" in run.cells[3].error
    assert run.cells[3].passed is False


def test_concurrency_is_bounded_per_setting(db, paced_model):
    make_session, user_id = db
    run = EvalRun(
        twenty_cases(), three_settings(paced_model)[:2], engine=Engine(make_session, user_id), concurrency=3
    )
    most = [0, 0]

    def watch(cell):
        for setting in (0, 1):
            running = sum(c.state == "running" and c.setting == setting for c in run.cells)
            most[setting] = max(most[setting], running)

    run.run(watch)
    assert most == [3, 3]  # each setting has its own three, so the two run side by side


def test_a_suite_that_cannot_run_is_refused_before_sending(db, fast_model):
    make_session, user_id = db
    suite = Suite(prompt="{{missing}}", cases=twenty_cases().cases[:1])
    with pytest.raises(ValueError, match="sets no such variable"):
        EvalRun(suite, three_settings(fast_model), engine=Engine(make_session, user_id))
    with pytest.raises(ValueError, match="1 to 6 settings"):
        EvalRun(twenty_cases(), three_settings(fast_model) * 3, engine=Engine(make_session, user_id))


def test_a_case_s_images_go_with_its_prompt(db, fast_model):
    import base64

    from PIL import Image

    from evals import promptfoo

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    suite = promptfoo.load_yaml(
        f"prompts: ['What colour is this? {{{{q}}}}']\ntests:\n  - vars: {{q: look}}\n    images: ['{url}']\n"
    )
    make_session, user_id = db
    before = len(fast_model.received)
    run = EvalRun(suite, three_settings(fast_model)[1:2], engine=Engine(make_session, user_id))
    run.run()
    assert run.cells[0].state == DONE and run.cells[0].error is None
    content = fast_model.received[before]["body"]["messages"][-1]["content"]
    assert {"type": "text", "text": "What colour is this? look"} in content
    assert any(part.get("type") == "image_url" and part["image_url"]["url"] == url for part in content)


def test_stop_reaches_a_request_the_provider_is_stalling(db, fast_model):
    """Without Stop reaching the request itself, the stalled cell would end after 60 s as done."""
    make_session, user_id = db
    cases = (
        Case(vars={"topic": "plain"}, asserts=()),
        Case(vars={"topic": "slow [[fault:stall:after=2,seconds=60]]"}, asserts=()),
    )
    suite = Suite(prompt="Tell me about {{topic}}", cases=cases)
    run = EvalRun(suite, three_settings(fast_model)[1:2], engine=Engine(make_session, user_id), concurrency=2)

    def stop_after_the_first(cell):
        if cell.case == 0 and cell.state == DONE:
            run.stop()

    run.run(stop_after_the_first)
    assert [c.state for c in run.cells] == [DONE, STOPPED]
    assert run.cells[1].passed is None
