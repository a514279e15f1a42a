"""Thinking: reasoning_effort and thinking_budget set reasoning_tokens; include_thoughts streams a
summary first, flagged with extra_content.google.thought, between <thought> and </thought> exactly as
the compat notes show, the tags split across chunks on some requests."""

from __future__ import annotations

import httpx
import pytest

from tests.offline_model.support import body, complete, stream_chunks, streamed_text

THOUGHTS = {"extra_body": {"google": {"thinking_config": {"include_thoughts": True}}}}


def reasoning(http, **params) -> int:
    return complete(http, body(**params))["usage"]["completion_tokens_details"]["reasoning_tokens"]


def budget(n: int) -> dict:
    return {"extra_body": {"google": {"thinking_config": {"thinking_budget": n}}}}


def test_effort_none_and_budget_zero_turn_thinking_off(http):
    assert reasoning(http, reasoning_effort="none") == 0
    assert reasoning(http, **budget(0)) == 0


def test_more_effort_means_more_reasoning_tokens(http):
    low, medium, high = (reasoning(http, reasoning_effort=e) for e in ("low", "medium", "high"))
    assert 0 < low < medium < high


def test_thinking_never_exceeds_the_budget(http):
    for n in (1, 5, 50, 500):
        assert 0 < reasoning(http, **budget(n)) <= n


def test_gemini_thinks_by_default(http):
    assert reasoning(http) > 0
    assert reasoning(http, **budget(-1)) > 0


def thought_deltas(chunks: list[dict]) -> tuple[list[dict], list[dict]]:
    deltas = [c["choices"][0]["delta"] for c in chunks]
    flagged = [d for d in deltas if d.get("extra_content", {}).get("google", {}).get("thought")]
    return flagged, [d for d in deltas if d not in flagged]


@pytest.mark.parametrize("tags", ["whole", "split"])
def test_thought_summary_streams_first_with_flag_and_tags(http, tags):
    chunks = stream_chunks(http, body(seed=4, **THOUGHTS), headers={"X-Offline-Fault": f"tags:{tags}"})
    flagged, answer = thought_deltas(chunks)
    assert flagged and answer
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[: len(flagged)] == flagged  # thoughts come first
    thought_text = "".join(d["content"] for d in flagged)
    answer_text = "".join(d.get("content") or "" for d in answer)
    assert thought_text.startswith("<thought>")
    assert answer_text.startswith("</thought>")
    assert "</thought>" not in thought_text and "<thought>" not in answer_text
    if tags == "split":
        assert flagged[0]["content"] == "<tho"
        assert answer[0]["content"] == "</thou"
        assert answer[1]["content"].startswith("ght>")
    else:
        assert flagged[0]["content"].startswith("<thought>")
        assert answer[0]["content"].startswith("</thought>")
        assert len(answer[0]["content"]) > len("</thought>")  # glued to the answer text


def test_tags_are_split_on_some_requests_and_not_others(http):
    firsts = {
        stream_chunks(http, body(seed=s, **THOUGHTS))[0]["choices"][0]["delta"]["content"] for s in range(4)
    }
    assert "<tho" in firsts
    assert any(f.startswith("<thought>") for f in firsts)


def test_non_streaming_content_holds_the_tagged_thought_then_the_answer(http):
    with_thoughts = complete(http, body(seed=9, **THOUGHTS))["choices"][0]["message"]["content"]
    plain = complete(http, body(seed=9))["choices"][0]["message"]["content"]
    assert with_thoughts.startswith("<thought>")
    thought, _, answer = with_thoughts[len("<thought>") :].partition("</thought>")
    assert thought
    assert answer == plain  # showing thoughts does not change the answer


def test_streamed_and_whole_thoughts_agree(http):
    whole = complete(http, body(seed=2, **THOUGHTS))["choices"][0]["message"]["content"]
    assert streamed_text(stream_chunks(http, body(seed=2, **THOUGHTS))) == whole


def test_no_thought_text_without_include_thoughts(http):
    chunks = stream_chunks(http, body(seed=1, reasoning_effort="high"))
    flagged, _ = thought_deltas(chunks)
    assert flagged == []
    assert "<thought>" not in streamed_text(chunks)


def test_usage_counts_reasoning_on_top_for_gemini_and_inside_for_openai(http, strict_server):
    usage = complete(http, body(seed=1, reasoning_effort="low"))["usage"]
    r = usage["completion_tokens_details"]["reasoning_tokens"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] + r
    with httpx.Client(base_url=strict_server.base_url) as client:
        strict = complete(client, body(seed=1, reasoning_effort="low"))["usage"]
    assert strict["completion_tokens_details"]["reasoning_tokens"] == r
    assert strict["total_tokens"] == strict["prompt_tokens"] + strict["completion_tokens"]
    assert strict["completion_tokens"] == usage["completion_tokens"] + r


def test_strict_openai_sends_no_thought_text(strict_server):
    with httpx.Client(base_url=strict_server.base_url) as client:
        chunks = stream_chunks(client, body(seed=1, **THOUGHTS))
    assert "<thought>" not in streamed_text(chunks)
