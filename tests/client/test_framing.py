"""SSE framing, table-driven: every split point x every line ending, UTF-8 split across reads,
U+2028/U+0085 inside content, comments, multi-line data, missing [DONE], trailing raw JSON error.

The decoder is fed the same bytes cut at every possible place, as if each piece were one network read;
the events must not change. One case goes through the whole client over MockTransport with the body
streamed in pieces, to show the client feeds the decoder the same way.
"""

from __future__ import annotations

import json

import httpx
import pytest

from chat_client import errors
from chat_client.events import Finish, StreamError, TextDelta, Usage
from tests.client.wire import chunk, collect, decode, mock_client, sse

EOLS = {"lf": "\n", "cr": "\r", "crlf": "\r\n"}
USAGE = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}


def _stream(eol: str) -> bytes:
    return sse(chunk("héllo 🌍"), chunk(" wörld", finish="stop", usage=USAGE), eol=eol)


EXPECTED = [TextDelta("héllo 🌍"), TextDelta(" wörld"), Finish("stop"), Usage(1, 2, 3)]


def _merged(events):
    """Text pieces joined, so that splitting a read may split a delta without failing the test."""
    out = []
    for e in events:
        if out and isinstance(e, TextDelta) and isinstance(out[-1], TextDelta):
            out[-1] = TextDelta(out[-1].text + e.text, e.index)
        else:
            out.append(e)
    return out


@pytest.mark.parametrize("eol", EOLS.values(), ids=EOLS.keys())
def test_every_split_point_gives_the_same_events(eol):
    body = _stream(eol)
    assert decode(body) == EXPECTED
    for i in range(1, len(body)):
        assert decode(body[:i], body[i:]) == EXPECTED, (eol, i)


@pytest.mark.parametrize("eol", EOLS.values(), ids=EOLS.keys())
def test_byte_at_a_time(eol):
    body = _stream(eol)
    assert decode(*(body[i : i + 1] for i in range(len(body)))) == EXPECTED


def test_mixed_line_endings_in_one_stream():
    a = sse(chunk("a"), done=False, eol="\r\n")
    b = sse(chunk("b"), done=False, eol="\r")
    c = sse(chunk(None, finish="stop"), eol="\n")
    body = a + b + c
    for i in range(1, len(body)):
        assert _merged(decode(body[:i], body[i:])) == [TextDelta("ab"), Finish("stop")], i


def test_multibyte_character_split_in_every_place():
    text = "€𝄞🌍ü"  # 3-, 4-, 4- and 2-byte characters
    body = sse(chunk(text, finish="stop"))
    start = body.index(text.encode())
    for i in range(start, start + len(text.encode()) + 1):
        assert decode(body[:i], body[i:]) == [TextDelta(text), Finish("stop")], i


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\u0085"])  # JSON may carry these unescaped
def test_unicode_line_separators_are_content_not_line_ends(char):
    text = f"one{char}two"
    raw = (
        'data: {"choices":[{"index":0,"delta":{"content":"' + text + '"},"finish_reason":"stop"}]}\n\n'
    ).encode()
    assert decode(raw) == [TextDelta(text), Finish("stop")]


def test_comments_are_ignored_anywhere():
    body = b": keep-alive\n\n" + sse(chunk("a"), done=False) + b":ping\n" + sse(chunk("b", finish="stop"))
    assert decode(body) == [TextDelta("a"), TextDelta("b"), Finish("stop")]


def test_multi_line_data_joins_with_newline():
    obj = chunk("x\ny", finish="stop")
    text = json.dumps(obj, indent=1)  # a JSON document over many lines
    body = "".join(f"data: {line}\n" for line in text.split("\n")) + "\n" + "data: [DONE]\n\n"
    assert decode(body.encode()) == [TextDelta("x\ny"), Finish("stop")]


@pytest.mark.parametrize("eol", EOLS.values(), ids=EOLS.keys())
def test_multi_line_data_split_anywhere_is_one_event(eol):
    # A CRLF cut between its CR and its LF is one line end, not two: read as two, the blank line
    # between would end the event after its first data line.
    obj = chunk("x", finish="stop")
    text = json.dumps(obj, indent=1)
    body = (
        "".join(f"data: {line}{eol}" for line in text.split("\n")) + eol + f"data: [DONE]{eol}{eol}"
    ).encode()
    for i in range(1, len(body)):
        assert decode(body[:i], body[i:]) == [TextDelta("x"), Finish("stop")], (eol, i)


