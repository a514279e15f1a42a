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
        (
            "explain how photosynthesis works in plants and algae in detail",
            "Explain how photosynthesis works in plants…",
        ),
        ("first line\nsecond line", "First line"),
        ("   ", "Images"),
        ("x" * 200, "X" + "x" * 46 + "…"),
    ],
)
def test_a_title_summarises_the_first_message(first_message, title):
    assert titles.summary(first_message) == title
    assert len(titles.summary(first_message)) <= titles.MAX_LENGTH


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
