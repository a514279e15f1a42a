"""Running a suite: every case x every setting x k repeats, a bounded number at a time, each cell checked.

Why it exists: the page and the command line run suites the same way and must get the same pass rates,
so the loop lives here, free of Streamlit. Requests go through evals/engine.py only.

What must stay true:
- At most `concurrency` requests per setting are in flight, each setting with its own budget, so the
  settings run side by side like Compare's columns (a run of 4 settings takes about as long as its
  slowest setting alone, bench/evaluate.py) and a slow endpoint does not hold up the others; each
  setting's cells start in case order, so the matrix fills from the top.
- Stop (or a callback that raises: Streamlit raises StopException from the page's next call when the
  person presses Stop) stops every request in flight; cells that finished keep their results, cells
  cut short are "stopped" and cells never sent are "not run", and neither counts in a pass rate. The
  exception is re-raised only after every cell has been settled and handed to `on_done`.
- A failed request is a failed cell holding its error in plain words, never a crashed run.
- `record()` is the results document: the page's JSON export, the command line's `--out` file and
  what storage reopens are the same shape.
"""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evals import assertions, stats
from evals.engine import Engine, Setting
from evals.suite import Suite, fill
from turns.reply import cost_usd

MAX_SETTINGS = 6
MAX_REPEATS = 20
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 16  # per setting: 6 settings x 16 is the most in flight

WAITING, RUNNING, DONE, STOPPED, NOT_RUN = "waiting", "running", "done", "stopped", "not run"


@dataclass
class Cell:
    """One request of a run and what became of it."""

    case: int
    setting: int
    repeat: int
    state: str = WAITING
    status: str | None = None  # the request's end: complete, length, error, stopped
    content: str = ""
    error: str | None = None
    usage: dict[str, int] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    finish_reason: str | None = None
    cost: float | None = None
    latency_ms: float | None = None
    checks: list[assertions.Check] = field(default_factory=list)
    passed: bool | None = None  # None: not counted (stopped, not run, still running)

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "setting": self.setting,
            "repeat": self.repeat,
            "state": self.state,
            "status": self.status,
            "content": self.content,
            "error": self.error,
            "usage": self.usage,
            "timings": self.timings,
            "finish_reason": self.finish_reason,
            "cost": self.cost,
            "latency_ms": self.latency_ms,
            "checks": [c.to_dict() for c in self.checks],
            "passed": self.passed,
        }


OnCell = Callable[[Cell], None]
PricesFor = Callable[[str], Mapping[str, float] | None]


