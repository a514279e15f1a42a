"""The answer as it is written: tokens, each with the logprob entry of the choice that produced it.

Why it exists: an answer mixes sampled text (from the n-gram), forced text (JSON punctuation, a template
sentence about an image or a tool result) and small structured choices (an enum value, a number). Each
token must carry the true log-probability of how it was produced, so ``logprobs`` stays honest whatever
the reply is made of.

What must stay true: forced text has probability 1 (logprob 0.0, its own only alternative); a choice
among k equally likely values has logprob -log k; sampled tokens carry the sampler's logprob and
alternatives. Within one reply sampled text repeats no n-gram of the model's order, of its own or of
forced text before it (the rule transformers calls ``no_repeat_ngram_size``): a token that would
repeat one has probability 0 in the distribution sampled from, so greedy decoding cannot loop, and
logprobs stay true. ``limit`` cuts an
answer at max_tokens (finish ``length``) or before a stop string (finish ``stop``), and the kept text
never contains a stop string.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import orjson

from offline_model.ngram import EOS, NgramModel
from offline_model.sampling import Sampler
from offline_model.tokenizer import tokenize

SENTENCE_END = frozenset({".", "!", "?"})


def entry(tok: str, logprob: float, top: list[tuple[str, float]]) -> dict:
    """One OpenAI logprob entry."""
    return {
        "token": tok,
        "logprob": logprob,
        "bytes": list(tok.encode("utf-8")),
        "top_logprobs": [{"token": t, "logprob": lp, "bytes": list(t.encode("utf-8"))} for t, lp in top],
    }


@dataclass
class Writer:
    """Collects answer tokens and, when asked, their logprob entries."""

    model: NgramModel
    want_logprobs: bool = False
    top_k: int = 0
    tokens: list[str] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)
    sentences: int = 0
    # context -> tokens already sampled after it in this reply (the no-repeat rule); contexts that
    # hold EOS belong to one paragraph only and live in ``_local``.
    used: dict[tuple[int, ...], set[int]] = field(default_factory=dict)
    _local: dict[tuple[int, ...], set[int]] = field(default_factory=dict)

    def _add(self, tok: str, logprob: float, top: list[tuple[str, float]]) -> None:
        self.tokens.append(tok)
        if self.want_logprobs:
            self.entries.append(entry(tok, logprob, top[: self.top_k]))

    def forced(self, text: str) -> None:
        """Text with no choice in it: every token has probability 1. Its 4-grams count for the
        no-repeat rule, so sampled text that follows does not say them again."""
        ids = self.model.ids
        trail: tuple[int, ...] = ()
        for tok in tokenize(text):
            self._add(tok, 0.0, [(tok, 0.0)])
            tid = ids.get(tok)
            if tid is None:
                trail = ()
                continue
            if len(trail) == self.model.order - 1:
                self.used.setdefault(trail, set()).add(tid)
            trail = (*trail, tid)[1 - self.model.order :]

    def choose(self, options: list[str], index: int, logprob: float) -> None:
        """One of several rendered options, chosen with probability exp(logprob)."""
        pieces = tokenize(options[index])
        if not pieces:
            return
        alts = [(tokenize(o)[0] if o else o, logprob) for o in options if o][: self.top_k]
        self._add(pieces[0], logprob, alts)
        for tok in pieces[1:]:
            self._add(tok, 0.0, [(tok, 0.0)])

    def sample(
        self,
        sampler: Sampler,
        *,
        max_tokens: int,
        sentence: bool = False,
        sentences: int | None = None,
        words: int | None = None,
        paragraph: int | None = None,
        json_string: bool = False,
        lstrip: bool = True,
    ) -> str:
        """Sample up to ``max_tokens`` tokens from the start of a paragraph until EOS, or until
        ``sentences`` sentences (``sentence``: one) or ``words`` words are written; append them and
        return the raw text. ``self.sentences`` counts the sentences written so far. With
        ``paragraph``, a paragraph that has reached that many tokens ends at its next sentence end
        (and at half as many again whatever comes), as a hot sample may not end one on its own.

        A sentence ends at ``.``, ``!`` or ``?``; after a digit only when a space or the end follows
        (so ``2.5`` does not end one). With ``json_string`` each token is written JSON-escaped (the
        content of a JSON string)."""
        if sentence:
            sentences = 1
        vocab = self.model.vocab
        ctx = self.model.start
        raw: list[str] = []
        written = 0  # sentences ended in this passage
        said = 0  # words in this passage
        pending = False  # the last token could end a sentence, if a space or the end follows
        step, add, used, local = sampler.step, self._add, self.used, self._local
        while len(raw) < max_tokens:
            # Contexts inside a paragraph: no 4-gram twice in the whole reply; EOS-padded ones (the
            # start of a paragraph) only within this paragraph.
            bans = local if EOS in ctx else used
            banned = bans.get(ctx)
            s = step(ctx, banned=banned)
            token = s.token
            if banned is None:
                bans[ctx] = {token}
            else:
                banned.add(token)
            if token == EOS:
                if pending:
                    written += 1
                break
            tok = vocab[token]
            if pending:
                pending = False
                if tok[0].isspace():
                    written += 1
                    if sentences is not None and written >= sentences:
                        break
                    if paragraph is not None and len(raw) >= paragraph:
                        break
            if paragraph is not None and len(raw) >= paragraph * 3 // 2:
                break
            ctx = (*ctx[1:], token)
            if not raw and lstrip:
                tok = tok.lstrip()
                if not tok:
                    continue
            raw.append(tok)
            top = [(vocab[t], lp) for t, lp in s.top] if s.top else []
            add(orjson.dumps(tok).decode()[1:-1] if json_string else tok, s.logprob, top)
            if tok in SENTENCE_END:
                if len(raw) > 1 and raw[-2][-1:].isdigit():
                    pending = True  # "2." may be "2.5": the next token says whether a sentence ended
                else:
                    written += 1
                    if sentences is not None and written >= sentences:
                        break
                    if paragraph is not None and len(raw) >= paragraph:
                        break
            elif words is not None and tok.strip()[:1].isalnum():
                said += 1
                if said >= words:
                    break
        self.sentences += written
        self._local.clear()
        return "".join(raw)

    @property
    def text(self) -> str:
        return "".join(self.tokens)


def uniform_logprob(k: int) -> float:
    """The logprob of one of k equally likely options."""
    return -math.log(k) if k > 1 else 0.0


def limit(
    tokens: list[str], entries: list[dict] | None, max_tokens: int | None, stop: list[str]
) -> str | None:
    """Cut the answer in place at a stop string or at max_tokens; return the finish it implies, if any."""
    text = "".join(tokens[:max_tokens] if max_tokens is not None else tokens)
    cut = None
    for s in stop:
        idx = text.find(s)
        if idx != -1 and (cut is None or idx < cut):
            cut = idx
    if cut is not None:
        # A stop string that starts within the first max_tokens tokens ends the reply first.
        pos = 0
        for i, tok in enumerate(tokens):
            if max_tokens is not None and i >= max_tokens:
                break
            if pos + len(tok) > cut:
                keep = tok[: cut - pos]
                del tokens[i:]
                if entries:
                    del entries[i + (1 if keep else 0) :]
                    if keep:
                        entries[i]["token"] = keep
                        entries[i]["bytes"] = list(keep.encode("utf-8"))
                if keep:
                    tokens.append(keep)
                return "stop"
            pos += len(tok)
    if max_tokens is not None and len(tokens) > max_tokens:
        del tokens[max_tokens:]
        if entries:
            del entries[max_tokens:]
        return "length"
    return None
