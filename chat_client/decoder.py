"""Bytes of a response body -> typed events, with no I/O of its own.

The stream functions (stream.py) pump network bytes into a `StreamDecoder`; tests and benchmarks feed
it recorded bytes directly. It copes with every shape docs/architecture.md lists under "Gemini's wire":

- SSE framing per the WHATWG spec ("event stream interpretation",
  https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
  lines end at `\\r\\n`, `\\r` or `\\n` and nowhere else (U+2028 and U+0085 are content; this is why
  `httpx.Response.iter_lines()` must not be used), `:` lines are comments, the `data:` lines of one
  event join with `\\n`, one space after the colon is dropped. Both the line splitting (`SSELines`)
  and the event interpretation are the few lines below, as in openai-python's `_streaming.py`: we
  also need to see the lines the spec tells a browser to ignore (a raw JSON error object sent after
  the events), and a library's private module is no base to stand on.
- UTF-8 is decoded incrementally, so a character split across network reads survives.
- role on every chunk, usage on every chunk or only the last (the last wins, never summed), text and
  finish_reason in one chunk, thoughts inline with the flag and `<thought>` tags, tool-call deltas with
  or without `index` (or whole in one delta), finish `stop` after tool calls (reported as `tool_calls`,
  so Gemini's and OpenAI's shapes give identical events), a mid-stream `{"error": ...}` event, a stream
  that ends without `[DONE]` (fine when every choice finished) or with no finish_reason (an error).
- A non-streaming body (stream=false) goes through the same choice logic: the same events come out.

What must stay true: after a `StreamError` nothing else is emitted; `Usage` is emitted once, at the
end, with the last usage seen.
"""

from __future__ import annotations

import codecs
from typing import Any

import orjson

from chat_client import errors
from chat_client.events import (
    Event,
    Finish,
    LogprobsDelta,
    StreamError,
    TextDelta,
    ThoughtDelta,
    TokenLogprob,
    ToolCall,
    ToolCallDone,
    Usage,
)
from chat_client.thoughts import _ANSWER, ThoughtSplitter

_loads = orjson.loads
# A chunk whose JSON is valid but whose shape is not a chat chunk (a list where a dict belongs, ...)
# raises one of these somewhere in the chunk logic; the stream then ends with a ProtocolError.
_SHAPE_ERRORS = (AttributeError, TypeError, ValueError, KeyError, IndexError)


def _shape_error() -> errors.ProtocolError:
    return errors.ProtocolError("The server sent a piece of the reply in a shape this client does not know.")


class SSELines:
    """Text of an event stream, fed in pieces -> whole lines, split only where the WHATWG spec says.

    https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream: a line
    ends at CRLF, a lone CR or a lone LF, nothing else. `str.splitlines()` (and so httpx's
    `iter_lines()`) also splits at U+2028, U+2029, U+0085 and a few control characters, which JSON
    may carry unescaped inside a string: that would cut a chunk in two. A CR at the very end of a
    piece is held back, since the LF of its CRLF may open the next piece.
    """

    __slots__ = ("_cr", "_tail")

    def __init__(self) -> None:
        self._tail = ""  # an unfinished line from the previous pieces
        self._cr = False  # the previous piece ended with CR

    def decode(self, text: str) -> list[str]:
        """The lines completed by `text` (without their line endings)."""
        if self._cr:
            text = "\r" + text
            self._cr = False
        if text.endswith("\r"):
            self._cr = True
            text = text[:-1]
        if not text:
            return []
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        if self._tail:
            lines[0] = self._tail + lines[0]
        self._tail = lines.pop()  # "" when the text ended with a line ending
        return lines

    def flush(self) -> list[str]:
        """The body ended: the unfinished line, if any."""
        if not self._tail and not self._cr:
            return []
        line, self._tail, self._cr = self._tail, "", False
        return [line]


class _Call:
    __slots__ = ("args", "id", "name", "signature")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.args: list[str] = []
        self.signature: str | None = None


