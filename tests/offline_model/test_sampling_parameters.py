"""Each sampling parameter has its honest effect, checked as properties over many requests:
temperature 0 is greedy and repeatable, a seed repeats a sample and different seeds differ, a tiny
top_p behaves like greedy, max_tokens cuts a reply to a prefix with finish "length", stop ends the
reply before the stop string, n gives n indexed choices, logprobs are true and consistent, and the
penalties measurably reduce repetition."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.offline_model.support import body, complete, content, reply, stream_chunks, streamed_text

PROMPTS = st.sampled_from(
    [
        "What does the temperature do?",
        "Tell me about the seed.",
        "How do stop sequences work?",
        "Explain top p and nucleus sampling",
        "What is the compare page for?",
        "hello",
        "Explain logprobs please",
        "zebra quantum violin",  # words the corpus does not know: the reply is unsteered
    ]
)
SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NO_THINKING = {"reasoning_effort": "none"}


@SETTINGS
@given(prompt=PROMPTS)
def test_temperature_zero_gives_the_same_reply_every_time(http, prompt):
    first = content(http, prompt, temperature=0)
    assert first
    assert content(http, prompt, temperature=0) == first
    assert streamed_text(stream_chunks(http, body(prompt, temperature=0))) == first


@SETTINGS
@given(prompt=PROMPTS, seed=st.integers(-(2**31), 2**31), temperature=st.floats(0.1, 2.0))
def test_a_seed_repeats_the_sampled_reply(http, prompt, seed, temperature):
    params = {"seed": seed, "temperature": temperature}
    assert content(http, prompt, **params) == content(http, prompt, **params)


def test_different_seeds_give_different_replies_at_temperature_one(http):
    replies = {content(http, "Tell me about Prism", seed=seed, temperature=1) for seed in range(12)}
    assert len(replies) >= 9


def test_higher_temperature_gives_more_variety(http):
    def distinct(temperature: float) -> int:
        return len(
            {
                content(http, "Tell me about the seed", seed=s, temperature=temperature, max_tokens=12)
                for s in range(16)
            }
        )

    assert distinct(0) == 1
    assert distinct(0.2) < distinct(1.5)


@SETTINGS
@given(prompt=PROMPTS, seed=st.integers(0, 10**6))
def test_tiny_top_p_behaves_like_greedy(http, prompt, seed):
    assert content(http, prompt, top_p=1e-6, seed=seed) == content(http, prompt, temperature=0)


@SETTINGS
@given(prompt=PROMPTS, seed=st.integers(0, 10**6), max_tokens=st.integers(1, 40))
def test_max_tokens_cuts_the_same_sample_to_a_prefix(http, prompt, seed, max_tokens):
    full = complete(http, body(prompt, seed=seed, **NO_THINKING))
    cut = complete(http, body(prompt, seed=seed, max_tokens=max_tokens, **NO_THINKING))
    full_text = full["choices"][0]["message"]["content"]
    cut_choice = cut["choices"][0]
    assert full_text.startswith(cut_choice["message"]["content"])
    assert cut["usage"]["completion_tokens"] == min(max_tokens, full["usage"]["completion_tokens"])
    longer = full["usage"]["completion_tokens"] > max_tokens
    assert cut_choice["finish_reason"] == ("length" if longer else "stop")


def test_max_completion_tokens_is_the_same_limit(http):
    choice = reply(http, max_completion_tokens=3, temperature=0)
    assert choice["finish_reason"] == "length"
    assert choice["message"]["content"] == content(http, max_tokens=3, temperature=0)


@SETTINGS
@given(prompt=PROMPTS, seed=st.integers(0, 10**6), data=st.data())
def test_stop_ends_the_reply_just_before_the_stop_string(http, prompt, seed, data):
    full = content(http, prompt, seed=seed)
    start = data.draw(st.integers(0, max(0, len(full) - 1)))
    stop = full[start : start + data.draw(st.integers(1, 6))] or "."
    choice = reply(http, prompt, seed=seed, stop=[stop])
    text = choice["message"]["content"]
    assert stop not in text
    assert text == full[: full.find(stop)] if stop in full else text == full
    assert choice["finish_reason"] == "stop"


@SETTINGS
@given(n=st.integers(1, 8), seed=st.integers(0, 10**6))
def test_n_gives_n_indexed_choices(http, n, seed):
    done = complete(http, body("Tell me about Prism", n=n, seed=seed))
    assert [c["index"] for c in done["choices"]] == list(range(n))
    chunks = stream_chunks(http, body("Tell me about Prism", n=n, seed=seed))
    for c in done["choices"]:
        assert streamed_text(chunks, c["index"]) == c["message"]["content"]
    finishes = [ch for c in chunks for ch in c["choices"] if ch["finish_reason"]]
    assert sorted(ch["index"] for ch in finishes) == list(range(n))


def test_choices_of_one_request_differ(http):
    done = complete(http, body("Tell me about Prism", n=8, seed=5))
    assert len({c["message"]["content"] for c in done["choices"]}) >= 6


@SETTINGS
@given(
    prompt=PROMPTS,
    seed=st.integers(0, 10**6),
    temperature=st.sampled_from([0, 0.5, 1.0, 1.7]),
    top_p=st.sampled_from([0.5, 0.9, 1.0]),
    k=st.integers(0, 20),
)
def test_logprobs_are_true_and_consistent_with_their_alternatives(http, prompt, seed, temperature, top_p, k):
    choice = reply(
        http,
        prompt,
        seed=seed,
        temperature=temperature,
        top_p=top_p,
        logprobs=True,
        top_logprobs=k,
        max_tokens=30,
    )
    entries = choice["logprobs"]["content"]
    assert "".join(e["token"] for e in entries) == choice["message"]["content"]
    for e in entries:
        assert e["logprob"] <= 0.0
        assert bytes(e["bytes"]) == e["token"].encode()
        top = e["top_logprobs"]
        assert len(top) <= k
        values = [t["logprob"] for t in top]
        assert values == sorted(values, reverse=True)
        assert sum(math.exp(v) for v in values) <= 1.0 + 1e-9
        if temperature == 0 and top:
            assert e["logprob"] == top[0]["logprob"]  # greedy takes the most likely, and says how likely
        same = [t for t in top if t["token"] == e["token"]]
        if same:
            assert math.isclose(same[0]["logprob"], e["logprob"], abs_tol=1e-12)
        elif len(top) == k and k:
            assert e["logprob"] <= top[-1]["logprob"] + 1e-12  # not listed only when less likely


def test_logprobs_are_the_models_own_whatever_the_temperature_and_top_p(http):
    """Temperature and top_p change what is drawn, not the probabilities reported: the first token
    (always drawn from the same context) has the same alternatives at every setting."""

    def first(**params) -> list[tuple[str, float]]:
        choice = reply(http, "explain top p", seed=3, logprobs=True, top_logprobs=5, **params)
        return [(t["token"], t["logprob"]) for t in choice["logprobs"]["content"][0]["top_logprobs"]]

    reference = first(temperature=1.0, top_p=1.0)
    assert len(reference) == 5
    for params in ({"temperature": 0}, {"temperature": 0.3, "top_p": 0.1}, {"temperature": 2.0}):
        assert first(**params)[:4] == reference[:4]  # (the fifth place may hold the sampled token)
    assert math.exp(reference[0][1]) < 1.0  # a true probability, not the point mass a nucleus leaves


@pytest.mark.parametrize("k", [5, 20])
@pytest.mark.parametrize("temperature", [0, 1.0])
def test_top_logprobs_lists_exactly_k_sorted_alternatives_with_the_sampled_token(http, k, temperature):
    for prompt in ("explain top p", "What does the seed do?", "Tell me about the compare page"):
        for seed in range(3):
            choice = reply(
                http, prompt, seed=seed, temperature=temperature, logprobs=True, top_logprobs=k, top_p=0.9
            )
            entries = choice["logprobs"]["content"]
            assert entries
            for e in entries:
                top = e["top_logprobs"]
                assert len(top) == k
                values = [t["logprob"] for t in top]
                assert values == sorted(values, reverse=True)
                assert e["token"] in [t["token"] for t in top]
                assert len({t["token"] for t in top}) == k
                assert e["logprob"] < 0.0 and all(v < 0.0 for v in values)  # no outcome is certain


def test_only_forced_text_has_logprob_zero(http):
    """The declining sentence is written, not sampled: its tokens are certain (logprob 0, their own only
    alternative); everything sampled after it has a true logprob below 0."""
    choice = reply(http, "What is 2+2?", seed=1, logprobs=True, top_logprobs=5, reasoning_effort="none")
    entries = choice["logprobs"]["content"]
    certain = [e for e in entries if e["logprob"] == 0.0]
    assert certain and all(len(e["top_logprobs"]) == 1 for e in certain)
    assert "".join(e["token"] for e in certain).startswith("I am Prism's offline model")
    sampled = entries[len(certain) :]
    assert sampled and all(e["logprob"] < 0.0 and len(e["top_logprobs"]) == 5 for e in sampled)


REPEAT_QUESTIONS = ["Tell me about Prism", "What does the temperature do?", "How does the seed work?"]


def _repeat_rate(http, question: str = REPEAT_QUESTIONS[0], **params) -> float:
    """The share of tokens that already appeared earlier in their reply, over 20 seeds x 120 tokens."""
    total = repeats = 0
    for seed in range(20):
        # "in detail" lets a reply run on past one paragraph, so every reply is the full 120 tokens.
        messages = [
            {"role": "system", "content": "Answer in detail."},
            {"role": "user", "content": question},
        ]
        payload = {**body(seed=seed, max_tokens=120, logprobs=True, **params), "messages": messages}
        choice = complete(http, payload)["choices"][0]
        seen: set[str] = set()
        for e in choice["logprobs"]["content"]:
            total += 1
            repeats += e["token"] in seen
            seen.add(e["token"])
    return repeats / total


@pytest.mark.parametrize("question", REPEAT_QUESTIONS)
def test_frequency_penalty_2_at_least_halves_repeats(http, question):
    assert _repeat_rate(http, question, frequency_penalty=2.0) <= _repeat_rate(http, question) / 2


def test_presence_penalty_reduces_repeats(http):
    assert _repeat_rate(http, presence_penalty=2.0) < _repeat_rate(http)


def test_negative_penalty_increases_repeats(http):
    assert _repeat_rate(http, frequency_penalty=-1.0) > _repeat_rate(http)


def test_the_users_words_steer_the_greedy_reply(http):
    assert "temperature" in content(http, "What does the temperature do?", temperature=0).lower()
    assert "stop sequence" in content(http, "How does a stop sequence work?", temperature=0).lower()


@SETTINGS
@given(
    prompt=PROMPTS,
    seed=st.integers(0, 10**6),
    penalty=st.sampled_from([0.0, -2.0]),
    temperature=st.sampled_from([0, 1]),
)
def test_no_four_token_sequence_repeats_so_greedy_cannot_loop(http, prompt, seed, penalty, temperature):
    choice = reply(
        http,
        prompt,
        seed=seed,
        temperature=temperature,
        frequency_penalty=penalty,
        logprobs=True,
        max_tokens=300,
    )
    tokens = [e["token"] for e in choice["logprobs"]["content"]]
    grams = [tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3)]
    assert len(grams) == len(set(grams))
    if temperature == 0 and penalty == 0:
        assert choice["finish_reason"] == "stop"  # greedy ends on its own (a -2 penalty may run long)


def test_replies_stay_on_the_users_topic_most_of_the_time(http):
    on_topic = sum(
        "temperature"
        in content(http, "What does the temperature do?", seed=s, reasoning_effort="none")[:80].lower()
        for s in range(20)
    )
    assert on_topic >= 10


def test_a_hot_sample_still_ends_its_paragraph(http):
    """At temperature 2 the end of a paragraph is rarely drawn; a paragraph ends at its first sentence
    end after 120 tokens, and at 180 tokens whatever comes, so a paced reply does not run for minutes."""
    for seed in range(10):
        done = complete(http, body("What does temperature change?", temperature=2, seed=seed))
        assert done["usage"]["completion_tokens"] <= 180
        assert done["choices"][0]["finish_reason"] == "stop"
