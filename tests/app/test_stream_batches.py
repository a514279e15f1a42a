"""How a streaming reply's deltas become screen updates: the first at once, then batched.

The request is sent before the page is drawn, so by the time the page reads the stream the first
tokens are often already waiting: the first of them must still reach the screen at once, not wait
for a batch to fill."""

from __future__ import annotations

from components.message_view import FLUSH_SECONDS, Batch


def test_the_first_delta_is_shown_at_once_even_when_the_stream_just_started():
    batch = Batch()
    assert batch.add("Hello", now=1000.0) == "Hello"


def test_later_deltas_are_gathered_until_the_interval_has_passed():
    batch = Batch()
    batch.add("A", now=0.0)
    assert batch.add("b", now=FLUSH_SECONDS / 3) is None
    assert batch.add("c", now=FLUSH_SECONDS / 2) is None
    assert batch.add("d", now=FLUSH_SECONDS * 1.01) == "bcd"


def test_what_is_left_is_taken_whole_and_nothing_twice():
    batch = Batch()
    batch.add("A", now=0.0)
    batch.add("b", now=0.001)
    assert batch.take(now=0.002) == "b"
    assert batch.pending == []
