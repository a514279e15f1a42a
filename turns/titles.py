"""Titles for new conversations: a short summary of the first message, unique in the person's list.

A history list where four chats read "Tell me a story about a dragon." tells nobody which is which.
A new conversation is titled from its first message without asking the model (no tokens spent, the
same on the offline model), the way chat apps name theirs: a few words that name the chat, never a
sentence cut off with an ellipsis. Common asks for a piece of writing ("Tell me a story about a
dragon") read as what they are about ("Dragon story"); "How do I reset my password?" reads "Reset my
password"; anything else is its first sentence when that is short, else its opening phrase, cut before
a word such as "in" or "and" ("Explain how photosynthesis works in plants and algae" reads "Explain
how photosynthesis works"), never ending on one such as "to a". A title another of the person's
conversations already has gets the next free number: "Dragon story (2)".

What must stay true: a title is never empty, never longer than `MAX_LENGTH` characters (its number,
when it needs one, comes after), and two conversations started one after the other from the same words
get different titles. A person's own rename is theirs: it may repeat a title (only new titles are made
unique).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_LENGTH = 36
MAX_WORDS = 6
NO_TEXT = "Images"  # a first message with only images

# Greetings and politeness in front of the ask ("Hi! Could you please ...").
_LEAD = re.compile(
    r"^(?:(?:hi|hello|hey)(?:\s+there)?\b[\s,!.]*)?(?:please\s+)?"
    r"(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?)?"
    # "How do I ...", "I need help with ...": the rest is what the chat is about.
    r"(?:how\s+(?:do|can|should|would)\s+i\s+|help\s+me\s+(?:to\s+)?"
    r"|i(?:'d|\s+would)?\s+(?:need|want|like)\s+(?:help\s+(?:with\s+)?|to\s+)?)?",
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
# The end of the first sentence, or an aside that opens ("... reply? (Sent at ...", "Plan: ...").
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s+\(|:\s|;\s|\s[-–—]\s")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A phrase ends well just before one of these words ("... photosynthesis works | in plants").
_BREAKS = _words(
    "in on at for to with without from by of about as into and or but so because when while if that"
    " which who where using via vs than between among over under after before through across against"
    " like per"
)
# ... and never on one of these ("What does temperature do to a").
_DANGLING = _BREAKS | _words("a an the my your our their his her its this these those some")
# A title keeps its question mark only while it still reads as a question ("Reset my password", not
# "Reset my password?", after "How do I" was taken off).
_QUESTION = _words(
    "what how why when where who which whose is are was were can could do does did should will would"
)
_NUMBERED = re.compile(r"^(?P<base>.*) \((?P<n>\d+)\)$")


def summary(text: str) -> str:
    """A short title for a conversation whose first message is `text`."""
    line = " ".join((text.strip().splitlines() or [""])[0].split())
    if not line:
        return NO_TEXT
    asked = _LEAD.sub("", line).strip() or line
    asked = _SENTENCE_END.split(asked, maxsplit=1)[0].strip() or asked
    writing = _WRITING.match(asked.rstrip(".!?"))
    if writing:
        topic = _ARTICLE.sub("", writing["topic"].strip())
        kind = writing["kind"].lower()
        title = f"{_phrase(topic, MAX_WORDS - 1, MAX_LENGTH - len(kind) - 1)} {kind}"
    else:
        title = _phrase(asked, MAX_WORDS, MAX_LENGTH)
    if title.endswith("?") and title.split()[0].lower() not in _QUESTION:
        title = title.rstrip("?")
    return title[:1].upper() + title[1:]


def _phrase(text: str, most_words: int, most_chars: int) -> str:
    """`text` whole if it is short; else its longest opening phrase that ends before a word like "in"
    or "and"; else its first words, none left dangling ("to a"). No ellipsis: a title is a name, and
    a number after it ("(2)") must not read as part of a cut sentence."""
    words = text.split()
    if len(words) <= most_words and len(text) <= most_chars:
        return text.rstrip(" .,;:!")
    fits = [
        k for k in range(1, min(most_words, len(words) - 1) + 1) if len(" ".join(words[:k])) <= most_chars
    ]
    for k in reversed(fits):
        last = words[k - 1].lower().strip(",")
        if k >= 2 and last not in _DANGLING and (words[k].lower() in _BREAKS or words[k - 1].endswith(",")):
            return " ".join(words[:k]).rstrip(" .,;:!?")
    kept = words[: fits[-1]] if fits else [words[0][:most_chars]]
    while len(kept) > 1 and kept[-1].lower().strip(",") in _DANGLING:
        kept.pop()
    return " ".join(kept).rstrip(" .,;:!?")


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
