"""Usage adds up from the stated tokenizer (offline_model/tokenizer.py), and cached_content reports
cached_tokens."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offline_model.tokenizer import count_tokens, tokenize
from tests.offline_model.support import MODEL, body, complete


@given(st.text())
def test_tokens_join_back_to_the_text(text):
    assert "".join(tokenize(text)) == text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.text(min_size=1).filter(lambda t: t.strip() and "[[" not in t), min_size=1, max_size=4),
    system=st.text(max_size=40).filter(lambda t: t.strip()),
)
def test_prompt_tokens_follow_the_stated_rule(http, texts, system):
    messages = [{"role": "system", "content": system}]
    for i, text in enumerate(texts):
        messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": text})
    if messages[-1]["role"] == "assistant":
        messages.append({"role": "user", "content": "ok"})
    usage = complete(http, {"model": MODEL, "messages": messages, "reasoning_effort": "none"})["usage"]
    assert usage["prompt_tokens"] == sum(1 + count_tokens(m["content"]) for m in messages)


def test_completion_tokens_are_the_reply_tokens(http):
    done = complete(http, body(seed=3, reasoning_effort="none", logprobs=True))
    usage = done["usage"]
    assert usage["completion_tokens"] == len(done["choices"][0]["logprobs"]["content"])
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_n_choices_add_their_completion_tokens(http):
    done = complete(http, body(seed=3, n=3, reasoning_effort="none", logprobs=True))
    assert done["usage"]["completion_tokens"] == sum(len(c["logprobs"]["content"]) for c in done["choices"])


def test_cached_content_reports_cached_tokens_inside_prompt_tokens(http):
    plain = complete(http, body(reasoning_effort="none"))["usage"]
    cached = complete(
        http, body(reasoning_effort="none", extra_body={"google": {"cached_content": "cachedContents/x1"}})
    )["usage"]
    again = complete(
        http, body(reasoning_effort="none", extra_body={"google": {"cached_content": "cachedContents/x1"}})
    )["usage"]
    n = cached["prompt_tokens_details"]["cached_tokens"]
    assert 1024 <= n < 4096
    assert cached["prompt_tokens"] == plain["prompt_tokens"] + n
    assert again["prompt_tokens_details"]["cached_tokens"] == n
    assert plain["prompt_tokens_details"]["cached_tokens"] == 0
