"""One chat turn: save the user's message, stream the reply, save the reply as it grows.

This is the one place where a turn happens (design.md section 1); the chat page and the compare page
both call it, and a test can drive it without Streamlit. What must stay true (design.md section 4):

- the user's message, with its images, is committed before the request is sent;
- the reply row exists from the first token and its text is saved at least every `save_every` seconds
  and at the end;
- a reply cut short by Stop, a rerun, an error or a crash is kept with its status.

Streamlit's stop trap (reference/streamlit-notes.md) shapes the API: when the user presses Stop,
Streamlit raises inside the page at its next Streamlit call and code after `st.write_stream` never runs.
So a `Turn` is a plain object holding plain lists, and the page calls `turn.close()` in a `finally`:
`close()` touches only this object, the HTTP stream and the database, never Streamlit.
"""

from __future__ import annotations

import base64
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from chat_client import Endpoint, Params, build_body, events, stream_chat
from chat_client.messages import assistant_message, system_message, tool_message, user_message
from storage import repository
from storage.models import Message, User
from turns import quota
from turns.reply import COMPLETE, ERROR, LENGTH, STOPPED, Reply, final_status, usage_dict
from turns.reply import timings as reply_timings

__all__ = [
    "COMPLETE",
    "ERROR",
    "LENGTH",
    "STOPPED",
    "Candidate",
    "Turn",
    "save_user_message",
    "to_wire_messages",
]


def save_user_message(
    make_session: sessionmaker[Session],
    user_id: int,
    conversation_id: int,
    *,
    text: str,
    images: Sequence[tuple[bytes, str]] = (),
    parent_id: int | None = None,
) -> int:
    """Commit the user's message (and its images) before anything is sent; return its id."""
    with make_session() as session:
        user = session.get(User, user_id)
        message = repository.add_message(
            session, user, conversation_id, role="user", content=text, parent_id=parent_id, images=images
        )
        session.commit()
        return message.id


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def to_wire_messages(system_prompt: str, path: Sequence[Message]) -> list[dict[str, Any]]:
    """Turn a stored branch into OpenAI-format messages: the multi-turn context of the next request.

    Replies that failed before producing text are left out: the provider refuses empty assistant turns,
    and an error message is not something the model said.
    """
    wire: list[dict[str, Any]] = []
    if system_prompt.strip():
        wire.append(system_message(system_prompt))
    for message in path:
        if message.role == "user":
            urls = [_data_url(a.mime, a.data) for a in message.attachments]
            wire.append(user_message(message.content or "", image_data_urls=urls))
        elif message.role == "assistant":
            calls = message.tool_calls or []
            if not (message.content or calls):
                continue
            wire.append(assistant_message(message.content or "", tool_calls=calls))
        elif message.role == "tool":
            wire.append(tool_message(message.tool_call_id or "", message.content or ""))
        elif message.role == "system" and message.content:
            wire.append(system_message(message.content))
    return wire


@dataclass
class Candidate(Reply):
    """What one choice of the reply has produced so far (n > 1 gives several), and its row."""

    index: int = 0
    message_id: int | None = None


def _status_for(candidate: Candidate, error: Exception | None, stopped: bool) -> str:
    return final_status(stopped=stopped, error=error, finish_reason=candidate.finish_reason)


