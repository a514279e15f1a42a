"""An evaluation keeps to its own rows: nothing of it shows in the Compare page, while it runs or after
its process dies mid-run, and a run whose process died reads as interrupted at once. On both engines.

The crash is real: a child process runs an evaluation against the offline model and ends itself with
os._exit (no `finally`, no clean-up) once two cells are saved.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from sqlalchemy import func, select

from chat_client import Endpoint, Params
from evals import saved
from evals.engine import Engine, Setting
from evals.runner import DONE, EvalRun
from evals.suite import Assertion, Case, Suite
from storage import compare as compare_store
from storage import evals as evals_store
from storage import open_database, repository, session_factory
from storage.models import CompareResult, CompareRun, UsageEvent, User
from tests.browser.support import ROOT


def suite(n: int = 6) -> Suite:
    cases = tuple(Case(vars={"topic": f"topic {i}"}, asserts=(Assertion("not-is-json"),)) for i in range(n))
    return Suite(prompt="Tell me about {{topic}}", cases=cases, name="Leftovers")


def test_a_running_evaluation_is_not_a_comparison(db_url, offline):
    make_session = session_factory(open_database(db_url))
    with make_session() as session:
        user_id = repository.ensure_user(session, "local").id
        session.commit()
    endpoint = Endpoint(base_url=offline.base_url, name="offline")
    run = EvalRun(
        suite(),
        [Setting("plain", endpoint, Params(model="gemini-2.5-flash", temperature=0, seed=1))],
        engine=Engine(make_session, user_id),
        concurrency=2,
    )
    run_id = saved.start(make_session, user_id, run)
    seen_mid_run: list[int] = []

    def look_at_compare(cell):
        if cell.state == "running":
            with make_session() as session:
                seen_mid_run.append(len(compare_store.list_compare_runs(session, session.get(User, user_id))))

    run.run(look_at_compare)
    saved.finish(make_session, user_id, run_id, run)
    assert seen_mid_run and set(seen_mid_run) == {0}
    assert all(c.state == DONE and c.error is None and c.content for c in run.cells)
    with make_session() as session:
        assert session.scalar(select(func.count()).select_from(CompareRun)) == 0
        assert session.scalar(select(func.count()).select_from(CompareResult)) == 0
        # Each request still went through quota admission and the usage ledger, as its own kind.
        kinds = session.scalars(select(UsageEvent.kind).where(UsageEvent.user_id == user_id)).all()
        assert kinds == ["evaluation"] * 6


CRASHING_RUN = textwrap.dedent(
    """
    import os, sys
    from chat_client import Endpoint, Params
    from evals import saved
    from evals.engine import Engine, Setting
    from evals.runner import EvalRun
    from evals.suite import Assertion, Case, Suite
    from storage import open_database, repository, session_factory

    url, base_url = sys.argv[1], sys.argv[2]
    make_session = session_factory(open_database(url))
    with make_session() as session:
        user_id = repository.ensure_user(session, "local").id
        session.commit()
    cases = tuple(Case(vars={"topic": f"topic {i}"}, asserts=(Assertion("not-is-json"),)) for i in range(40))
    endpoint = Endpoint(base_url=base_url, name="offline")
    run = EvalRun(
        Suite(prompt="Tell me about {{topic}}", cases=cases, name="Crashes"),
        [Setting("plain", endpoint, Params(model="gemini-2.5-flash", temperature=0, seed=1))],
        engine=Engine(make_session, user_id),
        concurrency=2,
    )
    run_id = saved.start(make_session, user_id, run)
    save = run.on_done
    count = [0]

    def save_then_die(cell):
        save(cell)
        count[0] += 1
        if count[0] == 2:
            print(run_id, flush=True)
            os._exit(3)  # the process dies: no finally, no engine.close(), no finish()

    run.on_done = save_then_die
    run.run()
    """
)


def test_a_process_that_dies_mid_run_leaves_nothing_in_compare(db_url, offline):
    make_session = session_factory(open_database(db_url))
    child = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN, db_url, offline.base_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 3, child.stderr
    run_id = int(child.stdout.split()[-1])
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        assert compare_store.list_compare_runs(session, user) == []
        assert session.scalar(select(func.count()).select_from(CompareRun)) == 0
        # The run's writer is gone: it reads as interrupted now, not "running" for minutes.
        [listed] = evals_store.list_runs(session, user)
        assert (listed.id, listed.status) == (run_id, "interrupted")
        session.commit()
    record = saved.open_record(make_session, user.id, run_id)
    assert record["run"]["status"] == "interrupted"
    finished = [c for c in record["cells"] if c["state"] == DONE]
    assert len(finished) == 2 and all(c["error"] is None and c["content"] for c in finished)
    assert sum(c["state"] == "not run" for c in record["cells"]) == 38
