"""Plans the whole reply to one request: per choice its thought summary, content tokens with their
logprobs, tool calls and finish reason, and the usage. The server then only renders the plan as JSON or
as a stream, so the same reply comes out whether it is streamed or not.

A reply is, in this order of precedence: a tool call (tool_choice requires or names one, or the user
names a tool); a JSON value (response_format); a sentence reporting a tool result (after a tool
message); or a sampled paragraph, after a sentence describing the images when the message has some.

A text reply starts from what the conversation is about (retrieval.py): when the last message is on a
topic the corpus covers, the reply is sampled from the corpus model mixed with one fitted to the most
relevant passages (``focus_model``), so "explain top p" talks about top_p and its first sentence names
it. Otherwise its first sentence says plainly that this is Prism's offline model, that it cannot answer
that offline and how to reach Gemini (``HONEST_OPENING``), then it offers what it can. Its length follows
the plain length instructions of instructions.py.

What must stay true:
- Everything random comes from ``Random(f"{seed}/{choice index}/{purpose}")`` when a seed is given, so a
  seed repeats the reply and choices of one request differ from each other.
- The answer does not depend on whether thoughts are shown: thinking draws from its own random stream.
- ``max_tokens`` counts content tokens only (thinking has its own budget); hitting it gives ``length``.
- A stop string ends the reply just before it; the reply never contains a stop string.
"""

from __future__ import annotations

import base64
import dataclasses
import random
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache

import orjson

from offline_model.images import ImageInfo
from offline_model.instructions import Length, reply_length
from offline_model.ngram import NgramModel, TopicMixture
from offline_model.retrieval import (
    EARLIER_ASSISTANT_WEIGHT,
    EARLIER_USER_WEIGHT,
    ON_TOPIC,
    SYSTEM_WEIGHT,
    Index,
    stem,
    terms,
)
from offline_model.sampling import DEFAULT_TOP_P, Sampler, SamplingParams
from offline_model.structured import SchemaWriter, write_json
from offline_model.tokenizer import IMAGE_TOKENS, count_tokens, tokenize
from offline_model.validation import ChatRequest
from offline_model.writing import SENTENCE_END, Writer, limit

DEFAULT_MAX_TOKENS = 8192  # the offline model's own maxOutputTokens: a bound on any runaway sample
TOPIC_WEIGHT = 0.85  # how much of the next-token distribution comes from the passages the reply is about
FOCUS_COPIES = 3  # the most relevant passage counts this many times in the topic model, the next two once
MAX_PARAGRAPHS = 8
PARAGRAPH_TOKENS = 120  # a paragraph ends at its first sentence end after this many (corpus: <= 90)
# The first sentence of a reply to a question the corpus does not cover. The names are the README's.
HONEST_OPENING = (
    "I am Prism's offline model, a small model that knows only Prism's own help text, so I cannot "
    "answer that offline; to talk to Gemini, set PRISM_API_KEY (api.api_key in .streamlit/secrets.toml) "
    "to your key and PRISM_API_BASE_URL (api.base_url) to the Gemini API's OpenAI-compatible address."
)
HONEST_OFFER = (
    "What I can do is explain Prism itself: the temperature, top p, the seed, the penalties, "
    "logprobs, the compare page and the rest of its help text."
)
# What an off-topic reply goes on to say: what Prism and this model are (found, not numbered).
OVERVIEW_QUERY = (("Prism web app offline model", 1.0),)
THINKING_CAP = 2048  # the offline model never reports more thinking than this, whatever the budget
# Words too common to be a tool's argument (retrieval.py has its own, longer list).
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


@lru_cache(maxsize=4)
def index_for(model: NgramModel) -> Index:
    """The retrieval index over the model's paragraphs (the corpus passages)."""
    return Index(["".join(model.vocab[t] for t in para) for para in model.paragraphs])


@lru_cache(maxsize=256)
def focus_model(model: NgramModel, passages: tuple[int, ...], copies: int = FOCUS_COPIES) -> TopicMixture:
    """The corpus model mixed with one fitted to the first three ``passages``, the first ``copies``
    times (JSON strings and tool arguments use 1: short strings vary more when no passage leads)."""
    indices = [passages[0]] * copies + list(passages[1:3])
    return TopicMixture(model, model.submodel(indices), TOPIC_WEIGHT)


@dataclass(frozen=True)
class Reading:
    """What the offline model makes of a conversation before it answers."""

    on_topic: bool
    passages: tuple[int, ...]  # corpus passages, the most relevant first
    subject: str  # the user's words the best passage holds, as they wrote them ("top p")
    length: Length


def _role_text(messages: list[dict], roles: tuple[str, ...]) -> list[str]:
    return [message_text(m) for m in messages if m.get("role") in roles]


