"""Plans the whole reply to one request: per choice its thought summary, content tokens with their
logprobs, tool calls and finish reason, and the usage. The server then only renders the plan as JSON or
as a stream, so the same reply comes out whether it is streamed or not.

A reply is, in this order of precedence: a tool call (tool_choice requires or names one, or the user
names a tool); a JSON value (response_format); a sentence reporting a tool result (after a tool
message); or a sampled paragraph, after a sentence describing the images when the message has some.
Text is sampled from ``topic_model``: the corpus model mixed with one fitted to the paragraphs that use
the user's words, which keeps a reply on topic the way a prompt does.

What must stay true:
- Everything random comes from ``Random(f"{seed}/{choice index}/{purpose}")`` when a seed is given, so a
  seed repeats the reply and choices of one request differ from each other.
- The answer does not depend on whether thoughts are shown: thinking draws from its own random stream.
- ``max_tokens`` counts content tokens only (thinking has its own budget); hitting it gives ``length``.
- A stop string ends the reply just before it; the reply never contains a stop string.
"""

from __future__ import annotations

import base64
import random
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache

import orjson

from offline_model.images import ImageInfo
from offline_model.ngram import NgramModel, TopicMixture
from offline_model.sampling import DEFAULT_TOP_P, Sampler, SamplingParams
from offline_model.structured import SchemaWriter, write_json
from offline_model.tokenizer import IMAGE_TOKENS, count_tokens, tokenize
from offline_model.validation import ChatRequest
from offline_model.writing import Writer, limit

DEFAULT_MAX_TOKENS = 8192  # the offline model's own maxOutputTokens: a bound on any runaway sample
SUMMARY_MAX_TOKENS = 40
TOPIC_WEIGHT = 0.8  # how much of the next-token distribution comes from the paragraphs on the user's topic
THINKING_CAP = 2048  # the offline model never reports more thinking than this, whatever the budget
# Words too common to say what a message is about; they never choose the topic.
_STOPWORD_TEXT = """
a an and are as at be by can could do does did for from has have how i if in is it its me my no
not of on or please should so tell than that the their them then there these this those to was
we were what when where which who why will with would you your
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


# Verbs that many tool names start with; a user names get_weather by saying "weather".
_GENERIC_VERB_TEXT = "get set list fetch find search create update delete run do make lookup"
GENERIC_VERBS = frozenset(_GENERIC_VERB_TEXT.split())
TOOL_WORDS = frozenset({"use", "call", "run", "tool", "function", "please", "now"})


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


def keywords(text: str) -> frozenset[str]:
    """The lower-cased words of ``text`` that say what it is about (no stopwords, no punctuation)."""
    return frozenset(
        w for w in (t.strip().lower() for t in tokenize(text)) if w.isalnum() and w not in STOPWORDS
    )


@lru_cache(maxsize=256)
def _topic_model(model: NgramModel, words: frozenset[str]) -> NgramModel | TopicMixture:
    ids = {tid for w in words for tid in model.word_ids.get(w, ())}
    # A paragraph counts once per use of the user's words (at most 3): the one about the topic leads.
    indices = []
    for i, para in enumerate(model.paragraphs):
        hits = sum(1 for tid in para if tid in ids)
        indices += [i] * min(hits, 3)
    if not indices:
        return model
    return TopicMixture(model, model.submodel(indices), TOPIC_WEIGHT)


def topic_model(model: NgramModel, text: str) -> NgramModel | TopicMixture:
    """The model a reply to ``text`` samples from: the corpus model, mixed with a model of the
    paragraphs that use the user's words when the corpus knows any of them."""
    return _topic_model(model, keywords(text))


