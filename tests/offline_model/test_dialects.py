"""--strict-openai emits OpenAI's own shapes (role once, a separate finish chunk, usage only with
include_usage on a last chunk with empty choices, chatcmpl- ids, system_fingerprint); by default the
shapes are Gemini's (role on every chunk, usage on the last content chunk whatever include_usage says)."""

from __future__ import annotations

import httpx
import pytest

from tests.offline_model.support import body, complete, stream_chunks, streamed_text


@pytest.fixture
def strict(strict_server):
    with httpx.Client(base_url=strict_server.base_url) as client:
        yield client


def test_strict_stream_has_role_once_and_a_separate_finish_chunk(strict):
    chunks = stream_chunks(strict, body(seed=1))
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0] == {"role": "assistant", "content": "", "refusal": None}
    assert all("role" not in d for d in deltas[1:])
    assert deltas[-1] == {}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(c["id"].startswith("chatcmpl-") and c["system_fingerprint"] for c in chunks)
    assert all("usage" not in c for c in chunks)


def test_strict_usage_comes_only_with_include_usage_on_an_empty_choices_chunk(strict):
    chunks = stream_chunks(strict, body(seed=1, stream_options={"include_usage": True}))
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] > 0
    assert all(c["usage"] is None for c in chunks[:-1])


def test_gemini_sends_usage_on_the_last_content_chunk_even_with_include_usage(http):
    chunks = stream_chunks(http, body(seed=1, stream_options={"include_usage": True}))
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"][0]["delta"]["content"]  # text and finish_reason together
    assert "usage" in chunks[-1]
    assert all("usage" not in c for c in chunks[:-1])


def test_gemini_n_streams_every_choice_with_role_and_one_usage(http):
    chunks = stream_chunks(http, body(seed=1, n=3))
    assert {c["choices"][0]["index"] for c in chunks} == {0, 1, 2}
    assert all(c["choices"][0]["delta"]["role"] == "assistant" for c in chunks)
    assert sum("usage" in c for c in chunks) == 1


def test_both_dialects_say_the_same_thing(http, strict):
    payload = body(seed=11, n=2, max_tokens=25)
    for index in (0, 1):
        assert streamed_text(stream_chunks(http, payload), index) == streamed_text(
            stream_chunks(strict, payload), index
        )
    assert (
        complete(http, payload)["choices"][1]["message"] == complete(strict, payload)["choices"][1]["message"]
    )


def test_strict_non_streaming_shape(strict):
    done = complete(strict, body(seed=1))
    assert done["id"].startswith("chatcmpl-")
    assert done["system_fingerprint"]
    assert done["choices"][0]["logprobs"] is None


def test_gemini_non_streaming_shape(http):
    done = complete(http, body(seed=1))
    assert not done["id"].startswith("chatcmpl-")
    assert "system_fingerprint" not in done
    assert done["object"] == "chat.completion"
    assert done["choices"][0]["message"]["role"] == "assistant"