def read_conversation(model: NgramModel, messages: list[dict], last_user_text: str) -> Reading:
    """Whether the conversation is on a topic the corpus covers, which passages, and how long to answer.

    The last message decides whether it is on topic; when it has no words that are evidence ("tell me
    more"), the newest earlier message that has some decides, then the system prompt."""
    index = index_for(model)
    system = " ".join(_role_text(messages, ("system", "developer")))
    earlier = [
        (message_text(m), m.get("role")) for m in messages[:-1] if m.get("role") in ("user", "assistant")
    ]
    sources: list[tuple[str, float]] = [(last_user_text, 1.0)]
    if system:
        sources.append((system, SYSTEM_WEIGHT))
    age = {"user": 0, "assistant": 0}
    for text, role in reversed(earlier):
        if text == last_user_text and role == "user" and age["user"] == 0:
            continue  # the last message itself
        age[role] += 1
        base = EARLIER_USER_WEIGHT if role == "user" else EARLIER_ASSISTANT_WEIGHT
        sources.append((text, base / 2 ** (age[role] - 1)))
    deciding = next(
        (t for t in [last_user_text, *(t for t, r in reversed(earlier) if r == "user"), system] if terms(t)),
        "",
    )
    on_topic = index.coverage(deciding) >= ON_TOPIC
    ranking = index.rank(tuple(sources))
    length = reply_length(system, last_user_text)
    if not on_topic:
        return Reading(False, index.rank(OVERVIEW_QUERY).order[:2], "", length)
    matched = set(ranking.matched)
    said = [w for w in re.findall(r"[^\W_]+", deciding) if stem(w.lower()) in matched]
    subject = " ".join(dict.fromkeys(said[:4])) or "Prism"
    return Reading(True, ranking.order[:6], subject, length)


def thinking_length(budget: int, prompt: int) -> int:
    """How many tokens the model thinks for: 0 when off, more with a larger budget, never over it."""
    if budget == 0:
        return 0
    if budget < 0:  # dynamic
        return min(THINKING_CAP, 64 + prompt)
    return max(1, min(budget, THINKING_CAP, budget // 64 + prompt))


THOUGHTS_ON_TOPIC = (
    (
        "Looking up {subject}",
        "The question is about {subject}, which Prism's help text covers, so I will answer from the "
        "passage on it.",
    ),
    (
        "Recalling what the help text says about {subject}",
        "I know {subject} from Prism's help text, so I will retell the passage that explains it.",
    ),
)
THOUGHTS_OFF_TOPIC = (
    (
        "Checking what I know",
        "Nothing in Prism's help text, which is all I know offline, covers this question, so I will say "
        "so plainly and explain how to reach Gemini.",
    ),
    (
        "Noticing the question is outside my help text",
        "I only know Prism's own help text, and it does not answer this, so I will say so and point to "
        "Gemini instead.",
    ),
)


def think(reading: Reading, rng: random.Random) -> list[str]:
    """The thought summary: a bold title, as Gemini's summaries have, then a sentence saying what the
    model makes of the question (worded one of two ways, from its own random stream). How long the
    model thinks is ``thinking_length``; only the part a summary shows is written, since nothing else
    of the thinking is ever seen."""
    options = THOUGHTS_ON_TOPIC if reading.on_topic else THOUGHTS_OFF_TOPIC
    title, sentence = options[rng.randrange(len(options))]
    text = f"**{title}**\n\n{sentence}".format(subject=reading.subject)
    return tokenize(text)


def write_answer(writer: Writer, sampler: Sampler, model: NgramModel, reading: Reading, cap: int) -> None:
    """The text answer: the honest opening when off topic, then sampled passages, as long as asked."""
    length = reading.length
    want = length.max_sentences
    words = length.max_words
    if not reading.on_topic:
        writer.forced(HONEST_OPENING)
        writer.sentences += 1
        if want is not None and writer.sentences >= want:
            return
        writer.forced(" " + HONEST_OFFER)
        writer.sentences += 1
        if want is not None and writer.sentences >= want:
            return
        writer.forced(" ")
    for n in range(MAX_PARAGRAPHS):
        left = cap + 1 - len(writer.tokens)
        if left <= 0:
            return
        passages = reading.passages[n % len(reading.passages) :] or reading.passages
        sampler.model = focus_model(model, passages)
        before = len(writer.tokens)
        writer.sample(
            sampler,
            max_tokens=left,
            sentences=None if want is None else want - writer.sentences,
            words=words,
            paragraph=PARAGRAPH_TOKENS,
        )
        if words is not None and writer.tokens and writer.tokens[-1] not in SENTENCE_END:
            # "in N words": back to the last full sentence within them, or N words and a full stop.
            ends = [j for j in range(before, len(writer.tokens)) if writer.tokens[j] in SENTENCE_END]
            if ends:
                del writer.tokens[ends[-1] + 1 :]
                del writer.entries[ends[-1] + 1 :]
            else:
                writer.forced(".")
        done = want is not None and writer.sentences >= want
        if done or words is not None or writer.sentences >= length.min_sentences:
            break
        if len(writer.tokens) == before:
            break
        writer.forced("\n\n")


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
    reading = read_conversation(model, req.messages, last_user_text)
    last_images = images.get(len(req.messages) - 1, [])
    if last_images and not reading.on_topic:
        # Describing the images answers the message; the reply goes on about images, not apologising.
        passages = index_for(model).rank((("image colour", 1.0),)).order[:3]
        reading = dataclasses.replace(reading, on_topic=True, passages=passages, subject="the images")
    lm = focus_model(model, reading.passages, copies=1)  # for JSON strings; text sets its own
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
    choices = []
    for i in range(req.n):
        choice = ChoicePlan(index=i, reasoning_tokens=thinking)
        if thinking and req.include_thoughts:
            choice.thought = think(reading, _rng(req.seed, i, "thought"))
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
            write_answer(writer, sampler, model, reading, cap)
        finish = limit(writer.tokens, writer.entries if req.logprobs else None, cap, req.stop)
        choice.content = writer.tokens
        choice.logprobs = writer.entries if req.logprobs else None
        choice.finish_reason = finish or "stop"
        choices.append(choice)
    return Plan(choices=choices, prompt_tokens=prompt, cached_tokens=cached)
