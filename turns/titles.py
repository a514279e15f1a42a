"""Titles for new conversations: a short summary of the first message, unique in the person's list.

A history list where four chats read "Tell me a story about a dragon." tells nobody which is which.
A new conversation is titled from its first message without asking the model (no tokens spent, the
same on the offline model): common asks for a piece of writing ("Tell me a story about a dragon") read
as what they are about ("Dragon story"); anything else is its first words, cut at a word boundary. A
title another of the person's conversations already has gets the next free number: "Dragon story (2)".

What must stay true: a title is never empty, never longer than `MAX_LENGTH` characters, and two
conversations started one after the other from the same words get different titles. A person's own
rename is theirs: it may repeat a title (only new titles are made unique).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_LENGTH = 48
MAX_WORDS = 6
NO_TEXT = "Images"  # a first message with only images

# Greetings and politeness in front of the ask ("Hi! Could you please ...").
_LEAD = re.compile(
    r"^(?:(?:hi|hello|hey)\b[\s,!.]*)?(?:please\s+)?(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?)?",
    re.IGNORECASE,
)
_KINDS = (
    "story|poem|joke|essay|song|haiku|limerick|summary|list|email|letter|article|recipe|riddle|fable"
    "|tale|speech|plan|report|script|quiz"
)
# "write me a short poem about the sea" -> kind "poem", topic "the sea".
_WRITING = re.compile(
    r"^(?:(?:write|tell|give|make|compose|create|draft|generate|invent)\s+(?:me\s+|us\s+)?)?"
    r"(?:a|an|one|some)\s+(?:(?:short|long|little|funny|sad|brief|quick|new)\s+)*"
    rf"(?P<kind>{_KINDS})s?\s+(?:about|on|of|for|with)\s+(?P<topic>.+)$",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"^(?:a|an|the|my|our|some|your)\s+", re.IGNORECASE)
_NUMBERED = re.compile(r"^(?P<base>.*) \((?P<n>\d+)\)$")


def summary(text: str) -> str:
    """A short title for a conversation whose first message is `text`."""
    line = " ".join((text.strip().splitlines() or [""])[0].split())
    if not line:
        return NO_TEXT
    asked = _LEAD.sub("", line).strip() or line
    writing = _WRITING.match(asked.rstrip(".!?"))
    if writing:
        topic = _ARTICLE.sub("", writing["topic"].strip())
        title = f"{_cut(topic, MAX_WORDS - 1)} {writing['kind'].lower()}"
    else:
        title = _cut(asked, MAX_WORDS)
    return (title[:1].upper() + title[1:])[:MAX_LENGTH]


def _cut(text: str, words: int) -> str:
    """The first `words` words of `text`, at most MAX_LENGTH characters; "…" when something was left off."""
    parts = text.split()
    kept = parts[:words]
    while len(kept) > 1 and len(" ".join(kept)) > MAX_LENGTH - 1:
        kept.pop()
    shown = " ".join(kept)
    if len(shown) > MAX_LENGTH - 1:
        shown = shown[: MAX_LENGTH - 1]
    if len(kept) < len(parts) or shown != " ".join(kept):
        return shown.rstrip(" ,;:.-") + "…"
    return shown.rstrip(" ,;:")


def unique(title: str, taken: Iterable[str]) -> str:
    """`title`, or `title (N)` with the smallest N >= 2 that no title in `taken` has."""
    taken = set(taken)
    if title not in taken:
        return title
    used = {int(m["n"]) for t in taken if (m := _NUMBERED.match(t)) is not None and m["base"] == title}
    n = 2
    while n in used or f"{title} ({n})" in taken:
        n += 1
    return f"{title} ({n})"
