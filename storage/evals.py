"""Evaluations: saved prompt suites, their runs, each run's cells and blind-review votes.

What must stay true: every function takes the session and the acting user, and another person's ids
behave as missing (None or False, or NotFound for a write). A cell is written when it settles, one row
per (case, setting, repeat): writing the same position again replaces it, so a rerun of a cell or a
late save never makes two. A run still marked "running" whose process is gone (its writer tag names a
dead process on this host) or whose cells stopped changing is read as "interrupted" (the app stopped
while it ran), the same rules as a streaming reply (storage/liveness.py).
This module holds documents (suites and cells are JSON in the shapes evals/ writes); it never reads them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import liveness
from storage.models import EvaluationCell, EvaluationRun, SavedSuite, User, utcnow
from storage.repository import NotFound

RUN_STATUSES = ("running", "finished", "stopped", "interrupted")
STALE_AFTER = timedelta(minutes=10)  # a running evaluation that wrote nothing for this long has died


# -- suites ---------------------------------------------------------------------------------------------


def create_suite(session: Session, user: User, *, name: str, suite: dict[str, Any]) -> SavedSuite:
    """Keep a suite for the user."""
    now = utcnow()
    row = SavedSuite(
        user_id=user.id, name=(name or "Suite")[:500], suite=dict(suite), created_at=now, updated_at=now
    )
    session.add(row)
    session.flush()
    return row


def list_suites(session: Session, user: User, *, limit: int = 100) -> list[SavedSuite]:
    """The user's suites, most recently changed first."""
    stmt = (
        select(SavedSuite)
        .where(SavedSuite.user_id == user.id)
        .order_by(SavedSuite.updated_at.desc(), SavedSuite.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def get_suite(session: Session, user: User, suite_id: int) -> SavedSuite | None:
    """One of the user's suites, or None."""
    return session.scalar(select(SavedSuite).where(SavedSuite.id == suite_id, SavedSuite.user_id == user.id))


def update_suite(
    session: Session,
    user: User,
    suite_id: int,
    *,
    name: str | None = None,
    suite: dict[str, Any] | None = None,
) -> SavedSuite | None:
    """Rename a suite or replace its content; None if not the user's."""
    row = get_suite(session, user, suite_id)
    if row is None:
        return None
    if name is not None:
        row.name = (name or "Suite")[:500]
    if suite is not None:
        row.suite = dict(suite)
    row.updated_at = utcnow()
    session.flush()
    return row


def runs_of_suite(session: Session, user: User, suite_id: int) -> list[EvaluationRun]:
    """The user's runs of one saved suite, most recent first."""
    stmt = (
        select(EvaluationRun)
        .where(EvaluationRun.user_id == user.id, EvaluationRun.suite_id == suite_id)
        .order_by(EvaluationRun.updated_at.desc(), EvaluationRun.id.desc())
    )
    return list(session.scalars(stmt))


def delete_suite(session: Session, user: User, suite_id: int, *, with_runs: bool = False) -> bool:
    """Delete a suite; False if not the user's.

    Its runs stay by default: each holds its own copy of the suite as it ran, so it still opens,
    exports and shares (its link to the suite is cleared). With `with_runs` the runs go too, except
    one still running, which is left to finish (its writer would otherwise lose the row it fills)."""
    row = get_suite(session, user, suite_id)
    if row is None:
        return False
    for run in runs_of_suite(session, user, suite_id):
        _notice_interruption(session, run)
        if with_runs and run.status != "running":
            session.delete(run)
        else:
            run.suite_id = None
    session.delete(row)
    session.flush()
    return True


# -- runs -----------------------------------------------------------------------------------------------


def create_run(
    session: Session,
    user: User,
    *,
    title: str,
    suite: dict[str, Any],
    settings: list[dict[str, Any]],
    repeats: int = 1,
    grader: dict[str, Any] | None = None,
    suite_id: int | None = None,
) -> EvaluationRun:
    """A new run, before anything is sent. `settings` must not hold a key (only endpoint names)."""
    if repeats < 1:
        raise ValueError("A run repeats each case at least once.")
    if suite_id is not None and get_suite(session, user, suite_id) is None:
        suite_id = None  # someone else's suite id is no link
    now = utcnow()
    run = EvaluationRun(
        user_id=user.id,
        suite_id=suite_id,
        title=(title or "Evaluation")[:500],
        suite=dict(suite),
        settings=[dict(s) for s in settings],
        grader=dict(grader) if grader else None,
        repeats=repeats,
        status="running",
        writer=liveness.current_tag(),
        reviews=[],
        created_at=now,
        updated_at=now,
    )
    session.add(run)
    session.flush()
    return run


def list_runs(session: Session, user: User, *, limit: int = 50) -> list[EvaluationRun]:
    """The user's runs, most recent first (a run whose writer died reads as "interrupted")."""
    stmt = (
        select(EvaluationRun)
        .where(EvaluationRun.user_id == user.id)
        .order_by(EvaluationRun.updated_at.desc(), EvaluationRun.id.desc())
        .limit(limit)
    )
    runs = list(session.scalars(stmt))
    for run in runs:
        _notice_interruption(session, run)
    return runs


def get_run(session: Session, user: User, run_id: int) -> EvaluationRun | None:
    """One of the user's runs with its cells; a run whose writer died reads as "interrupted"."""
    run = _own_run(session, user, run_id)
    if run is not None:
        _notice_interruption(session, run)
    return run


def _notice_interruption(session: Session, run: EvaluationRun) -> None:
    if run.status == "running" and (
        liveness.writer_is_dead(run.writer) or utcnow() - run.updated_at > STALE_AFTER
    ):
        run.status = "interrupted"
        session.flush()


def run_version(session: Session, user: User, run_id: int) -> tuple[str, str] | None:
    """When the run last changed and its status (a cheap check before reading its cells), or None."""
    row = session.execute(
        select(EvaluationRun.updated_at, EvaluationRun.status).where(
            EvaluationRun.id == run_id, EvaluationRun.user_id == user.id
        )
    ).first()
    return None if row is None else (row[0].isoformat(), row[1])


def save_cell(session: Session, user: User, run_id: int, cell: dict[str, Any]) -> EvaluationCell:
    """Write one settled cell ({"case", "setting", "repeat", "passed", ...}), replacing an earlier one."""
    run = _own_run(session, user, run_id)
    if run is None:
        raise NotFound(f"No evaluation run {run_id}.")
    position = (int(cell["case"]), int(cell["setting"]), int(cell.get("repeat") or 0))
    row = session.scalar(
        select(EvaluationCell).where(
            EvaluationCell.run_id == run.id,
            EvaluationCell.case_index == position[0],
            EvaluationCell.setting_index == position[1],
            EvaluationCell.repeat_index == position[2],
        )
    )
    now = utcnow()
    if row is None:
        row = EvaluationCell(
            run_id=run.id, case_index=position[0], setting_index=position[1], repeat_index=position[2]
        )
        session.add(row)
    row.passed = cell.get("passed")
    row.data = dict(cell)
    row.updated_at = now
    run.updated_at = now
    session.flush()
    return row


def finish_run(session: Session, user: User, run_id: int, *, status: str) -> EvaluationRun:
    """Record how a run ended: finished, or stopped (some cells not run)."""
    if status not in RUN_STATUSES:
        raise ValueError(f"Unknown run status {status!r}.")
    run = _own_run(session, user, run_id)
    if run is None:
        raise NotFound(f"No evaluation run {run_id}.")
    run.status = status
    run.updated_at = utcnow()
    session.flush()
    return run


def request_stop(session: Session, user: User, run_id: int) -> bool:
    """Ask the process running the run to stop it (from a page in any app process); False when it is
    not the user's or not running."""
    run = _own_run(session, user, run_id)
    if run is None or run.status != "running":
        return False
    run.stop_requested = True
    session.flush()
    return True


def stop_requested(session: Session, run_id: int) -> bool:
    """Whether someone asked to stop the run (read by the process running it, which owns the id)."""
    return bool(session.scalar(select(EvaluationRun.stop_requested).where(EvaluationRun.id == run_id)))


def add_review(session: Session, user: User, run_id: int, vote: dict[str, Any]) -> EvaluationRun:
    """Add one blind-review vote ({"case", "repeat", "a", "b", "winner"}) to the run."""
    run = _own_run(session, user, run_id)
    if run is None:
        raise NotFound(f"No evaluation run {run_id}.")
    run.reviews = [*(run.reviews or []), dict(vote)]
    run.updated_at = utcnow()
    session.flush()
    return run


def delete_run(session: Session, user: User, run_id: int) -> bool:
    """Delete a run and its cells; False if not the user's."""
    run = _own_run(session, user, run_id)
    if run is None:
        return False
    session.delete(run)
    session.flush()
    return True


def _own_run(session: Session, user: User, run_id: int) -> EvaluationRun | None:
    return session.scalar(
        select(EvaluationRun).where(EvaluationRun.id == run_id, EvaluationRun.user_id == user.id)
    )