class EvalRun:
    """One run of a suite over settings; `run()` (or `await arun()`) fills `cells`."""

    def __init__(
        self,
        suite: Suite,
        settings: Sequence[Setting],
        *,
        engine: Engine,
        repeats: int = 1,
        concurrency: int = DEFAULT_CONCURRENCY,
        grader: Setting | None = None,
        prices_for: PricesFor = lambda model: None,
        on_done: OnCell | None = None,
    ) -> None:
        if not 1 <= len(settings) <= MAX_SETTINGS:
            raise ValueError(f"An evaluation compares 1 to {MAX_SETTINGS} settings.")
        if not 1 <= repeats <= MAX_REPEATS:
            raise ValueError(f"Repeats must be 1 to {MAX_REPEATS}.")
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"Concurrency must be 1 to {MAX_CONCURRENCY}.")
        problems = suite.problems()
        if problems:
            raise ValueError(" ".join(problems))
        self.suite = suite
        self.settings = list(settings)
        self.engine = engine
        self.repeats = repeats
        self.concurrency = concurrency
        self.prices_for = prices_for
        self.on_done = on_done
        self.cancel = threading.Event()
        self.grade = engine.grader(grader, self.cancel) if grader is not None else None
        self.grader_setting = grader
        self.cells = [
            Cell(case=c, setting=s, repeat=r)
            for c in range(len(suite.cases))
            for r in range(repeats)
            for s in range(len(self.settings))
        ]
        self._abort: BaseException | None = None
        self._on_cell: OnCell | None = None

    @property
    def requests(self) -> int:
        """How many requests the run sends (graders' requests not included)."""
        return len(self.cells)

    @property
    def progress(self) -> float:
        """Share of cells settled, 0..1."""
        return sum(c.state in (DONE, STOPPED, NOT_RUN) for c in self.cells) / len(self.cells)

    def run(self, on_cell: OnCell | None = None) -> None:
        """Run every cell on a private event loop in this thread; `on_cell` sees each change."""
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self.arun(on_cell))
        finally:
            loop.close()

    async def arun(self, on_cell: OnCell | None = None) -> None:
        """The async form of `run`."""
        self._on_cell = on_cell
        gates = [asyncio.Semaphore(self.concurrency) for _ in self.settings]
        try:
            outcomes = await asyncio.gather(
                *(self._one(gates[cell.setting], cell) for cell in self.cells), return_exceptions=True
            )
            failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
            if failure is not None and self._abort is None:
                self._abort = failure
        finally:
            for cell in self.cells:
                if cell.state in (WAITING, RUNNING):
                    self._settle(cell, NOT_RUN if cell.state == WAITING else STOPPED)
            self.engine.close()
        if self._abort is not None:
            raise self._abort

    def stop(self) -> None:
        """Stop now (safe from any thread): finished cells stay, the rest are stopped or not run."""
        self.cancel.set()

    def _notify(self, cell: Cell) -> None:
        if self._on_cell is None or self._abort is not None:
            return
        try:
            self._on_cell(cell)
        except BaseException as exc:  # StopException is a BaseException: keep it, stop, settle, re-raise
            self._abort = exc
            self.cancel.set()

    def _settle(self, cell: Cell, state: str) -> None:
        cell.state = state
        if state != DONE:
            cell.passed = None
        if self.on_done is not None:
            self.on_done(cell)

    async def _one(self, gate: asyncio.Semaphore, cell: Cell) -> None:
        async with gate:
            if self.cancel.is_set():
                self._settle(cell, NOT_RUN)
                return
            case, setting = self.suite.cases[cell.case], self.settings[cell.setting]
            cell.state = RUNNING
            self._notify(cell)
            outcome = await self.engine.send(
                setting, fill(self.suite.prompt, case.vars), images=case.images, cancel=self.cancel
            )
            cell.status, cell.content, cell.error = outcome.status, outcome.content, outcome.error
            cell.usage, cell.timings, cell.finish_reason = (
                outcome.usage,
                outcome.timings,
                outcome.finish_reason,
            )
            if "duration_s" in outcome.timings:
                cell.latency_ms = round(outcome.timings["duration_s"] * 1000, 1)
            cell.cost = cost_usd(outcome.usage, self.prices_for(setting.params.model or ""))
            if outcome.status == STOPPED:
                self._settle(cell, STOPPED)
            elif outcome.error is not None:
                cell.passed = False
                self._settle(cell, DONE)
            else:
                seen = assertions.Observed(outcome.content, cost=cell.cost, latency_ms=cell.latency_ms)
                cell.checks = await assertions.acheck_all(case.asserts, seen, self.grade)
                if self.cancel.is_set() and any(
                    c.name.endswith("llm-rubric") and c.passed is False for c in cell.checks
                ):
                    self._settle(cell, STOPPED)  # a grade cut short by Stop is no verdict
                else:
                    cell.passed = assertions.verdict(cell.checks)
                    self._settle(cell, DONE)
            self._notify(cell)

    def record(self) -> dict[str, Any]:
        """The results document (see `results_record`)."""
        return results_record(
            self.suite.to_dict(),
            [s.stored() for s in self.settings],
            self.repeats,
            [c.to_dict() for c in self.cells],
            grader=self.grader_setting.stored() if self.grader_setting else None,
        )


