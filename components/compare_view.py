"""How a comparison looks: columns streaming side by side, then the stored run with its numbers.

Two views of the same thing. `LiveView` draws one placeholder per column and fills it as
`turns.compare.CompareTurn` streams (its `on_event` callback); once the run ends the page reruns and
`show_run` draws everything from the database, so a reopened run looks exactly like a fresh one.

Model output is shown with Streamlit markdown (HTML escaped) or escaped markdown for the diff; nothing
here passes `unsafe_allow_html=True`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from chat_client import Params, events, summary
from components import compare_stats, error_view, metrics, rendering
from components.compare_sweep import value_label
from components.reply_views import check_json, schema_of
from turns import compare as compare_turns

# A column (its endpoint and model) -> the price table of its replies.
PricesFor = Callable[[Mapping[str, Any]], Mapping[str, float] | None]
STATUS_NOTES = {
    "stopped": ":orange[Stopped: the part that arrived before Stop.]",
    "interrupted": ":orange[Interrupted: the app stopped while this reply was streaming.]",
    "length": ":orange[Cut off at the token limit ({advice}).]",
    "streaming": ":orange[Still streaming (or cut short).]",
}
CHART_METRICS = {
    "Time to first token (s)": "ttft_s",
    "Total time (s)": "total_s",
    "Tokens per second": "tokens_per_s",
    "Completion tokens": "completion_tokens",
    "Reasoning tokens": "reasoning_tokens",
    "Prompt tokens": "prompt_tokens",
    "Cost (USD)": "cost_usd",
    "Words": "words",
}


def params_summary(params: Params | Mapping[str, Any] | None) -> str:
    """The set parameters of a column in a few words (`temperature 0.5 · seed 3`).

    Takes a `Params` or what a run stored (either JSON shape)."""
    return summary(Params.from_stored(params))


def column_model(column: Mapping[str, Any]) -> str:
    """The model a column asked for (what its request named)."""
    return str(column.get("model") or Params.from_stored(column.get("params")).model or "default model")


def _settings_of(column: Mapping[str, Any]) -> dict[str, str]:
    """A column's set parameters other than the model, each as its summary words (`temperature 0.5`)."""
    found = {}
    for name, value in Params.from_stored(column.get("params")).to_dict().items():
        describe = Params.spec(name).summary
        if name != "model" and describe is not None:
            found[name] = describe(name, value)
    return found


def differing_settings(index: int, columns: Sequence[Mapping[str, Any]]) -> list[str]:
    """What sets column `index` apart from the others: the parameters (and endpoint, system prompt)
    whose value is not the same in every column, as this column has them ("temperature default" for
    one it leaves unset). A column alone, or one like all the others, differs in nothing."""
    column = columns[index]
    if len(columns) < 2:
        return []
    settings = [_settings_of(c) for c in columns]
    names = [n for n in Params.field_names() if any(n in s for s in settings)]
    out = []
    for name in names:
        if len({s.get(name) for s in settings}) > 1:
            out.append(settings[index].get(name) or f"{name} default")
    if len({c.get("endpoint") or "" for c in columns}) > 1:
        out.append(f"endpoint {column.get('endpoint') or 'default'}")
    if len({(c.get("system_prompt") or "").strip() for c in columns}) > 1:
        out.append("own system prompt" if (column.get("system_prompt") or "").strip() else "no system prompt")
    return out


def column_title(index: int, column: Mapping[str, Any], columns: Sequence[Mapping[str, Any]] = ()) -> str:
    """`1 · gemini-2.5-flash · temperature 0`: the column's number, its model, then its label or what
    differs from the other `columns` (every set parameter when the others are not given)."""
    what = column.get("label") or (
        " · ".join(differing_settings(index, columns)) if columns else params_summary(column.get("params"))
    )
    if what == "provider defaults":
        what = ""
    return " · ".join(part for part in (f"{index + 1}", column_model(column), what) if part)


# -- while streaming ----------------------------------------------------------------------------------


