"""One background thread that enforces deadlines and cancel events on open streams.

Why: a thread blocked in a socket read cannot look at a clock or a `threading.Event`. httpx's read
timeout is one number for every read, but we need three different limits (first byte, then silence
between chunks) and a cancel that takes effect *at once*, even while the server is silent. So each
stream registers a `Guard`; when its deadline passes or its cancel event is set, this thread shuts the
guard's socket down (`shutdown(SHUT_RDWR)` on a duplicate of the descriptor, so a TLS wrapper is left
alone). The blocked read then returns at once, the stream sees `guard.fired` and reports the timeout,
or ends quietly on cancel; the peer sees the connection close.

What must stay true: the stream's hot path only stores a float per chunk (`guard.extend`); the thread
sleeps until the earliest deadline and polls cancel events (which cannot notify anyone) every
`POLL_SECONDS` while some stream has one. Works for sync and asyncio streams alike, since shutting a
socket down wakes either kind of reader.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from typing import Any

POLL_SECONDS = 0.02
_monotonic = time.monotonic


class Guard:
    """Deadline and cancel state of one open stream."""

    __slots__ = ("cancel", "deadline", "fired", "first_byte", "kind", "stream", "watchdog")

    def __init__(self, watchdog: Watchdog, cancel: Any = None, first_byte: float = math.inf) -> None:
        self.watchdog = watchdog
        self.first_byte = first_byte  # seconds from the request being sent to the first body byte
        self.cancel = cancel  # anything with is_set(): threading.Event or asyncio.Event
        self.deadline = math.inf
        self.kind = ""
        self.fired: str | None = None  # "cancel", "first_byte" or "stall" once the watchdog acted
        self.stream: Any = None  # httpcore network stream, once known

    def extend(self, seconds: float, kind: str) -> None:
        """Move the deadline to `seconds` from now; wake the watchdog if that is earlier than planned."""
        deadline = _monotonic() + seconds
        self.kind = kind
        self.deadline = deadline
        if deadline < self.watchdog.wake_at:
            self.watchdog.nudge()

    def attach(self, stream: Any) -> None:
        """Remember the network stream whose socket to shut down; act now if already fired."""
        self.stream = stream
        if self.fired is not None:
            _shutdown(stream)

    def trace(self, name: str, info: dict[str, Any]) -> None:
        """httpx `trace` extension: learn the socket of a new connection before the response arrives."""
        if name in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.attach(info.get("return_value"))
        elif name.endswith("send_request_body.complete") and self.deadline == math.inf:
            self.extend(self.first_byte, "first_byte")  # the first-byte clock starts once the request is out

    async def atrace(self, name: str, info: dict[str, Any]) -> None:
        """The same for httpx.AsyncClient, which wants a coroutine function."""
        self.trace(name, info)

    def close(self) -> None:
        """The stream is over: stop watching it."""
        self.watchdog.forget(self)


def _shutdown(stream: Any) -> None:
    if stream is None:
        return
    try:
        sock = stream.get_extra_info("socket")
        fd = sock.fileno() if sock is not None else -1
    except Exception:
        return
    if fd < 0:
        return
    try:
        dup = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        dup.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        dup.close()


class Watchdog:
    """The thread and its guards; one per process (`WATCHDOG`), started on first use."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._guards: set[Guard] = set()
        self._thread: threading.Thread | None = None
        self.wake_at = math.inf

    def guard(self, cancel: Any = None, first_byte: float = math.inf) -> Guard:
        """Register a new guard (no deadline until the request is sent)."""
        g = Guard(self, cancel, first_byte)
        with self._cond:
            self._guards.add(g)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="chat_client-watchdog", daemon=True)
                self._thread.start()
            if cancel is not None:
                self._cond.notify()
        return g

    def forget(self, g: Guard) -> None:
        with self._cond:
            self._guards.discard(g)

    def nudge(self) -> None:
        with self._cond:
            self.wake_at = -math.inf
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = _monotonic()
                wake = math.inf
                poll = False
                for g in list(self._guards):
                    if g.cancel is not None:
                        if g.cancel.is_set():
                            self._fire(g, "cancel")
                            continue
                        poll = True
                    if now >= g.deadline:
                        self._fire(g, g.kind)
                        continue
                    wake = min(wake, g.deadline)
                if poll:
                    wake = min(wake, now + POLL_SECONDS)
                self.wake_at = wake
                self._cond.wait(None if wake == math.inf else max(0.0, wake - now))

    def _fire(self, g: Guard, reason: str) -> None:
        g.fired = reason
        self._guards.discard(g)
        _shutdown(g.stream)


WATCHDOG = Watchdog()