def test_one_space_after_the_colon_is_dropped_and_no_space_works():
    body = b'data:{"choices":[{"index":0,"delta":{"content":" a"},"finish_reason":"stop"}]}\n\n'
    assert decode(body) == [TextDelta(" a"), Finish("stop")]


def test_other_sse_fields_are_ignored():
    body = b"id: 7\nretry: 100\nevent: message\n" + sse(chunk("a", finish="stop"))
    assert decode(body) == [TextDelta("a"), Finish("stop")]


def test_missing_done_is_fine_when_every_choice_finished():
    assert decode(sse(chunk("a", finish="stop"), done=False)) == [TextDelta("a"), Finish("stop")]


def test_last_event_without_its_blank_line_is_still_read():
    body = sse(chunk("a"), done=False) + b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}'
    assert decode(body) == [TextDelta("a"), Finish("stop")]


def test_stream_ending_without_finish_reason_is_a_protocol_error():
    events = decode(sse(chunk("a"), chunk("b")))
    assert events[:2] == [TextDelta("a"), TextDelta("b")]
    assert isinstance(events[-1], StreamError) and isinstance(events[-1].error, errors.ProtocolError)
    assert "ended before the reply was finished" in events[-1].error.message
    assert decode(b"") == [StreamError(errors.ProtocolError(events[-1].error.message))]


TRAILING = {
    "compact": b'{"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}\n',
    "pretty list": (
        b'[{\n  "error": {\n    "code": 503,\n    "message": "The model is overloaded.",\n'
        b'    "status": "UNAVAILABLE"\n  }\n}\n]\n'
    ),
    "no newline": b'{"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}',
}


@pytest.mark.parametrize("tail", TRAILING.values(), ids=TRAILING.keys())
def test_trailing_raw_json_error_is_read(tail):
    body = sse(chunk("a"), done=False) + tail
    for i in range(1, len(body)):
        events = decode(body[:i], body[i:])
        assert events[0] == TextDelta("a")
        err = events[-1].error
        assert isinstance(err, errors.ProtocolError) and err.status == 503, i
        assert "The model is overloaded." in err.message


def test_trailing_junk_that_is_not_json_is_a_protocol_error():
    events = decode(sse(chunk("a", finish="stop"), done=False) + b"<html>oops</html>\n")
    assert isinstance(events[-1].error, errors.ProtocolError)
    assert "not part of the event stream" in events[-1].error.message


def test_malformed_chunk_stops_the_stream_with_a_protocol_error():
    events = decode(sse(chunk("a"), "{not json", chunk("never", finish="stop")))
    assert events[0] == TextDelta("a")
    assert isinstance(events[-1].error, errors.ProtocolError) and "not valid JSON" in events[-1].error.message
    assert TextDelta("never") not in events


def test_mid_stream_error_event_becomes_its_typed_error():
    err = {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}
    events = decode(sse(chunk("a"), err, chunk("never", finish="stop")))
    assert events[0] == TextDelta("a") and len(events) == 2
    assert isinstance(events[1].error, errors.ServerError) and events[1].error.status == 503


def test_nothing_is_read_after_done():
    body = sse(chunk("a", finish="stop")) + sse(chunk("late"), done=False)
    assert decode(body) == [TextDelta("a"), Finish("stop")]


def test_the_client_feeds_network_pieces_to_the_decoder_unchanged():
    body = _stream("\r\n")
    pieces = [body[i : i + 7] for i in range(0, len(body), 7)]

    async def body():
        for piece in pieces:
            yield piece

    def handler(request):
        return httpx.Response(200, content=body(), headers={"content-type": "text/event-stream"})

    assert _merged(collect(mock_client(handler))) == _merged(EXPECTED)


def test_a_bare_data_line_is_an_empty_data_line():
    # "data" with no colon is the field "data" with an empty value (WHATWG), so the event's data is
    # the JSON line plus a trailing "\n", which JSON ignores.
    body = b'data: {"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]}\ndata\n\n'
    assert decode(body) == [TextDelta("a"), Finish("stop")]
