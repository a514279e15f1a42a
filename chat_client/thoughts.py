"""Separate Gemini's inline thought summary from the answer, tags stripped.

With `include_thoughts`, Gemini streams the thought summary inside `delta.content`: thinking deltas
carry `extra_content.google.thought = true` and the first starts with the literal `<thought>`; the
first answer delta starts with `</thought>` glued to the answer. Non-streaming, `message.content` is
`"<thought>...</thought>answer"` with no flag at all. Either tag can be split across chunks
(`"</thou"` then `"ght>Here is"`), so this is a small state machine that holds back a tail that might
be the start of a tag until the next piece decides it.

What must stay true: no tag text and no thought text ever reaches the answer; an answer that merely
mentions `<thought>` later on is left alone (tags count only at the start of the content, and the
closing tag only while a thought is open).
"""

from __future__ import annotations

OPEN = "<thought>"
CLOSE = "</thought>"

_START, _THOUGHT, _ANSWER = 0, 1, 2


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest tail of `text` that is a proper prefix of `tag`."""
    for k in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:k]):
            return k
    return 0


class ThoughtSplitter:
    """Feed content pieces with their thought flag; get back (is_thought, text) pieces."""

    __slots__ = ("_flags_seen", "_hold", "_hold_thought", "state")

    def __init__(self) -> None:
        self.state = _START
        self._hold = ""
        self._hold_thought = False
        self._flags_seen = False

    def feed(self, text: str, thought: bool = False) -> list[tuple[bool, str]]:
        """Split one content piece; `thought` is the piece's extra_content.google.thought flag."""
        if self.state == _ANSWER and not thought and not self._hold:
            return [(False, text)] if text else []  # the common case, kept cheap
        if thought:
            self._flags_seen = True
        out: list[tuple[bool, str]] = []
        s = self._hold + text
        self._hold = ""
        while s:
            if self.state == _START:
                if len(s) < len(OPEN) and OPEN.startswith(s):
                    self._hold, self._hold_thought = s, thought
                    return out
                if s.startswith(OPEN):
                    s = s[len(OPEN) :]
                    self.state = _THOUGHT
                    continue
                self.state = _THOUGHT if thought else _ANSWER
                continue
            if self.state == _THOUGHT:
                if self._flags_seen and not thought:
                    # An answer piece after flagged thoughts: drop a leading closing tag (maybe split).
                    if len(s) < len(CLOSE) and CLOSE.startswith(s):
                        self._hold, self._hold_thought = s, False
                        return out
                    if s.startswith(CLOSE):
                        s = s[len(CLOSE) :]
                    self.state = _ANSWER
                    continue
                i = s.find(CLOSE)
                if i >= 0:
                    if i:
                        out.append((True, s[:i]))
                    s = s[i + len(CLOSE) :]
                    self.state = _ANSWER
                    thought = False  # the tag closed the thought: what follows in this piece is answer
                    continue
                k = _partial_suffix(s, CLOSE)
                if k:
                    self._hold, self._hold_thought = s[-k:], True
                    s = s[:-k]
                if s:
                    out.append((True, s))
                return out
            # _ANSWER
            if thought:
                # A flagged piece after the answer began: a new thought section.
                self.state = _START
                continue
            out.append((False, s))
            return out
        return out

    def flush(self) -> list[tuple[bool, str]]:
        """Give back whatever was held (the content ended in the middle of what looked like a tag)."""
        hold, self._hold = self._hold, ""
        if not hold:
            return []
        if self.state == _THOUGHT and self._hold_thought:
            return [(True, hold)]
        return [(self._hold_thought and self.state != _ANSWER, hold)]
