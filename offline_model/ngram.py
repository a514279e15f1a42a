"""A word-level n-gram language model with interpolated smoothing, built from text the project ships.

Why it exists: the offline model must sample for real so that every parameter has an honest, visible
effect. A 4-gram model over Prism's own help text is small enough to build in a few milliseconds and
rich enough that temperature, top_p, seed and the penalties change what comes out.

What must stay true:
- Every distribution gives every token of the vocabulary a probability above 0 and sums to 1, so a
  request for 20 alternatives always has 20, and no logprob is 0.0 unless a token is certain.
- Token id 0 is ``EOS``: the end of a paragraph. The start of a paragraph is the context ``(EOS,) * 3``.
- Joining the token strings of any paragraph of the corpus gives the paragraph back (tokenizer.py).
- Ties are broken by token id, so greedy decoding is repeatable.

The smoothing is interpolated backoff in the Witten-Bell family,
``P(w | h) = (c(h w) + g T(h) P(w | h')) / (c(h) + g T(h))``, with ``h'`` the history without its oldest
token and ``T(h)`` the number of distinct successors of ``h``. Below the bigram level sits one base
distribution shared by every model: Kneser-Ney's continuation unigram (how many distinct tokens a token
follows, not how often it occurs) mixed with a little of the uniform distribution. So each distribution
is a small sparse part plus ``beta * base``: ``Dist(sparse, beta)``. Reading one stays cheap (a dict
lookup and one multiplication), and ``ranked`` walks it from the most likely token down, lazily, by
merging the sorted sparse part with the base's fixed order.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from offline_model.tokenizer import tokenize

EOS = 0
ORDER = 4  # a 4-gram: the next token depends on the three before it
GAMMA = 0.6  # backoff weight per distinct successor (smaller = trust the longer context more)
UNIFORM = 0.02  # the share of the base distribution spread evenly over the vocabulary
TIE_BREAK = 1e-3
CACHE_LIMIT = 50_000  # contexts whose distributions are kept; a long-running app must not grow forever


@dataclass(frozen=True)
class Base:
    """The distribution under every context: probabilities by token id, and ids from most likely down."""

    probs: tuple[float, ...]
    order: tuple[int, ...]
    position: tuple[int, ...]  # token id -> its place in ``order``

    def log_sum_pow(self, inv_t: float) -> float:
        """``log(sum(p ** inv_t))`` over the vocabulary, computed stably (for the tempered total)."""
        top = self.probs[self.order[0]]
        logs = [math.log(p / top) * inv_t for p in self.probs]
        return math.log(top) * inv_t + math.log(math.fsum(math.exp(x) for x in logs))


@dataclass(frozen=True)
class Dist:
    """``P(w) = sparse.get(w, 0) + beta * base.probs[w]``; ``ranked_sparse`` is the sparse part's ids in
    order of their whole probability."""

    sparse: Mapping[int, float]
    beta: float
    base: Base
    ranked_sparse: tuple[int, ...]

    def prob(self, w: int) -> float:
        return self.sparse.get(w, 0.0) + self.beta * self.base.probs[w]


def make_dist(sparse: dict[int, float], beta: float, base: Base) -> Dist:
    probs = base.probs
    ranked = sorted([(-(p + beta * probs[w]), w) for w, p in sparse.items()])
    return Dist(sparse, beta, base, tuple(w for _, w in ranked))


def ranked(d: Dist, scale: Mapping[int, float] | None = None) -> Iterator[tuple[int, float]]:
    """(token id, weight) from the heaviest down, ties by id. Weights are ``P(w) * scale[w]``
    (``scale`` defaults to 1; it is how penalties and bans reshape a distribution); weight-0 tokens are
    left out. Lazy: a greedy step reads one item, a top-5 list six."""
    scale = scale or {}
    probs, beta = d.base.probs, d.beta
    # Tokens whose weight ``scale`` changes, and the sparse ones, are ranked explicitly; the rest keep
    # the base's order, since their weight is beta * base.
    special = {w: d.prob(w) * scale.get(w, 1.0) for w in (*d.ranked_sparse, *scale)}
    if scale:
        head = sorted((w for w in special if special[w] > 0.0), key=lambda w: (-special[w], w))
    else:
        head = list(d.ranked_sparse)
    tail = (w for w in d.base.order if w not in special)
    i, n = 0, len(head)
    nxt = next(tail, None)
    while i < n or nxt is not None:
        if nxt is None:
            w = head[i]
            i += 1
            yield w, special[w]
            continue
        tw = beta * probs[nxt]
        if i < n:
            w = head[i]
            hw = special[w]
            if hw > tw or (hw == tw and w < nxt):
                i += 1
                yield w, hw
                continue
        if tw <= 0.0:
            nxt = None
            continue
        yield nxt, tw
        nxt = next(tail, None)


class NgramModel:
    """The n-gram model: vocabulary, counts, and cached conditional distributions."""

    def __init__(self, paragraphs: list[str], order: int = ORDER) -> None:
        self.order = order
        self.vocab: list[str] = [""]
        self.ids: dict[str, int] = {"": EOS}
        tokenized = [[self._intern(tok) for tok in tokenize(text)] for text in paragraphs]
        self._fit(tokenized, base=None)
        # Lower-cased word -> token ids, so a user's words can steer the reply.
        self.word_ids: dict[str, set[int]] = defaultdict(set)
        for tid, tok in enumerate(self.vocab):
            word = tok.strip().lower()
            if word:
                self.word_ids[word].add(tid)

    def _fit(self, paragraphs: list[list[int]], base: Base | None) -> None:
        self.paragraphs = paragraphs
        counts: dict[tuple[int, ...], Counter[int]] = defaultdict(Counter)
        pad = [EOS] * (self.order - 1)
        for seq in paragraphs:
            padded = [*pad, *seq, EOS]
            for i in range(self.order - 1, len(padded)):
                w = padded[i]
                # A hair more weight early in a paragraph: of two continuations seen equally often,
                # the one the paragraph says first leads, so greedy decoding retells it in order.
                c = 1.0 + TIE_BREAK / i
                for k in range(1, self.order):
                    counts[tuple(padded[i - k : i])][w] += c
        self._counts = {ctx: (dict(c), math.fsum(c.values())) for ctx, c in counts.items()}
        if base is None:
            size = len(self.vocab)
            follows = [0] * size  # Kneser-Ney continuation counts: distinct predecessors of each token
            for ctx, (succ, _) in self._counts.items():
                if len(ctx) == 1:
                    for w in succ:
                        follows[w] += 1
            total = sum(follows)
            probs = tuple((1 - UNIFORM) * f / total + UNIFORM / size for f in follows)
            order = tuple(sorted(range(size), key=lambda w: (-probs[w], w)))
            position = [0] * size
            for j, w in enumerate(order):
                position[w] = j
            base = Base(probs, order, tuple(position))
        self.base = base
        self._cache: dict[tuple[int, ...], tuple[dict[int, float], float]] = {(): ({}, 1.0)}
        self._dists: dict[tuple[int, ...], Dist] = {}

    def submodel(self, indices: list[int]) -> NgramModel:
        """The same kind of model fitted to some of this model's paragraphs, sharing its vocabulary and
        its base distribution (so a mixture of the two is again a sparse part plus ``beta * base``)."""
        sub = object.__new__(NgramModel)
        sub.order, sub.vocab, sub.ids, sub.word_ids = self.order, self.vocab, self.ids, self.word_ids
        sub._fit([self.paragraphs[i] for i in indices], base=self.base)
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

    def canonical(self, ctx: tuple[int, ...]) -> tuple[int, ...]:
        """The longest suffix of ``ctx`` the corpus has seen: ``P(. | ctx)`` is the same for both, so
        a context never seen (most that hold a rare token) shares its suffix's cached distribution."""
        counts = self._counts
        while ctx and ctx not in counts:
            ctx = ctx[1:]
        return ctx

    def level(self, ctx: tuple[int, ...]) -> tuple[dict[int, float], float]:
        """P(. | ctx) by recursive interpolated backoff, as (sparse part, weight of the base)."""
        cached = self._cache.get(ctx)
        if cached is not None:
            return cached
        if len(self._cache) > CACHE_LIMIT:
            self._cache.clear()
            self._cache[()] = ({}, 1.0)
        lower, beta = self.level(ctx[1:])
        found = self._counts.get(ctx)
        if not found:
            result = (lower, beta)
        else:
            succ, count = found
            weight = GAMMA * len(succ)
            denom = count + weight
            back = weight / denom
            sparse = {w: back * p for w, p in lower.items()}
            for w, c in succ.items():
                sparse[w] = sparse.get(w, 0.0) + c / denom
            result = (sparse, back * beta)
        self._cache[ctx] = result
        return result

    def distribution(self, ctx: tuple[int, ...]) -> Dist:
        """P(next | ctx); ``ctx`` is the last ``order - 1`` tokens (EOS-padded at a paragraph start)."""
        d = self._dists.get(ctx)
        if d is None:
            if len(self._dists) > CACHE_LIMIT:
                self._dists.clear()
            d = self._dists[ctx] = make_dist(*self.level(ctx), self.base)
        return d


