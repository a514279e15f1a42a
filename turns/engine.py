"""The one engine that runs every turn: requests streamed on one asyncio loop, rows saved as they grow.

A chat reply is a run of one request (its n candidates share that request); a comparison is a run of
columns x repeats. Both are subclasses of `Run`, which owns what they have in common: admission by
the quota before anything is sent, every request of the run streaming at once (at most
`max_parallel` in flight), timeouts and Stop as asyncio timeouts and cancellation, and the promise
that nothing is left "streaming" in the database, whatever happened. What a subclass adds is where
its rows live and what they hold (`_prepare`, `_take`, `_keep`, `_finish`).

Where it runs: an `Engine` is one event loop on a daemon thread plus the `httpx.AsyncClient` the
caller hands in (the app makes one per process and caches it; a test makes its own). Streamlit's
script thread never blocks in a network read: it reads the run's events from a queue, with a tick
(None) every `poll` seconds while nothing arrives, so the page can redraw a countdown and, by
touching the screen, notice Stop. Stop is `Run.stop()`: the task is cancelled, the read in progress
ends at once, the partial rows are saved as stopped, and only then does `stop()` return.

What must stay true:
- `stop()` is safe from any thread and from a `finally` after Streamlit's StopException: it touches
  only this object, the loop and the database, never Streamlit.
- An unexpected failure (a database error, a bug) in one request cancels the others, the rows are
  finished as stopped, and the failure is raised to the caller.
- The database is written from the loop's thread, with sessions made there; each write is short (a
  reply is saved at most every `save_every` seconds).
- Every admitted request is settled in the ledger when it ends, however it ends (turns/quota.py):
  with the server's usage when it reported one, else with an estimate of what it used. While a token
  limit is in force, a request that sets no max tokens is sent with the reservation's max tokens
  (`sent_params`), so the provider itself stops the reply where its reservation ends.

No streamlit here.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from chat_client import astream_chat, events
from turns import quota

STOP_WAIT_SECONDS = 10.0  # how long stop() waits for the partial rows to be saved
_DONE = object()


class Engine:
    """An asyncio event loop on its own daemon thread, and the HTTP client every request goes through.

    The client is used only on this loop (an `httpx.AsyncClient`'s connections belong to the loop
    that opened them), so one engine serves every session of the process and keeps its connections
    alive across turns."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="prism-engine", daemon=True)
        self._thread.start()

    def call_soon(self, callback: Callable[[], Any]) -> None:
        """Run `callback` on the loop's thread (FIFO with every other call_soon)."""
        self.loop.call_soon_threadsafe(callback)

    def run_sync(self, coroutine: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        """Run a coroutine on the loop and wait for its result here (not from the loop's own thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        """Close the client and stop the loop (tests; the app's engine lives as long as the process)."""
        if self.loop.is_closed():
            return
        with contextlib.suppress(Exception):
            self.run_sync(self.http.aclose(), timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Run:
    """Requests sent together and saved as they stream; subclasses say what a request is and where
    its rows go. A request object needs `endpoint`, `params`, `messages` and `done`."""

    kind = "chat"  # what the usage ledger calls these requests

    def __init__(
        self,
        *,
        engine: Engine,
        make_session: sessionmaker[Session],
        user_id: int,
        save_every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        client_options: dict[str, Any] | None = None,
        limits: quota.Limits | None = None,
        max_parallel: int = 24,
    ) -> None:
        self.engine = engine
        self.make_session = make_session
        self.user_id = user_id
        self.save_every = save_every
        self.clock = clock
        self.client_options = client_options or {}
        self.limits = limits  # checked before sending (turns/quota.py); None: count usage, limit nothing
        self.max_parallel = max_parallel
        self.requests: list[Any] = []
        self.stopped = False  # set by stop(): what did not end is saved as stopped
        self._usage_ids: dict[int, int] = {}  # id(request) -> its usage ledger row
        self._reserved: dict[int, tuple[int, int]] = {}  # id(request) -> (tokens reserved, prompt estimate)
        self._produced: dict[int, int] = {}  # id(request) -> characters of text, thought and tool calls
        self._mailbox: queue.SimpleQueue = queue.SimpleQueue()
        self._task: asyncio.Task | None = None
        self._started = False
        self._ended = threading.Event()
        self._sending = threading.Event()  # a request is on its way, or the run is over
        self._failure: BaseException | None = None

    # -- what subclasses provide ------------------------------------------------------------------------

    def _prepare(self) -> None:
        """Before admission: rows that must exist before anything is sent."""

    def _begin(self, request: Any) -> None:
        """The request is about to be sent."""

    def _take(self, request: Any, event: events.Event) -> None:
        """Record one event of a request in memory (and save it, now and then, unless `_keep` does)."""
        raise NotImplementedError

    def _keep(self, request: Any) -> None:
        """Save what `_take` recorded, if it is time to; called once the reader has the event, so a
        database write is never between the model's token and the screen."""

    def _finish(self, request: Any, *, stopped: bool) -> None:
        """The request has ended: save its final row(s) with their status."""
        raise NotImplementedError

    def _refuse(self, request: Any, refused: quota.QuotaExceeded) -> None:
        """The quota refused the run: nothing is sent, the request's row says why."""
        request.error = refused

    # -- the caller's side (any thread but the loop's) -------------------------------------------------

    def start(self) -> None:
        """Begin streaming on the engine's loop (once; the event readers call it)."""
        if self._started:
            return
        self._started = True
        self.engine.call_soon(self._spawn)

    def events_in_background(self, poll: float = 0.1) -> Iterator[tuple[Any, events.Event | None] | None]:
        """(request, event) as the run goes, None every `poll` seconds while nothing arrives.

        The event is None when a request starts or ends. An unexpected failure of the run is raised
        here once every row is finished."""
        self.start()
        try:
            while True:
                try:
                    item = self._mailbox.get(timeout=poll)
                except queue.Empty:
                    yield None
                    continue
                if item is _DONE:
                    break
                yield item
        finally:
            if not self._ended.is_set():  # the reader went away (Stop, a rerun): stop the run too
                self.stop()
        if self._failure is not None:
            raise self._failure

    def run(
        self, on_event: Callable[[Any, events.Event | None], None] | None = None, poll: float = 0.1
    ) -> None:
        """Stream to the end, calling `on_event(request, event)` here for each event and
        `on_event(None, None)` on every tick. If `on_event` raises (Streamlit raises StopException
        from the page's next Streamlit call when the user presses Stop), the run is stopped, every
        row saved, and the exception re-raised."""
        for item in self.events_in_background(poll):
            if on_event is None:
                continue
            try:
                on_event(*(item or (None, None)))
            except BaseException:  # StopException is a BaseException: stop, save, re-raise
                self.stop()
                raise

    def stop(self) -> None:
        """Cancel every request now (safe from any thread); return once the rows are saved as stopped."""
        self.stopped = True
        if not self._started:
            self._started = True
            for request in self.requests:
                if not request.done:
                    self._finish(request, stopped=True)
            self._ended.set()
            self._sending.set()
            return
        self.engine.call_soon(self._cancel)
        self._ended.wait(STOP_WAIT_SECONDS)

    def wait_sending(self, timeout: float) -> bool:
        """Wait (at most `timeout` seconds) until the run's first request is on its way or the run is
        over; True if so. A page with more to draw draws it after this, so the admission and the
        send, which need the interpreter too, are not slowed by the drawing."""
        self.start()
        return self._sending.wait(timeout)

    @property
    def finished(self) -> bool:
        """True once every row holds its final status (complete, stopped, error, ...)."""
        return self._ended.is_set()

    # -- the loop's side --------------------------------------------------------------------------------

    def _post(self, request: Any, event: events.Event | None) -> None:
        self._mailbox.put((request, event))

    def _spawn(self) -> None:
        self._task = self.engine.loop.create_task(self._main())
        # A task cancelled before its first step never enters _main's `finally`: wind up here then.
        self._task.add_done_callback(lambda _: self._wind_up())
        if self.stopped:  # stop() came before the task existed
            self._task.cancel()

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _main(self) -> None:
        try:
            self._prepare()
            if not await self._admit():
                return
            gate = asyncio.Semaphore(self.max_parallel)
            try:
                async with asyncio.TaskGroup() as group:
                    for request in self.requests:
                        group.create_task(self._stream(gate, request))
            except BaseExceptionGroup as failed:  # one request failed unexpectedly: the others were cancelled
                raise failed.exceptions[0] from None
        except asyncio.CancelledError:
            self.stopped = True
        except BaseException as failure:
            self._failure = failure
        finally:
            self._wind_up()

    def _wind_up(self) -> None:
        """Whatever happened, nothing stays "streaming": what did not end is kept as stopped."""
        if self._ended.is_set():
            return
        try:
            for request in self.requests:
                if not request.done:
                    self._finish(request, stopped=True)
        except BaseException as failure:
            self._failure = self._failure or failure
        try:
            for request in self.requests:  # a request whose row never existed is settled here
                if id(request) in self._usage_ids:
                    self._count_tokens(request, None)
        except BaseException as failure:
            self._failure = self._failure or failure
        self._ended.set()
        self._sending.set()
        self._mailbox.put(_DONE)

    async def _admit(self) -> bool:
        """Check the quota and record the requests; False (every row says why) when refused."""
        prompts = [quota.prompt_estimate(r.messages) for r in self.requests]
        allowances = [quota.reply_allowance(r.params, self.limits) for r in self.requests]
        reserves = [p + a for p, a in zip(prompts, allowances, strict=True)]
        try:
            ids = quota.admit(
                self.make_session,
                self.user_id,
                self.limits,
                requests=len(self.requests),
                model=[r.params.model or "" for r in self.requests],
                kind=self.kind,
                reserve=reserves,
            )
        except quota.QuotaExceeded as refused:  # nothing is sent
            for request in self.requests:
                self._refuse(request, refused)
                self._finish(request, stopped=False)
                self._post(request, events.StreamError(refused))
            return False
        self._usage_ids = {id(r): i for r, i in zip(self.requests, ids, strict=True)}
        self._reserved = {id(r): (t, p) for r, t, p in zip(self.requests, reserves, prompts, strict=True)}
        return True

    def sent_params(self, params: Any) -> Any:
        """The parameters a request is sent with: while a token limit is in force, one that sets no
        max tokens gets `Limits.reserve_tokens` as its max_completion_tokens, so the provider stops the
        reply where its reservation ends (on Gemini this includes thinking). Subclasses build their
        request bodies from what this returns, so the stored body is what was sent."""
        if self.limits is None or not self.limits.limits_tokens or quota.max_tokens(params):
            return params
        return params.replace(max_completion_tokens=self.limits.reserve_tokens)

    async def _stream(self, gate: asyncio.Semaphore, request: Any) -> None:
        async with gate:
            self._begin(request)
            self._post(request, None)
            # Set at the loop's first turn once the stream is opened: the client has built the
            # request and waits for its connection or the answer, the bytes a moment from the wire.
            self.engine.loop.call_soon(self._sending.set)
            stream = astream_chat(
                self.engine.http, request.endpoint, request.params, request.messages, **self.client_options
            )
            async with contextlib.aclosing(stream):
                async for event in stream:
                    self._take(request, event)
                    self._post(request, event)
                    self._keep(request)
                    if isinstance(event, events.TextDelta | events.ThoughtDelta):  # for the estimate
                        self._produced[id(request)] = self._produced.get(id(request), 0) + len(event.text)
                    elif isinstance(event, events.ToolCallDone):
                        self._produced[id(request)] = self._produced.get(id(request), 0) + len(
                            str(event.call)
                        )
            self._finish(request, stopped=False)
            self._post(request, None)

    def _count_tokens(self, request: Any, counts: dict[str, int] | None) -> None:
        """Settle the ledger row made when the request was admitted: the server's counts, or (none
        reported: stopped, failed, cut) an estimate from its prompt and the text it produced."""
        event_id = self._usage_ids.pop(id(request), None)
        if event_id is None:
            return
        if not counts:
            reserved, prompt = self._reserved.get(id(request), (0, 0))
            counts = quota.estimate(reserved, prompt, self._produced.get(id(request), 0))
        quota.add_tokens(self.make_session, self.user_id, event_id, counts)
