"""Draws tokens from the n-gram model under the request's sampling parameters.

What must stay true (each is a property test in tests/offline_model/):
- The distribution a token is drawn from is the model's, reshaped first by the logit processors
  (frequency and presence penalties, and the no-repeat rule of writing.py), then by the sampling
  warpers (temperature, top_p). This is the split Hugging Face's ``generate`` makes.
- Reported logprobs are the natural-log probabilities after the processors and before the warpers:
  the model's own numbers, which temperature and top_p do not change, as with real providers. So
  temperature 0 still reports true logprobs, and a top_p nucleus never turns a logprob into 0.0.
- ``top_logprobs=k`` lists exactly k alternatives (the model has more than 20 tokens with probability
  above 0), sorted, and always includes the sampled token: when it is not among the k most likely it
  takes the last place. EOS (the end of the reply) is never listed, since no one sees it as text.
- temperature 0 is greedy: the most likely token after the penalties, ties by token id, so the same
  request gives the same reply.
- A seed makes the reply repeatable; the random stream for choice ``i`` is ``Random(f"{seed}/{i}/...")``.
- top_p keeps the smallest set of most likely tokens whose tempered probability reaches top_p (at
  least one); the draw is from exactly top_p of the tempered mass, so the last token of that set
  counts only with its part below the cut.
- frequency_penalty and presence_penalty subtract ``count * f + (count > 0) * p`` from the logit of
  each token already in the reply, as OpenAI documents.
"""

from __future__ import annotations

import bisect
import math
import random
import threading
from dataclasses import dataclass, field

from offline_model.ngram import EOS, Dist, NgramModel, TopicMixture, ranked

DEFAULT_TOP_P = 0.95  # Gemini 2.5 Flash's default
MAX_TOP_LOGPROBS = 20
MAX_SHIFT = 50.0  # the largest logit shift a penalty makes (exp(50) outweighs any other token)


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 1.0
    top_p: float = DEFAULT_TOP_P
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    top_logprobs: int = 0


@dataclass(frozen=True)
class Sampled:
    token: int
    logprob: float
    top: tuple[tuple[int, float], ...]


@dataclass
class Sampler:
    """One reply's sampler: the model, its parameters, its random stream and what it has said."""

    model: NgramModel | TopicMixture
    params: SamplingParams
    rng: random.Random
    counts: dict[int, int] = field(default_factory=dict)

    def step(
        self, ctx: tuple[int, ...], *, banned: set[int] | None = None, allow_eos: bool = True
    ) -> Sampled:
        """Sample the token after ``ctx`` and count it for the penalties; ``banned`` tokens get
        probability 0 (the no-repeat rule, see writing.py)."""
        p = self.params
        penalised = self.counts and (p.frequency_penalty or p.presence_penalty)
        if penalised or banned or not allow_eos:
            d = self.model.distribution(self.model.canonical(ctx))
            scale = self._scale(banned, allow_eos)
            # Z is what is left of the mass once the processors have scaled some tokens down.
            log_z = math.log(1.0 - math.fsum(d.prob(w) * (1.0 - s) for w, s in scale.items()))
            nucleus = _Nucleus(d, scale, p.temperature, p.top_p)
        else:
            d, scale, log_z = None, None, 0.0
            key = (self.model, ctx, p.temperature, p.top_p)
            nucleus = _CACHE.get(key)
            if nucleus is None:
                if len(_CACHE) > _CACHE_LIMIT:
                    _CACHE.clear()
                canonical = (self.model, self.model.canonical(ctx), p.temperature, p.top_p)
                nucleus = _CACHE.get(canonical)
                if nucleus is None:
                    d = self.model.distribution(canonical[1])
                    nucleus = _CACHE[canonical] = _Nucleus(d, None, p.temperature, p.top_p)
                _CACHE[key] = nucleus
        if nucleus.single:
            token, logprob = nucleus.ids[0], nucleus.logs[0] - log_z
        else:
            r = self.rng.random() * nucleus.cut
            cumulative = nucleus.cumulative
            if r < cumulative[-1]:  # the common case, inlined: a token already walked to
                i = bisect.bisect_right(cumulative, r)
                token, logprob = nucleus.ids[i], nucleus.logs[i] - log_z
            else:
                token, log_weight = nucleus.draw(r)
                logprob = log_weight - log_z
        top: tuple[tuple[int, float], ...] = ()
        k = p.top_logprobs
        if k:
            if scale:
                best = _top(d, scale)
            else:
                best = _TOP_CACHE.get((self.model, ctx))
                if best is None:
                    if len(_TOP_CACHE) > _CACHE_LIMIT:
                        _TOP_CACHE.clear()
                    d = d or self.model.distribution(self.model.canonical(ctx))
                    best = _TOP_CACHE[(self.model, ctx)] = _top(d, None)
            listed = [(t, lw - log_z) for t, lw in best[:k]]
            if token != EOS and all(t != token for t, _ in listed):
                listed[-1] = (token, logprob)
            top = tuple(listed)
        if token != EOS:
            self.counts[token] = self.counts.get(token, 0) + 1
        return Sampled(token, logprob, top)

    def _scale(self, banned: set[int] | None, allow_eos: bool) -> dict[int, float]:
        """Token id -> the factor the logit processors multiply its probability by."""
        p = self.params
        scale: dict[int, float] = {}
        if self.counts and (p.frequency_penalty or p.presence_penalty):
            fp, pp = p.frequency_penalty, p.presence_penalty
            for tid, c in self.counts.items():
                # Clamped where no draw could tell the difference, so exp() cannot overflow.
                scale[tid] = math.exp(-max(-MAX_SHIFT, min(MAX_SHIFT, c * fp + pp)))
        if banned:
            for tid in banned:
                scale[tid] = 0.0
        if not allow_eos:
            scale[EOS] = 0.0
        return scale


