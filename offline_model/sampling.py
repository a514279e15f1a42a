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
  least one).
- frequency_penalty and presence_penalty subtract ``count * f + (count > 0) * p`` from the logit of
  each token already in the reply, as OpenAI documents.
"""

from __future__ import annotations

import bisect
import math
import random
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
        d = self.model.distribution(ctx)
        scale = self._scale(banned, allow_eos)
        if scale:
            # Z is what is left of the mass once the processors have scaled some tokens down.
            z = 1.0 - math.fsum(d.prob(w) * (1.0 - s) for w, s in scale.items())
            kept_ids, cumulative = _nucleus(d, scale, p.temperature, p.top_p)
        else:
            z = 1.0
            key = (self.model, ctx, p.temperature, p.top_p)
            nucleus = _CACHE.get(key)
            if nucleus is None:
                nucleus = _nucleus(d, None, p.temperature, p.top_p)
                if len(_CACHE) > _CACHE_LIMIT:
                    _CACHE.clear()
                _CACHE[key] = nucleus
            kept_ids, cumulative = nucleus
        if len(kept_ids) == 1:
            i = 0
        else:
            i = bisect.bisect_right(cumulative, self.rng.random() * cumulative[-1])
            i = min(i, len(kept_ids) - 1)
        token = kept_ids[i]
        log_z = math.log(z)
        logprob = math.log(d.prob(token) * (scale.get(token, 1.0) if scale else 1.0)) - log_z
        top: tuple[tuple[int, float], ...] = ()
        k = p.top_logprobs
        if k:
            best = _top(d, scale, ctx, self.model) if scale else _cached_top(d, ctx, self.model)
            listed = [(t, math.log(wt) - log_z) for t, wt in best[:k]]
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


Nucleus = tuple[tuple[int, ...], list[float]]
_CACHE: dict[tuple, Nucleus] = {}
_CACHE_LIMIT = 50_000
_TOP_CACHE: dict[tuple, list[tuple[int, float]]] = {}
_LOG_SUM_POW: dict[tuple[int, float], float] = {}


def _nucleus(d: Dist, scale: dict[int, float] | None, temperature: float, top_p: float) -> Nucleus:
    """The tokens that may be drawn (temperature applied, cut to the top_p nucleus), most likely first,
    with their cumulative tempered weights for sampling by bisection."""
    items = ranked(d, scale)
    first, w0 = next(items)
    if temperature == 0:
        return (first,), [1.0]
    inv_t = 1.0 / temperature
    cut = top_p * _tempered_total(d, scale or {}, w0, inv_t)
    ids = [first]
    cumulative = [1.0]
    acc = 1.0
    log_w0 = math.log(w0)
    if acc < cut:
        for w, wt in items:
            x = math.exp((math.log(wt) - log_w0) * inv_t)
            if x == 0.0:
                break  # never keep a token that cannot be drawn
            acc += x
            ids.append(w)
            cumulative.append(acc)
            if acc >= cut:
                break
    return tuple(ids), cumulative


def _tempered_total(d: Dist, scale: dict[int, float], w0: float, inv_t: float) -> float:
    """The sum over the vocabulary of ``(weight / w0) ** inv_t``, where ``w0`` is the largest weight:
    the sparse and rescaled tokens one by one, the rest as the base's total minus theirs."""
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


def _top(d: Dist, scale: dict[int, float] | None, ctx: tuple, model: object) -> list[tuple[int, float]]:
    """The most likely non-EOS tokens and their weights, enough for any top_logprobs."""
    out = []
    for w, wt in ranked(d, scale):
        if w != EOS:
            out.append((w, wt))
            if len(out) == MAX_TOP_LOGPROBS:
                break
    return out


def _cached_top(d: Dist, ctx: tuple, model: object) -> list[tuple[int, float]]:
    key = (model, ctx)
    found = _TOP_CACHE.get(key)
    if found is None:
        if len(_TOP_CACHE) > _CACHE_LIMIT:
            _TOP_CACHE.clear()
        found = _TOP_CACHE[key] = _top(d, None, ctx, model)
    return found