class TopicMixture:
    """``P(w | h) = (1 - weight) P_corpus(w | h) + weight P_topic(w | h)``: the whole-corpus model mixed
    with one fitted to the passages a reply is about. A mixture of distributions is a distribution, so
    the logprobs it reports stay true; it keeps a reply on its topic the way a prompt keeps a large
    model on it."""

    def __init__(self, base: NgramModel, topic: NgramModel, weight: float) -> None:
        self.corpus, self.topic, self.weight = base, topic, weight
        self.order, self.vocab, self.word_ids = base.order, base.vocab, base.word_ids
        self._dists: dict[tuple[int, ...], Dist] = {}

    @property
    def start(self) -> tuple[int, ...]:
        return self.corpus.start

    def canonical(self, ctx: tuple[int, ...]) -> tuple[int, ...]:
        """As ``NgramModel.canonical``: the topic model's paragraphs are some of the corpus's, so a
        suffix the corpus has not seen it has not seen either."""
        return self.corpus.canonical(ctx)

    def distribution(self, ctx: tuple[int, ...]) -> Dist:
        """The mixed P(next | ctx)."""
        d = self._dists.get(ctx)
        if d is not None:
            return d
        if len(self._dists) > CACHE_LIMIT:
            self._dists.clear()
        w = self.weight
        a, beta_a = self.corpus.level(ctx)
        b, beta_b = self.topic.level(ctx)
        mixed = {t: (1 - w) * p for t, p in a.items()}
        for t, p in b.items():
            mixed[t] = mixed.get(t, 0.0) + w * p
        d = self._dists[ctx] = make_dist(mixed, (1 - w) * beta_a + w * beta_b, self.corpus.base)
        return d


def corpus_paragraphs() -> list[str]:
    """The paragraphs of the shipped corpus (offline_model/corpus.txt), one per blank-line block."""
    text = resources.files("offline_model").joinpath("corpus.txt").read_text(encoding="utf-8")
    blocks = [" ".join(block.split()) for block in text.split("\n\n")]
    return [b for b in blocks if b]


@lru_cache(maxsize=1)
def default_model() -> NgramModel:
    """The model built from the shipped corpus; built once per process."""
    return NgramModel(corpus_paragraphs())
