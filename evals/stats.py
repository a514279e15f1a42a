"""What a run says about each setting: pass rate with an honest interval, latency, tokens, cost, wins.

Why it exists: a pass rate of 9/10 against 8/10 is not a difference; the page, the command line and the
export all report the same numbers from the same cells, computed here.

What must stay true:
- The interval is Wilson's score interval at 95% (z = 1.96): it stays inside [0, 1] and is sensible at
  0 or n successes, where the normal approximation is not.
- A cell counts once it ran (passed, failed, or its request failed, which is a fail); a cell stopped or
  never sent does not count, so Stop never lowers a pass rate.
- Two settings whose intervals overlap are reported as not distinguishable at this sample size.
- Cost follows the chat page's rule (components/metrics.py): price per million tokens, thinking billed
  as output, cached input at the cached price; unknown when usage or the price is missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

Z95 = 1.959964


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion; (0, 1) when nothing was counted."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def p95(values: Sequence[float]) -> float | None:
    """The 95th percentile by nearest rank (a value that occurred), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass(frozen=True)
class SettingStats:
    """One setting's figures over a run."""

    name: str
    counted: int
    passed: int
    errors: int
    pass_rate: float | None
    low: float
    high: float
    mean_latency_ms: float | None
    p95_latency_ms: float | None
    tokens: int
    cost: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def counted(cell: Mapping[str, Any]) -> bool:
    """Whether a cell ran to an outcome (see the module docstring)."""
    return cell.get("passed") is not None


def setting_stats(names: Sequence[str], cells: Sequence[Mapping[str, Any]]) -> list[SettingStats]:
    """Per setting (by index into `names`): pass rate and interval, latency, tokens, cost."""
    out = []
    for index, name in enumerate(names):
        mine = [c for c in cells if c["setting"] == index and counted(c)]
        passed = sum(1 for c in mine if c["passed"])
        latencies = [c["latency_ms"] for c in mine if c.get("latency_ms") is not None and not c.get("error")]
        costs = [c["cost"] for c in mine if c.get("cost") is not None]
        low, high = wilson(passed, len(mine))
        out.append(
            SettingStats(
                name=name,
                counted=len(mine),
                passed=passed,
                errors=sum(1 for c in mine if c.get("error")),
                pass_rate=passed / len(mine) if mine else None,
                low=low,
                high=high,
                mean_latency_ms=sum(latencies) / len(latencies) if latencies else None,
                p95_latency_ms=p95(latencies),
                tokens=sum(int((c.get("usage") or {}).get("total_tokens") or 0) for c in mine),
                cost=sum(costs) if costs else None,
            )
        )
    return out


def overlap_notes(stats: Sequence[SettingStats]) -> list[str]:
    """One sentence per pair of settings whose 95% intervals overlap."""
    notes = []
    for i, a in enumerate(stats):
        for b in stats[i + 1 :]:
            if not a.counted or not b.counted:
                continue
            if a.low <= b.high and b.low <= a.high:
                notes.append(
                    f"{a.name} and {b.name} are not distinguishable: their 95% intervals overlap "
                    f"({a.passed}/{a.counted} against {b.passed}/{b.counted}). "
                    "More cases or repeats would tell."
                )
    return notes


def wins(names: Sequence[str], case_count: int, cells: Sequence[Mapping[str, Any]]) -> dict[str, list[int]]:
    """For each setting, the cases (indexes) where its pass share is strictly the best of all settings."""
    out: dict[str, list[int]] = {name: [] for name in names}
    for case in range(case_count):
        shares = []
        for index in range(len(names)):
            mine = [c for c in cells if c["case"] == case and c["setting"] == index and counted(c)]
            shares.append(sum(1 for c in mine if c["passed"]) / len(mine) if mine else None)
        known = [s for s in shares if s is not None]
        if len(known) < 2:
            continue
        best = max(known)
        leaders = [i for i, s in enumerate(shares) if s == best]
        if len(leaders) == 1:
            out[names[leaders[0]]].append(case)
    return out


def wins_lines(wins_by_setting: Mapping[str, list[int]], label: Callable[[int], str]) -> list[str]:
    """The wins in plain words: "A is the only one to do best on: Case 2, Case 5"."""
    lines = []
    for name, cases in wins_by_setting.items():
        if cases:
            lines.append(f"{name} does best on {len(cases)} case(s): {', '.join(label(c) for c in cases)}")
    return lines or ["No setting does better than the others on any single case."]


def review_tally(names: Sequence[str], votes: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Blind review votes ({"a", "b", "winner": index or None for a tie}) as wins, ties, win rate."""
    tally = {n: {"wins": 0, "losses": 0, "ties": 0} for n in names}
    for vote in votes:
        a, b, winner = names[vote["a"]], names[vote["b"]], vote.get("winner")
        if winner is None:
            tally[a]["ties"] += 1
            tally[b]["ties"] += 1
        else:
            loser = b if names[winner] == a else a
            tally[names[winner]]["wins"] += 1
            tally[loser]["losses"] += 1
    for row in tally.values():
        judged = row["wins"] + row["losses"] + row["ties"]
        row["win_rate"] = (row["wins"] + 0.5 * row["ties"]) / judged if judged else None
    return tally