class _Choice:
    """What one choice (candidate) has accumulated so far."""

    __slots__ = ("by_id", "by_index", "calls", "finished", "index", "plain", "splitter")

    def __init__(self, index: int) -> None:
        self.index = index
        self.splitter = ThoughtSplitter()
        self.plain = False  # the splitter is past any thought and holds nothing: text goes straight out
        self.calls: list[_Call] = []
        self.by_index: dict[int, _Call] = {}
        self.by_id: dict[str, _Call] = {}
        self.finished = False

    def add_tool_delta(self, tc: Any) -> None:
        if not isinstance(tc, dict):
            return
        idx = tc.get("index")
        call_id = tc.get("id") or ""
        fn = tc.get("function") or {}
        name = fn.get("name") or ""
        if isinstance(idx, int) and not isinstance(idx, bool):
            call = self.by_index.get(idx)
            if call is None:
                call = self.by_index[idx] = self._new()
        elif call_id and call_id in self.by_id:
            call = self.by_id[call_id]
        elif call_id or name or not self.calls:
            # No index (Gemini): a new id or a name starts a new call; anything else continues the last.
            call = self._new()
        else:
            call = self.calls[-1]
        if call_id and not call.id:
            call.id = call_id
            self.by_id[call_id] = call
        if name and not call.name:
            call.name = name
        args = fn.get("arguments")
        if args:
            call.args.append(args if isinstance(args, str) else orjson.dumps(args).decode())
        extra = tc.get("extra_content")
        if isinstance(extra, dict):
            sig = (extra.get("google") or {}).get("thought_signature")
            if isinstance(sig, str):
                call.signature = sig

    def _new(self) -> _Call:
        call = _Call()
        self.calls.append(call)
        return call

    def whole_calls(self) -> list[ToolCall]:
        return [
            ToolCall(
                id=c.id or f"call_{self.index}_{i}",
                name=c.name,
                arguments="".join(c.args),
                thought_signature=c.signature,
            )
            for i, c in enumerate(self.calls)
        ]


def _usage(raw: dict[str, Any]) -> Usage:
    def num(d: Any, key: str) -> int:
        v = d.get(key) if isinstance(d, dict) else None
        return v if isinstance(v, int) and not isinstance(v, bool) else 0

    return Usage(
        prompt_tokens=num(raw, "prompt_tokens"),
        completion_tokens=num(raw, "completion_tokens"),
        total_tokens=num(raw, "total_tokens"),
        reasoning_tokens=num(raw.get("completion_tokens_details"), "reasoning_tokens"),
        cached_tokens=num(raw.get("prompt_tokens_details"), "cached_tokens"),
    )


def _logprobs(content: list[Any]) -> tuple[TokenLogprob, ...]:
    out = []
    for item in content:
        if not isinstance(item, dict):
            continue
        top = tuple(
            (str(t.get("token", "")), float(t.get("logprob") or 0.0))
            for t in item.get("top_logprobs") or ()
            if isinstance(t, dict)
        )
        out.append(TokenLogprob(str(item.get("token", "")), float(item.get("logprob") or 0.0), top))
    return tuple(out)


def _is_thought(delta: dict[str, Any]) -> bool:
    extra = delta.get("extra_content")
    if isinstance(extra, dict):
        google = extra.get("google")
        return isinstance(google, dict) and google.get("thought") is True
    return False