def thinking_length(budget: int, prompt: int) -> int:
    """How many tokens the model thinks for: 0 when off, more with a larger budget, never over it."""
    if budget == 0:
        return 0
    if budget < 0:  # dynamic
        return min(THINKING_CAP, 64 + prompt)
    return max(1, min(budget, THINKING_CAP, budget // 64 + prompt))


def think(model: NgramModel | TopicMixture, rng: random.Random, title: str) -> list[str]:
    """The thought summary: a bold title, as Gemini's summaries have, then one sampled sentence
    (temperature 1, its own random stream). How long the model thinks is ``thinking_length``; only the
    part a summary shows is sampled, since nothing else of the thinking is ever seen."""
    sampler = Sampler(model, SamplingParams(temperature=1.0, top_p=DEFAULT_TOP_P), rng)
    w = Writer(model)
    w.sample(sampler, max_tokens=SUMMARY_MAX_TOKENS, sentence=True)
    return tokenize(f"**{title}**\n\n") + w.tokens


def thought_title(text: str) -> str:
    """A thought summary's title from the user's words, in the order they wrote them."""
    seen: dict[str, str] = {}
    for tok in tokenize(text):
        word = tok.strip()
        if word.isalnum() and word.lower() not in STOPWORDS:
            seen.setdefault(word.lower(), word)
    words = list(seen.values())[:3]
    return "Considering " + " and ".join(words) if words else "Thinking it over"


def _words(text: str) -> list[str]:
    return [t.strip() for t in tokenize(text) if t.strip().isalnum()]


def tool_to_call(req: ChatRequest, last_user_text: str) -> dict | None:
    """The function the reply calls, if any: named by tool_choice, required, or named by the user."""
    if not req.tools or req.tool_choice == "none":
        return None
    by_name = {t["function"]["name"]: t["function"] for t in req.tools}
    if isinstance(req.tool_choice, dict):
        return by_name[req.tool_choice["function"]["name"]]
    named = None
    if req.messages[-1].get("role") == "user":
        said = [w.lower() for w in _words(last_user_text)]
        for name, fn in by_name.items():
            if _names_tool(name, last_user_text, said):
                named = fn
                break
    if req.tool_choice == "required":
        return named or req.tools[0]["function"]
    return named


def _names_tool(name: str, text: str, said: list[str]) -> bool:
    """Whether the user named the tool: its exact name, or every word of it that is not a generic verb
    (``get_weather`` is named by "the weather in Paris")."""
    if name.lower() in text.lower():
        return True
    words = _split_camel(_words(name.replace("_", " ").replace(".", " ").replace("-", " ")))
    meaningful = [w for w in words if w not in GENERIC_VERBS] or words
    return bool(meaningful) and all(w in said for w in meaningful)


def _split_camel(words: list[str]) -> list[str]:
    out = []
    for w in words:
        out += [p.lower() for p in re.findall(r"[A-Za-z][a-z0-9]*|[0-9]+", w)] or [w]
    return out


def _salient(text: str, fn_name: str) -> str:
    """The words of the user's message that are likely an argument (not stopwords, not the tool's name)."""
    skip = STOPWORDS | TOOL_WORDS | {w.lower() for w in _words(fn_name.replace("_", " "))}
    kept = [w for w in _words(text) if w.lower() not in skip and len(w) > 1]
    return " ".join(kept[:4])


def tool_result_answer(messages: list[dict]) -> str:
    """A sentence that reports the last tool message's result, named after the function it answers."""
    result = messages[-1]
    call_id = result.get("tool_call_id")
    name = "the tool"
    for msg in reversed(messages):
        for call in msg.get("tool_calls") or ():
            if isinstance(call, dict) and call.get("id") == call_id:
                name = call.get("function", {}).get("name", name)
    text = message_text(result).strip()
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict) and data:
        rendered = ", ".join(f"{k} is {_plain(v)}" for k, v in list(data.items())[:8])
    elif data is not None and not isinstance(data, dict):
        rendered = f"the result is {_plain(data)}"
    else:
        rendered = f"the result is {text[:300] or 'empty'}"
    return f"According to {name}, {rendered}."


def _plain(value: object) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def describe_images(infos: list[ImageInfo]) -> str:
    """What the model says it sees."""
    if len(infos) == 1:
        return f"I see {infos[0].describe()}."
    parts = "; ".join(f"image {k} is {info.describe()}" for k, info in enumerate(infos, 1))
    return f"I see {len(infos)} images: {parts}."


def cached_prefix_tokens(name: str | None) -> int:
    """Tokens of the cached content a request names: 1024..4095, fixed per name (crc32)."""
    if not name:
        return 0
    return 1024 + zlib.crc32(name.encode()) % 3072


def plan_reply(
    model: NgramModel, req: ChatRequest, last_user_text: str, images: dict[int, list[ImageInfo]] | None = None
) -> Plan:
    """Plan every choice of the reply to ``req``."""
    images = images or {}
    cached = cached_prefix_tokens(req.cached_content)
    prompt = prompt_tokens(req.messages) + cached
    lm = topic_model(model, last_user_text)
    params = SamplingParams(
        temperature=req.temperature,
        top_p=req.top_p if req.top_p is not None else DEFAULT_TOP_P,
        frequency_penalty=req.frequency_penalty,
        presence_penalty=req.presence_penalty,
        top_logprobs=req.top_logprobs,
    )
    greedy = req.temperature == 0
    cap = req.max_tokens if req.max_tokens is not None else DEFAULT_MAX_TOKENS
    thinking = thinking_length(req.thinking_budget, prompt)
    tool = tool_to_call(req, last_user_text)
    last = req.messages[-1]
    last_images = images.get(len(req.messages) - 1, [])
    choices = []
    for i in range(req.n):
        choice = ChoicePlan(index=i, reasoning_tokens=thinking)
        if thinking and req.include_thoughts:
            choice.thought = think(lm, _rng(req.seed, i, "thought"), thought_title(last_user_text))
        rng = _rng(req.seed, i, "answer")
        sampler = Sampler(lm, params, rng)
        writer = Writer(model, req.logprobs, req.top_logprobs)
        if tool is not None:
            args = Writer(model)
            schema = tool.get("parameters") or {"type": "object", "properties": {}}
            SchemaWriter(args, sampler, schema, greedy, given=[_salient(last_user_text, tool["name"])]).value(
                schema
            )
            call = {"id": f"call_{rng.getrandbits(64):016x}", "name": tool["name"], "arguments": args.text}
            if thinking:
                call["thought_signature"] = base64.b64encode(rng.randbytes(24)).decode()
            choice.tool_calls = [call]
        elif req.response_format is not None:
            fmt = req.response_format
            schema = fmt["json_schema"]["schema"] if fmt["type"] == "json_schema" else {"type": "object"}
            write_json(writer, sampler, schema, greedy)
        elif last.get("role") == "tool":
            writer.forced(tool_result_answer(req.messages))
        else:
            if last_images:
                writer.forced(describe_images(last_images) + " ")
            writer.sample(sampler, max_tokens=max(1, cap + 1 - len(writer.tokens)))
        finish = limit(writer.tokens, writer.entries if req.logprobs else None, cap, req.stop)
        choice.content = writer.tokens
        choice.logprobs = writer.entries if req.logprobs else None
        choice.finish_reason = finish or "stop"
        choices.append(choice)
    return Plan(choices=choices, prompt_tokens=prompt, cached_tokens=cached)
