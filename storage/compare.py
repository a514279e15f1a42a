"""Compare runs: one prompt sent to 2-6 columns (each its own parameters, system prompt and model),
each repeated k times, and every reply kept.

What must stay true: the same guarantees as chat replies. A result row exists from its first token,
grows as it streams (grow_result is the heartbeat), records how it ended, and a result left "streaming"
by a dead writer reads as "interrupted" when the run is next opened. Every function is scoped to the
acting user; others' ids behave as missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import liveness
from storage.models import CompareResult, CompareRun, CompareRunAttachment, User, utcnow
from storage.repository import (
    ImageInput,
    NotFound,
    check_finished_status,
    finish_row,
    forget_unused_images,
    grow_row,
    store_image,
)

RUN_FIELDS = frozenset({"title", "prompt", "history", "columns", "repeats"})


def create_compare_run(
    session: Session,
    user: User,
    *,
    prompt: str,
    columns: list[dict[str, Any]],
    title: str = "Comparison",
    repeats: int = 1,
    history: list[dict[str, Any]] | None = None,
    images: Iterable[ImageInput] = (),
) -> CompareRun:
    """A new run; `columns` holds one dict per column ({"label", "endpoint", "model", "system_prompt",
    "params"}); images are normalised and stored like chat images."""
    if repeats < 1:
        raise ValueError("A run repeats each column at least once.")
    stored = [store_image(session, user, image) for image in images]
    now = utcnow()
    run = CompareRun(
        user_id=user.id,
        title=title,
        prompt=prompt,
        history=list(history or []),
        columns=[dict(c) for c in columns],
        repeats=repeats,
        created_at=now,
        updated_at=now,
    )
    session.add(run)
    session.flush()
    for position, attachment in enumerate(stored):
        session.add(CompareRunAttachment(run_id=run.id, attachment_id=attachment.id, position=position))
    if stored:
        session.flush()
        session.expire(run, ["attachments"])
    return run


def list_compare_runs(session: Session, user: User, *, limit: int = 50, offset: int = 0) -> list[CompareRun]:
    """The user's runs, most recent first."""
    stmt = (
        select(CompareRun)
        .where(CompareRun.user_id == user.id)
        .order_by(CompareRun.updated_at.desc(), CompareRun.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt))


def get_compare_run(session: Session, user: User, run_id: int) -> CompareRun | None:
    """The user's run with its results; results whose writer died become "interrupted"."""
    run = _own_run(session, user, run_id)
    if run is None:
        return None
    now = utcnow()
    changed = False
    for result in run.results:
        if result.status == "streaming" and liveness.is_interrupted(
            result.stream_owner, result.updated_at, now
        ):
            result.status = "interrupted"
            result.error = result.error or "The reply was cut short: the app stopped while it was streaming."
            changed = True
    if changed:
        session.flush()
    return run


def update_compare_run(session: Session, user: User, run_id: int, **fields: Any) -> CompareRun | None:
    """Change title, prompt, history, columns or repeats; None if not the user's."""
    unknown = set(fields) - RUN_FIELDS
    if unknown:
        raise TypeError(f"update_compare_run does not set {', '.join(sorted(unknown))}")
    run = _own_run(session, user, run_id)
    if run is None:
        return None
    for name, value in fields.items():
        setattr(run, name, value)
    run.updated_at = utcnow()
    session.flush()
    return run


def delete_compare_run(session: Session, user: User, run_id: int) -> bool:
    """Delete the run, its results and the images nothing else uses; False if not the user's."""
    run = _own_run(session, user, run_id)
    if run is None:
        return False
    attachment_ids = [a.id for a in run.attachments]
    session.delete(run)
    session.flush()
    forget_unused_images(session, user, attachment_ids)
    return True


def start_result(
    session: Session,
    user: User,
    run_id: int,
    *,
    column_index: int,
    repeat_index: int = 0,
    turn_index: int = 0,
    prompt: str = "",
    request_body: dict[str, Any] | None = None,
    candidate_index: int = 0,
) -> CompareResult:
    """The row of one column's reply, about to stream."""
    run = _own_run(session, user, run_id)
    if run is None:
        raise NotFound(f"No compare run {run_id}.")
    now = utcnow()
    result = CompareResult(
        run_id=run.id,
        column_index=column_index,
        repeat_index=repeat_index,
        turn_index=turn_index,
        prompt=prompt,
        content="",
        status="streaming",
        request_body={
            k: v for k, v in (request_body or {}).items() if k.lower() not in ("api_key", "authorization")
        },
        candidate_index=candidate_index,
        stream_owner=liveness.current_tag(),
        created_at=now,
        updated_at=now,
    )
    session.add(result)
    run.updated_at = now
    session.flush()
    return result


def grow_result(
    session: Session, user: User, result_id: int, *, content: str, thought: str | None = None
) -> None:
    """Save a column's reply so far (at least every second while streaming)."""
    grow_row(_require_result(session, user, result_id), content=content, thought=thought, label="result")
    session.flush()


def finish_result(
    session: Session,
    user: User,
    result_id: int,
    *,
    status: str,
    content: str,
    thought: str | None = None,
    finish_reason: str | None = None,
    usage: dict | None = None,
    timings: dict | None = None,
    error: str | None = None,
    tool_calls: list | None = None,
    logprobs: list | None = None,
) -> CompareResult:
    """Record how a column's reply ended; optional fields left None keep what is stored."""
    check_finished_status(status)
    result = _require_result(session, user, result_id)
    finish_row(
        result,
        status=status,
        content=content,
        thought=thought,
        finish_reason=finish_reason,
        usage=usage,
        timings=timings,
        error=error,
        tool_calls=tool_calls,
        logprobs=logprobs,
    )
    session.flush()
    return result


def _own_run(session: Session, user: User, run_id: int) -> CompareRun | None:
    return session.scalar(select(CompareRun).where(CompareRun.id == run_id, CompareRun.user_id == user.id))


def _require_result(session: Session, user: User, result_id: int) -> CompareResult:
    result = session.scalar(
        select(CompareResult)
        .join(CompareRun, CompareRun.id == CompareResult.run_id)
        .where(CompareResult.id == result_id, CompareRun.user_id == user.id)
    )
    if result is None:
        raise NotFound(f"No compare result {result_id}.")
    return result


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def run_to_dict(run: CompareRun) -> dict[str, Any]:
    """A compare run as JSON-ready data: the one shape of a run outside the database.

    The JSON export and a share link's snapshot are both this: the prompt, history, columns, the
    prompt's images as `data:` URLs, and every result (turn x column x repeat) with its metrics."""
    return {
        "title": run.title,
        "prompt": run.prompt,
        "history": run.history or [],
        "columns": run.columns or [],
        "repeats": run.repeats,
        "images": [a.data_url() for a in run.attachments or []],
        "created_at": _iso(run.created_at),
        "updated_at": _iso(run.updated_at),
        "results": [
            {
                "turn_index": r.turn_index,
                "column_index": r.column_index,
                "repeat_index": r.repeat_index,
                "candidate_index": r.candidate_index,
                "prompt": r.prompt,
                "content": r.content,
                "thought": r.thought,
                "status": r.status,
                "error": r.error,
                "finish_reason": r.finish_reason,
                "usage": r.usage,
                "timings": r.timings,
                "request_body": r.request_body,
                "tool_calls": r.tool_calls,
                "logprobs": r.logprobs,
                "created_at": _iso(r.created_at),
            }
            for r in run.results
        ],
    }
