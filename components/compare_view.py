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
from components.compare_sweep import format_value
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


def column_title(index: int, column: Mapping[str, Any]) -> str:
    """`1 · temperature 0` : the column's number and its label (or its settings)."""
    label = column.get("label") or params_summary(column.get("params"))
    return f"{index + 1} · {label}"


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
        for index, (slot, column) in enumerate(zip(st.columns(len(columns)), columns, strict=True)):
            with slot:
                st.markdown(f"**{rendering.label(column_title(index, column))}**")
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
                st.code(json.dumps(value, indent=2, ensure_ascii=False), language="json")
            else:
                st.markdown(rendering.outside(result.content))
                st.caption(f":orange[{rendering.label(problem)}]")
        else:
            st.markdown(rendering.outside(result.content))
    for call in result.tool_calls or []:
        fn = call.get("function", {})
        st.caption(f"Tool call {rendering.code(fn.get('name'))}")
        st.code(fn.get("arguments", ""), language="json")
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


def _show_repeats(results: Sequence[Any], key: str) -> None:
    """Distinct outputs with counts and the spread of length, latency and tokens."""
    finished = [r for r in results if r.status != "streaming"]
    distinct = compare_stats.distinct_outputs(r.content or "" for r in finished)
    st.markdown(f"**{len(distinct)} distinct** of {len(finished)} replies")
    rows = []
    for label, values in (
        ("words", [len((r.content or "").split()) for r in finished]),
        ("total time (s)", [(r.timings or {}).get("duration_s") for r in finished]),
        ("first token (s)", [(r.timings or {}).get("ttft_s") for r in finished]),
        ("completion tokens", [(r.usage or {}).get("completion_tokens") for r in finished]),
    ):
        found = compare_stats.spread(values)
        if found:
            low, middle, high = found
            rows.append({"": label, "min": low, "median": middle, "max": high})
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch", key=key + ".spread")
    with st.expander("Distinct outputs", expanded=len(distinct) > 1):
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


def show_columns(
    run: Any,
    turn_index: int,
    prices_for: PricesFor,
    *,
    again: Sequence[bool | None] = (),
    actions: Callable[[int], None] | None = None,
) -> None:
    """The replies of one turn, one column each, with metrics, repeats, JSON checks and marks."""
    columns = run.columns or []
    for index, slot in enumerate(st.columns(len(columns))):
        column = columns[index]
        with slot:
            st.markdown(f"**{rendering.label(column_title(index, column))}**")
            if column.get("label"):
                st.caption(rendering.label(params_summary(column.get("params"))))
            if column.get("system_prompt"):
                st.caption("System: " + rendering.label(column["system_prompt"][:200]))
            if index < len(again) and again[index] is not None:
                if again[index]:
                    st.badge("identical to the previous run", icon=":material/check:", color="green")
                else:
                    st.badge("differs from the previous run", icon=":material/difference:", color="orange")
            results = results_of(run, turn_index, index)
            if not results:
                st.caption("No reply.")
                continue
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
        row: dict[str, Any] = {"column": column_title(index, column)}
        for key in CHART_METRICS.values():
            found = compare_stats.spread(f[key] for f in figures)
            row[key] = found[1] if found else None
        reasons = sorted({f["finish_reason"] for f in figures if f["finish_reason"]})
        row["finish_reason"] = ", ".join(reasons)
        rows.append(row)
    return rows


def show_metrics(run: Any, turn_index: int, prices_for: PricesFor) -> None:
    """A table of every figure per column and a bar chart of the one the user picks."""
    rows = metrics_rows(run, turn_index, prices_for)
    if not rows:
        return
    config = {"column": st.column_config.TextColumn("Column")}
    formats = {"ttft_s": "%.2f", "total_s": "%.2f", "tokens_per_s": "%.1f", "cost_usd": "$%.6f"}
    for label, name in CHART_METRICS.items():
        config[name] = st.column_config.NumberColumn(label, format=formats.get(name, "%d"))
    config["finish_reason"] = st.column_config.TextColumn("Finish reason")
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config=config,
        key=f"compare.metrics.{run.id}.{turn_index}",
    )
    if (run.repeats or 1) > 1:
        st.caption(rendering.trusted(f"Each figure is the median over the column's {run.repeats} repeats."))
    picked = st.selectbox(
        "Chart", list(CHART_METRICS), key=f"compare.chart.{run.id}", help="Median over repeats per column."
    )
    name = CHART_METRICS[picked]
    data = {"column": [r["column"] for r in rows], picked: [r[name] or 0 for r in rows]}
    st.bar_chart(data, x="column", y=picked, horizontal=True, sort=False)


def show_diff(run: Any, turn_index: int) -> None:
    """Each column's first reply against a baseline column, word by word."""
    columns = run.columns or []
    if len(columns) < 2:
        return
    baseline = st.selectbox(
        "Baseline column",
        range(len(columns)),
        format_func=lambda i: rendering.plain(column_title(i, columns[i])),
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
            f"{rendering.label(column_title(index, column))} · {share:.0%} the same", expanded=True
        ):
            if text == base_text:
                st.caption("Identical to the baseline.")
            else:
                # diff_markdown escapes both texts itself (compare_stats), word by word.
                st.markdown(rendering.trusted(compare_stats.diff_markdown(base_text or "", text or "")))


def show_grid(run: Any, turn_index: int, prices_for: PricesFor) -> None:
    """A two-parameter grid as a table of cells: rows one parameter's values, columns the other's."""
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
    table = []
    for row_value in row_values:
        line: dict[str, Any] = {f"{row_name} \\ {col_name}": format_value(row_value)}
        for col_value in col_values:
            index = next(
                i
                for i, c in enumerate(columns)
                if c["grid"]["row"][1] == row_value and c["grid"]["col"][1] == col_value
            )
            results = results_of(run, turn_index, index)
            line[format_value(col_value)] = _cell(results, shown)
        table.append(line)
    st.dataframe(table, hide_index=True, width="stretch", key=f"compare.grid.{run.id}.{turn_index}.{shown}")


def _cell(results: Sequence[Any], shown: str) -> Any:
    if not results:
        return None
    if shown == "Reply":
        text = results[0].content or (results[0].error or "")
        return text if len(text) <= 160 else text[:157] + "..."
    if shown in ("Completion tokens", "Total time (s)"):
        found = compare_stats.spread(
            (r.usage or {}).get("completion_tokens")
            if shown == "Completion tokens"
            else (r.timings or {}).get("duration_s")
            for r in results
        )
        return found[1] if found else None
    return len(compare_stats.distinct_outputs(r.content or "" for r in results))
