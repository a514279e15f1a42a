"""The one place an evaluation sends a request: through the project's turn engine (turns/compare.py).

Why one module: the engine that streams, saves and admits requests is the compare turn's, and it may be
rewritten; everything else in evals/ asks this module for "send this prompt with this setting" and gets
back a plain `Outcome`, so adapting to a new engine means changing this file alone.

What must stay true:
- Every request goes through the engine, so it gets what a compare column gets: quota admission (each
  request on its own, so a run larger than a per-minute limit fails the requests past the limit, each
  with the quota's words, instead of refusing the whole run), streaming with timings, its row saved as
  it grows, and the key kept out of everything stored.
- A shared `threading.Event` stops every request in flight; what had arrived is kept as stopped.
- Each setting (and the grader) has its own turn engine (turns/engine.py: an event loop on a thread,
  with its own HTTP client and kept-alive connections), because a turn's database writes are
  synchronous on that loop: with every setting on one loop, 400 requests' commits queued behind each
  other and 4 settings took twice as long as one. Each request's turn is read to its end in a worker
  thread, so the caller's loop only waits and its callbacks (the page's drawing) stay in its thread.
- A request is a `turns.evaluation.CaseTurn`, which writes no row: the evaluation's own cells
  (storage/evals.py) are its record, so nothing of a run shows in the Compare page, and a process that
  dies mid-run leaves no half-written request behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from sqlalchemy.orm import Session, sessionmaker

from chat_client import Endpoint, Params
from turns import compare as compare_turns
from turns import engine as turn_engine
from turns import quota
from turns.evaluation import CaseTurn

# The grader's answer: a JSON object the offline model (and Gemini) can be asked for by schema.
MAX_WORKERS = 96  # 6 settings x 16 in flight each (evals.runner.MAX_CONCURRENCY); threads start as needed
STOP_POLL_SECONDS = 0.05  # how often a request's reader looks at the evaluation's Stop

GRADER_SCHEMA = {
    "type": "object",
    "properties": {"pass": {"type": "boolean"}, "reason": {"type": "string"}},
    "required": ["pass", "reason"],
}
GRADER_PROMPT = """You are grading a reply against a rubric. Decide whether the reply meets the rubric.

Rubric:
{rubric}

Reply:
{output}

Answer with a JSON object: {{"pass": true or false, "reason": "why, in one or two sentences"}}."""


@dataclass(frozen=True)
class Setting:
    """One column of an evaluation: a name, where to send, the parameters and the system prompt."""

    name: str
    endpoint: Endpoint
    params: Params = field(default_factory=Params)
    system_prompt: str = ""

    def stored(self) -> dict[str, Any]:
        """The JSON kept with a run and exported (never the key: only the endpoint's name)."""
        return {
            "name": self.name,
            "endpoint": self.endpoint.name,
            "model": self.params.model or "",
            "system_prompt": self.system_prompt,
            "params": self.params.to_dict(),
        }


@dataclass(frozen=True)
class Outcome:
    """How one request ended: text, status (complete, length, error, stopped), error words, usage, timings."""

    content: str
    status: str
    error: str | None
    usage: dict[str, int] | None
    timings: dict[str, float]
    finish_reason: str | None


def error_words(error: Any) -> str | None:
    """A request's error in plain words (chat_client errors carry `message`; never a traceback)."""
    if error is None:
        return None
    return getattr(error, "message", None) or f"The request failed ({type(error).__name__})."


class _Stopped(Exception):
    """Raised from a turn's event callback when the evaluation is stopped (the turn then saves itself)."""


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()  # loading the system's certificates once, not per engine


class Engine:
    """Sends evaluation requests through the turn engine, one admitted request at a time."""

    def __init__(
        self,
        make_session: sessionmaker[Session],
        user_id: int,
        *,
        limits: quota.Limits | None = None,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        self.make_session = make_session
        self.user_id = user_id
        self.limits = limits
        self.client_options = client_options or {}
        self._workers: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._engines: dict[str, turn_engine.Engine] = {}

    def _engine_for(self, key: str) -> turn_engine.Engine:
        with self._lock:
            if key not in self._engines:
                limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
                http = httpx.AsyncClient(timeout=None, limits=limits, verify=_tls_context())
                self._engines[key] = turn_engine.Engine(http)
            return self._engines[key]

    async def send(
        self, setting: Setting, prompt: str, *, images: Sequence[str] = (), cancel: threading.Event
    ) -> Outcome:
        """Send one prompt (with images as `data:` URLs) with one setting; return how it ended."""
        turn = CaseTurn(
            engine=self._engine_for(f"{setting.name}\n{setting.endpoint.base_url}"),
            make_session=self.make_session,
            user_id=self.user_id,
            endpoint=setting.endpoint,
            params=setting.params,
            messages=compare_turns.first_messages(setting.system_prompt, (), prompt, list(images)),
            client_options=self.client_options,
            limits=self.limits,
        )

        def watch(sample: Any, event: Any) -> None:
            if cancel.is_set():  # one Stop for every request of the evaluation
                raise _Stopped

        def read_to_the_end() -> None:
            with contextlib.suppress(_Stopped):  # turn.run has saved the partial reply as stopped
                turn.run(watch, poll=STOP_POLL_SECONDS)

        if self._workers is None:
            self._workers = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="evals-request")
        await asyncio.get_running_loop().run_in_executor(self._workers, read_to_the_end)

        sample = turn.sample
        return Outcome(
            content=sample.content,
            status=sample.status,
            error=error_words(sample.error),
            usage=sample.usage_dict(),
            timings=sample.timings(),
            finish_reason=sample.finish_reason,
        )

    def grader(self, setting: Setting, cancel: threading.Event):
        """An `llm-rubric` grader that asks `setting` for a JSON verdict and keeps its reasoning."""
        # The grader's own length limits and stop sequences would cut its verdict short.
        params = setting.params.replace(
            max_tokens=None,
            max_completion_tokens=None,
            stop=None,
            n=None,
            tools=None,
            tool_choice=None,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "verdict", "schema": GRADER_SCHEMA},
            },
        )
        graded = Setting(setting.name, setting.endpoint, params, setting.system_prompt)

        async def grade(rubric: str, output: str) -> tuple[bool, str]:
            outcome = await self.send(
                graded, GRADER_PROMPT.format(rubric=rubric, output=output), cancel=cancel
            )
            if outcome.error:
                raise RuntimeError(outcome.error)
            try:
                answer = orjson.loads(outcome.content)
            except orjson.JSONDecodeError:
                raise RuntimeError(f"its reply was not JSON: {outcome.content[:200]!r}") from None
            if not isinstance(answer, dict) or not isinstance(answer.get("pass"), bool):
                raise RuntimeError(f"its reply has no true/false `pass`: {outcome.content[:200]!r}")
            return answer["pass"], str(answer.get("reason") or "")

        return grade

    def close(self) -> None:
        """Stop the worker threads and the settings' turn engines (their loops and HTTP clients)."""
        if self._workers is not None:
            self._workers.shutdown(wait=True)
            self._workers = None
        with self._lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            engine.close()
