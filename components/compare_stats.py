"""Figures and differences computed from a comparison's stored results, for the compare page.

Plain Python (no Streamlit), so each figure is tested directly: the metrics row of a reply, the
spread (min/median/max) over repeats, distinct outputs with counts, the share of valid JSON replies,
the word-level diff against a baseline column, and the CSV and JSON exports.

What must stay true: model output reaches the page only through Streamlit markdown with every
markdown character escaped (`reply_views.escape_markdown`), never as HTML; the exports hold what is
stored and nothing else (no key ever reaches a result row).
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from components.metrics import cost_usd
from components.reply_views import check_json, escape_markdown, schema_of
from storage import compare as compare_store

_WORDS = re.compile(r"\S+|\s+")


def metrics_row(result: Any, prices: Mapping[str, float] | None = None) -> dict[str, Any]:
    """One reply's numbers: time to first token, total time, tokens/s, tokens, cost, finish reason."""
    usage = result.usage or {}
    timings = result.timings or {}
    return {
        "ttft_s": timings.get("ttft_s"),
        "total_s": timings.get("duration_s"),
        "tokens_per_s": timings.get("tokens_per_s"),
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens"),
        "reasoning_tokens": usage.get("reasoning_tokens"),
        "cost_usd": cost_usd(usage, prices),
        "finish_reason": result.finish_reason or result.status,
        "words": len((result.content or "").split()),
    }


def spread(values: Iterable[float | int | None]) -> tuple[float, float, float] | None:
    """(min, median, max) of the known values; None when there are none."""
    known = [v for v in values if v is not None]
    if not known:
        return None
    return min(known), statistics.median(known), max(known)


def distinct_outputs(texts: Iterable[str]) -> list[tuple[str, int]]:
    """Each different reply once, with how many times it came, most frequent first (ties: first seen)."""
    counts = Counter(texts)
    order = {text: i for i, text in reversed(list(enumerate(counts)))}
    return sorted(counts.items(), key=lambda item: (-item[1], order[item[0]]))


def json_pass_rate(results: Sequence[Any]) -> tuple[int, int] | None:
    """(valid, total) for replies that asked for JSON (json_schema checked against its schema);
    None when the column did not ask for JSON."""
    if not results:
        return None
    wants_json, schema = schema_of(results[0].request_body)
    if not wants_json:
        return None
    finished = [r for r in results if r.status != "streaming"]
    valid = sum(1 for r in finished if check_json(r.content or "", schema)[1] is None)
    return valid, len(finished)


def word_diff(baseline: str, other: str) -> list[tuple[str, str]]:
    """Word-level differences turning `baseline` into `other`: ("same"|"added"|"removed", text)."""
    a = _WORDS.findall(baseline)
    b = _WORDS.findall(other)
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(("same", "".join(a[i1:i2])))
            continue
        if op in ("replace", "delete"):
            out.append(("removed", "".join(a[i1:i2])))
        if op in ("replace", "insert"):
            out.append(("added", "".join(b[j1:j2])))
    return out


def diff_markdown(baseline: str, other: str) -> str:
    """The word diff as Streamlit markdown: added words green, removed ones red and struck through.

    Every piece is escaped, so model output cannot inject markdown, links or HTML.
    """
    parts: list[str] = []
    marked = False  # whether the last piece was a mark
    for kind, text in word_diff(baseline, other):
        if kind == "same":
            parts.append(escape_markdown(text))
            marked = False
            continue
        words = text.strip()
        if not words:
            continue
        # A removal followed by an insertion would otherwise touch: keep a space between the marks.
        lead = " " if text[:1].isspace() or marked else ""
        marked = True
        trail = " " if text[-1:].isspace() else ""
        shown = escape_markdown(words)
        if kind == "added":
            parts.append(f"{lead}:green-background[{shown}]{trail}")
        else:
            parts.append(f"{lead}:red-background[~~{shown}~~]{trail}")
    return "".join(parts)


def similarity(baseline: str, other: str) -> float:
    """Share of words in common, 0..1 (difflib's ratio over words)."""
    return difflib.SequenceMatcher(
        a=_WORDS.findall(baseline), b=_WORDS.findall(other), autojunk=False
    ).ratio()


def identical_columns(previous: Sequence[str | None], current: Sequence[str | None]) -> list[bool | None]:
    """For "run again": per column, whether the reply is exactly the one before (None: no earlier one)."""
    out: list[bool | None] = []
    for i, text in enumerate(current):
        before = previous[i] if i < len(previous) else None
        out.append(None if before is None or text is None else before == text)
    return out


# -- exports -------------------------------------------------------------------------------------------

CSV_FIELDS = [
    "turn",
    "column",
    "label",
    "repeat",
    "model",
    "params",
    "system_prompt",
    "status",
    "finish_reason",
    "ttft_s",
    "total_s",
    "tokens_per_s",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "cost_usd",
    "prompt",
    "content",
]


def run_as_json(run: Any) -> str:
    """The JSON export: the run in its one JSON shape, the same as a share link's snapshot."""
    return json.dumps(compare_store.run_to_dict(run), ensure_ascii=False, indent=2)


def run_as_csv(run: Any, prices_for=lambda column: None) -> str:
    """The CSV export: one row per reply (turn x column x repeat), metrics and text."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    columns = run.columns or []
    for r in run.results:
        column = columns[r.column_index] if r.column_index < len(columns) else {}
        figures = metrics_row(r, prices_for(column))
        writer.writerow(
            {
                "turn": r.turn_index,
                "column": r.column_index + 1,
                "label": column.get("label", ""),
                "repeat": r.repeat_index + 1,
                "model": column.get("model", ""),
                "params": json.dumps(column.get("params") or {}, sort_keys=True),
                "system_prompt": column.get("system_prompt", ""),
                "status": r.status,
                "finish_reason": r.finish_reason or "",
                "ttft_s": figures["ttft_s"],
                "total_s": figures["total_s"],
                "tokens_per_s": figures["tokens_per_s"],
                "prompt_tokens": figures["prompt_tokens"],
                "completion_tokens": figures["completion_tokens"],
                "reasoning_tokens": figures["reasoning_tokens"],
                "cost_usd": figures["cost_usd"],
                "prompt": r.prompt or (run.prompt if r.turn_index == 0 else ""),
                "content": r.content or "",
            }
        )
    return buffer.getvalue()
