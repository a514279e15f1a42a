"""Text that every engine can store: NUL and lone surrogates are escaped on write and restored on read.

PostgreSQL refuses NUL (U+0000) in text and JSONB ("cannot contain NUL characters", a DataError), and
neither engine's driver can encode a lone surrogate (U+D800-U+DFFF without its pair) as UTF-8, yet both
reach Prism: a person types or pastes NUL, an imported file or a model's JSON stream carries "\\u0000"
or "\\ud800". Prism stores such text losslessly and the same way on SQLite and PostgreSQL:

- Each of those characters, and the escape character itself, is written as ESC followed by its code
  point in six lowercase hex digits. ESC is U+10FFFD, the last private-use code point, which no
  keyboard or font gives a meaning to. So "a\\x00b" is stored as "a" ESC "000000" "b".
- Reading replaces each ESC + six hex digits with its character again; text without ESC (everything
  written before this existed, and nearly everything since) is returned untouched.
- Text columns use the column types below; JSON columns go through `dumps`/`loads`, the engine's JSON
  serializer, which apply the same escape to every string (keys too) inside the document.

Queries that compare a column with a value (`==`, `IN`) escape the value the same way, so they still
match. Full-text search only looks at words, and NUL is not part of a word.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from sqlalchemy import String, Text, TypeDecorator

ESC = "\U0010fffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff\U0010fffd]")
_ESCAPED = re.compile("\U0010fffd([0-9a-f]{6})")
# What json.dumps (ensure_ascii) writes for NUL, a surrogate or ESC; a literal backslash-u in text also
# matches, which only costs the slow path.
_JSON_NEEDS_WALK = re.compile(r"\\u(?:0000|d[89a-f])")


def escape(text: str) -> str:
    """`text` with every character a database cannot store written as ESC + six hex digits."""
    if _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(lambda m: f"{ESC}{ord(m.group()):06x}", text)


def unescape(text: str) -> str:
    """The inverse of escape."""
    if ESC not in text:
        return text
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def _walk(value: Any, change: Any) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {change(k) if isinstance(k, str) else k: _walk(v, change) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(v, change) for v in value]
    return value


def dumps(value: Any) -> str:
    """The JSON serializer of every engine: json.dumps, with unstorable characters escaped."""
    out = json.dumps(value)
    if _JSON_NEEDS_WALK.search(out) is None:
        return out
    return json.dumps(_walk(value, escape))


def loads(raw: str | bytes) -> Any:
    """The JSON deserializer of every engine: orjson (fast), json for what orjson refuses, unescaped."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:  # e.g. a lone surrogate escape written before escaping existed
        value = json.loads(raw)
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "surrogatepass")
    return _walk(value, unescape) if ESC in text or "\\udbff\\udffd" in text else value


class StorableText(TypeDecorator):
    """Text, stored escaped (see the module docstring)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return escape(value) if isinstance(value, str) else value

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return unescape(value) if isinstance(value, str) else value


class StorableString(StorableText):
    """A VARCHAR(length), stored escaped. The length counts stored characters: each escaped
    character takes seven."""

    impl = String
    cache_ok = True
