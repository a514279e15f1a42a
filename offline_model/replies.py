"""Plans the whole reply to one request: per choice its thought summary, content tokens with their
logprobs, tool calls and finish reason, and the usage. The server then only renders the plan as JSON or
as a stream, so the same reply comes out whether it is streamed or not.

What must stay true:
- Everything random comes from ``Random(f"{seed}/{choice index}/{purpose}")`` when a seed is given, so a
  seed repeats the reply and choices of one request differ from each other.
- The answer does not depend on whether thoughts are shown: thinking draws from its own random stream.
- ``max_tokens`` counts content tokens only (thinking has its own budget); hitting it gives ``length``.
- A stop string ends the reply just before it; the reply never contains a stop string.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from offline_model.ngram import EOS, NgramModel
from offline_model.sampling import DEFAULT_TOP_P, STEER_KEYWORD, STEER_TOPIC, Sampler, SamplingParams
from offline_model.tokenizer import IMAGE_TOKENS, count_tokens, tokenize
from offline_model.validation import ChatRequest

DEFAULT_MAX_TOKENS = 400  # a greedy n-gram can loop; the offline model's own maxOutputTokens
SUMMARY_MAX_TOKENS = 40
STEER_TOKENS = 2  # the user's words choose where the reply starts; the n-gram carries it from there
THINKING_CAP = 2048  # the offline model never thinks longer than this, whatever the budget
SENTENCE_END = frozenset({".", "!", "?"})
# Words too common to say what a message is about; they never steer the reply.
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "could",
        "do",
        "does",
        "did",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "please",
        "should",
        "so",
        "tell",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "this",
        "those",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    }
)


@dataclass
class ChoicePlan:
    index: int
    thought: list[str] = field(default_factory=list)  # thought summary as tokens, no tags
    content: list[str] = field(default_factory=list)  # answer as tokens
    logprobs: list[dict] | None = None  # OpenAI logprob entries, one per content token
    tool_calls: list[dict] = field(default_factory=list)  # {"id", "name", "arguments"}
    finish_reason: str = "stop"
    reasoning_tokens: int = 0

    @property
    def text(self) -> str:
        return "".join(self.content)

    @property
    def completion_tokens(self) -> int:
        calls = sum(count_tokens(c["name"]) + count_tokens(c["arguments"]) for c in self.tool_calls)
        return len(self.content) + calls


@dataclass
class Plan:
    choices: list[ChoicePlan]
    prompt_tokens: int
    cached_tokens: int = 0

    def usage(self, strict_openai: bool) -> dict:
        """Usage in the dialect's accounting (see the module docstring of server.py)."""
        completion = sum(c.completion_tokens for c in self.choices)
        reasoning = sum(c.reasoning_tokens for c in self.choices)
        if strict_openai:
            completion += reasoning  # OpenAI counts reasoning inside completion_tokens
            total = self.prompt_tokens + completion
        else:
            total = self.prompt_tokens + completion + reasoning  # Gemini: thoughts on top
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": total,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        }


def message_text(message: dict) -> str:
    """The text of a message's content, parts joined with spaces."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def prompt_tokens(messages: list[dict]) -> int:
    """Prompt tokens by the stated rule (tokenizer.py)."""
    total = 0
    for msg in messages:
        total += 1 + count_tokens(message_text(msg))
        content = msg.get("content")
        if isinstance(content, list):
            total += IMAGE_TOKENS * sum(
                1 for p in content if isinstance(p, dict) and p.get("type") == "image_url"
            )
        for call in msg.get("tool_calls") or ():
            fn = call.get("function", {})
            total += count_tokens(fn.get("name", "")) + count_tokens(fn.get("arguments", ""))
    return total


def _rng(seed: int | None, index: int, purpose: str) -> random.Random:
    return random.Random(f"{seed}/{index}/{purpose}") if seed is not None else random.Random()


def steering(model: NgramModel, text: str) -> dict[int, float]:
    """Logit boosts that steer the reply toward the user's words and the paragraphs that use them."""
    words = {w for w in (tok.strip().lower() for tok in tokenize(text)) if w.isalnum() and w not in STOPWORDS}
    keywords = {tid for w in words for tid in model.word_ids.get(w, ())}
    if not keywords:
        return {}
    steer: dict[int, float] = {}
    for para in model.paragraphs:
        if keywords.intersection(para):
            for tid in para:
                if model.vocab[tid].strip().lower() not in STOPWORDS:
                    steer[tid] = STEER_TOPIC
    for tid in keywords:
        steer[tid] = STEER_KEYWORD
    return steer


