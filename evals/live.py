"""Evaluations going on in this process: each runs on its own thread, so no page rerun can stop it.

Why it exists: a Streamlit script that runs a suite itself is stopped by the next rerun, and any click
in the page reruns it. So the page hands the run to a thread here and only draws it: it reads the
run's cells (`LiveRun.record()`) on a timer while the person opens cells, switches tabs or reloads.
The thread belongs to the process, not to a browser tab, so a reload (a new session) finds the run
still going, by its stored id, and can stop it.

What must stay true:
- Every cell is saved as it settles (evals/saved.py) and the run is marked finished or stopped when the
  thread ends, whatever happened, so what the thread did is in the database even if nobody watches.
- `stop()` is safe from any thread: finished cells stay, the rest become stopped or not run.
- A run is found only by the person who started it (`find(user_id, run_id)`).
- A page served by another app process stops the run through the database (storage.evals.request_stop):
  while the run goes, its process looks at that flag every `STOP_POLL_SECONDS`.
- The registry forgets a run once its end is stored, so a reader who misses it reads the database.

No streamlit here.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from evals import saved
from evals.runner import EvalRun
from storage import evals as store

log = logging.getLogger(__name__)

STOP_POLL_SECONDS = 1.0
_lock = threading.Lock()
_runs: dict[int, LiveRun] = {}


@dataclass
class LiveRun:
    """A stored evaluation run being filled by a thread of this process."""

    run_id: int
    user_id: int
    run: EvalRun
    thread: threading.Thread | None = None
    ended: threading.Event = field(default_factory=threading.Event)

    @property
    def finished(self) -> bool:
        """True once the thread has stored how the run ended."""
        return self.ended.is_set()

    def stop(self) -> None:
        """Stop the run: cells in flight are cut short, cells not sent are not sent."""
        self.run.stop()

    def record(self) -> dict[str, Any]:
        """The results document as it stands now (cells still running included), marked running."""
        record = self.run.record()
        record["run"] = {"id": self.run_id, "title": self.run.suite.name, "status": "running"}
        return record

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run's end is stored (tests and the command line); True if it ended."""
        return self.ended.wait(timeout)


def start(
    make_session: sessionmaker[Session], user_id: int, run: EvalRun, *, suite_id: int | None = None
) -> LiveRun:
    """Store the run, then run it on a thread of its own; return at once."""
    run_id = saved.start(make_session, user_id, run, suite_id=suite_id)
    live = LiveRun(run_id=run_id, user_id=user_id, run=run)

    def work() -> None:
        try:
            run.run()
        except BaseException:  # a database refusing a cell, a bug: logged, and the run still ends stored
            log.exception("evaluation run %s failed", run_id)
        finally:
            try:
                saved.finish(make_session, user_id, run_id, run)
            except Exception:
                log.exception("evaluation run %s: its end could not be stored", run_id)
            with _lock:
                _runs.pop(run_id, None)
            live.ended.set()

    def watch_for_stop() -> None:
        while not live.ended.wait(STOP_POLL_SECONDS):
            try:
                with make_session() as session:
                    asked = store.stop_requested(session, run_id)
            except Exception:  # the database is busy or gone for a moment: look again later
                log.warning("evaluation run %s: could not read its stop flag", run_id, exc_info=True)
                continue
            if asked:
                run.stop()
                return

    live.thread = threading.Thread(target=work, name=f"evaluation-{run_id}", daemon=True)
    with _lock:
        _runs[run_id] = live
    live.thread.start()
    threading.Thread(target=watch_for_stop, name=f"evaluation-{run_id}-stop", daemon=True).start()
    return live


def find(user_id: int, run_id: int) -> LiveRun | None:
    """The user's run `run_id` if this process is running it now, else None."""
    with _lock:
        live = _runs.get(run_id)
    return live if live is not None and live.user_id == user_id else None
