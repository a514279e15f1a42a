"""Draws tokens from the n-gram model under the request's sampling parameters.

What must stay true (each is a property test in tests/offline_model/):
- temperature 0 is greedy: the most likely token after the penalties, ties by token id, so the
  same request gives the same reply.
- a seed makes the reply repeatable; the random stream for choice ``i`` is ``Random(f"{seed}/{i}/...")``.
- top_p keeps the smallest set of most likely tokens whose probability reaches top_p (at least one).
- frequency_penalty and presence_penalty subtract ``count * f + (count > 0) * p`` from the logit of each
  token already in the reply, as OpenAI documents.
- reported logprobs are the natural-log probabilities of the distribution actually sampled from (after
  penalties, the no-repeat rule, temperature and top_p); alternatives are that distribution's most
  likely tokens, sorted. At temperature 0 that distribution is a point mass: the chosen token has
  logprob 0.0 and is its own only alternative.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from offline_model.ngram import EOS, NgramModel, TopicMixture

DEFAULT_TOP_P = 0.95  # Gemini 2.5 Flash's default (compat notes)


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
        counts = self.counts
        fp, pp = p.frequency_penalty, p.presence_penalty
        penalised = bool(counts) and bool(fp or pp)
        if penalised or banned or not allow_eos:
            ids, logps = self.model.distribution(ctx)
            logits = list(logps)
            for j, tid in enumerate(ids):
                c = counts.get(tid, 0) if penalised else 0
                if c:
                    logits[j] -= c * fp + pp
                if (tid == EOS and not allow_eos) or (banned and tid in banned):
                    logits[j] = -math.inf
            order = sorted(range(len(ids)), key=logits.__getitem__, reverse=True)
            nucleus = _nucleus([ids[j] for j in order], [logits[j] for j in order], p)
        else:
            key = (self.model, ctx, p.temperature, p.top_p)
            nucleus = _CACHE.get(key)
            if nucleus is None:
                ids, logps = self.model.distribution(ctx)
                nucleus = _nucleus(ids, logps, p)
                if len(_CACHE) > _CACHE_LIMIT:
                    _CACHE.clear()
                _CACHE[key] = nucleus
        kept_ids, cumulative, kept_logprobs = nucleus
        if len(kept_ids) == 1:
            i = 0
        else:
            i = bisect.bisect_right(cumulative, self.rng.random() * cumulative[-1])
            i = min(i, len(kept_ids) - 1)
        token = kept_ids[i]
        top: tuple[tuple[int, float], ...] = ()
        k = p.top_logprobs
        if k:
            # EOS is not a token anyone sees, so it is never listed as an alternative.
            top = tuple((t, lp) for t, lp in zip(kept_ids, kept_logprobs, strict=True) if t != EOS)[:k]
        if token != EOS:
            counts[token] = counts.get(token, 0) + 1
        return Sampled(token, kept_logprobs[i], top)


Nucleus = tuple[tuple[int, ...], list[float], tuple[float, ...]]
_CACHE: dict[tuple, Nucleus] = {}
_CACHE_LIMIT = 100_000


def _nucleus(ids: Sequence[int], logits: Sequence[float], p: SamplingParams) -> Nucleus:
    """The distribution actually sampled from: temperature applied, cut to the top_p nucleus.

    ``ids``/``logits`` are sorted, most likely first. Returns the kept ids, their cumulative weights
    (for sampling by bisection) and their log-probabilities (renormalised over the nucleus)."""
    if p.temperature == 0:
        return (ids[0],), [1.0], (0.0,)  # greedy: a point mass on the most likely token
    t = p.temperature
    top = logits[0]
    weights = [math.exp((lg - top) / t) for lg in logits]
    cut = p.top_p * sum(weights)
    cumulative: list[float] = []
    acc = 0.0
    for w in weights:
        acc += w
        cumulative.append(acc)
        if acc >= cut or w == 0.0:
            break
    keep = len(cumulative)
    if weights[keep - 1] == 0.0 and keep > 1:  # never keep a token that cannot be drawn
        keep -= 1
        cumulative.pop()
    log_total = math.log(cumulative[-1])
    logprobs = tuple((logits[j] - top) / t - log_total for j in range(keep))
    return tuple(ids[:keep]), cumulative, logprobs
