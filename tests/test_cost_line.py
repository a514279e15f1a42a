"""The cost line under a reply: configured prices apply to endpoints that charge; the offline model is
free, and its thinking tokens are labelled as simulated."""

from __future__ import annotations

from components import metrics

USAGE = {"prompt_tokens": 1000, "completion_tokens": 200, "reasoning_tokens": 66, "total_tokens": 1266}
PRICES = {"input": 0.30, "output": 2.50, "cached": 0.03}


def test_a_priced_endpoint_shows_dollars_and_plain_thinking():
    line = metrics.summary(USAGE, None, "stop", PRICES)
    assert "$0.000965" in line  # (1000 * 0.30 + 266 * 2.50) / 1e6
    assert "66 thinking" in line and "simulated" not in line and "free" not in line


def test_the_offline_model_is_free_and_its_thinking_simulated():
    line = metrics.summary(USAGE, None, "stop", metrics.OFFLINE_PRICES)
    assert "free (offline model)" in line and "$" not in line
    assert "66 thinking (simulated)" in line
    assert metrics.cost_usd(USAGE, metrics.OFFLINE_PRICES) == 0.0  # the compare table's $0


def test_an_endpoint_without_prices_shows_no_cost():
    line = metrics.summary(USAGE, None, "stop", None)
    assert "$" not in line and "free" not in line