class StreamDecoder:
    """Feed body bytes, get events. `finished` turns true at [DONE], at an error, or after `close()`."""

    def __init__(self, *, sse: bool = True, secret: str | None = None) -> None:
        self.sse = sse
        self._secret = secret  # scrubbed from every error, should the server echo it
        self.finished = False
        self.saw_done = False
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        self._lines = SSELines()
        self._data: list[str] = []
        self._event_name = ""
        self._raw: list[str] = []
        self._body: list[bytes] = []
        self._choices: dict[int, _Choice] = {}
        self._usage: dict[str, Any] | None = None

    # --- input -------------------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> list[Event]:
        """Decode one network read; returns the events it completed."""
        if self.finished or not chunk:
            return []
        if not self.sse:
            self._body.append(chunk)
            return []
        text = self._utf8.decode(chunk)
        if not text:
            return []
        out: list[Event] = []
        data = self._data
        try:
            # The common lines (`data: ...` and the blank line ending an event) are handled inline: this
            # loop runs once per line of the stream, so a method call saved here is a tenth of the cost.
            for line in self._lines.decode(text):
                if not line:
                    if data:
                        payload = data[0] if len(data) == 1 else "\n".join(data)
                        data.clear()
                        name = self._event_name
                        if name:
                            self._event_name = ""
                        if payload == "[DONE]" or name:
                            self._dispatch(payload, name, out)
                        else:
                            try:
                                obj = _loads(payload)
                            except orjson.JSONDecodeError:
                                self._dispatch(payload, name, out)  # reports the malformed chunk
                            else:
                                if obj.__class__ is dict and "error" not in obj:
                                    self._chunk(obj, out)
                                else:
                                    self._dispatch(payload, name, out)
                        if self.finished:
                            break
                    else:
                        self._event_name = ""
                elif line.startswith("data:"):
                    data.append(line[6:] if line[5:6] == " " else line[5:])
                else:
                    self._line(line, out)
        except _SHAPE_ERRORS:
            self._fail(_shape_error(), out)
        return out

    def close(self) -> list[Event]:
        """The body ended: flush what is pending and judge whether the reply was complete."""
        if self.finished:
            return []
        out: list[Event] = []
        try:
            self._close(out)
        except _SHAPE_ERRORS:
            self._fail(_shape_error(), out)
        return out

    def _close(self, out: list[Event]) -> None:
        if not self.sse:
            self._whole_body(b"".join(self._body), out)
        else:
            tail = self._utf8.decode(b"", final=True)
            lines = (self._lines.decode(tail) if tail else []) + self._lines.flush()
            for line in lines:
                self._line(line, out)
                if self.finished:
                    return
            # Lenient where the spec is strict: an event cut off by the end of the body (no blank
            # line after it) is still read, so a final chunk without its blank line is not lost.
            if self._data:
                self._line("", out)
                if self.finished:
                    return
        self._end(out)

    # --- SSE event interpretation ------------------------------------------------------------------

    def _line(self, line: str, out: list[Event]) -> None:
        if not line:
            if self._data:
                data = self._data[0] if len(self._data) == 1 else "\n".join(self._data)
                self._data.clear()  # cleared, not replaced: feed() holds this very list
                name, self._event_name = self._event_name, ""
                self._dispatch(data, name, out)
            else:
                self._event_name = ""
            return
        if line[0] == ":":
            return  # a comment (keep-alive)
        name, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event_name = value
        elif name in ("id", "retry"):
            pass
        else:
            self._raw.append(line)  # not SSE at all: perhaps a raw JSON error after the events

    def _dispatch(self, data: str, event_name: str, out: list[Event]) -> None:
        if data == "[DONE]":
            self.saw_done = True
            self._end(out)
            return
        try:
            obj = _loads(data)
        except orjson.JSONDecodeError:
            self._fail(
                errors.ProtocolError(
                    "The server sent a piece of the reply that is not valid JSON, so the stream was stopped.",
                    detail=data[:200],
                ),
                out,
            )
            return
        if not isinstance(obj, dict):
            self._fail(
                errors.ProtocolError("The server sent a piece of the reply that is not a JSON object."), out
            )
            return
        if ("error" in obj and not obj.get("choices")) or event_name == "error":
            err = errors.error_from_object(obj) or errors.ServerError(
                "The server reported an error in the middle of the reply.", None, detail=data[:200]
            )
            self._fail(err, out)
            return
        self._chunk(obj, out)

    # --- chunk -> events ---------------------------------------------------------------------------

    def _chunk(self, obj: dict[str, Any], out: list[Event]) -> None:
        choices = obj.get("choices")
        if choices:
            for pos, ch in enumerate(choices):
                idx = ch.get("index", pos)
                st = self._choices.get(idx)
                if st is None:
                    st = self._choices[idx] = _Choice(idx)
                delta = ch.get("delta")
                if delta is None:
                    delta = ch.get("message")
                if delta:
                    content = delta.get("content")
                    n_plain = 0  # keys of this delta handled by the fast path
                    if "role" in delta:
                        n_plain = 1
                    if content:
                        n_plain += 1
                        if st.plain and content.__class__ is str:
                            if "extra_content" in delta and _is_thought(delta):
                                self._content(st, content, True, out)
                            else:
                                out.append(TextDelta(content, idx))
                        else:
                            self._content(st, content, _is_thought(delta), out)
                    elif "content" in delta:
                        n_plain += 1
                    if len(delta) > n_plain:
                        self._other_delta_fields(st, delta, out)
                if len(ch) > 3 or "logprobs" in ch:
                    lp = ch.get("logprobs")
                    if lp:
                        content_lp = lp.get("content") if isinstance(lp, dict) else None
                        if content_lp:
                            out.append(LogprobsDelta(_logprobs(content_lp), idx))
                reason = ch.get("finish_reason")
                if reason and not st.finished:
                    self._finish_choice(st, str(reason), out)
        usage = obj.get("usage")
        if usage and usage.__class__ is dict:
            self._usage = usage

    def _content(self, st: _Choice, content: Any, thought: bool, out: list[Event]) -> None:
        if isinstance(content, list):  # content parts, as some gateways send
            content = "".join(
                p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
            )
        if not isinstance(content, str) or not content:
            return
        idx = st.index
        sp = st.splitter
        for is_thought, text in sp.feed(content, thought):
            out.append(ThoughtDelta(text, idx) if is_thought else TextDelta(text, idx))
        st.plain = sp.state == _ANSWER and not sp._hold

    def _other_delta_fields(self, st: _Choice, delta: dict[str, Any], out: list[Event]) -> None:
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            out.append(ThoughtDelta(reasoning, st.index))
        tool_calls = delta.get("tool_calls")
        if tool_calls:
            for tc in tool_calls:
                st.add_tool_delta(tc)

    def _finish_choice(self, st: _Choice, reason: str, out: list[Event]) -> None:
        st.finished = True
        idx = st.index
        for is_thought, text in st.splitter.flush():
            out.append(ThoughtDelta(text, idx) if is_thought else TextDelta(text, idx))
        calls = st.whole_calls()
        for call in calls:
            out.append(ToolCallDone(call, idx))
        if calls and reason == "stop":
            reason = "tool_calls"  # Gemini says stop after tool calls; OpenAI says tool_calls
        out.append(Finish(reason, idx))

    def _whole_body(self, raw: bytes, out: list[Event]) -> None:
        try:
            obj = _loads(raw)
        except orjson.JSONDecodeError:
            self._fail(
                errors.ProtocolError(
                    "The server's reply is not valid JSON.", detail=raw[:200].decode("utf-8", "replace")
                ),
                out,
            )
            return
        err = errors.error_from_object(obj) if isinstance(obj, dict | list) else None
        if err is not None or not isinstance(obj, dict):
            self._fail(err or errors.ProtocolError("The server's reply is not a JSON object."), out)
            return
        self._chunk(obj, out)

    def _end(self, out: list[Event]) -> None:
        """The stream is over ([DONE] or end of body): trailing error, held text, usage, completeness."""
        self.finished = True
        if self._raw:
            raw = "\n".join(self._raw)
            err = None
            try:
                err = errors.error_from_object(_loads(raw))
            except orjson.JSONDecodeError:
                pass
            if err is not None:
                proto = errors.ProtocolError(
                    f"The stream broke off with an error sent after the events: {err.message}",
                    err.status,
                    detail=err.detail,
                )
            else:
                proto = errors.ProtocolError(
                    "The server sent text that is not part of the event stream.", detail=raw[:200]
                )
            self._flush_unfinished(out)
            self._emit_usage(out)
            out.append(StreamError(proto.redacted(self._secret)))
            return
        self._flush_unfinished(out)
        self._emit_usage(out)
        if not self._choices or not all(c.finished for c in self._choices.values()):
            out.append(
                StreamError(
                    errors.ProtocolError(
                        "The stream ended before the reply was finished "
                        "(the server never said why it stopped)."
                    )
                )
            )

    def _flush_unfinished(self, out: list[Event]) -> None:
        for st in self._choices.values():
            if not st.finished:
                for is_thought, text in st.splitter.flush():
                    out.append(ThoughtDelta(text, st.index) if is_thought else TextDelta(text, st.index))

    def _emit_usage(self, out: list[Event]) -> None:
        if self._usage is not None:
            out.append(_usage(self._usage))

    def _fail(self, err: errors.ChatError, out: list[Event]) -> None:
        self.finished = True
        self._flush_unfinished(out)
        self._emit_usage(out)
        out.append(StreamError(err.redacted(self._secret)))