class Turn:
    """One reply being streamed from the API and saved as it grows."""

    def __init__(
        self,
        *,
        make_session: sessionmaker[Session],
        user_id: int,
        conversation_id: int,
        parent_id: int | None,
        endpoint: Endpoint,
        params: Params,
        messages: list[dict[str, Any]],
        http: httpx.Client,
        save_every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        client_options: dict[str, Any] | None = None,
        limits: quota.Limits | None = None,
    ) -> None:
        self.make_session = make_session
        self.limits = limits  # checked before sending (turns/quota.py); None: count usage, limit nothing
        self._usage_event_id: int | None = None
        self.user_id = user_id
        self.conversation_id = conversation_id
        self.parent_id = parent_id
        self.endpoint = endpoint
        self.params = params
        self.messages = messages
        self.http = http
        self.save_every = save_every
        self.clock = clock
        self.client_options = client_options or {}
        self.request_body = build_body(params, messages)
        self.candidates: dict[int, Candidate] = {}
        self.usage: events.Usage | None = None
        self.error: Exception | None = None
        self.status: str | None = None
        self.started_at: float | None = None
        self.first_token_at: float | None = None
        self.ended_at: float | None = None
        self._stream: Iterator[events.Event] | None = None
        self._cancel = threading.Event()  # set by close(): the client closes the connection at once
        self._finish_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._last_save = 0.0
        self._finished = False

    # -- reading the stream -------------------------------------------------------------------------

    def events(self) -> Iterator[events.Event]:
        """Stream the reply, saving it as it grows; yields every client event to the caller."""
        self.started_at = self.clock()
        try:
            self._usage_event_id = quota.admit(
                self.make_session, self.user_id, self.limits, model=self.params.model or ""
            )[0]
        except quota.QuotaExceeded as refused:  # nothing is sent; the reply row says why
            self.error = refused
            yield events.StreamError(refused)
            self._finish(stopped=False)
            return
        self._stream = stream_chat(
            self.http, self.endpoint, self.params, self.messages, cancel=self._cancel, **self.client_options
        )
        for event in self._stream:
            if self._cancel.is_set():
                break
            self._take(event)
            yield event
        self._finish(stopped=self._cancel.is_set())

    def events_in_background(self, poll: float = 0.1) -> Iterator[events.Event | None]:
        """Like `events()`, but the request runs on a worker thread; yields None every `poll` seconds
        while nothing arrives.

        Why: Streamlit notices Stop only when the script makes a Streamlit call. A script blocked in a
        network read (a slow first token, a stalled stream, a retry delay) would not stop until the
        next byte came. With the ticks the page can touch the screen (a countdown, a "waiting" note)
        and so be stoppable at once; `close()` then cancels the worker's request.
        """
        mailbox: queue.SimpleQueue = queue.SimpleQueue()
        done = object()

        def work() -> None:
            try:
                for event in self.events():
                    mailbox.put(event)
            except BaseException as crash:  # surfaced on the caller's thread below
                mailbox.put(crash)
            finally:
                mailbox.put(done)

        self._worker = threading.Thread(target=work, name="prism-turn", daemon=True)
        self._worker.start()
        while True:
            try:
                item = mailbox.get(timeout=poll)
            except queue.Empty:
                yield None
                continue
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def text_chunks(self, index: int = 0) -> Iterator[str]:
        """Only the answer text of one choice, for `st.write_stream`."""
        for event in self.events():
            if isinstance(event, events.TextDelta) and event.index == index:
                yield event.text

    def close(self) -> None:
        """Stop now if still streaming: close the connection and keep the partial reply as stopped.

        Safe to call from a `finally` after Streamlit's StopException: touches no Streamlit state.
        """
        if self._finished:
            return
        self._cancel.set()
        if self._worker is not None:
            # The client ends a cancelled request at once; the worker then saves the partial reply.
            self._worker.join(timeout=10)
        elif self._stream is not None:
            close = getattr(self._stream, "close", None)
            if close is not None:
                close()
        self._finish(stopped=True)

    # -- what the page shows afterwards ---------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True once the reply's row holds its final status (complete, stopped, error, ...)."""
        return self._finished

    @property
    def reply(self) -> Candidate:
        """The first choice (the one that continues the conversation unless the user picks another)."""
        return self.candidates.get(0) or Candidate(index=0)

    @property
    def timings(self) -> dict[str, float]:
        """Time to first token, duration and tokens per second, as far as they are known."""
        end = self.ended_at if self.ended_at is not None else self.clock()
        return reply_timings(self.started_at, self.first_token_at, end, self.usage)

    # -- internals ------------------------------------------------------------------------------------

    def _candidate(self, index: int) -> Candidate:
        if index not in self.candidates:
            self.candidates[index] = Candidate(index=index)
        return self.candidates[index]

    def _take(self, event: events.Event) -> None:
        if isinstance(event, events.Usage):
            self.usage = event
        elif isinstance(event, events.StreamError):
            self.error = event.error
        else:
            now = self.clock()
            if self._candidate(event.index).take(event, now):
                if self.first_token_at is None:
                    self.first_token_at = now
                self._save_progress(self._candidate(event.index))

    def _ensure_row(self, session: Session, user: User, candidate: Candidate) -> int:
        if candidate.message_id is None:
            row = repository.start_reply(
                session,
                user,
                self.conversation_id,
                parent_id=self.parent_id,
                request_body=self.request_body,
                candidate_index=candidate.index,
            )
            candidate.message_id = row.id
        return candidate.message_id

    def _save_progress(self, candidate: Candidate) -> None:
        now = self.clock()
        if candidate.message_id is not None and now - self._last_save < self.save_every:
            return
        with self.make_session() as session:
            user = session.get(User, self.user_id)
            # With n > 1, make every candidate's row at once and in index order, so the siblings of
            # one attempt are contiguous and start at candidate 0 (storage.branches relies on it).
            for index in range(max(self.params.n or 1, candidate.index + 1)):
                self._ensure_row(session, user, self._candidate(index))
            message_id = self._ensure_row(session, user, candidate)
            repository.grow_reply(
                session, user, message_id, content=candidate.content, thought=candidate.thought_text or None
            )
            session.commit()
        self._last_save = now

    def usage_dict(self) -> dict[str, int] | None:
        """The reply's usage as stored (None when the server reported none)."""
        return usage_dict(self.usage)

    def _finish(self, *, stopped: bool) -> None:
        with self._finish_lock:  # the worker thread and close() may both get here
            if self._finished:
                return
            self._finished = True
        self.ended_at = self.clock()
        if not self.candidates:
            # Nothing arrived: keep a row anyway when it failed or was stopped, so the history says so.
            self.candidates[0] = Candidate(index=0)
        timings = self.timings
        with self.make_session() as session:
            user = session.get(User, self.user_id)
            for candidate in sorted(self.candidates.values(), key=lambda c: c.index):
                status = _status_for(candidate, self.error, stopped)
                message_id = self._ensure_row(session, user, candidate)
                repository.finish_reply(
                    session,
                    user,
                    message_id,
                    status=status,
                    content=candidate.content,
                    thought=candidate.thought_text or None,
                    finish_reason=candidate.finish_reason,
                    usage=self.usage_dict() if candidate.index == 0 else None,
                    timings=timings,
                    error=getattr(self.error, "message", None) if self.error else None,
                    tool_calls=candidate.tool_calls or None,
                    logprobs=candidate.logprobs or None,
                )
            session.commit()
        if self._usage_event_id is not None:
            quota.add_tokens(self.make_session, self.user_id, self._usage_event_id, self.usage_dict())
        self.status = _status_for(self.reply, self.error, stopped)