_CACHE: dict[tuple, _Nucleus] = {}
_CACHE_LIMIT = 50_000
_TOP_CACHE: dict[tuple, list[tuple[int, float]]] = {}
_LOG_SUM_POW: dict[tuple[int, float], float] = {}


class _Nucleus:
    """The tokens that may be drawn: temperature applied, cut at top_p of the tempered mass.

    Walked lazily from the most likely token down, only as far as a draw needs: most draws land in
    the first few tokens. Weights are relative to the most likely token's (which is 1). A draw ``r``
    in ``[0, cut)`` picks the first token whose cumulative weight exceeds it; so the tokens that can be
    drawn are the smallest set reaching top_p, the last of them with only the part of its weight below
    the cut.

    The explicit tokens (the sparse part of the distribution and those the processors rescaled) are
    merged with the base's fixed order one by one. Once they are all out, what is left is the base's
    order without them, each weighing ``beta * base``: a draw that lands there is found by bisection on
    the base's cumulative tempered weights (cached per temperature) minus the explicit tokens', instead
    of a walk down the long tail of a smoothed distribution."""

    __slots__ = (
        "_base_cum",
        "_beta",
        "_c",
        "_d",
        "_head",
        "_hi",
        "_inv_t",
        "_lock",
        "_log_w0",
        "_special",
        "_spos",
        "_tj",
        "cumulative",
        "cut",
        "ids",
        "logs",
        "single",
    )

    def __init__(self, d: Dist, scale: dict[int, float] | None, temperature: float, top_p: float) -> None:
        probs = d.base.probs
        if scale:
            special = {w: d.prob(w) * scale.get(w, 1.0) for w in (*d.ranked_sparse, *scale)}
            head = sorted((w for w in special if special[w] > 0.0), key=lambda w: (-special[w], w))
        else:
            special = {w: d.sparse[w] + d.beta * probs[w] for w in d.ranked_sparse}
            head = d.ranked_sparse
        self._d, self._special, self._head, self._hi, self._tj = d, special, head, 0, 0
        self._beta = d.beta
        self._spos = None  # set when the explicit tokens run out (see _tail)
        self._lock = threading.Lock()  # requests are planned in threads; a cached nucleus is shared
        first, w0 = self._next() or self._first_of_tail()
        self.ids = [first]
        self.logs = [math.log(w0)]  # log weights: the logprobs, before the processors' normaliser
        self.cumulative = [1.0]
        if temperature == 0:
            self.single, self.cut = True, 1.0  # greedy: the most likely token
            return
        self._inv_t = 1.0 / temperature
        self._log_w0 = math.log(w0)
        self.cut = top_p * _tempered_total(d, scale or {}, w0, self._inv_t)
        self.single = self.cut <= 1.0

    def _next(self) -> tuple[int, float] | None:
        """The next token and weight from the merge, while explicit tokens are left; else None."""
        head, hi = self._head, self._hi
        if hi >= len(head):
            return None
        order, special = self._d.base.order, self._special
        tj = self._tj
        while tj < len(order) and order[tj] in special:
            tj += 1
        self._tj = tj
        w = head[hi]
        hw = special[w]
        if tj < len(order):
            t = order[tj]
            tw = self._beta * self._d.base.probs[t]
            if tw > hw or (tw == hw and t < w):
                self._tj = tj + 1
                return t, tw
        self._hi = hi + 1
        return w, hw

    def _first_of_tail(self) -> tuple[int, float]:
        """The most likely token when no explicit token is left (every one was banned)."""
        order, special, tj = self._d.base.order, self._special, self._tj
        while order[tj] in special:
            tj += 1
        self._tj = tj + 1
        return order[tj], self._beta * self._d.base.probs[order[tj]]

    def draw(self, r: float) -> tuple[int, float]:
        """The token a draw ``r`` (in ``[0, cut)``) picks, and its log weight."""
        cumulative = self.cumulative
        if r < cumulative[-1]:
            i = bisect.bisect_right(cumulative, r)
            return self.ids[i], self.logs[i]
        with self._lock:
            if r < cumulative[-1]:  # another thread walked far enough meanwhile
                i = bisect.bisect_right(cumulative, r)
                return self.ids[i], self.logs[i]
            ids, logs, log_w0, inv_t = self.ids, self.logs, self._log_w0, self._inv_t
            acc = cumulative[-1]
            while self._spos is None:
                item = self._next()
                if item is None:
                    self._start_tail()
                    break
                w, wt = item
                lw = math.log(wt)
                acc += math.exp((lw - log_w0) * inv_t)
                ids.append(w)
                logs.append(lw)
                cumulative.append(acc)
                if acc > r:
                    return w, lw
            return self._tail(r - cumulative[-1])

    def _start_tail(self) -> None:
        base = self._d.base
        self._base_cum = _base_cumulative(base, self._inv_t)
        top = base.probs[base.order[0]]
        # (beta * base[w] / w0) ** (1/T) == c * (base[w] / base_max) ** (1/T)
        self._c = math.exp((math.log(self._beta * top) - self._log_w0) * self._inv_t)
        pos = base.position
        found = sorted(pos[w] for w in self._special if pos[w] >= self._tj)
        acc, sums, cum = 0.0, [], self._base_cum
        for j in found:
            acc += cum[j] - (cum[j - 1] if j else 0.0)  # the tempered weight at position j
            sums.append(acc)
        self._spos = (found, sums)

    def _tail(self, r: float) -> tuple[int, float]:
        """A draw past the explicit tokens: the first base-order token (not explicit) whose cumulative
        tempered weight from the tail's start exceeds ``r``."""
        base = self._d.base
        order, cum, c, tj = base.order, self._base_cum, self._c, self._tj
        found, sums = self._spos
        start = cum[tj - 1] if tj else 0.0

        def weight_to(j: int) -> float:
            k = bisect.bisect_right(found, j)
            return c * (cum[j] - start - (sums[k - 1] if k else 0.0))

        n = len(order)
        j = tj + bisect.bisect_right(range(tj, n), r, key=weight_to)
        if j >= n:  # rounding left r beyond the total: the last token that is not explicit
            j = n - 1
            while j > 0 and order[j] in self._special:
                j -= 1
        w = order[j]
        return w, math.log(self._beta * base.probs[w])


