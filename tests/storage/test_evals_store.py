"""storage.evals on SQLite and PostgreSQL: suites and evaluation runs per user, cells written once per
position as they settle, blind-review votes kept, a dead run read as interrupted, and another person's
ids behaving as missing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import evals as store
from storage.models import EvaluationRun
from storage.repository import NotFound

SUITE = {
    "name": "S",
    "prompt": "{{q}}",
    "tests": [{"vars": {"q": "a"}, "assert": [{"type": "contains", "value": "a"}]}],
}
SETTINGS = [
    {"name": "cold", "endpoint": "offline", "model": "m", "system_prompt": "", "params": {"temperature": 0}}
]


def cell(case=0, setting=0, repeat=0, passed=True, content="a"):
    return {
        "case": case,
        "setting": setting,
        "repeat": repeat,
        "state": "done",
        "passed": passed,
        "content": content,
    }


def test_suites_are_kept_listed_changed_and_deleted_per_user(session, alice, bob):
    mine = store.create_suite(session, alice, name="Mine", suite=SUITE)
    store.create_suite(session, bob, name="Bob's", suite=SUITE)
    session.commit()
    assert [s.name for s in store.list_suites(session, alice)] == ["Mine"]
    assert store.get_suite(session, bob, mine.id) is None
    assert store.update_suite(session, bob, mine.id, name="stolen") is None
    assert store.delete_suite(session, bob, mine.id) is False
    store.update_suite(session, alice, mine.id, name="Renamed", suite={**SUITE, "prompt": "Q: {{q}}"})
    session.commit()
    again = store.get_suite(session, alice, mine.id)
    assert (again.name, again.suite["prompt"]) == ("Renamed", "Q: {{q}}")
    assert store.delete_suite(session, alice, mine.id) is True


def test_a_run_keeps_its_cells_once_per_position_and_its_votes(session, alice):
    suite = store.create_suite(session, alice, name="S", suite=SUITE)
    run = store.create_run(
        session, alice, title="S", suite=SUITE, settings=SETTINGS, repeats=2, suite_id=suite.id
    )
    store.save_cell(session, alice, run.id, cell(passed=None, content="partial"))
    store.save_cell(session, alice, run.id, cell(passed=True, content="whole"))
    store.save_cell(session, alice, run.id, cell(repeat=1, passed=False))
    store.add_review(session, alice, run.id, {"case": 0, "repeat": 0, "a": 0, "b": 0, "winner": None})
    store.finish_run(session, alice, run.id, status="finished")
    session.commit()
    session.expire_all()
    again = store.get_run(session, alice, run.id)
    assert [(c.repeat_index, c.passed, c.data["content"]) for c in again.cells] == [
        (0, True, "whole"),
        (1, False, "a"),
    ]
    assert again.reviews == [{"case": 0, "repeat": 0, "a": 0, "b": 0, "winner": None}]
    assert again.status == "finished" and again.suite_id == suite.id
    # Deleting the saved suite keeps the run and its own copy of the suite.
    store.delete_suite(session, alice, suite.id)
    session.commit()
    session.expire_all()
    kept = store.get_run(session, alice, run.id)
    assert kept.suite_id is None and kept.suite == SUITE


def test_another_persons_run_behaves_as_missing(session, alice, bob):
    run = store.create_run(session, alice, title="S", suite=SUITE, settings=SETTINGS)
    session.commit()
    assert store.get_run(session, bob, run.id) is None
    assert store.list_runs(session, bob) == []
    with pytest.raises(NotFound):
        store.save_cell(session, bob, run.id, cell())
    with pytest.raises(NotFound):
        store.add_review(session, bob, run.id, {"a": 0, "b": 0, "winner": 0})
    assert store.delete_run(session, bob, run.id) is False
    theirs = store.create_suite(session, bob, name="B", suite=SUITE)
    linked = store.create_run(session, alice, title="S", suite=SUITE, settings=SETTINGS, suite_id=theirs.id)
    assert linked.suite_id is None


def test_a_run_whose_writer_died_reads_as_interrupted(session, alice):
    run = store.create_run(session, alice, title="S", suite=SUITE, settings=SETTINGS)
    session.commit()
    row = session.get(EvaluationRun, run.id)
    row.updated_at = row.updated_at - store.STALE_AFTER - timedelta(seconds=1)
    session.commit()
    assert store.get_run(session, alice, run.id).status == "interrupted"


def test_deleting_a_run_deletes_its_cells(session, alice):
    run = store.create_run(session, alice, title="S", suite=SUITE, settings=SETTINGS)
    store.save_cell(session, alice, run.id, cell())
    session.commit()
    assert store.delete_run(session, alice, run.id) is True
    session.commit()
    assert store.list_runs(session, alice) == []


def test_only_the_owner_shares_a_run_and_the_link_holds_the_snapshot(session, alice, bob):
    from storage import sharing

    run = store.create_run(session, alice, title="S", suite=SUITE, settings=SETTINGS)
    session.commit()
    snapshot = {"run": {"title": "Mine"}, "settings": SETTINGS, "cells": [cell()]}
    assert sharing.create_evaluation_link(session, bob, run_id=run.id, snapshot=snapshot) is None
    link = sharing.create_evaluation_link(session, alice, run_id=run.id, snapshot=snapshot)
    session.commit()
    opened = sharing.open_share_link(session, link.token)
    assert (opened.kind, opened.title, opened.snapshot) == ("evaluation", "Mine", snapshot)


def test_suites_and_cells_keep_text_no_database_stores_as_it_is(session_maker, session, alice):
    hard = "nul \x00 and a lone surrogate \ud800"
    suite = {**SUITE, "name": hard, "tests": [{"vars": {"q": hard}, "assert": []}]}
    saved_suite = store.create_suite(session, alice, name=hard, suite=suite)
    run = store.create_run(session, alice, title=hard, suite=suite, settings=SETTINGS)
    store.save_cell(session, alice, run.id, cell(content=hard))
    session.commit()
    with session_maker() as fresh:
        me = fresh.get(type(alice), alice.id)
        assert store.get_suite(fresh, me, saved_suite.id).name == hard
        assert store.get_suite(fresh, me, saved_suite.id).suite == suite
        again = store.get_run(fresh, me, run.id)
        assert (again.title, again.cells[0].data["content"]) == (hard, hard)


def test_deleting_a_suite_with_its_runs_leaves_a_running_one_and_others_suites_alone(session, alice):
    suite = store.create_suite(session, alice, name="S", suite=SUITE)
    other = store.create_suite(session, alice, name="T", suite=SUITE)
    done = store.create_run(session, alice, title="S", suite=SUITE, settings=SETTINGS, suite_id=suite.id)
    store.finish_run(session, alice, done.id, status="finished")
    going = store.create_run(session, alice, title="S", suite=SUITE, settings=SETTINGS, suite_id=suite.id)
    elsewhere = store.create_run(session, alice, title="T", suite=SUITE, settings=SETTINGS, suite_id=other.id)
    session.commit()
    assert [r.id for r in store.runs_of_suite(session, alice, suite.id)] == [going.id, done.id]

    assert store.delete_suite(session, alice, suite.id, with_runs=True) is True
    session.commit()
    session.expire_all()
    assert store.get_run(session, alice, done.id) is None  # its cells go with it
    kept = store.get_run(session, alice, going.id)
    assert kept is not None and kept.suite_id is None and kept.status == "running"
    assert store.get_run(session, alice, elsewhere.id).suite_id == other.id
    assert [s.name for s in store.list_suites(session, alice)] == ["T"]
