"""Property tests: any text, cut into any deltas, framed with any line ending and delivered in any
network pieces, comes out whole; thought and answer text are separated exactly however the tags fall.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chat_client.events import Finish, StreamError, TextDelta, ThoughtDelta
from tests.client.wire import chunk, decode, sse

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=12
)


def _cuts(draw, n: int, k: int) -> list[int]:
    return sorted(set(draw(st.lists(st.integers(1, max(1, n - 1)), max_size=k)))) if n > 1 else []


@settings(max_examples=100, deadline=None)
@given(st.data(), st.lists(TEXT, min_size=1, max_size=6), st.sampled_from(["\n", "\r", "\r\n"]))
def test_any_text_any_framing_any_pieces(data, deltas, eol):
    body = sse(*(chunk(d) for d in deltas), chunk(None, finish="stop"), eol=eol)
    cuts = _cuts(data.draw, len(body), 8)
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    events = decode(*pieces)
    # a delta that looks like the start of "<thought>" at the very beginning is held and merged; the
    # text as a whole must be unchanged either way
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "".join(deltas)
    assert events[-1] == Finish("stop")
    assert not any(isinstance(e, StreamError | ThoughtDelta) for e in events)


PLAIN = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<>\x00"), max_size=30
)


@settings(max_examples=120, deadline=None)
@given(st.data(), PLAIN.filter(bool), PLAIN.filter(bool))
def test_thoughts_and_answer_separate_exactly_wherever_the_tags_are_cut(data, thought, answer):
    thinking = "<thought>" + thought
    replying = "</thought>" + answer
    # Gemini flags every thinking delta and none of the answer deltas; cut each part anywhere.
    deltas = []
    for part, flagged in ((thinking, True), (replying, False)):
        cuts = _cuts(data.draw, len(part), 4)
        for a, b in zip([0, *cuts], [*cuts, len(part)], strict=True):
            deltas.append(chunk(part[a:b], thought=flagged))
    events = decode(sse(*deltas, chunk(None, finish="stop")))
    assert "".join(e.text for e in events if isinstance(e, ThoughtDelta)) == thought
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == answer
