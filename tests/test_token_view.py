"""The coloured token view of a reply: tokens joined as the model wrote them, each tinted and coloured by
its probability, and each alternative listed once."""

from __future__ import annotations

import math

from components import reply_views

TOKENS = [
    {"token": "Hello", "logprob": math.log(0.95), "top": [["Hello", math.log(0.95)], ["Hi", math.log(0.03)]]},
    {"token": ",", "logprob": math.log(0.6), "top": [[",", math.log(0.6)], ["!", math.log(0.3)]]},
    {
        "token": " world",
        "logprob": math.log(0.1),
        "top": [[" there", math.log(0.5)], [" world", math.log(0.1)]],
    },
]


def test_tokens_are_joined_as_written_with_no_space_before_punctuation():
    text = reply_views.coloured_tokens(TOKENS)
    assert text == (":green-background[:green[Hello]]:blue-background[:blue[,]]:red-background[:red[ world]]")


def test_the_chosen_token_is_listed_once_among_its_alternatives():
    rows = reply_views.alternatives(TOKENS[2])
    assert [r["token"] for r in rows] == ["' world' (chosen)", "' there'"]
    assert [r["probability"] for r in rows] == ["10.0%", "50.0%"]
