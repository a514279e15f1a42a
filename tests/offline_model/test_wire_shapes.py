"""Gemini's wire shapes: models list, streaming chunks (role on every chunk, usage on the last content
chunk, [DONE]) and the non-streaming completion."""

from __future__ import annotations

from tests.offline_model.support import MODEL, body, complete, error_of, stream_chunks


def test_models_lists_gemini_flash(http):
    r = http.get("models")
    assert r.status_code == 200
    ids = [m["id"] for m in r.json()["data"]]
    assert MODEL in ids


def test_stream_has_role_on_every_chunk_and_usage_on_the_last(http):
    chunks = stream_chunks(http, body(temperature=0))
    assert chunks
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
        assert "system_fingerprint" not in chunk
        assert not chunk["id"].startswith("chatcmpl-")
        assert chunk["choices"][0]["delta"]["role"] == "assistant"
    assert all("usage" not in c for c in chunks[:-1])
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop"
    usage = last["usage"]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text
    assert usage["completion_tokens"] == len(chunks)
    assert usage["total_tokens"] == (
        usage["prompt_tokens"]
        + usage["completion_tokens"]
        + usage["completion_tokens_details"]["reasoning_tokens"]
    )


def test_non_streaming_completion_matches_the_stream_at_temperature_zero(http):
    done = complete(http, body(temperature=0))
    chunks = stream_chunks(http, body(temperature=0))
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert done["object"] == "chat.completion"
    assert done["choices"][0]["message"]["content"] == streamed
    assert done["choices"][0]["finish_reason"] == "stop"


def test_unknown_paths_and_methods_answer_in_the_providers_shape(http):
    missing = http.get("nowhere")
    assert missing.status_code == 404
    assert error_of(missing)["status"] == "NOT_FOUND"
    wrong = http.get("chat/completions")
    assert wrong.status_code == 405
    assert error_of(wrong)["code"] == 405


def test_models_honours_status_faults(http):
    r = http.get("models", headers={"X-Offline-Fault": "status:503"})
    assert r.status_code == 503
    assert error_of(r)["status"] == "UNAVAILABLE"
