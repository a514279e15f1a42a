"""Keeping evaluations: a run's cells written as they settle, and a saved run read back as a results document.

Why it exists: a run is saved before anything is sent and each cell as it finishes, so Stop, a rerun of
the page or a crash keeps what was done; and reopening a run must show exactly what the export and the
command line show, so a stored run becomes the same document as `EvalRun.record()`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from evals.runner import Cell, EvalRun, results_record
from storage import evals as store
from storage.models import EvaluationRun, User


def start(
    make_session: sessionmaker[Session], user_id: int, run: EvalRun, *, suite_id: int | None = None
) -> int:
    """Store a new run (suite, settings, repeats) and make `run` save each cell; return its id."""
    with make_session() as session:
        row = store.create_run(
            session,
            session.get(User, user_id),
            title=run.suite.name,
            suite=run.suite.to_dict(),
            settings=[s.stored() for s in run.settings],
            repeats=run.repeats,
            grader=run.grader_setting.stored() if run.grader_setting else None,
            suite_id=suite_id,
        )
        session.commit()
        run_id = row.id

    def save(cell: Cell) -> None:
        with make_session() as session:
            store.save_cell(session, session.get(User, user_id), run_id, cell.to_dict())
            session.commit()

    run.on_done = save
    return run_id


def finish(make_session: sessionmaker[Session], user_id: int, run_id: int, run: EvalRun) -> None:
    """Mark the run finished, or stopped when some cells did not run to the end."""
    status = "stopped" if any(c.state != "done" for c in run.cells) else "finished"
    with make_session() as session:
        store.finish_run(session, session.get(User, user_id), run_id, status=status)
        session.commit()


def record_of(row: EvaluationRun) -> dict[str, Any]:
    """A stored run as the results document, with every cell it should have: a cell not saved yet is
    "waiting" while the run goes, and "not run" once it has ended."""
    suite = row.suite or {}
    cells: dict[tuple[int, int, int], dict[str, Any]] = {
        (c.case_index, c.setting_index, c.repeat_index): dict(c.data) for c in row.cells
    }
    unsaved = "waiting" if row.status == "running" else "not run"
    ordered = []
    for case in range(len(suite.get("tests") or [])):
        for repeat in range(row.repeats):
            for setting in range(len(row.settings or [])):
                ordered.append(
                    cells.get((case, setting, repeat))
                    or Cell(case=case, setting=setting, repeat=repeat, state=unsaved).to_dict()
                )
    record = results_record(
        suite, row.settings or [], row.repeats, ordered, grader=row.grader, reviews=row.reviews or []
    )
    record["run"] = {
        "id": row.id,
        "title": row.title,
        "status": row.status,
        "created_at": row.created_at.isoformat(),
    }
    return record


def open_record(make_session: sessionmaker[Session], user_id: int, run_id: int) -> dict[str, Any] | None:
    """The user's stored run as a results document, or None."""
    with make_session() as session:
        row = store.get_run(session, session.get(User, user_id), run_id)
        if row is None:
            return None
        record = record_of(row)
        session.commit()
        return record


def save_record(make_session: sessionmaker[Session], user_id: int, record: dict[str, Any]) -> int:
    """Store a finished results document (the command line's `--database`); return the run's id."""
    with make_session() as session:
        user = session.get(User, user_id)
        row = store.create_run(
            session,
            user,
            title=record["suite"].get("name") or "Evaluation",
            suite=record["suite"],
            settings=record["settings"],
            repeats=record["repeats"],
            grader=record.get("grader"),
        )
        for cell in record["cells"]:
            store.save_cell(session, user, row.id, cell)
        status = "stopped" if any(c["state"] != "done" for c in record["cells"]) else "finished"
        store.finish_run(session, user, row.id, status=status)
        session.commit()
        return row.id
