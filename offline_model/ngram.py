"""A word-level n-gram language model with interpolated backoff, built from text the project ships.

Why it exists: the offline model must sample for real so that every parameter has an honest, visible
effect (design.md section 3). A 4-gram model over Prism's own help text is small enough to build in a
few milliseconds and rich enough that temperature, top_p, seed and the penalties change what comes out.

What must stay true:
- ``distribution(ctx)`` is a true probability distribution over token ids (it sums to 1), sorted from
  the most to the least likely token, ties broken by token id so greedy decoding is repeatable.
- Token id 0 is ``EOS``: the end of a paragraph. The start of a paragraph is the context ``(EOS,) * 3``.
- Joining the token strings of any paragraph of the corpus gives the paragraph back (tokenizer.py).

The smoothing is interpolated backoff in the Witten-Bell family:
``P(w | h) = (c(h w) + g T(h) P(w | h')) / (c(h) + g T(h))`` with ``h'`` the history without its oldest
token and ``T(h)`` the number of distinct successors of ``h``; the last level is a unigram over the most
frequent tokens. Each level sums to 1, so the mixture does too.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from functools import lru_cache
from importlib import resources

from offline_model.tokenizer import tokenize

EOS = 0
ORDER = 4  # a 4-gram: the next token depends on the three before it
GAMMA = 0.3  # backoff weight per distinct successor (smaller = trust the longer context more)
UNIGRAM_SIZE = 16
CACHE_LIMIT = 50_000  # contexts whose distributions are kept; a long-running app must not grow forever

Dist = tuple[tuple[int, ...], tuple[float, ...]]


class NgramModel:
    """The n-gram model: vocabulary, counts, and cached conditional distributions."""

    def __init__(self, paragraphs: list[str], order: int = ORDER) -> None:
        self.order = order
        self.vocab: list[str] = [""]
        self.ids: dict[str, int] = {"": EOS}
        self._fit([[self._intern(tok) for tok in tokenize(text)] for text in paragraphs])
        # Lower-cased word -> token ids, so a user's words can steer the reply.
        self.word_ids: dict[str, set[int]] = defaultdict(set)
        for tid, tok in enumerate(self.vocab):
            word = tok.strip().lower()
            if word:
                self.word_ids[word].add(tid)

    def _fit(self, paragraphs: list[list[int]]) -> None:
        self.paragraphs = paragraphs
        counts: dict[tuple[int, ...], Counter[int]] = defaultdict(Counter)
        uni: Counter[int] = Counter()
        pad = [EOS] * (self.order - 1)
        for seq in paragraphs:
            padded = [*pad, *seq, EOS]
            for i in range(self.order - 1, len(padded)):
                w = padded[i]
                uni[w] += 1
                for k in range(1, self.order):
                    counts[tuple(padded[i - k : i])][w] += 1
        self._counts = dict(counts)
        top = uni.most_common(UNIGRAM_SIZE)
        if EOS not in dict(top):
            top.append((EOS, uni[EOS]))
        total = sum(c for _, c in top)
        self._uni = {w: c / total for w, c in top}
        self._cache: dict[tuple[int, ...], Dist] = {}
        self._level_cache: dict[tuple[int, ...], dict[int, float]] = {}

    def submodel(self, indices: list[int]) -> NgramModel:
        """The same kind of model fitted to some of this model's paragraphs, sharing its vocabulary."""
        sub = object.__new__(NgramModel)
        sub.order, sub.vocab, sub.ids, sub.word_ids = self.order, self.vocab, self.ids, self.word_ids
        sub._fit([self.paragraphs[i] for i in indices])
        return sub

    @property
    def start(self) -> tuple[int, ...]:
        """The context at the start of a paragraph."""
        return (EOS,) * (self.order - 1)

    def _intern(self, tok: str) -> int:
        tid = self.ids.get(tok)
        if tid is None:
            tid = len(self.vocab)
            self.vocab.append(tok)
            self.ids[tok] = tid
        return tid

    def _level(self, ctx: tuple[int, ...]) -> dict[int, float]:
        """P(. | ctx) by recursive interpolated backoff, as a dict."""
        if not ctx:
            return self._uni
        cached = self._level_cache.get(ctx)
        if cached is not None:
            return cached
        lower = self._level(ctx[1:])
        succ = self._counts.get(ctx)
        if not succ:
            probs = lower
        else:
            count = sum(succ.values())
            weight = GAMMA * len(succ)
            denom = count + weight
            probs = {w: weight * p / denom for w, p in lower.items()}
            for w, c in succ.items():
                probs[w] = probs.get(w, 0.0) + c / denom
        self._level_cache[ctx] = probs
        return probs

    def probabilities(self, ctx: tuple[int, ...]) -> dict[int, float]:
        """P(next | ctx) as a dict of token id -> probability."""
        return self._level(ctx)

    def distribution(self, ctx: tuple[int, ...]) -> Dist:
        """P(next | ctx) as (token ids, natural-log probabilities), most likely first.

        ``ctx`` is the last ``order - 1`` tokens (padded with EOS at a paragraph start)."""
        cached = self._cache.get(ctx)
        if cached is not None:
            return cached
        if len(self._level_cache) > CACHE_LIMIT:
            self._cache.clear()
            self._level_cache.clear()
        result = _ranked(self._level(ctx))
        self._cache[ctx] = result
        return result


