"""Ids read from the URL (`?c=`, `?run=`): the one place a row id typed or pasted by a person is parsed.

What must stay true: anything that is not a plain id of a row that could exist means "not found" on
every engine, never an error. An id is ASCII digits only (no sign, exponent, spaces or other scripts'
digits, all of which `int()` would take) and at most 2**31 - 1, the largest PostgreSQL's INTEGER primary
keys hold; SQLite would take larger ones, but the same URL must behave the same on both engines, and a
larger number would otherwise fail as OverflowError (SQLite) or "integer out of range" (PostgreSQL).
"""

from __future__ import annotations

import re

import streamlit as st

LARGEST_ID = 2**31 - 1
# What a value that cannot name a row reads as: an id no row has on either engine, so the page's own
# "not found" path runs (the lookup finds nothing) rather than the page acting as if no id was given.
NO_SUCH_ID = -1
_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_id(raw: object) -> int | None:
    """`raw` as a row id: None when absent or empty, NO_SUCH_ID when it cannot name a row (malformed,
    zero, negative or too large)."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or _DIGITS.fullmatch(raw) is None:
        return NO_SUCH_ID
    number = int(raw)
    return number if 1 <= number <= LARGEST_ID else NO_SUCH_ID


def id_param(key: str) -> int | None:
    """The id under `key` in the page's URL (see parse_id)."""
    return parse_id(st.query_params.get(key))
