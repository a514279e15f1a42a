"""One request of an evaluation: a test case's prompt sent with one setting, on the one turn engine.

Why it is its own turn: an evaluation's record is its own rows (storage/evals.py: one cell per case x
setting x repeat, written when the cell settles, with its checks). Borrowing a compare run to hold the
requests put every evaluation in the Compare page's list while it ran, and left it there when the
process died mid-run. This turn writes no row of its own: the reply is held in memory until it ends,
and evals/ stores the checked cell.

What must stay true:
- It gets everything a compare column gets from `turns.engine.Run`: quota admission before sending
  (each request on its own, kind "evaluation" in the usage ledger), streaming with timings, Stop as
  cancellation, and its tokens counted when it ends.
- Nothing is written but the usage ledger, so a crash mid-request leaves nothing behind to clean up.
"""

from __future__ import annotations

from typing import Any

from chat_client import Endpoint, Params, build_body, events
from turns.compare import Sample
from turns.engine import Run
from turns.reply import final_status


class CaseTurn(Run):
    """One prompt sent with one setting; `sample` holds the reply as it streams and how it ended."""

    kind = "evaluation"

    def __init__(
        self, *, endpoint: Endpoint, params: Params, messages: list[dict[str, Any]], **run_options: Any
    ) -> None:
        super().__init__(max_parallel=1, **run_options)
        self.sample = Sample(
            column=0,
            repeat=0,
            endpoint=endpoint,
            params=params,
            messages=list(messages),
            request_body=build_body(params, messages, endpoint.length_field),
        )
        self.requests = [self.sample]

    def _begin(self, sample: Sample) -> None:
        sample.status = "streaming"
        sample.started_at = self.clock()

    def _take(self, sample: Sample, event: events.Event) -> None:
        if isinstance(event, events.Usage):
            sample.usage = event  # the last one seen counts (Gemini may send one on every chunk)
        elif event.index != 0:
            return  # n > 1: a case is judged on its first choice
        elif isinstance(event, events.RetryWait):
            sample.retry_note = f"Retrying in {event.seconds:.0f} s: {event.reason}"
        elif isinstance(event, events.StreamError):
            sample.error = event.error
        elif sample.take(event, self.clock()):
            sample.retry_note = None

    def _finish(self, sample: Sample, *, stopped: bool) -> None:
        if sample.done:
            return
        sample.ended_at = self.clock()
        sample.status = final_status(
            stopped=stopped and sample.error is None, error=sample.error, finish_reason=sample.finish_reason
        )
        self._count_tokens(sample, sample.usage_dict())
