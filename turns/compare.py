"""Running a comparison: one prompt sent to several columns at once, each k times, every reply saved.

The compare page calls this; a test drives it without Streamlit. A comparison is a run of columns x
repeats on the same engine as a chat reply (turns/engine.py). What must stay true:

- Every column (and every repeat) streams at the same time: the requests are concurrent, on the
  engine's loop and its one `httpx.AsyncClient`, so 4 columns take about as long as the slowest one,
  not the sum (bench/compare.py measures it).
- The same storage promises as a chat turn: each reply's row exists before its request is sent, its
  text is saved at least every `save_every` seconds while it streams and at the end, and a reply cut
  short (Stop, a rerun, an error) is kept with its status.
- A callback that raises (Streamlit raises StopException from the page's next Streamlit call when the
  user presses Stop) cancels every stream, the partial replies are saved as stopped, and only then is
  the exception re-raised: `run()` never leaves a row "streaming".

Timings are measured here, on the client, from just before each request is sent: time to first token,
total time, and tokens per second over the streaming part.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from chat_client import Endpoint, Params, build_body, events
from chat_client.messages import assistant_message, system_message, user_message
from storage import compare as compare_store
from storage import images as image_store
from storage import repository
from storage.models import CompareRun, User
from turns.engine import Run
from turns.reply import (  # the statuses are re-exported: the page and tests read them from here
    COMPLETE,  # noqa: F401
    ERROR,  # noqa: F401
    FINISHED,
    LENGTH,  # noqa: F401
    STOPPED,  # noqa: F401
    Reply,
    final_status,
    usage_dict,
)
from turns.reply import timings as reply_timings

MAX_COLUMNS = 6
MAX_REPEATS = 20
MAX_CELLS = 25  # a two-parameter grid (5 x 5) may hold more cells than the page has columns
MAX_REQUESTS = 120  # columns x repeats in one turn: 6 columns x 20 repeats, or a 5 x 5 grid x 4
MAX_PARALLEL = 24  # requests in flight at once; more wait their turn (kind to rate limits)


@dataclass(frozen=True)
class Column:
    """One column of a comparison: where to send, with which parameters and system prompt."""

    label: str
    endpoint: Endpoint
    params: Params
    system_prompt: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the grid cell this column is

    def stored(self) -> dict[str, Any]:
        """The JSON kept in the run's `columns` (never the key: only the endpoint's name)."""
        return {
            "label": self.label,
            "endpoint": self.endpoint.name,
            "model": self.params.model or "",
            "system_prompt": self.system_prompt,
            "params": self.params.to_dict(),
            **self.extra,
        }


def first_messages(
    system_prompt: str, history: Sequence[dict[str, Any]], prompt: str, image_data_urls: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The messages of a column's first request: its system prompt, the shared history, the prompt."""
    wire: list[dict[str, Any]] = []
    if system_prompt.strip():
        wire.append(system_message(system_prompt))
    wire.extend(dict(m) for m in history if m.get("role") != "system")
    wire.append(user_message(prompt, image_data_urls=image_data_urls))
    return wire


