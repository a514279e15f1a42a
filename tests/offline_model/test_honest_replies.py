"""What a newcomer sees first: a question Prism's help text covers gets an answer about that feature,
any other question (a greeting, arithmetic, geography, another language) a plain first sentence saying
the offline model cannot answer it and how to reach Gemini; plain length instructions in the system
prompt set the reply's length."""

from __future__ import annotations

import re

import pytest

from tests.offline_model.support import complete

NO_THINKING = {"reasoning_effort": "none"}

# (question, words the first sentence of the answer must contain)
ON_TOPIC = [
    ("explain top p", "top p"),
    ("What does the temperature do?", "the temperature"),
    ("How does the seed work?", "seed"),
    ("What is the frequency penalty?", "frequency penalty"),
    ("What does the presence penalty do?", "presence penalty"),
    ("How do I limit the length with max tokens?", "max tokens"),
    ("What is a stop sequence?", "stop sequence"),
    ("What does the n setting do?", "n setting"),
    ("What are logprobs?", "the logprobs setting"),
    ("Explain top_logprobs", "top logprobs"),
    ("How do I get JSON with the response format?", "response format"),
    ("How does function calling with tools work?", "tool"),
    ("What is reasoning effort?", "reasoning effort"),
    ("What is a thought summary?", "thought summary"),
    ("Can I attach images to a message?", "image"),
    ("What does the usage line show?", "usage line"),
    ("How is the cost of a reply worked out?", "cost"),
    ("What is the compare page for?", "compare page"),
    ("What does the system prompt do?", "system prompt"),
    ("How do I share a conversation with a share link?", "share link"),
]
OFF_TOPIC = [
    "Hello! How are you today?",
    "Good morning",
    "What is 2+2?",
    "What is 17 times 23?",
    "What is the capital of France?",
    "How tall is Mount Everest?",
    "Which river flows through Cairo?",
    "Quelle est la capitale de la France ?",
    "¿Cuál es el río más largo del mundo?",
    "Wie spät ist es in Berlin?",
]


def first_sentence(text: str) -> str:
    """The text up to the first full stop, question or exclamation mark that a space or the end follows."""
    return re.split(r"(?<=[.!?])(?:\s|$)", text.strip(), maxsplit=1)[0]


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])(?:\s+|$)", text.strip()) if s]


def answer(http, messages: list[dict], **params) -> str:
    done = complete(http, {"model": "gemini-2.5-flash", "messages": messages, **NO_THINKING, **params})
    return done["choices"][0]["message"]["content"]


def ask(http, text: str, system: str | None = None, **params) -> str:
    messages = [{"role": "system", "content": system}] if system else []
    return answer(http, [*messages, {"role": "user", "content": text}], **params)


@pytest.mark.parametrize(("question", "feature"), ON_TOPIC)
def test_a_question_about_a_feature_gets_a_first_sentence_about_it(http, question, feature):
    first = first_sentence(ask(http, question, temperature=0)).lower()
    assert feature in first, first
    assert "cannot answer" not in first


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_a_question_the_help_text_does_not_cover_is_declined_plainly_first(http, question):
    reply = ask(http, question, temperature=0)
    first = first_sentence(reply)
    assert "offline model" in first and "cannot answer that" in first, first
    assert "PRISM_API_KEY" in first and "PRISM_API_BASE_URL" in first  # how to reach Gemini
    assert len(sentences(reply)) > 1  # then it offers what it can


def test_the_honest_opening_holds_at_any_temperature_and_seed(http):
    for seed in range(5):
        first = first_sentence(ask(http, "What is the capital of France?", seed=seed, temperature=1.5))
        assert "cannot answer that" in first


def test_one_sentence_in_the_system_prompt_gives_one_sentence(http):
    for question in ("What does the seed do?", "Tell me about the compare page", "Hello there"):
        for seed in range(4):
            reply = ask(http, question, system="Answer in one sentence.", seed=seed)
            assert len(sentences(reply)) == 1, reply


def test_in_detail_in_the_system_prompt_gives_at_least_three_sentences(http):
    for question in ("What does the seed do?", "What is a stop sequence?"):
        for seed in range(4):
            reply = ask(http, question, system="Answer in detail.", seed=seed)
            assert len(sentences(reply)) >= 3, reply
    terse = ask(http, "What is a stop sequence?", system="Be brief.", temperature=0)
    detailed = ask(http, "What is a stop sequence?", system="Answer in detail.", temperature=0)
    assert len(detailed) > len(terse)


def test_in_n_words_keeps_to_n_words(http):
    for seed in range(4):
        reply = ask(http, "Explain the temperature.", system="Answer in 12 words.", seed=seed)
        assert 1 <= len(re.findall(r"\w+", reply)) <= 12, reply


def test_the_system_prompts_words_steer_what_the_reply_is_about(http):
    plain = ask(http, "Tell me about Prism", temperature=0)
    steered = ask(http, "Tell me about Prism", system="You explain the seed.", temperature=0)
    assert "seed" not in first_sentence(plain).lower()
    assert "seed" in first_sentence(steered).lower()


def test_a_follow_up_without_a_topic_of_its_own_continues_the_earlier_one(http):
    messages = [
        {"role": "user", "content": "What is the presence penalty?"},
        {"role": "assistant", "content": "The presence penalty lowers the chance of any token."},
        {"role": "user", "content": "Tell me more."},
    ]
    assert "presence penalty" in first_sentence(answer(http, messages, temperature=0)).lower()
    off = [*messages[:2], {"role": "user", "content": "What is the capital of France?"}]
    assert "cannot answer that" in first_sentence(answer(http, off, temperature=0))


def test_thought_summaries_are_sentences_about_the_question(http):
    thoughts = {"extra_body": {"google": {"thinking_config": {"include_thoughts": True}}}}
    for question, about in (("explain top p", "top p"), ("What is 2+2?", "Gemini")):
        for seed in range(3):
            text = ask(http, question, seed=seed, reasoning_effort="low", **thoughts)
            summary = text[len("<thought>") : text.index("</thought>")]
            title, _, body = summary.partition("\n\n")
            assert title.startswith("**") and title.endswith("**")
            assert about in body
            assert body[0].isupper() and body.endswith(".")
            assert all(len(s.split()) >= 5 for s in sentences(body))
