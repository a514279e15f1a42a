"""Checking a reply against a case's assertions, each giving pass or fail and why in plain words.

Why it exists: a pass rate is only as honest as its checks, so every check says what it looked for and
what it found, and the matrix shows that next to the reply. The meanings follow promptfoo's (the
formats Prism imports): `contains` is case-sensitive, `icontains` is not, `regex` searches anywhere
(Python's `re`, which reads the usual promptfoo patterns the same way), `is-json` parses the whole reply,
`contains-json` finds a JSON value inside it, a JSON Schema as the value must validate, `cost` and
`latency` pass at or under their threshold (dollars, milliseconds), and `not-` inverts a check.

What must stay true: nothing in a suite is ever executed (unsupported types are reported as not run
and count neither way); `llm-rubric` asks a grader (an endpoint and settings the person chose) and keeps
the grader's reasoning, and a grader that fails or answers nonsense fails the check, saying so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema

from evals.suite import Assertion


@dataclass(frozen=True)
class Observed:
    """What the checks look at: the reply's text, its cost in dollars and its latency in ms."""

    output: str
    cost: float | None = None
    latency_ms: float | None = None


@dataclass(frozen=True)
class Check:
    """The outcome of one assertion; `passed` is None for one that was not run."""

    name: str
    passed: bool | None
    reason: str
    grader_reasoning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "passed": self.passed, "reason": self.reason}
        if self.grader_reasoning is not None:
            out["grader_reasoning"] = self.grader_reasoning
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        return cls(data["name"], data.get("passed"), data.get("reason", ""), data.get("grader_reasoning"))


# A grader takes (rubric, reply text) and returns (passed, reasoning); it may raise.
Grader = Callable[[str, str], Awaitable[tuple[bool, str]]]


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _json_values(text: str):
    """Every JSON object or array that starts somewhere in `text`, first to last."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        yield value


def _schema_problem(value: Any, schema: dict | None) -> str | None:
    if schema is None:
        return None
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "the top level"
    return f"it does not match the schema at {where}: {error.message}"


def _positive(assertion: Assertion, seen: Observed) -> tuple[bool, str]:
    """Whether the un-negated check holds, and what was found (a phrase)."""
    kind, value, out = assertion.type, assertion.value, seen.output
    if kind == "equals":
        if isinstance(value, (dict, list)):
            try:
                return json.loads(out) == value, "the reply as JSON compared with the expected value"
            except ValueError:
                return False, "the reply is not JSON, so it cannot equal the expected value"
        return out == value, f"the reply {'is' if out == value else 'is not'} exactly {_short(value)}"
    if kind == "contains":
        found = value in out
        return found, f"{_short(value)} {'is' if found else 'is not'} in the reply"
    if kind == "icontains":
        found = value.lower() in out.lower()
        return found, f"{_short(value)} {'is' if found else 'is not'} in the reply (any case)"
    if kind in ("contains-any", "contains-all", "icontains-any", "icontains-all"):
        fold = kind.startswith("i")
        hay = out.lower() if fold else out
        present = [v for v in value if (v.lower() if fold else v) in hay]
        missing = [v for v in value if v not in present]
        if kind.endswith("-any"):
            return bool(present), (
                f"found {', '.join(map(_short, present))}" if present else "none of the texts is in the reply"
            )
        return not missing, (
            "all are in the reply" if not missing else f"missing {', '.join(map(_short, missing))}"
        )
    if kind == "starts-with":
        ok = out.startswith(value)
        return ok, f"the reply {'starts' if ok else 'does not start'} with {_short(value)}"
    if kind == "regex":
        match = re.search(value, out)
        return match is not None, (
            f"{value!r} matches {_short(match.group(0))}"
            if match
            else f"{value!r} matches nothing in the reply"
        )
    if kind == "is-json":
        try:
            parsed = json.loads(out)
        except ValueError as exc:
            return False, f"the reply is not JSON ({exc.msg} at character {exc.pos})"
        problem = _schema_problem(parsed, value)
        return problem is None, problem or ("the reply is JSON" + (" matching the schema" if value else ""))
    if kind == "contains-json":
        last_problem = None
        for parsed in _json_values(out):
            problem = _schema_problem(parsed, value)
            if problem is None:
                return True, "the reply contains JSON" + (" matching the schema" if value else "")
            last_problem = problem
        return False, (f"the reply's JSON: {last_problem}" if last_problem else "the reply contains no JSON")
    if kind == "cost":
        if seen.cost is None:
            return False, "the cost is unknown (no usage was reported, or the model has no price)"
        ok = seen.cost <= assertion.threshold
        return ok, f"cost ${seen.cost:.6f} {'≤' if ok else '>'} ${assertion.threshold:g}"
    if kind == "latency":
        if seen.latency_ms is None:
            return False, "the latency is unknown (the request did not finish)"
        ok = seen.latency_ms <= assertion.threshold
        return ok, f"latency {seen.latency_ms:.0f} ms {'≤' if ok else '>'} {assertion.threshold:g} ms"
    raise ValueError(f"not a checkable type: {kind}")


def check(assertion: Assertion, seen: Observed) -> Check:
    """The outcome of one assertion that needs no grader."""
    if not assertion.supported:
        return Check(assertion.name, None, f"not run: {assertion.name} is not supported in Prism")
    holds, found = _positive(assertion, seen)
    passed = holds != assertion.negate
    return Check(
        assertion.name, passed, ("expected the opposite: " if assertion.negate and not passed else "") + found
    )


async def acheck(assertion: Assertion, seen: Observed, grader: Grader | None) -> Check:
    """The outcome of one assertion, asking the grader for `llm-rubric`."""
    if assertion.type != "llm-rubric" or not assertion.supported:
        return check(assertion, seen)
    if grader is None:
        return Check(assertion.name, False, "no grader was chosen for llm-rubric")
    try:
        verdict, reasoning = await grader(str(assertion.value), seen.output)
    except Exception as exc:  # the grader's failure is this check's failure, said plainly
        return Check(assertion.name, False, f"the grader failed: {getattr(exc, 'message', None) or exc}")
    passed = verdict != assertion.negate
    said = "the grader passed it" if verdict else "the grader failed it"
    return Check(assertion.name, passed, said, grader_reasoning=reasoning)


async def acheck_all(asserts: Sequence[Assertion], seen: Observed, grader: Grader | None) -> list[Check]:
    """Every assertion's outcome, in order."""
    return [await acheck(a, seen, grader) for a in asserts]


def verdict(checks: Sequence[Check]) -> bool:
    """A case passes when every assertion that ran passed (one with none that ran passes)."""
    return all(c.passed for c in checks if c.passed is not None)
