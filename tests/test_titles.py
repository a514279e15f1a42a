"""New conversations' titles: a short summary of the first message, numbered when another chat has it."""

from __future__ import annotations

import pytest

from turns import titles


@pytest.mark.parametrize(
    ("first_message", "title"),
    [
        ("Tell me a story about a dragon.", "Dragon story"),
        ("Write me a short poem about the sea", "Sea poem"),
        ("Hi! Could you please tell me a joke about cats?", "Cats joke"),
        ("What is 2+2?", "What is 2+2?"),
        ("What is the weather in Paris? Use get_weather.", "What is the weather in Paris?"),
        # The first sentence, then the aside ("(Sent at ...)") are not part of the title.
        (
            "What does temperature do to a reply? (Sent at temperature 1.5: press Regenerate.)",
            "What does temperature do",
        ),
        (
            "explain how photosynthesis works in plants and algae in detail",
            "Explain how photosynthesis works",
        ),
        ("Describe the compare page as a JSON object.", "Describe the compare page"),
        ("How do I reset my password?", "Reset my password"),
        ("I need help planning a trip to Japan in April with my family", "Planning a trip to Japan"),
        ("Describe this image.", "Describe this image"),
        ("Hi there", "Hi there"),
        ("first line\nsecond line", "First line"),
        ("   ", "Images"),
        ("x" * 200, "X" + "x" * 35),
    ],
)
def test_a_title_summarises_the_first_message(first_message, title):
    assert titles.summary(first_message) == title
    assert len(titles.summary(first_message)) <= titles.MAX_LENGTH


@pytest.mark.parametrize(
    "first_message",
    [
        "What does temperature do to a reply? (Sent at temperature 1.5: press Regenerate to see it change.)",
        "Please summarise the following long report about the quarterly numbers for the board",
        "Can you compare the results of the two runs and the baseline with the new settings",
    ],
)
def test_a_long_message_gives_a_whole_phrase_never_a_cut_sentence(first_message):
    title = titles.summary(first_message)
    assert not title.endswith(("…", "...")), title
    assert title.split()[-1].lower() not in {"a", "an", "the", "to", "of", "and", "with", "for", "in"}, title
    assert 1 <= len(title.split()) <= titles.MAX_WORDS
    assert titles.unique(title, [title]) == f"{title} (2)"  # the number follows a phrase, not "…"


@pytest.mark.parametrize(
    ("taken", "title"),
    [
        ([], "Dragon story"),
        (["Dragon story"], "Dragon story (2)"),
        (["Dragon story", "Dragon story (2)"], "Dragon story (3)"),
        (["Dragon story", "Dragon story (3)"], "Dragon story (2)"),
        (["Dragon story (2)"], "Dragon story"),
        (["Dragon story tale"], "Dragon story"),
    ],
)
def test_a_title_is_numbered_only_when_taken(taken, title):
    assert titles.unique("Dragon story", taken) == title