class LiveView:
    """Placeholders for a streaming comparison; call it with (sample, event) from CompareTurn.run,
    and with (None, None) on its ticks."""

    REDRAW_SECONDS = 0.05  # a column's text is redrawn at most this often (the last event always)

    def __init__(self, turn: compare_turns.CompareTurn, columns: Sequence[Mapping[str, Any]]) -> None:
        self.turn = turn
        self.total = len(turn.samples)
        self.progress = st.progress(0.0, text=f"Sending {self.total} request(s) at once...")
        self.compact = len(columns) > compare_turns.MAX_COLUMNS
        self.text_slots: list[Any] = []
        self.note_slots: list[Any] = []
        self.last_draw: dict[int, float] = {}
        if self.compact:
            self.table_slot = st.empty()
            return
        board = st.container(key="compare.board.live")  # styles.py keeps wide replies in their column
        for index, (slot, column) in enumerate(zip(board.columns(len(columns)), columns, strict=True)):
            with slot:
                column_header(index, column, columns)
                self.note_slots.append(st.empty())
                self.text_slots.append(st.empty())
                self.note_slots[-1].caption("Waiting for the model...")

    def __call__(self, sample: compare_turns.Sample | None, event: events.Event | None) -> None:
        done = sum(s.done for s in self.turn.samples)
        if sample is None:
            # A tick while every column is silent: touching the screen is what lets Stop act at once.
            self.progress.progress(done / self.total, text=f"{done} of {self.total} replies done")
            return
        if event is None or isinstance(event, events.Finish | events.StreamError):
            self.progress.progress(done / self.total, text=f"{done} of {self.total} replies done")
        if self.compact:
            if event is None:
                self.table_slot.caption(rendering.trusted(f"{done} of {self.total} cells done"))
            return
        column = sample.column
        repeats = self.turn.samples_of(column)
        if sample.repeat != 0:
            finished = sum(s.done for s in repeats)
            if event is None and finished:
                self.note_slots[column].caption(
                    rendering.trusted(f"{finished} of {len(repeats)} repeats done")
                )
            return
        now = time.monotonic()
        if (
            event is not None
            and not sample.done
            and now - self.last_draw.get(column, 0) < self.REDRAW_SECONDS
        ):
            return
        self.last_draw[column] = now
        if isinstance(event, events.RetryWait):
            self.note_slots[column].caption(rendering.outside(sample.retry_note or "Retrying..."))
        elif sample.done:
            line = metrics.summary(sample.usage_dict(), sample.timings(), sample.finish_reason)
            self.note_slots[column].caption(
                rendering.outside(f"{sample.status} · {line}" if line else sample.status)
            )
        elif sample.first_token_at is not None:
            self.note_slots[column].caption("Streaming...")
        if sample.error is not None:
            with self.text_slots[column].container():
                st.markdown(rendering.outside(sample.content))
                error_view.show(sample.error)
        else:
            self.text_slots[column].markdown(rendering.outside(sample.content))


# -- a stored run -------------------------------------------------------------------------------------


def results_of(run: Any, turn_index: int, column_index: int) -> list[Any]:
    """A column's results in one turn, repeat order."""
    return sorted(
        (
            r
            for r in run.results
            if r.turn_index == turn_index and r.column_index == column_index and r.candidate_index == 0
        ),
        key=lambda r: r.repeat_index,
    )


def _show_reply(result: Any, prices: Mapping[str, float] | None) -> None:
    if result.thought:
        with st.expander("Thought summary", expanded=False):
            st.markdown(rendering.outside(result.thought))
    if result.content:
        wants_json, schema = schema_of(result.request_body)
        if wants_json:
            value, problem = check_json(result.content, schema)
            if problem is None:
                st.code(json.dumps(value, indent=2, ensure_ascii=False), language="json", wrap_lines=True)
            else:
                st.markdown(rendering.outside(result.content))
                st.caption(f":orange[{rendering.label(problem)}]")
        else:
            st.markdown(rendering.outside(result.content))
    for call in result.tool_calls or []:
        fn = call.get("function", {})
        st.caption(f"Tool call {rendering.code(fn.get('name'))}")
        st.code(fn.get("arguments", ""), language="json", wrap_lines=True)
    if result.status == "error" and result.error:
        error_view.show_saved(result.error)
    if result.status in STATUS_NOTES:
        advice = metrics.length_advice(result.request_body)  # fixed words
        st.caption(rendering.trusted(STATUS_NOTES[result.status].replace("{advice}", advice)))
    line = metrics.summary(result.usage, result.timings, result.finish_reason, prices)
    timings = result.timings or {}
    if "duration_s" in timings:
        line += f" · total {timings['duration_s']:.2f} s"
    if line:
        st.caption(rendering.outside(line))


