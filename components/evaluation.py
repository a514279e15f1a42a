"""Drawing an evaluation: the matrix of cases x settings, the figures per setting and their chart, one
cell opened, and the blind review.

Everything here reads the results document (evals.runner.results_record), so a running, a reopened and
an exported run look the same. Text from the suite or the model is shown only as data (dataframe cells,
st.text, st.code) or escaped, never as markdown.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
from collections.abc import Mapping
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from components import rendering
from evals import stats

# Words, not emoji: they read the same in every font and to a screen reader.
PASS, FAIL, ERROR, PENDING = "pass", "FAIL", "error", "…"


def image_bytes(url: str) -> bytes:
    """The bytes of a case's image (a `data:` URL Prism made), to draw it through Streamlit's media
    files rather than put a data URL in the page; empty when it cannot be read."""
    try:
        return base64.b64decode(url.split(",", 1)[1], validate=True)
    except (IndexError, binascii.Error):
        return b""


def case_label(record: Mapping[str, Any], index: int) -> str:
    cases = record["suite"].get("tests") or []
    description = (cases[index].get("description") or "") if index < len(cases) else ""
    return f"{index + 1}. {description}" if description else f"Case {index + 1}"


def _mark(cells: list[Mapping[str, Any]]) -> str:
    counted = [c for c in cells if c.get("passed") is not None]
    if not counted:
        return PENDING if any(c.get("state") in ("waiting", "running") for c in cells) else "not run"
    passed = sum(1 for c in counted if c["passed"])
    sign = PASS if passed == len(counted) else (ERROR if any(c.get("error") for c in counted) else FAIL)
    return f"{sign} {passed}/{len(counted)}" if len(cells) > 1 else sign


def matrix_frame(record: Mapping[str, Any]) -> pd.DataFrame:
    """Rows = cases, columns = settings; each cell passed/failed (with a count when repeated)."""
    names = [s["name"] for s in record["settings"]]
    case_count = len(record["suite"].get("tests") or [])
    grid: dict[tuple[int, int], list[Mapping[str, Any]]] = {}
    for cell in record["cells"]:
        grid.setdefault((cell["case"], cell["setting"]), []).append(cell)
    rows = []
    for case in range(case_count):
        row = {"case": case_label(record, case)}
        for index, name in enumerate(names):
            row[name] = _mark(grid.get((case, index), []))
        rows.append(row)
    return pd.DataFrame(rows, columns=["case", *names])


def stats_frame(record: Mapping[str, Any]) -> pd.DataFrame:
    """The figures per setting as a table."""
    rows = []
    for s in record["stats"]:
        rows.append(
            {
                "setting": s["name"],
                "passed": f"{s['passed']}/{s['counted']}",
                "pass rate": None if s["pass_rate"] is None else round(100 * s["pass_rate"], 1),
                "95% interval": f"{100 * s['low']:.0f}–{100 * s['high']:.0f}%",
                "failed requests": s["errors"],
                "mean latency (ms)": None if s["mean_latency_ms"] is None else round(s["mean_latency_ms"]),
                "p95 latency (ms)": None if s["p95_latency_ms"] is None else round(s["p95_latency_ms"]),
                "tokens": s["tokens"],
                "cost ($)": s["cost"],
            }
        )
    return pd.DataFrame(rows)


def chart(record: Mapping[str, Any]) -> alt.LayerChart | None:
    """Pass rate per setting with its 95% interval as an error bar."""
    data = pd.DataFrame(
        [
            {"setting": s["name"], "pass rate": s["pass_rate"], "low": s["low"], "high": s["high"]}
            for s in record["stats"]
            if s["pass_rate"] is not None
        ]
    )
    if data.empty:
        return None
    base = alt.Chart(data).encode(x=alt.X("setting:N", sort=None, title=None))
    bars = base.mark_bar().encode(
        y=alt.Y("pass rate:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title="pass rate")
    )
    whiskers = base.mark_rule(strokeWidth=2).encode(y="low:Q", y2="high:Q")
    return alt.layer(bars, whiskers).properties(height=260)


def show_cell(record: Mapping[str, Any], cell: Mapping[str, Any]) -> None:
    """One cell opened: its checks with reasons, the reply, the grader's reasoning, the error."""
    setting = record["settings"][cell["setting"]]["name"]
    st.caption(
        rendering.label(
            f"{case_label(record, cell['case'])} · {setting} · repeat {cell['repeat'] + 1} · "
            f"{cell.get('state')}"
        )
    )
    cases = record["suite"].get("tests") or []
    images = (cases[cell["case"]].get("images") or []) if cell["case"] < len(cases) else []
    shown = [data for data in (image_bytes(url) for url in images) if data]
    if shown:
        st.image(shown, width=96, caption=[f"image {i + 1}" for i in range(len(shown))])
    if cell.get("error"):
        st.error("The request failed:", icon=":material/error:")
        st.text(cell["error"])
    checks = cell.get("checks") or []
    if checks:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "assertion": c["name"],
                        "result": "pass" if c["passed"] else ("not run" if c["passed"] is None else "FAIL"),
                        "why": c["reason"],
                        "grader's reasoning": c.get("grader_reasoning") or "",
                    }
                    for c in checks
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    st.text("Reply:")
    st.code(cell.get("content") or "(empty)", language=None, wrap_lines=True)
    usage, timings = cell.get("usage") or {}, cell.get("timings") or {}
    facts = []
    if usage:
        facts.append(f"{usage.get('prompt_tokens', 0)} in · {usage.get('completion_tokens', 0)} out")
    if cell.get("latency_ms") is not None:
        facts.append(f"{cell['latency_ms']:.0f} ms")
    if "ttft_s" in timings:
        facts.append(f"first token {timings['ttft_s'] * 1000:.0f} ms")
    if cell.get("cost") is not None:
        facts.append(f"${cell['cost']:.6f}")
    if cell.get("finish_reason"):
        facts.append(f"finish: {cell['finish_reason']}")
    if facts:
        st.caption(rendering.label(" · ".join(facts)))


