"""The offline model's tokenizer: the one stated rule every token count in usage comes from.

A token is a run of word characters or a single other non-space character, carrying the whitespace that
precedes it: the regular expression ``\\s*\\w+|\\s*[^\\w\\s]|\\s+``. Joining the tokens of a text gives the
text back exactly, so the sampler can build replies from tokens and usage can count them.

Prompt tokens are counted as: per message, 1 token for its role, plus the tokens of its text parts, plus
``IMAGE_TOKENS`` per image part (Gemini counts a small image as 258 tokens), plus the tokens of the
tool-call arguments and names it carries. Completion tokens are the tokens the sampler produced.
"""

from __future__ import annotations

import re

TOKEN_RE = re.compile(r"\s*\w+|\s*[^\w\s]|\s+")
IMAGE_TOKENS = 258


def tokenize(text: str) -> list[str]:
    """Split text into tokens; ``"".join(tokenize(t)) == t`` always holds."""
    return TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    """How many tokens the text is, by the stated rule."""
    return len(TOKEN_RE.findall(text))
