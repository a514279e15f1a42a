"""Compare runs: columns, repeats and turns of results that stream and end like chat replies."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from storage import compare
from storage.models import CompareResult

from .images_for_tests import png_bytes

COLUMNS = [
    {"label": "cold", "model": "gemini-2.5-flash", "system_prompt": "", "params": {"temperature": 0}},
    {"label": "hot", "model": "gemini-2.5-flash", "system_prompt": "", "params": {"temperature": 1.5}},
]


def test_run_with_results_round_trips(session, alice):
    run = compare.create_compare_run(
        session, alice, prompt="Name a colour.", columns=COLUMNS, repeats=2, images=[(png_bytes(), "p.png")]
    )
    for column in range(2):
        for repeat in range(2):
            res = compare.start_result(session, alice, run.id, column_index=column, repeat_index=repeat)
            compare.grow_result(session, alice, res.id, content="Bl")
            compare.finish_result(
                session,
                alice,
                res.id,
                status="complete",
                content=f"Blue {column}{repeat}",
                usage={"completion_tokens": 2},
                timings={"ttft_s": 0.1},
                finish_reason="stop",
            )
    session.commit()
    session.expunge_all()
    got = compare.get_compare_run(session, alice, run.id)
    assert got.columns == COLUMNS and got.repeats == 2
    assert [(x.column_index, x.repeat_index, x.content) for x in got.results] == [
        (0, 0, "Blue 00"),
        (0, 1, "Blue 01"),
        (1, 0, "Blue 10"),
        (1, 1, "Blue 11"),
    ]
    assert len(got.attachments) == 1


def test_abandoned_result_reads_as_interrupted(session, alice):
    run = compare.create_compare_run(session, alice, prompt="p", columns=COLUMNS)
    res = compare.start_result(session, alice, run.id, column_index=0)
    session.commit()
    session.execute(update(CompareResult).where(CompareResult.id == res.id).values(stream_owner="gone|x|1|1"))
    session.execute(
        update(CompareResult)
        .where(CompareResult.id == res.id)
        .values(updated_at=res.created_at.replace(year=2020))
    )
    session.commit()
    session.expunge_all()
    assert compare.get_compare_run(session, alice, run.id).results[0].status == "interrupted"


def test_list_rename_and_delete_runs(session, alice):
    a = compare.create_compare_run(session, alice, prompt="a", columns=COLUMNS, title="A")
    b = compare.create_compare_run(session, alice, prompt="b", columns=COLUMNS, title="B")
    session.commit()
    assert [r.id for r in compare.list_compare_runs(session, alice)] == [b.id, a.id]
    compare.update_compare_run(session, alice, a.id, title="A2")
    assert compare.get_compare_run(session, alice, a.id).title == "A2"
    assert compare.delete_compare_run(session, alice, a.id)
    assert compare.get_compare_run(session, alice, a.id) is None


def test_bad_status_and_repeats_are_refused(session, alice):
    with pytest.raises(ValueError):
        compare.create_compare_run(session, alice, prompt="p", columns=COLUMNS, repeats=0)
    run = compare.create_compare_run(session, alice, prompt="p", columns=COLUMNS)
    res = compare.start_result(session, alice, run.id, column_index=0)
    with pytest.raises(ValueError):
        compare.finish_result(session, alice, res.id, status="streaming", content="")
