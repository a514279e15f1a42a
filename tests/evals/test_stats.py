"""The figures per setting: Wilson's interval (checked against published values), p95 by nearest rank,
cells that did not run left out, overlap notes, wins per case, and blind-review tallies."""

from __future__ import annotations

import pytest

from evals import stats
from turns.reply import cost_usd


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),  # Wilson at 0 successes stays above 0 width, unlike the normal interval
        (10, 10, 0.7225, 1.0),
        (15, 20, 0.5313, 0.8881),
        (5, 20, 0.1119, 0.4687),
        (1, 2, 0.0945, 0.9055),
    ],
)
def test_wilson_interval_matches_published_values(k, n, low, high):
    got = stats.wilson(k, n)
    assert got == pytest.approx((low, high), abs=0.0005)


def test_wilson_with_nothing_counted_is_the_whole_range():
    assert stats.wilson(0, 0) == (0.0, 1.0)


def test_p95_is_a_value_that_occurred():
    assert stats.p95([float(i) for i in range(1, 101)]) == 95.0
    assert stats.p95([3.0]) == 3.0
    assert stats.p95([]) is None


def cells(setting, outcomes, case_offset=0):
    return [
        {
            "case": case_offset + i,
            "setting": setting,
            "repeat": 0,
            "passed": p,
            "latency_ms": 100.0 + i,
            "error": None,
        }
        for i, p in enumerate(outcomes)
    ]


def test_stopped_and_unrun_cells_do_not_count_and_errors_do_as_fails():
    mine = cells(0, [True, None, None, False])
    mine[3]["error"] = "The provider failed (HTTP 500)."
    figures = stats.setting_stats(["a"], mine)[0]
    assert (figures.counted, figures.passed, figures.errors, figures.pass_rate) == (2, 1, 1, 0.5)
    assert figures.mean_latency_ms == 100.0  # a failed request's time is no latency


def test_overlap_note_only_for_indistinguishable_pairs():
    run = cells(0, [True] * 20) + cells(1, [False] * 20) + cells(2, [False] * 19 + [True])
    figures = stats.setting_stats(["a", "b", "c"], run)
    notes = stats.overlap_notes(figures)
    assert len(notes) == 1 and notes[0].startswith("b and c are not distinguishable")


def test_wins_name_the_cases_where_a_setting_alone_does_best():
    run = cells(0, [True, True, False]) + cells(1, [True, False, True])
    assert stats.wins(["a", "b"], 3, run) == {"a": [1], "b": [2]}
    assert stats.wins_lines({"a": [], "b": []}, str) == [
        "No setting does better than the others on any single case."
    ]


def test_review_tally_counts_wins_losses_ties_and_rates():
    votes = [{"a": 0, "b": 1, "winner": 0}, {"a": 1, "b": 0, "winner": 0}, {"a": 0, "b": 1, "winner": None}]
    tally = stats.review_tally(["x", "y"], votes)
    assert tally["x"] == {"wins": 2, "losses": 0, "ties": 1, "win_rate": pytest.approx(2.5 / 3)}
    assert (
        tally["y"]["wins"] == 0
        and tally["y"]["losses"] == 2
        and tally["y"]["win_rate"] == pytest.approx(0.5 / 3)
    )


def test_cost_bills_thinking_as_output_and_cached_input_at_its_price():
    usage = {
        "prompt_tokens": 1000,
        "cached_tokens": 400,
        "completion_tokens": 100,
        "reasoning_tokens": 50,
        "total_tokens": 1150,
    }
    prices = {"input": 1.0, "cached": 0.1, "output": 10.0}
    assert cost_usd(usage, prices) == pytest.approx((600 * 1.0 + 400 * 0.1 + 150 * 10.0) / 1e6)
    assert cost_usd(usage, None) is None