def _number(value: float, unit: str) -> str:
    return f"{value:.2f}{unit}" if unit else f"{value:.0f}"


def repeats_summary(results: Sequence[Any]) -> tuple[str, str]:
    """A column's repeats in two short lines: how many distinct replies, and the spread (median, with
    min-max) of length, latency and tokens. Returned as markdown and plain text, for tests to read."""
    finished = [r for r in results if r.status != "streaming"]
    distinct = compare_stats.distinct_outputs(r.content or "" for r in finished)
    parts = []
    for label, unit, values in (
        ("words", "", [len((r.content or "").split()) for r in finished]),
        ("total", " s", [(r.timings or {}).get("duration_s") for r in finished]),
        ("first token", " s", [(r.timings or {}).get("ttft_s") for r in finished]),
        ("tokens", "", [(r.usage or {}).get("completion_tokens") for r in finished]),
    ):
        found = compare_stats.spread(values)
        if found:
            low, middle, high = found
            spread = "" if low == high else f" ({_number(low, '')}–{_number(high, unit)})"
            parts.append(f"{label} {_number(middle, unit)}{spread}")
    line = ("median " + " · ".join(parts)) if parts else ""
    return f"**{len(distinct)} distinct** of {len(finished)} replies", line


def _show_repeats(results: Sequence[Any], key: str) -> None:
    """Distinct outputs with counts and the spread of length, latency and tokens, folded small: a
    column with k repeats stays about as tall as one with a single reply."""
    counted, line = repeats_summary(results)  # counts and figures of Prism's own making
    st.markdown(rendering.trusted(counted))
    if line:
        st.caption(rendering.trusted(line))
    distinct = compare_stats.distinct_outputs(r.content or "" for r in results if r.status != "streaming")
    with st.expander("Distinct outputs", expanded=False, key=key + ".distinct"):
        for text, count in distinct:
            st.markdown(f"**×{count:d}** " + (rendering.label(text[:600]) or "*(empty)*"))


def _json_line(results: Sequence[Any]) -> None:
    rate = compare_stats.json_pass_rate(results)
    if rate is None:
        return
    valid, total = rate
    share = valid / total if total else 0.0
    colour = "green" if valid == total else ("orange" if valid else "red")
    st.markdown(rendering.trusted(f":{colour}[JSON valid: {valid}/{total} ({share:.0%})]"))


def column_header(index: int, column: Mapping[str, Any], columns: Sequence[Mapping[str, Any]]) -> None:
    """A column's title (its model and what sets it apart), then all its settings in small print."""
    st.markdown(f"**{rendering.label(column_title(index, column, columns))}**")
    st.caption("Settings: " + rendering.label(params_summary(column.get("params"))))
    if column.get("system_prompt"):
        st.caption("System: " + rendering.label(column["system_prompt"][:200]))