def next_messages(
    previous: Sequence[dict[str, Any]], reply: str, prompt: str, image_data_urls: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """Continue a column: what it sent last time, the reply it keeps (its own or an adopted one), the
    new prompt (with its images)."""
    wire = [dict(m) for m in previous]
    if reply:
        wire.append(assistant_message(reply))
    wire.append(user_message(prompt, image_data_urls=image_data_urls))
    return wire


def data_urls_of(images: Sequence[tuple[bytes, str]]) -> list[str]:
    """Uploaded images, normalised like stored ones (orientation, size, metadata), as `data:` URLs.

    Raises storage.images.ImageRejected for an upload that is not a usable image.
    """
    return [image_store.normalise(data, filename).data_url() for data, filename in images]


@dataclass(kw_only=True)
class Sample(Reply):
    """One reply being streamed: one column, one repeat (text, thoughts and tool calls in `Reply`)."""

    column: int
    repeat: int
    endpoint: Endpoint = field(repr=False)
    params: Params = field(repr=False)
    messages: list[dict[str, Any]] = field(repr=False)
    request_body: dict[str, Any]
    usage: events.Usage | None = None
    error: Any = None
    status: str = "waiting"
    result_id: int | None = None
    retry_note: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    last_save: float = 0.0

    @property
    def done(self) -> bool:
        return self.status in FINISHED

    def timings(self, now: float | None = None) -> dict[str, float]:
        """Time to first token, total time and tokens per second, as far as they are known."""
        end = self.ended_at if self.ended_at is not None else (now if now is not None else time.monotonic())
        return reply_timings(self.started_at, self.first_token_at, end, self.usage)

    def usage_dict(self) -> dict[str, int] | None:
        return usage_dict(self.usage)


OnEvent = Callable[[Sample | None, events.Event | None], None]


class CompareTurn(Run):
    """One turn of a comparison: every column x repeat streamed concurrently and saved as it grows."""

    kind = "compare"

    def __init__(
        self,
        *,
        run_id: int,
        columns: Sequence[Column],
        messages: Sequence[list[dict[str, Any]]],
        repeats: int = 1,
        turn_index: int = 0,
        prompt: str = "",
        max_parallel: int = MAX_PARALLEL,
        **run_options: Any,
    ) -> None:
        if len(messages) != len(columns):
            raise ValueError("one message list per column")
        if not 1 <= repeats <= MAX_REPEATS:
            raise ValueError(f"repeats must be 1 to {MAX_REPEATS}")
        if len(columns) * repeats > MAX_REQUESTS:
            raise ValueError(f"at most {MAX_REQUESTS} requests in one turn (columns x repeats)")
        super().__init__(max_parallel=max_parallel, **run_options)
        self.run_id = run_id
        self.columns = list(columns)
        self.messages = [list(m) for m in messages]
        self.repeats = repeats
        self.turn_index = turn_index
        self.prompt = prompt
        sent = [self.sent_params(col.params) for col in self.columns]  # what is sent and stored
        # Start order: the first repeat of every column first, so each column shows something early.
        self.samples = [
            Sample(
                column=c,
                repeat=r,
                endpoint=col.endpoint,
                params=sent[c],
                messages=self.messages[c],
                request_body=build_body(sent[c], self.messages[c], col.endpoint.length_field),
            )
            for r in range(repeats)
            for c, col in enumerate(self.columns)
        ]
        self.requests = self.samples

    # -- the public face ------------------------------------------------------------------------------

    @property
    def progress(self) -> float:
        """Share of samples that have ended, 0..1."""
        return sum(s.done for s in self.samples) / len(self.samples) if self.samples else 1.0

    def samples_of(self, column: int) -> list[Sample]:
        """The samples of one column, repeat order."""
        return [s for s in self.samples if s.column == column]

    # -- the run's hooks (on the engine's loop) -------------------------------------------------------

    def _prepare(self) -> None:
        # Every result's row exists before anything is sent, so a crash mid-turn leaves them all.
        with self.make_session() as session:
            user = session.get(User, self.user_id)
            for sample in self.samples:
                row = compare_store.start_result(
                    session,
                    user,
                    self.run_id,
                    column_index=sample.column,
                    repeat_index=sample.repeat,
                    turn_index=self.turn_index,
                    prompt=self.prompt,
                    request_body=sample.request_body,
                )
                sample.result_id = row.id
            session.commit()

    def _begin(self, sample: Sample) -> None:
        sample.status = "streaming"
        sample.started_at = self.clock()
        # The row already exists (made before sending), so the first save can wait `save_every`
        # like the rest: one commit fewer per column when many columns start at once.
        sample.last_save = sample.started_at

    def _take(self, sample: Sample, event: events.Event) -> None:
        if event.index != 0:
            # n > 1: a column keeps its first choice; the others are not compared.
            if isinstance(event, events.Usage):
                sample.usage = event
            return
        produced = False
        if isinstance(event, events.Usage):
            sample.usage = event
        elif isinstance(event, events.RetryWait):
            sample.retry_note = f"Retrying in {event.seconds:.0f} s: {event.reason}"
        elif isinstance(event, events.StreamError):
            sample.error = event.error
        else:
            produced = sample.take(event, self.clock())
        if produced:
            sample.retry_note = None
            now = self.clock()
            if now - sample.last_save >= self.save_every:
                sample.last_save = now
                with self.make_session() as session:
                    compare_store.grow_result(
                        session,
                        session.get(User, self.user_id),
                        sample.result_id,
                        content=sample.content,
                        thought=sample.thought_text or None,
                    )
                    session.commit()

    def _finish(self, sample: Sample, *, stopped: bool) -> None:
        if sample.done:
            return
        sample.ended_at = self.clock()
        sample.status = final_status(
            stopped=stopped and sample.error is None, error=sample.error, finish_reason=sample.finish_reason
        )
        if sample.result_id is None:
            return
        with self.make_session() as session:
            compare_store.finish_result(
                session,
                session.get(User, self.user_id),
                sample.result_id,
                status=sample.status,
                content=sample.content,
                thought=sample.thought_text or None,
                finish_reason=sample.finish_reason,
                usage=sample.usage_dict(),
                timings=sample.timings(),
                error=getattr(sample.error, "message", None) if sample.error is not None else None,
                tool_calls=sample.tool_calls or None,
            )
            session.commit()
        self._count_tokens(sample, sample.usage_dict())


# -- runs: creating, continuing, forking ----------------------------------------------------------------


def create_run(
    make_session: sessionmaker[Session],
    user_id: int,
    *,
    prompt: str,
    columns: Sequence[Column],
    repeats: int = 1,
    history: Sequence[dict[str, Any]] = (),
    images: Sequence[tuple[bytes, str]] = (),
    title: str | None = None,
) -> int:
    """Store a new run (its prompt, images and columns) before anything is sent; return its id."""
    with make_session() as session:
        run = compare_store.create_compare_run(
            session,
            session.get(User, user_id),
            prompt=prompt,
            columns=[c.stored() for c in columns],
            title=title or (prompt.strip().splitlines() or ["Comparison"])[0][:60] or "Comparison",
            repeats=repeats,
            history=list(history),
            images=list(images),
        )
        session.commit()
        return run.id


def image_data_urls(run: CompareRun) -> list[str]:
    """The run's stored images as `data:` URLs for the first request."""
    return [a.data_url() for a in run.attachments]


def turn_count(run: CompareRun) -> int:
    """How many turns the run has so far."""
    return 1 + max((r.turn_index for r in run.results), default=0) if run.results else 0


def reply_of(run: CompareRun, turn_index: int, column_index: int, repeat_index: int = 0) -> Any | None:
    """The stored result of one column in one turn (its first repeat by default)."""
    for result in run.results:
        if (result.turn_index, result.column_index, result.repeat_index) == (
            turn_index,
            column_index,
            repeat_index,
        ) and result.candidate_index == 0:
            return result
    return None


def adopted_from(run: Any, turn_index: int) -> int | None:
    """The column whose reply every column continued from at `turn_index`, or None.

    Read from what was sent, not from a flag: each column's request at this turn carries, before the
    new prompt, the reply it kept. When every column kept the same column's reply, and that reply is
    not every column's own anyway, that column's reply was adopted."""
    if turn_index < 1 or not run.columns:
        return None
    previous = [reply_of(run, turn_index - 1, i) for i in range(len(run.columns))]
    kept = []
    for index in range(len(run.columns)):
        now = reply_of(run, turn_index, index)
        sent = ((now.request_body if now else None) or {}).get("messages") or []
        before = sent[-2] if len(sent) >= 2 else {}
        kept.append(before.get("content") if before.get("role") == "assistant" else None)
    for index, reply in enumerate(previous):
        text = reply.content if reply is not None else None
        if not text or any(k != text for k in kept):
            continue
        if any((other.content if other else None) != text for other in previous):
            return index
    return None


def continuation(
    run: CompareRun, prompt: str, *, adopt: int | None = None, image_data_urls: Sequence[str] = ()
) -> tuple[list[list[dict[str, Any]]], int]:
    """The messages of the next turn for every column, and its turn index.

    Each column keeps its own history (what it sent last time plus its own first reply), unless
    `adopt` names a column: then every column continues from that column's reply.
    """
    last = turn_count(run) - 1
    if last < 0:
        raise ValueError("the run has no turn to continue")
    adopted = reply_of(run, last, adopt) if adopt is not None else None
    out = []
    for index in range(len(run.columns)):
        own = reply_of(run, last, index)
        previous = ((own.request_body if own else None) or {}).get("messages") or []
        reply = (adopted.content if adopted is not None else (own.content if own else "")) or ""
        out.append(next_messages(previous, reply, prompt, image_data_urls))
    return out, last + 1


def fork_to_conversation(
    make_session: sessionmaker[Session], user_id: int, run_id: int, column_index: int
) -> int | None:
    """Make a normal chat from one column: its system prompt, parameters and model, the run's history
    and images, every turn's prompt and this column's first reply. Return the conversation's id."""
    with make_session() as session:
        user = session.get(User, user_id)
        run = compare_store.get_compare_run(session, user, run_id)
        if run is None or not 0 <= column_index < len(run.columns):
            return None
        column = run.columns[column_index]
        conversation = repository.create_conversation(
            session,
            user,
            title=f"{run.title} · {column.get('label') or f'column {column_index + 1}'}"[:200],
            system_prompt=column.get("system_prompt") or "",
            params=dict(column.get("params") or {}),
            endpoint=column.get("endpoint") or "",
            model=column.get("model") or "",
        )
        parent: int | None = None

        def add(role: str, content: str, **extra: Any) -> None:
            nonlocal parent
            message = repository.add_message(
                session, user, conversation.id, role=role, content=content, parent_id=parent, **extra
            )
            parent = message.id

        for message in run.history or []:
            content = message.get("content")
            if isinstance(content, list):  # a user turn with images: keep its words
                content = " ".join(p.get("text", "") for p in content if p.get("type") == "text")
            if message.get("role") in ("user", "assistant") and isinstance(content, str):
                add(message["role"], content)
        for turn in range(turn_count(run)):
            result = reply_of(run, turn, column_index)
            prompt = run.prompt if turn == 0 else (result.prompt if result else "")
            images = list(run.attachments) if turn == 0 else []
            add("user", prompt, images=images)
            if result is not None and (result.content or "").strip():
                add("assistant", result.content)
        session.commit()
        return conversation.id
