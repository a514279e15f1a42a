"""What a conversation is about: the corpus passages nearest to it, and whether any is near enough.

Why it exists: the offline model knows only Prism's help text (corpus.txt). A question the text covers
should get an answer conditioned on the passage that covers it; any other question (a greeting,
arithmetic, geography, another language) must get a plain "I cannot answer that offline" rather than
a confident paragraph about something else.

How it scores: each passage is a paragraph of the corpus. Words are lower-cased, split at anything that
is not a letter or digit (``top_p`` is ``top`` and ``p``), and reduced to a crude singular
(``penalties`` -> ``penalty``). Stopwords and the words every question uses ("what", "explain", "work")
are no evidence either way. A word weighs its inverse document frequency; a word the corpus never uses
weighs the most, and a number always counts as unknown (the corpus has numbers, but "2+2" is not a
question about Prism).

- ``coverage(text)``: the share of the message's word weight that one passage holds, for the passage
  holding the most. This is the score the threshold applies to (``ON_TOPIC``).
- ``rank(sources)``: passages ordered by a weighted query over the whole conversation (the last message
  weighs 1, the system prompt ``SYSTEM_WEIGHT``, earlier messages less the older they are). A passage
  scores the weight of each query word it holds (times ``1 + log(count)``), ``TITLE_BOOST`` times when it
  names the word in its first sentence (where each passage names its subject), divided by the square
  root of its length, so the passage about a thing beats one that mentions it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

ON_TOPIC = 0.5  # a message is on topic when one passage holds at least this share of its word weight
SYSTEM_WEIGHT = 0.6
EARLIER_USER_WEIGHT = 0.5  # halved for each turn further back
EARLIER_ASSISTANT_WEIGHT = 0.2
TITLE_BOOST = 2.0
NUMBER_WEIGHT = 0.7  # a number's weight in the denominator of coverage

_NO_EVIDENCE_TEXT = """
a about above after again all also am an and any are as at be been before being below between both
but by can could did do does doing done down during each else even ever every few for from further
get gets got had has have having he her here hers him his how i if in into is it its itself just
let lets like me more most much must my no nor not now of off on once only or other our out over own
please same she should so some such than that the their them then there these they this those
through to too under until up very was we well were what when where which while who whom why will
with would you your yours yourself

answer answers ask asked describe detail details detailed difference different do example explain
explained explaining happen happens help know mean means meaning need sentence sentences short
brief briefly tell thank thanks think thing things want way ways word words work works working good
great best like line lines really exactly use used using purpose long many time times day
say said show shows give gives make makes made okay ok yes sure hey
one two three four five six seven eight nine ten single depth concise terse succinct thorough elaborate
"""
NO_EVIDENCE = frozenset(_NO_EVIDENCE_TEXT.split())
_WORD_RE = re.compile(r"[^\W_]+")


def stem(word: str) -> str:
    """A crude singular: ``penalties`` -> ``penalty``, ``tools`` -> ``tool``, ``logprobs`` -> ``logprob``."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=4096)
def terms(text: str) -> tuple[str, ...]:
    """The words of ``text`` that say what it is about, lower-cased and stemmed, in order."""
    out = []
    for w in _WORD_RE.findall(text.lower()):
        if w not in NO_EVIDENCE:
            s = stem(w)
            if s not in NO_EVIDENCE:
                out.append(s)
    return tuple(out)


@dataclass(frozen=True)
class Ranked:
    """Passages from the most relevant down, and the query words the best one holds (in query order)."""

    order: tuple[int, ...]
    scores: tuple[float, ...]
    matched: tuple[str, ...]


class Index:
    """The corpus passages, indexed for scoring."""

    def __init__(self, passages: list[str]) -> None:
        self.docs = [Counter(terms(p)) for p in passages]
        first = [re.split(r"(?<=[.!?])\s", p, maxsplit=1)[0] for p in passages]
        self.titles = [frozenset(terms(f)) for f in first]
        df = Counter(t for d in self.docs for t in d)
        n = len(passages)
        self.idf = {t: math.log((n + 1) / c) for t, c in df.items()}
        self.unknown = math.log(n + 1) + 1.0  # a word the corpus never uses weighs the most
        self.lengths = [math.sqrt(sum(d.values()) or 1) for d in self.docs]

    def weight(self, term: str) -> float:
        if term.isdigit():
            return NUMBER_WEIGHT
        return self.idf.get(term, self.unknown)

    def coverage(self, text: str) -> float:
        """The share of ``text``'s word weight held by the one passage holding the most (0 when it has
        no words that could be evidence; see the module docstring)."""
        return _coverage(self, terms(text))

    def rank(self, sources: tuple[tuple[str, float], ...]) -> Ranked:
        """Passages ordered by relevance to weighted texts (``(text, weight)``, the last message first)."""
        return _rank(self, sources)


@lru_cache(maxsize=1024)
def _coverage(index: Index, words: tuple[str, ...]) -> float:
    if not words:
        return 0.0
    total = sum(index.weight(t) for t in words)
    best = 0.0
    for doc in index.docs:
        held = sum(index.weight(t) for t in words if t in doc and not t.isdigit())
        best = max(best, held)
    return best / total


@lru_cache(maxsize=1024)
def _rank(index: Index, sources: tuple[tuple[str, float], ...]) -> Ranked:
    query: Counter[str] = Counter()
    firsts: list[str] = []
    for text, weight in sources:
        for t in terms(text):
            if not t.isdigit():
                query[t] += weight
                firsts.append(t)
    scores = []
    for doc, title, length in zip(index.docs, index.titles, index.lengths, strict=True):
        s = 0.0
        for t, q in query.items():
            tf = doc.get(t)
            if tf:
                s += q * index.weight(t) * (1 + math.log(tf)) * (TITLE_BOOST if t in title else 1.0)
        scores.append(s / length)
    order = tuple(sorted(range(len(scores)), key=lambda i: (-scores[i], i)))
    best = index.docs[order[0]]
    matched = tuple(dict.fromkeys(t for t in firsts if t in best))
    return Ranked(order, tuple(scores[i] for i in order), matched)