def show_columns(
    run: Any,
    turn_index: int,
    prices_for: PricesFor,
    *,
    again: Sequence[bool | None] = (),
    actions: Callable[[int], None] | None = None,
) -> None:
    """The replies of one turn, one column each, with metrics, repeats, JSON checks and marks.

    When every column continued from one column's reply, each column says so above its reply of this
    turn, and the adopted reply carries a badge in its own turn."""
    columns = run.columns or []
    adopted = compare_turns.adopted_from(run, turn_index)
    adopted_next = compare_turns.adopted_from(run, turn_index + 1)
    board = st.container(key=f"compare.board.{run.id}.{turn_index}")  # styles.py: replies stay inside
    for index, slot in enumerate(board.columns(len(columns))):
        column = columns[index]
        with slot:
            column_header(index, column, columns)
            if adopted is not None:
                source = column_title(adopted, columns[adopted], columns)
                st.caption(
                    ":blue[:material/merge: Continued from "
                    + ("its own" if adopted == index else f"{rendering.label(source)}'s")
                    + " reply]"
                )
            if index < len(again) and again[index] is not None:
                if again[index]:
                    st.badge("identical to the previous run", icon=":material/check:", color="green")
                else:
                    st.badge("differs from the previous run", icon=":material/difference:", color="orange")
            results = results_of(run, turn_index, index)
            if not results:
                st.caption("No reply.")
                continue
            if adopted_next == index:
                st.badge(
                    "adopted: every column continued from this reply", icon=":material/merge:", color="blue"
                )
            _show_reply(results[0], prices_for(column))
            _json_line(results)
            if len(results) > 1:
                _show_repeats(results, key=f"compare.rep.{run.id}.{turn_index}.{index}")
            if actions is not None:
                actions(index)


def metrics_rows(run: Any, turn_index: int, prices_for: PricesFor) -> list[dict[str, Any]]:
    """One row per column: the median over its repeats of every figure, for the table and the chart."""
    rows = []
    for index, column in enumerate(run.columns or []):
        results = results_of(run, turn_index, index)
        figures = [compare_stats.metrics_row(r, prices_for(column)) for r in results]
        row: dict[str, Any] = {"column": column_title(index, column, run.columns or [])}
        for key in CHART_METRICS.values():
            found = compare_stats.spread(f[key] for f in figures)
            row[key] = found[1] if found else None
        reasons = sorted({f["finish_reason"] for f in figures if f["finish_reason"]})
        row["finish_reason"] = ", ".join(reasons)
        rows.append(row)
    return rows


METRIC_FORMATS = {"ttft_s": "{:.2f}", "total_s": "{:.2f}", "tokens_per_s": "{:.1f}", "cost_usd": "${:.6f}"}


def _figure(name: str, value: Any) -> str:
    """A figure as the metrics table shows it; a dash for one the server did not report."""
    if value is None:
        return "–"
    return METRIC_FORMATS.get(name, "{:.0f}").format(value)


def metrics_table(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The metrics rows as the table shows them: every figure under its label, formatted."""
    return [
        {
            "Column": rendering.label(row["column"]),
            **{label: _figure(name, row[name]) for label, name in CHART_METRICS.items()},
            "Finish reason": rendering.label(row["finish_reason"]) or "–",
        }
        for row in rows
    ]


def show_metrics(run: Any, turn_index: int, prices_for: PricesFor) -> None:
    """A table of every figure per column and a bar chart of the one the user picks.

    A static table (`st.table`): its headers and cells wrap, so every figure is in view on a laptop
    (the scrolling data grid cut off the last columns), and on a phone it scrolls sideways inside its
    own box. Cells are markdown there, so titles and finish reasons are escaped (`rendering.label`)."""
    rows = metrics_rows(run, turn_index, prices_for)
    if not rows:
        return
    with st.container(key=f"compare.metrics.{run.id}.{turn_index}"):
        st.table(metrics_table(rows), hide_index=True)
    if (run.repeats or 1) > 1:
        st.caption(rendering.trusted(f"Each figure is the median over the column's {run.repeats} repeats."))
    picked = st.selectbox(
        "Chart", list(CHART_METRICS), key=f"compare.chart.{run.id}", help="Median over repeats per column."
    )
    st.vega_lite_chart(metrics_chart(rows, picked), width="stretch")


def metrics_chart(rows: Sequence[Mapping[str, Any]], picked: str) -> dict[str, Any]:
    """A horizontal bar per column, labelled with the column's whole title (Vega-Lite cuts axis labels
    at 180 pixels by default, which left "1 · temperature 0 ..." of every label)."""
    name = CHART_METRICS[picked]
    return {
        "data": {"values": [{"column": r["column"], "value": r[name] or 0} for r in rows]},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "y": {
                "field": "column",
                "type": "nominal",
                "sort": None,
                "title": None,
                "axis": {"labelLimit": 0},
            },
            "x": {"field": "value", "type": "quantitative", "title": picked},
        },
    }


def show_diff(run: Any, turn_index: int) -> None:
    """Each column's first reply against a baseline column, word by word."""
    columns = run.columns or []
    if len(columns) < 2:
        return
    baseline = st.selectbox(
        "Baseline column",
        range(len(columns)),
        format_func=lambda i: rendering.plain(column_title(i, columns[i], columns)),
        key=f"compare.baseline.{run.id}",
    )
    base = results_of(run, turn_index, baseline)
    base_text = base[0].content if base else ""
    st.caption(
        ":green-background[added] words are new in the column; :red-background[~~removed~~] ones "
        "were in the baseline."
    )
    for index, column in enumerate(columns):
        if index == baseline:
            continue
        found = results_of(run, turn_index, index)
        text = found[0].content if found else ""
        share = compare_stats.similarity(base_text or "", text or "")
        with st.expander(
            f"{rendering.label(column_title(index, column, columns))} · {share:.0%} the same", expanded=True
        ):
            if text == base_text:
                st.caption("Identical to the baseline.")
            else:
                # diff_markdown escapes both texts itself (compare_stats), word by word.
                st.markdown(rendering.trusted(compare_stats.diff_markdown(base_text or "", text or "")))