def _ranked(probs: dict[int, float]) -> Dist:
    ranked = sorted(probs.items(), key=lambda item: (-item[1], item[0]))
    return tuple(w for w, _ in ranked), tuple(math.log(p) for _, p in ranked)


class TopicMixture:
    """``P(w | h) = (1 - weight) P_corpus(w | h) + weight P_topic(w | h)``: the whole-corpus model mixed
    with one fitted to the paragraphs that use the user's words. A mixture of distributions is a
    distribution, so the logprobs it reports stay true; it keeps a reply on the user's topic the way a
    prompt keeps a large model on it."""

    def __init__(self, base: NgramModel, topic: NgramModel, weight: float) -> None:
        self.base, self.topic, self.weight = base, topic, weight
        self.order, self.vocab, self.word_ids = base.order, base.vocab, base.word_ids
        self._cache: dict[tuple[int, ...], Dist] = {}

    @property
    def start(self) -> tuple[int, ...]:
        return self.base.start

    def distribution(self, ctx: tuple[int, ...]) -> Dist:
        """The mixed P(next | ctx), most likely first."""
        cached = self._cache.get(ctx)
        if cached is not None:
            return cached
        if len(self._cache) > CACHE_LIMIT:
            self._cache.clear()
        w = self.weight
        mixed = {t: (1 - w) * p for t, p in self.base.probabilities(ctx).items()}
        for t, p in self.topic.probabilities(ctx).items():
            mixed[t] = mixed.get(t, 0.0) + w * p
        result = _ranked(mixed)
        self._cache[ctx] = result
        return result

    def token_ids_for_words(self, text: str) -> set[int]:
        """Ids of the corpus tokens spelling any word of ``text`` (case-insensitive)."""
        found: set[int] = set()
        for tok in tokenize(text):
            found |= self.word_ids.get(tok.strip().lower(), set())
        return found


def corpus_paragraphs() -> list[str]:
    """The paragraphs of the shipped corpus (offline_model/corpus.txt), one per blank-line block."""
    text = resources.files("offline_model").joinpath("corpus.txt").read_text(encoding="utf-8")
    blocks = [" ".join(block.split()) for block in text.split("\n\n")]
    return [b for b in blocks if b]


@lru_cache(maxsize=1)
def default_model() -> NgramModel:
    """The model built from the shipped corpus; built once per process."""
    return NgramModel(corpus_paragraphs())