def results_record(
    suite: Mapping[str, Any],
    settings: Sequence[Mapping[str, Any]],
    repeats: int,
    cells: Sequence[Mapping[str, Any]],
    *,
    grader: Mapping[str, Any] | None = None,
    reviews: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The results document: suite, settings, cells, and the figures computed from them."""
    names = [s["name"] for s in settings]
    figures = stats.setting_stats(names, cells)
    case_count = len(suite.get("tests") or [])
    return {
        "format": "prism-evaluation/1",
        "suite": dict(suite),
        "settings": [dict(s) for s in settings],
        "grader": dict(grader) if grader else None,
        "repeats": repeats,
        "cells": [dict(c) for c in cells],
        "stats": [f.to_dict() for f in figures],
        "notes": stats.overlap_notes(figures),
        "wins": stats.wins(names, case_count, cells),
        "reviews": [dict(v) for v in reviews],
    }


def results_csv(record: Mapping[str, Any]) -> str:
    """One row per cell: case, setting, repeat, pass, each assertion, latency, tokens, cost, reply, error."""
    cases = record["suite"].get("tests") or []
    names = [s["name"] for s in record["settings"]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "case",
            "description",
            "setting",
            "repeat",
            "state",
            "passed",
            "checks",
            "latency_ms",
            "total_tokens",
            "cost_usd",
            "reply",
            "error",
        ]
    )
    for cell in record["cells"]:
        checks = "; ".join(
            f"{c['name']}: {'pass' if c['passed'] else 'not run' if c['passed'] is None else 'FAIL'}"
            for c in cell.get("checks") or []
        )
        writer.writerow(
            [
                cell["case"] + 1,
                (cases[cell["case"]].get("description") or "") if cell["case"] < len(cases) else "",
                names[cell["setting"]],
                cell["repeat"] + 1,
                cell["state"],
                "" if cell["passed"] is None else ("yes" if cell["passed"] else "no"),
                checks,
                cell.get("latency_ms") if cell.get("latency_ms") is not None else "",
                (cell.get("usage") or {}).get("total_tokens", ""),
                f"{cell['cost']:.6f}" if cell.get("cost") is not None else "",
                cell.get("content") or "",
                cell.get("error") or "",
            ]
        )
    return out.getvalue()


@dataclass(frozen=True)
class Estimate:
    """What a run will send and roughly cost, said before anything is sent."""

    requests: int
    grader_requests: int
    cost: float | None
    seconds: float
    output_tokens: int  # the reply length assumed per request

    def words(self) -> str:
        cost = "an unknown cost (no price for the model)" if self.cost is None else f"about ${self.cost:.4f}"
        graders = f" plus up to {self.grader_requests} grading request(s)" if self.grader_requests else ""
        return (
            f"{self.requests} request(s){graders}: {cost} and about {self.seconds:.0f} s, assuming replies "
            f"of about {self.output_tokens} tokens."
        )


def estimate(
    suite: Suite,
    settings: Sequence[Setting],
    *,
    repeats: int,
    concurrency: int,
    prices_for: PricesFor,
    seconds_per_request: float = 3.0,
    output_tokens: int = 300,
) -> Estimate:
    """The number of requests, and a rough cost and time (prompt tokens counted as characters / 4)."""
    rubrics = sum(1 for c in suite.cases for a in c.asserts if a.type == "llm-rubric" and a.supported)
    requests = len(suite.cases) * len(settings) * repeats
    graders = rubrics * len(settings) * repeats
    total: float | None = 0.0
    for setting in settings:
        limit = setting.params.max_completion_tokens or setting.params.max_tokens or output_tokens
        out_tokens = min(limit, output_tokens)
        price = prices_for(setting.params.model or "")
        for case in suite.cases:
            prompt_tokens = (len(fill(suite.prompt, case.vars)) + len(setting.system_prompt)) // 4 + 8
            cost = cost_usd(
                {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": out_tokens,
                    "total_tokens": prompt_tokens + out_tokens,
                },
                price,
            )
            total = None if cost is None or total is None else total + cost * repeats
    per_setting = (requests + graders) // max(len(settings), 1)
    waves = -(-per_setting // concurrency)
    return Estimate(requests, graders, total, waves * seconds_per_request, output_tokens)