def show_grid(run: Any, turn_index: int, prices_for: PricesFor) -> None:
    """A two-parameter grid as a table of cells: rows one parameter's values, columns the other's.

    A static table whose cells wrap (`st.table`), so every column of the grid is in view and a
    reply reads in its cell; on a phone the table scrolls sideways inside its own box. Cells are
    markdown there: replies are escaped (`rendering.label`)."""
    columns = run.columns or []
    first = columns[0]["grid"]
    row_name, col_name = first["row"][0], first["col"][0]
    row_values: list[Any] = []
    col_values: list[Any] = []
    for column in columns:
        if column["grid"]["row"][1] not in row_values:
            row_values.append(column["grid"]["row"][1])
        if column["grid"]["col"][1] not in col_values:
            col_values.append(column["grid"]["col"][1])
    shown = st.radio(
        "Cells show",
        ["Reply", "Completion tokens", "Total time (s)", "Distinct replies"],
        horizontal=True,
        key=f"compare.gridshow.{run.id}",
    )
    corner = rendering.label(f"{row_name} \\ {col_name}")
    table = []
    for row_value in row_values:
        line: dict[str, Any] = {corner: rendering.label(value_label(row_name, row_value))}
        for col_value in col_values:
            index = next(
                i
                for i, c in enumerate(columns)
                if c["grid"]["row"][1] == row_value and c["grid"]["col"][1] == col_value
            )
            results = results_of(run, turn_index, index)
            line[rendering.label(value_label(col_name, col_value))] = _cell(results, shown)
        table.append(line)
    with st.container(key=f"compare.grid.{run.id}.{turn_index}"):
        st.table(table, hide_index=True)


def _cell(results: Sequence[Any], shown: str) -> str:
    """One grid cell as the table shows it (escaped markdown; a dash for nothing to show)."""
    if not results:
        return "–"
    if shown == "Reply":
        text = results[0].content or (results[0].error or "")
        return rendering.label(text if len(text) <= 160 else text[:157] + "...") or "*(empty)*"
    if shown in ("Completion tokens", "Total time (s)"):
        found = compare_stats.spread(
            (r.usage or {}).get("completion_tokens")
            if shown == "Completion tokens"
            else (r.timings or {}).get("duration_s")
            for r in results
        )
        if found is None:
            return "–"
        return f"{found[1]:.0f}" if shown == "Completion tokens" else f"{found[1]:.2f}"
    return f"{len(compare_stats.distinct_outputs(r.content or '' for r in results)):d}"