def review_pairs(record: Mapping[str, Any], a: int, b: int) -> list[tuple[int, int]]:
    """The (case, repeat) positions where settings a and b both have a reply, not yet reviewed."""
    done = {(v["case"], v["repeat"]) for v in record.get("reviews") or [] if {v["a"], v["b"]} == {a, b}}
    replies: dict[tuple[int, int, int], str] = {
        (c["case"], c["repeat"], c["setting"]): c.get("content") or ""
        for c in record["cells"]
        if c.get("state") == "done" and not c.get("error")
    }
    out = []
    for case, repeat, setting in sorted(replies):
        if setting == a and (case, repeat, b) in replies and (case, repeat) not in done:
            out.append((case, repeat))
    return out


def blind_order(run_id: int, case: int, repeat: int, a: int, b: int) -> tuple[int, int]:
    """Which setting shows as "Reply 1" and which as "Reply 2": shuffled, but stable across reruns."""
    pair = [a, b]
    random.Random(f"{run_id}:{case}:{repeat}:{min(a, b)}:{max(a, b)}").shuffle(pair)
    return pair[0], pair[1]


def tally_frame(record: Mapping[str, Any]) -> pd.DataFrame:
    names = [s["name"] for s in record["settings"]]
    tally = stats.review_tally(names, record.get("reviews") or [])
    return pd.DataFrame(
        [
            {
                "setting": name,
                "wins": row["wins"],
                "losses": row["losses"],
                "ties": row["ties"],
                "win rate": None if row["win_rate"] is None else round(100 * row["win_rate"], 1),
            }
            for name, row in tally.items()
        ]
    )


