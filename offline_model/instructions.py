"""The few instructions the offline model follows: how long its reply should be.

Why it exists: a system prompt must have a visible effect offline, and comparing "Answer in one
sentence." with "Answer in detail." is the clearest one. A small n-gram model cannot follow
instructions in general, so it follows exactly these, read from the system prompt and the last user
message (the message's wins over the system prompt's), and nothing else (``--help`` lists them too):

- "one sentence", "a single sentence", "a sentence", "one line", "in a line": one sentence.
- "N sentences" (N a digit or a number word up to ten): N sentences.
- "in N words", "under N words", "at most N words", "N words or less/fewer": stop after N words.
- "brief", "briefly", "short", "concise", "terse", "succinct": two sentences.
- "in detail", "detailed", "in depth", "at length", "thorough", "elaborate": at least five sentences,
  going on to the next most relevant passages.

Without one, the reply is one paragraph: the passage it is conditioned on, retold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
DETAIL_SENTENCES = 5
BRIEF_SENTENCES = 2
_N = r"(\d{1,3}|" + "|".join(NUMBER_WORDS) + r")"
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(?:in|under|within|at most|no more than|max)\s+" + _N + r"\s+words?\b"), "words"),
    (re.compile(r"\b" + _N + r"\s+words?\s+(?:or\s+)?(?:less|fewer|max)\b"), "words"),
    (re.compile(r"\b(?:one|a|a single|single|1)\s+(?:sentence|line)\b|\bin\s+a\s+line\b"), "one"),
    (re.compile(r"\b" + _N + r"\s+sentences\b"), "sentences"),
    (re.compile(r"\b(?:brief(?:ly)?|short|concise(?:ly)?|terse(?:ly)?|succinct(?:ly)?)\b"), "brief"),
    (re.compile(r"\b(?:in detail|detailed|in depth|at length|thorough(?:ly)?|elaborate)\b"), "detail"),
]


@dataclass(frozen=True)
class Length:
    """How long a reply should be: at most ``max_sentences`` or ``max_words``, at least
    ``min_sentences`` (then it goes on past the end of a paragraph)."""

    max_sentences: int | None = None
    min_sentences: int = 0
    max_words: int | None = None


def _number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text]


def _one(text: str) -> tuple[int, Length] | None:
    """The last length instruction in ``text`` (its position, and what it asks for)."""
    found: tuple[int, Length] | None = None
    lowered = text.lower()
    for pattern, kind in _RULES:
        for m in pattern.finditer(lowered):
            if kind == "words":
                length = Length(max_words=max(1, _number(m.group(1))))
            elif kind == "one":
                length = Length(max_sentences=1)
            elif kind == "sentences":
                n = max(1, _number(m.group(1)))
                length = Length(max_sentences=n, min_sentences=n)
            elif kind == "brief":
                length = Length(max_sentences=BRIEF_SENTENCES)
            else:
                length = Length(min_sentences=DETAIL_SENTENCES)
            if found is None or m.start() >= found[0]:
                found = (m.start(), length)
    return found


@lru_cache(maxsize=1024)
def reply_length(system: str, last: str) -> Length:
    """The length the system prompt and the last message ask for (the message wins)."""
    for text in (last, system):
        found = _one(text)
        if found is not None:
            return found[1]
    return Length()