def sample_text(
    model: NgramModel,
    sampler: Sampler,
    *,
    max_tokens: int,
    stop: list[str] = (),
    want_logprobs: bool = False,
) -> tuple[list[str], list[dict] | None, str]:
    """Sample one paragraph; return its tokens, their logprob entries (if asked) and the finish reason."""
    vocab = model.vocab
    tokens: list[str] = []
    entries: list[dict] | None = [] if want_logprobs else None
    text = ""
    ctx = model.start
    finish = "stop"
    while True:
        if len(tokens) >= max_tokens:
            finish = "length"
            break
        s = sampler.step(ctx, steer=len(tokens) < STEER_TOKENS)
        if s.token == EOS:
            break
        tok = vocab[s.token]
        if not tokens:
            tok = tok.lstrip()
        if entries is not None:
            entries.append(_entry(tok, s.logprob, [(vocab[t], lp) for t, lp in s.top]))
        tokens.append(tok)
        text += tok
        ctx = (*ctx[1:], s.token)
        if stop:
            cut = _stop_at(text, stop, len(tok))
            if cut is not None:
                _truncate(tokens, entries, cut)
                break
    return tokens, entries, finish


def _entry(tok: str, logprob: float, top: list[tuple[str, float]]) -> dict:
    return {
        "token": tok,
        "logprob": logprob,
        "bytes": list(tok.encode("utf-8")),
        "top_logprobs": [{"token": t, "logprob": lp, "bytes": list(t.encode("utf-8"))} for t, lp in top],
    }


def _stop_at(text: str, stop: list[str], last_len: int) -> int | None:
    """Where the earliest stop string that the last token completed begins, if any."""
    best = None
    for s in stop:
        start = max(0, len(text) - last_len - len(s) + 1)
        idx = text.find(s, start)
        if idx != -1 and (best is None or idx < best):
            best = idx
    return best


def _truncate(tokens: list[str], entries: list[dict] | None, cut: int) -> None:
    """Keep only the first ``cut`` characters of the joined tokens (the last kept token may be partial)."""
    pos = 0
    for i, tok in enumerate(tokens):
        if pos + len(tok) > cut:
            keep = tok[: cut - pos]
            del tokens[i:]
            if entries is not None:
                del entries[i + (1 if keep else 0) :]
                if keep:
                    entries[i]["token"] = keep
                    entries[i]["bytes"] = list(keep.encode("utf-8"))
            if keep:
                tokens.append(keep)
            return
        pos += len(tok)


def thinking_length(budget: int, prompt: int) -> int:
    """How many tokens the model thinks for: 0 when off, more with a larger budget, never over it."""
    if budget == 0:
        return 0
    if budget < 0:  # dynamic
        return min(THINKING_CAP, 64 + prompt)
    return min(budget, THINKING_CAP, budget // 64 + prompt)


def think(model: NgramModel, steer: dict[int, float], rng: random.Random, length: int) -> list[str]:
    """Think for ``length`` tokens; return the summary (the first sentence of the thinking)."""
    sampler = Sampler(model, SamplingParams(temperature=1.0, top_p=DEFAULT_TOP_P), rng, dict(steer))
    summary: list[str] = []
    produced = 0
    while produced < length:
        tokens, _, _ = sample_text(model, sampler, max_tokens=length - produced)
        produced += max(1, len(tokens))
        if not summary:
            for tok in tokens[:SUMMARY_MAX_TOKENS]:
                summary.append(tok)
                if tok in SENTENCE_END:
                    break
    return summary


def plan_reply(model: NgramModel, req: ChatRequest, last_user_text: str) -> Plan:
    """Plan every choice of the reply to ``req``."""
    prompt = prompt_tokens(req.messages)
    steer = steering(model, last_user_text)
    params = SamplingParams(
        temperature=req.temperature,
        top_p=req.top_p if req.top_p is not None else DEFAULT_TOP_P,
        frequency_penalty=req.frequency_penalty,
        presence_penalty=req.presence_penalty,
        top_logprobs=req.top_logprobs,
    )
    max_tokens = req.max_tokens if req.max_tokens is not None else DEFAULT_MAX_TOKENS
    thinking = thinking_length(req.thinking_budget, prompt)
    choices = []
    for i in range(req.n):
        choice = ChoicePlan(index=i, reasoning_tokens=thinking)
        if thinking:
            summary = think(model, steer, _rng(req.seed, i, "thought"), thinking)
            if req.include_thoughts:
                choice.thought = summary
        sampler = Sampler(model, params, _rng(req.seed, i, "answer"), dict(steer))
        choice.content, choice.logprobs, choice.finish_reason = sample_text(
            model, sampler, max_tokens=max_tokens, stop=req.stop, want_logprobs=req.logprobs
        )
        choices.append(choice)
    return Plan(choices=choices, prompt_tokens=prompt)