def matrix_with_cell(record: Mapping[str, Any]) -> None:
    """The matrix (a cell picked in it opens it) and the case / setting / repeat pickers with the cell
    they name: its reply, each assertion and why it passed or failed. Widget keys stay the same while
    a run goes and after it ends, so what a person opened stays open."""
    names = [s["name"] for s in record["settings"]]
    st.caption("Pick a cell to open it: its reply, each assertion and why it passed or failed.")
    picked = st.dataframe(
        matrix_frame(record),
        hide_index=True,
        width="stretch",
        key="evaluate.matrix",
        on_select="rerun",
        selection_mode="single-cell",
    )
    chosen = list(getattr(getattr(picked, "selection", None), "cells", None) or [])
    if chosen and chosen[0][1] in names and st.session_state.get("evaluate.picked") != tuple(chosen[0]):
        st.session_state["evaluate.picked"] = tuple(chosen[0])
        st.session_state["evaluate.cell_case"] = int(chosen[0][0])
        st.session_state["evaluate.cell_setting"] = names.index(chosen[0][1])
    left, middle, right = st.columns(3)
    case_count = len(record["suite"].get("tests") or [])
    case = left.selectbox(
        "Case",
        range(case_count),
        format_func=lambda i: rendering.plain(case_label(record, i)),
        key="evaluate.cell_case",
    )
    setting = middle.selectbox(
        "Setting",
        range(len(names)),
        format_func=lambda i: rendering.plain(names[i]),
        key="evaluate.cell_setting",
    )
    repeat = right.number_input(
        "Repeat", min_value=1, max_value=int(record["repeats"]), step=1, key="evaluate.cell_repeat"
    )
    cell = next(
        (
            c
            for c in record["cells"]
            if (c["case"], c["setting"], c["repeat"]) == (case, setting, int(repeat) - 1)
        ),
        None,
    )
    if cell is not None:
        with st.container(border=True, key="evaluate.cell"):
            show_cell(record, cell)


def settings_frame(record: Mapping[str, Any]) -> pd.DataFrame:
    """Each setting with where it was sent and its parameters (never a key: only endpoint names)."""
    return pd.DataFrame(
        [
            {
                "setting": s["name"],
                "endpoint": s.get("endpoint") or "",
                "model": s.get("model") or "",
                "system prompt": s.get("system_prompt") or "",
                "parameters": json.dumps(s.get("params") or {}, ensure_ascii=False),
            }
            for s in record["settings"]
        ]
    )


def show_shared(record: Mapping[str, Any]) -> None:
    """A shared evaluation, read-only: the settings and their parameters, the figures, the matrix, and
    any cell opened (picking a cell changes nothing stored)."""
    names = [s["name"] for s in record["settings"]]
    case_count = len(record["suite"].get("tests") or [])
    st.caption(
        f"{len(record['suite'].get('tests') or [])} case(s) × {len(names)} setting(s) × "
        f"{int(record['repeats'])} repeat(s)."
    )
    st.dataframe(settings_frame(record), hide_index=True, width="stretch")
    st.dataframe(stats_frame(record), hide_index=True, width="stretch")
    figure = chart(record)
    if figure is not None:
        st.altair_chart(figure, width="stretch")
    for note in record.get("notes") or []:
        st.info(rendering.label(note), icon=":material/balance:")
    for line in stats.wins_lines(record.get("wins") or {}, lambda i: case_label(record, i)):
        st.text(line)
    st.dataframe(matrix_frame(record), hide_index=True, width="stretch")
    if not case_count or not names:
        return
    left, right = st.columns(2)
    case = left.selectbox(
        "Case",
        range(case_count),
        format_func=lambda i: rendering.plain(case_label(record, i)),
        key="shared.case",
    )
    setting = right.selectbox(
        "Setting", range(len(names)), format_func=lambda i: rendering.plain(names[i]), key="shared.setting"
    )
    for cell in record["cells"]:
        if (cell["case"], cell["setting"]) == (case, setting):
            with st.container(border=True):
                show_cell(record, cell)
