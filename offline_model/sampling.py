"""Draws tokens from the n-gram model under the request's sampling parameters.

What must stay true (each is a property test in tests/offline_model/):
- temperature 0 is greedy: the most likely token after penalties and steering, ties by token id, so the
  same request gives the same reply.
- a seed makes the reply repeatable; the random stream for choice ``i`` is ``Random(f"{seed}/{i}/...")``.
- top_p keeps the smallest set of most likely tokens whose probability reaches top_p (at least one).
- frequency_penalty and presence_penalty subtract ``count * f + (count > 0) * p`` from the logit of each
  token already in the reply, as OpenAI documents.
- reported logprobs are the natural-log probabilities of the distribution actually sampled from (after
  steering, penalties, temperature and top_p); alternatives are that distribution's most likely tokens,
  sorted. At temperature 0 that distribution is a point mass: the chosen token has logprob 0.0 and is
  its own only alternative.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from offline_model.ngram import EOS, NgramModel

DEFAULT_TOP_P = 0.95  # Gemini 2.5 Flash's default (compat notes)
STEER_KEYWORD = 2.0  # logit boost for a word the user wrote
STEER_TOPIC = 0.7  # logit boost for a word of a corpus paragraph that mentions the user's words


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

    model: NgramModel
    params: SamplingParams
    rng: random.Random
    steer: dict[int, float] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)

    def step(self, ctx: tuple[int, ...], *, steer: bool = True, allow_eos: bool = True) -> Sampled:
        """Sample the token after ``ctx`` (steered if ``steer``) and count it for the penalties."""
        ids, logps = self.model.distribution(ctx)
        p = self.params
        counts = self.counts
        steer = self.steer if steer else {}
        fp, pp = p.frequency_penalty, p.presence_penalty
        if steer or (counts and (fp or pp)) or not allow_eos:
            logits = []
            for tid, lp in zip(ids, logps, strict=True):
                if tid == EOS and not allow_eos:
                    continue
                c = counts.get(tid, 0)
                logits.append((lp + steer.get(tid, 0.0) - c * fp - (pp if c else 0.0), tid))
            logits.sort(key=lambda item: (-item[0], item[1]))
            ranked_ids = [tid for _, tid in logits]
            ranked_logits = [lg for lg, _ in logits]
        else:
            ranked_ids, ranked_logits = list(ids), list(logps)

        if p.temperature == 0:
            chosen = ranked_ids[0]
            sampled = Sampled(chosen, 0.0, ((chosen, 0.0),) if p.top_logprobs else ())
        else:
            sampled = self._sample(ranked_ids, ranked_logits)
        if sampled.token != EOS:
            counts[sampled.token] = counts.get(sampled.token, 0) + 1
        return sampled

    def _sample(self, ids: list[int], logits: list[float]) -> Sampled:
        t = self.params.temperature
        top = logits[0] / t
        weights = [math.exp(lg / t - top) for lg in logits]
        total = sum(weights)
        # Nucleus: the smallest prefix (most likely first) whose mass reaches top_p.
        cut = self.params.top_p * total
        acc = 0.0
        keep = len(weights)
        for i, w in enumerate(weights):
            acc += w
            if acc >= cut:
                keep = i + 1
                break
        kept_total = sum(weights[:keep])
        r = self.rng.random() * kept_total
        acc = 0.0
        chosen = keep - 1
        for i in range(keep):
            acc += weights[i]
            if r < acc:
                chosen = i
                break
        log_total = math.log(kept_total)
        logprob = math.log(weights[chosen]) - log_total
        k = self.params.top_logprobs
        alts: tuple[tuple[int, float], ...] = ()
        if k:
            # EOS is not a token anyone sees, so it is never listed as an alternative.
            alts = tuple((ids[i], math.log(weights[i]) - log_total) for i in range(keep) if ids[i] != EOS)[:k]
        return Sampled(ids[chosen], logprob, alts)