_BASE_CUM: dict[tuple[int, float], list[float]] = {}


def _base_cumulative(base: object, inv_t: float) -> list[float]:
    """Cumulative ``(base[w] / base_max) ** (1/T)`` along the base's order, cached per temperature."""
    key = (id(base), inv_t)
    found = _BASE_CUM.get(key)
    if found is None:
        if len(_BASE_CUM) > 1000:
            _BASE_CUM.clear()
        probs, order = base.probs, base.order
        log_top = math.log(probs[order[0]])
        acc, found = 0.0, []
        for w in order:
            acc += math.exp((math.log(probs[w]) - log_top) * inv_t)
            found.append(acc)
        _BASE_CUM[key] = found
    return found


def _tempered_total(d: Dist, scale: dict[int, float], w0: float, inv_t: float) -> float:
    """The sum over the vocabulary of ``(weight / w0) ** inv_t``, where ``w0`` is the largest weight:
    the sparse and rescaled tokens one by one, the rest as the base's total minus theirs."""
    if inv_t == 1.0:  # temperature 1, the default: the weights are the probabilities themselves
        return math.fsum((1.0, *(-d.prob(w) * (1.0 - s) for w, s in scale.items()))) / w0
    key = (id(d.base), inv_t)
    lsp = _LOG_SUM_POW.get(key)
    if lsp is None:
        if len(_LOG_SUM_POW) > 1000:
            _LOG_SUM_POW.clear()
        lsp = _LOG_SUM_POW[key] = d.base.log_sum_pow(inv_t)
    probs, beta = d.base.probs, d.beta
    log_w0 = math.log(w0)
    explicit = 0.0
    base_part = 0.0
    for w in {*d.sparse, *scale}:
        wt = d.prob(w) * scale.get(w, 1.0)
        if wt > 0.0:
            explicit += math.exp((math.log(wt) - log_w0) * inv_t)
        base_part += math.exp((math.log(beta * probs[w]) - log_w0) * inv_t)
    rest = math.exp(lsp + (math.log(beta) - log_w0) * inv_t) - base_part
    return explicit + max(rest, 0.0)


def _top(d: Dist, scale: dict[int, float] | None) -> list[tuple[int, float]]:
    """The most likely non-EOS tokens and their log weights, enough for any top_logprobs."""
    out = []
    for w, wt in ranked(d, scale):
        if w != EOS:
            out.append((w, math.log(wt)))
            if len(out) == MAX_TOP_LOGPROBS:
                break
    return out
