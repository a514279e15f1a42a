"""One chat turn: save the user's message, stream the reply, save the reply as it grows.

The reply is a run of one request on the engine every turn uses (turns/engine.py); a test drives it
without Streamlit. What must stay true:

- the user's message, with its images, is committed before the request is sent;
- the reply row exists from the first token (with n > 1, every candidate's row at once, in index
  order): it is made with the next event, or `FIRST_ROW_AFTER` seconds after the first token when
  none comes, so the write does not compete with the first token on its way to the screen (for the
  interpreter, as much as for the loop); its text is saved at least every `save_every` seconds and
  at the end, each save right after the token that made it due is handed to the page (`_keep`);
- a reply cut short by Stop, a rerun, an error or a crash is kept with its status.

Streamlit's stop trap shapes the API: when the user presses Stop, Streamlit raises inside the page at
its next Streamlit call and code after `st.write_stream` never runs. So a `Turn` is a plain object
holding plain lists, and the page calls `turn.close()` in a `finally`: `close()` touches only this
object, the engine's loop and the database, never Streamlit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from chat_client import Endpoint, Params, build_body, events
from chat_client.messages import assistant_message, system_message, tool_message, user_message
from storage import repository
from storage.models import Message, User
from turns.engine import Run
from turns.reply import COMPLETE, ERROR, LENGTH, STOPPED, Reply, final_status, usage_dict
from turns.reply import timings as reply_timings

FIRST_ROW_AFTER = 0.1  # seconds after the first token by which its row is made, with no later event

__all__ = [
    "COMPLETE",
    "ERROR",
    "LENGTH",
    "STOPPED",
    "Candidate",
    "Turn",
    "to_wire_messages",
]


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
            urls = [a.data_url() for a in message.attachments]
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


@dataclass
class _Request:
    """The one request of a chat turn (its n candidates all come back in its stream)."""

    endpoint: Endpoint
    params: Params
    messages: list[dict[str, Any]]
    done: bool = False
    error: Exception | None = field(default=None, repr=False)


class Turn(Run):
    """One reply being streamed from the API and saved as it grows: a one-request run."""

    def __init__(
        self,
        *,
        conversation_id: int,
        parent_id: int | None,
        endpoint: Endpoint,
        params: Params,
        messages: list[dict[str, Any]],
        **run_options: Any,
    ) -> None:
        super().__init__(**run_options)
        params = self.sent_params(params)  # what is sent, and so what the stored body says
        self.conversation_id = conversation_id
        self.parent_id = parent_id
        self.endpoint = endpoint
        self.params = params
        self.messages = messages
        self.request_body = build_body(params, messages, endpoint.length_field)
        self.requests = [_Request(endpoint, params, messages)]
        self.candidates: dict[int, Candidate] = {}
        self.usage: events.Usage | None = None
        self.status: str | None = None
        self.started_at: float | None = None
        self.first_token_at: float | None = None
        self.ended_at: float | None = None
        self._last_save = 0.0
        self._unsaved: Candidate | None = None  # grown since the last save (saved by _keep)
        self._first_row_waits = False  # the first token's row waits for the next event (or a timer)

    # -- reading the stream -------------------------------------------------------------------------

    def events_in_background(self, poll: float = 0.1) -> Iterator[events.Event | None]:  # type: ignore[override]
        """Stream the reply on the engine's loop, saving it as it grows; yields every client event,
        and None every `poll` seconds while nothing arrives.

        Why the ticks: Streamlit notices Stop only when the script makes a Streamlit call. A script
        waiting for a slow first token, a stalled stream or a retry delay would not stop until the
        next byte came. With the ticks the page can touch the screen (a countdown, a "waiting" note)
        and so be stoppable at once; `close()` then cancels the request.
        """
        for item in super().events_in_background(poll):
            if item is None:
                yield None
            elif item[1] is not None:
                yield item[1]

    def events(self) -> Iterator[events.Event]:
        """Like `events_in_background()`, without the ticks (tests, scripts)."""
        for event in self.events_in_background():
            if event is not None:
                yield event

    def close(self) -> None:
        """Stop now if still streaming: end the request and keep the partial reply as stopped.

        Safe to call from a `finally` after Streamlit's StopException: touches no Streamlit state.
        """
        if not self.finished:
            self.stop()

    # -- what the page shows afterwards ---------------------------------------------------------------

    @property
    def error(self) -> Exception | None:
        """What went wrong (a typed client error, or the quota's refusal), or None."""
        return self.requests[0].error

    @property
    def reply(self) -> Candidate:
        """The first choice (the one that continues the conversation unless the user picks another)."""
        return self.candidates.get(0) or Candidate(index=0)

    @property
    def timings(self) -> dict[str, float]:
        """Time to first token, duration and tokens per second, as far as they are known."""
        end = self.ended_at if self.ended_at is not None else self.clock()
        return reply_timings(self.started_at, self.first_token_at, end, self.usage)

    def usage_dict(self) -> dict[str, int] | None:
        """The reply's usage as stored (None when the server reported none)."""
        return usage_dict(self.usage)

    # -- the run's hooks (on the engine's loop) -------------------------------------------------------

    def _candidate(self, index: int) -> Candidate:
        if index not in self.candidates:
            self.candidates[index] = Candidate(index=index)
        return self.candidates[index]

    def _begin(self, request: _Request) -> None:
        self.started_at = self.clock()

    def _take(self, request: _Request, event: events.Event) -> None:
        if isinstance(event, events.Usage):
            self.usage = event
        elif isinstance(event, events.StreamError):
            request.error = event.error
        elif not isinstance(event, events.RetryWait):
            now = self.clock()
            if self._candidate(event.index).take(event, now):
                if self.first_token_at is None:
                    self.first_token_at = now
                self._unsaved = self._candidate(event.index)

    def _keep(self, request: _Request) -> None:
        if self._unsaved is None:
            return
        if not self._first_row_waits and not any(c.message_id for c in self.candidates.values()):
            # The first token: the page draws it while the loop waits for the next event; the row
            # is made then, or FIRST_ROW_AFTER from now if the stream goes quiet.
            self._first_row_waits = True
            self.engine.loop.call_later(FIRST_ROW_AFTER, self._first_row_due, request)
            return
        self._save_unsaved()

    def _save_unsaved(self) -> None:
        candidate, self._unsaved = self._unsaved, None
        self._first_row_waits = False
        if candidate is not None:
            self._save_progress(candidate)

    def _first_row_due(self, request: _Request) -> None:
        """The timer of a first token followed by silence: make its row now (on the loop)."""
        if request.done or not self._first_row_waits:
            return
        try:
            self._save_unsaved()
        except BaseException as failure:  # as if the stream's own save had failed: end the run
            self._failure = self._failure or failure
            self._cancel()

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

    def _finish(self, request: _Request, *, stopped: bool) -> None:
        if request.done:
            return
        request.done = True
        self.ended_at = self.clock()
        if not self.candidates:
            # Nothing arrived: keep a row anyway when it failed or was stopped, so the history says so.
            self.candidates[0] = Candidate(index=0)
        error = request.error
        timings = self.timings
        with self.make_session() as session:
            user = session.get(User, self.user_id)
            for candidate in sorted(self.candidates.values(), key=lambda c: c.index):
                message_id = self._ensure_row(session, user, candidate)
                repository.finish_reply(
                    session,
                    user,
                    message_id,
                    status=final_status(stopped=stopped, error=error, finish_reason=candidate.finish_reason),
                    content=candidate.content,
                    thought=candidate.thought_text or None,
                    finish_reason=candidate.finish_reason,
                    usage=self.usage_dict() if candidate.index == 0 else None,
                    timings=timings,
                    error=getattr(error, "message", None) if error else None,
                    tool_calls=candidate.tool_calls or None,
                    logprobs=candidate.logprobs or None,
                )
            session.commit()
        self._count_tokens(request, self.usage_dict())
        self.status = final_status(stopped=stopped, error=error, finish_reason=self.reply.finish_reason)
