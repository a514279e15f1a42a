"""A prompt suite: test cases whose variables fill a `{{name}}` prompt template, each with assertions.

Why it exists: comparing settings on one prompt is an anecdote; a suite is the list of questions a
setting must answer well. The shapes here are promptfoo's (a test case has `vars`, `assert` and a
`description`), so a team can bring the suites it already has (evals/promptfoo.py reads and writes them).

What must stay true:
- A suite is plain data (frozen dataclasses that round-trip through `to_dict` / `from_dict`), so the
  page, the command line and the database hold the same thing.
- An assertion type Prism cannot check (promptfoo's `javascript`, `python`, ...) is kept with the case, so
  an export gives back what was imported, but it is marked unsupported and never executed: it is
  reported by name and counts neither for nor against a setting.
- Filling the template never evaluates anything: `{{ name }}` is replaced by the variable's text, and a
  name the case does not define is reported, not silently left in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Types checked here (evals/assertions.py), each also with `not-` unless listed in NO_NEGATION.
SUPPORTED = (
    "equals",
    "contains",
    "icontains",
    "contains-any",
    "contains-all",
    "icontains-any",
    "icontains-all",
    "starts-with",
    "regex",
    "is-json",
    "contains-json",
    "cost",
    "latency",
    "llm-rubric",
)
NO_NEGATION = frozenset({"cost", "latency"})  # promptfoo gives these a threshold, not an inverse
LIST_VALUED = frozenset({"contains-any", "contains-all", "icontains-any", "icontains-all"})
THRESHOLD_VALUED = frozenset({"cost", "latency"})

_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}")


class SuiteError(ValueError):
    """A suite that cannot be used, with where (line or field) and what is wrong in plain words."""


@dataclass(frozen=True)
class Assertion:
    """One check on a reply: a type (without `not-`), whether it is negated, its value and threshold."""

    type: str
    value: Any = None
    negate: bool = False
    threshold: float | None = None

    @property
    def name(self) -> str:
        """The type as promptfoo writes it (`not-contains`)."""
        return ("not-" if self.negate else "") + self.type

    @property
    def supported(self) -> bool:
        return self.type in SUPPORTED and not (self.negate and self.type in NO_NEGATION)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.name}
        if self.value is not None:
            out["value"] = self.value
        if self.threshold is not None:
            out["threshold"] = self.threshold
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Assertion:
        raw = str(data.get("type") or "")
        negate = raw.startswith("not-")
        threshold = data.get("threshold")
        return cls(
            type=raw[4:] if negate else raw,
            value=data.get("value"),
            negate=negate,
            threshold=float(threshold) if threshold is not None else None,
        )


@dataclass(frozen=True)
class Case:
    """One test case: its variables, assertions, description and images (`data:` URLs)."""

    vars: Mapping[str, str] = field(default_factory=dict)
    asserts: tuple[Assertion, ...] = ()
    description: str = ""
    images: tuple[str, ...] = ()

    def label(self, index: int) -> str:
        """How the matrix names this case: its description, else its number."""
        return self.description or f"Case {index + 1}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.description:
            out["description"] = self.description
        out["vars"] = dict(self.vars)
        out["assert"] = [a.to_dict() for a in self.asserts]
        if self.images:
            out["images"] = list(self.images)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Case:
        return cls(
            vars={str(k): "" if v is None else str(v) for k, v in (data.get("vars") or {}).items()},
            asserts=tuple(Assertion.from_dict(a) for a in data.get("assert") or ()),
            description=str(data.get("description") or ""),
            images=tuple(data.get("images") or ()),
        )


@dataclass(frozen=True)
class Suite:
    """A prompt template and its test cases."""

    prompt: str
    cases: tuple[Case, ...]
    name: str = "Suite"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "prompt": self.prompt, "tests": [c.to_dict() for c in self.cases]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Suite:
        return cls(
            prompt=str(data.get("prompt") or ""),
            cases=tuple(Case.from_dict(c) for c in data.get("tests") or ()),
            name=str(data.get("name") or "Suite"),
        )

    def variables(self) -> list[str]:
        """Every variable name the cases define, in first-seen order."""
        seen: dict[str, None] = {}
        for case in self.cases:
            for name in case.vars:
                seen.setdefault(name, None)
        return list(seen)

    def unsupported(self) -> list[str]:
        """One plain line per assertion that will not be run, naming its type and case."""
        out = []
        for index, case in enumerate(self.cases):
            for assertion in case.asserts:
                if not assertion.supported:
                    out.append(
                        f"{case.label(index)}: {assertion.name} assertions are not supported in Prism "
                        "and will not be run."
                    )
        return out

    def problems(self) -> list[str]:
        """What would make a run of this suite wrong, in plain words (empty when it can run)."""
        out = []
        if not self.prompt.strip():
            out.append("The suite has no prompt template.")
        if not self.cases:
            out.append("The suite has no test cases.")
        for index, case in enumerate(self.cases):
            missing = sorted(set(template_names(self.prompt)) - set(case.vars))
            if missing:
                out.append(
                    f"{case.label(index)}: the prompt uses "
                    + ", ".join(f"{{{{{m}}}}}" for m in missing)
                    + " but the case sets no such variable."
                )
        return out


def template_names(template: str) -> list[str]:
    """The variable names a template uses, in order of first use."""
    return list(dict.fromkeys(_VAR.findall(template)))


def fill(template: str, variables: Mapping[str, str]) -> str:
    """The template with each `{{ name }}` replaced by its variable (unknown names become empty)."""
    return _VAR.sub(lambda m: str(variables.get(m.group(1), "")), template)


def default_template(variables: Sequence[str]) -> str:
    """The prompt a suite without one gets: `{{prompt}}` if a case sets it, or its only variable."""
    if "prompt" in variables:
        return "{{prompt}}"
    if len(variables) == 1:
        return f"{{{{{variables[0]}}}}}"
    return ""
