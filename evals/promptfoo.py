"""Reading and writing promptfoo's suite formats: the YAML `tests:` list and the CSV form.

Why it exists: people who evaluate prompts today keep their suites in promptfoo's formats; Prism reads
them as they are and writes them back, so a suite can go back and forth between the two tools.

The formats, as promptfoo documents them:
- YAML: a config whose `tests:` is a list of cases, each with `vars` (a mapping), `assert` (a list of
  `{type, value, threshold}`) and `description`; `prompts:` holds the template(s). A bare list of cases
  is read too (promptfoo's `tests: file://cases.yaml` form).
- CSV: one column per variable; `__expected`, `__expected1`, `__expected2`, ... hold one assertion each
  as a string: `contains:Paris`, `not-icontains:sorry`, `regex:^\\d+$`, `is-json`, `contains-any:a,b`,
  `latency(5000)` (a threshold in parentheses), `grade:` or `llm-rubric:` for a rubric, and anything
  else is an `equals`. `javascript:`, `fn:`, `eval:`, `python:` and `file://` scripts are promptfoo's
  code assertions: Prism keeps them, names them and never runs them. `__description` names the case.
- Images (Prism's addition, sent with the case's prompt): a case's `images:` list in YAML, or an
  `__images` column in CSV (entries separated by spaces), each a `data:image/...` URL or the name of an
  image file (`cat.png`, `file://shots/cat.png`). A name is looked up by the caller's `image_files`
  (the command line reads it beside the suite file, the page among the files uploaded with it) and
  stored as a normalised `data:` URL; a name nobody can find is refused, naming the case and the file.

What must stay true: only `yaml.safe_load` / `safe_dump` (a suite is outside input, and YAML tags can
build objects); a malformed suite is refused with a SuiteError naming the line or the field; a
supported assertion whose value cannot be checked (a bad regular expression, a schema that is not a
schema, a cost without a threshold) is refused at import, not at run time.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema
import yaml

from evals.suite import (
    LIST_VALUED,
    THRESHOLD_VALUED,
    Assertion,
    Case,
    Suite,
    SuiteError,
    default_template,
)
from storage import images as image_store

MAX_SUITE_BYTES = 5_000_000
MAX_CASES = 2_000

# promptfoo's assertion names (the ones its CSV parser recognises as `type:value`), so a cell such as
# `similar:hello` is read as that type (and reported as unsupported) rather than as an `equals`.
KNOWN_TYPES = frozenset(
    {
        "answer-relevance",
        "classifier",
        "contains",
        "contains-all",
        "contains-any",
        "contains-html",
        "contains-json",
        "contains-sql",
        "contains-xml",
        "context-faithfulness",
        "context-recall",
        "context-relevance",
        "cost",
        "equals",
        "factuality",
        "finish-reason",
        "g-eval",
        "guardrails",
        "icontains",
        "icontains-all",
        "icontains-any",
        "is-html",
        "is-json",
        "is-refusal",
        "is-sql",
        "is-valid-function-call",
        "is-valid-openai-function-call",
        "is-valid-openai-tools-call",
        "is-xml",
        "javascript",
        "latency",
        "levenshtein",
        "llm-rubric",
        "model-graded-closedqa",
        "model-graded-factuality",
        "moderation",
        "perplexity",
        "perplexity-score",
        "pi",
        "python",
        "regex",
        "rouge-n",
        "select-best",
        "similar",
        "starts-with",
        "trace-error-spans",
        "trace-span-count",
        "trace-span-duration",
        "webhook",
        "word-count",
    }
)
_CSV_ASSERTION = re.compile(
    r"^(not-)?(" + "|".join(sorted(map(re.escape, KNOWN_TYPES), key=len, reverse=True)) + r")"
    r"(?:\((\d+(?:\.\d+)?)\))?(?::([\s\S]*))?$"
)
_CODE_PREFIXES = (("javascript:", "javascript"), ("fn:", "javascript"), ("eval:", "javascript"))


# -- reading ------------------------------------------------------------------------------------------


ImageFiles = Callable[[str], bytes | None]  # an image file's name -> its bytes, or None when not found


def load(
    filename: str, data: bytes, *, prompt: str | None = None, image_files: ImageFiles | None = None
) -> Suite:
    """A suite from an uploaded or named file: `.csv` is the CSV form, anything else YAML (or JSON);
    image files the cases name are read through `image_files`."""
    if len(data) > MAX_SUITE_BYTES:
        raise SuiteError(f"The suite file is {len(data):,} bytes; the limit is {MAX_SUITE_BYTES:,}.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SuiteError(f"The suite file is not UTF-8 text (byte {exc.start} cannot be read).") from None
    name = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "Suite"
    if filename.lower().endswith(".csv"):
        return load_csv(text, prompt=prompt, name=name, image_files=image_files)
    return load_yaml(text, prompt=prompt, name=name, image_files=image_files)


def image_references(entries: Any, where: str, image_files: ImageFiles | None) -> tuple[str, ...]:
    """A case's images as `data:` URLs: URLs kept, file names read through `image_files` and normalised."""
    if not isinstance(entries, list) or not all(isinstance(i, str) and i.strip() for i in entries):
        raise SuiteError(f"{where} must be a list of image file names or `data:image/...` URLs.")
    out = []
    for position, entry in enumerate(entries):
        entry = entry.strip()
        if entry.startswith("data:image/"):
            out.append(entry)
            continue
        if "://" in entry and not entry.startswith("file://"):
            raise SuiteError(
                f"{where}[{position}]: {entry[:80]!r} is an address, and Prism never fetches remote "
                "images: give the image file itself, or a `data:image/...` URL."
            )
        name = entry.removeprefix("file://")
        found = image_files(name) if image_files is not None else None
        if found is None:
            raise SuiteError(
                f"{where}[{position}]: the image {name!r} was not found; give the image file with the suite."
            )
        try:
            out.append(image_store.normalise(found, name).data_url())
        except image_store.ImageRejected as refused:
            raise SuiteError(f"{where}[{position}]: {name!r}: {refused.message}") from None
    return tuple(out)


def load_yaml(
    text: str, *, prompt: str | None = None, name: str = "Suite", image_files: ImageFiles | None = None
) -> Suite:
    """A suite from promptfoo YAML: a config with `tests:` (and `prompts:`), or a bare list of cases."""
    try:
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the file"
        raise SuiteError(f"The YAML cannot be read at {where}: {exc.problem or exc.context}.") from None
    except yaml.YAMLError as exc:
        raise SuiteError(f"The YAML cannot be read: {exc}.") from None

    def at(*path: Any) -> str:
        line = _line_of(tree, path)
        shown = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path))
        return f"{shown} (line {line})" if line else shown

    if isinstance(data, list):
        tests, base, template = data, (), None
    elif isinstance(data, Mapping):
        if "tests" not in data:
            raise SuiteError("The YAML has no `tests:` list of test cases.")
        tests, base = data["tests"], ("tests",)
        template = _yaml_prompt(data.get("prompts"), at)
        if isinstance(data.get("description"), str) and data["description"].strip():
            name = data["description"].strip()[:200]
    else:
        raise SuiteError("The YAML must be a promptfoo config with a `tests:` list, or a list of test cases.")
    if isinstance(tests, str):
        raise SuiteError(
            f"{at(*base)} points at another file ({tests[:80]}); import that file itself instead."
        )
    if not isinstance(tests, list):
        raise SuiteError(f"{at(*base)} must be a list of test cases.")
    if len(tests) > MAX_CASES:
        raise SuiteError(f"The suite has {len(tests):,} test cases; the limit is {MAX_CASES:,}.")
    cases = []
    for index, raw in enumerate(tests):
        where = (*base, index)
        if not isinstance(raw, Mapping):
            raise SuiteError(f"{at(*where)} must be a mapping with `vars` and `assert`.")
        variables = raw.get("vars") or {}
        if not isinstance(variables, Mapping):
            raise SuiteError(f"{at(*where, 'vars')} must be a mapping of variable names to text.")
        for key, value in variables.items():
            if isinstance(value, (Mapping, list)):
                raise SuiteError(f"{at(*where, 'vars', key)} must be text, not a list or mapping.")
        raw_asserts = raw.get("assert") or []
        if not isinstance(raw_asserts, list):
            raise SuiteError(f"{at(*where, 'assert')} must be a list of assertions.")
        asserts = []
        for position, item in enumerate(raw_asserts):
            if not isinstance(item, Mapping) or not item.get("type"):
                raise SuiteError(f"{at(*where, 'assert', position)} needs a `type`.")
            asserts.append(_checked(Assertion.from_dict(item), at(*where, "assert", position)))
        images = image_references(raw.get("images") or [], at(*where, "images"), image_files)
        cases.append(
            Case(
                vars={str(k): "" if v is None else str(v) for k, v in variables.items()},
                asserts=tuple(asserts),
                description=str(raw.get("description") or ""),
                images=images,
            )
        )
    suite = Suite(prompt="", cases=tuple(cases), name=name)
    return Suite(
        prompt=prompt or template or default_template(suite.variables()), cases=suite.cases, name=name
    )


def load_csv(
    text: str, *, prompt: str | None = None, name: str = "Suite", image_files: ImageFiles | None = None
) -> Suite:
    """A suite from promptfoo's CSV form: one column per variable, `__expected*` assertion columns."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise SuiteError("The CSV is empty: it needs a header row naming the variables.") from None
    except csv.Error as exc:
        raise SuiteError(f"The CSV cannot be read at line {reader.line_num}: {exc}.") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise SuiteError("The CSV header (line 1) names no columns.")
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise SuiteError(f"The CSV header (line 1) names {', '.join(duplicates)} more than once.")
    cases = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise SuiteError(f"The CSV cannot be read at line {reader.line_num}: {exc}.") from None
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise SuiteError(f"Line {line} of the CSV has {len(row)} fields; the header has {len(header)}.")
        fields = dict(zip(header, row, strict=False))
        case = case_from_row(fields, where=f"line {line}")
        if (fields.get("__images") or "").strip():
            where = f"line {line}, column __images"
            images = image_references(fields["__images"].split(), where, image_files)
            case = Case(case.vars, case.asserts, case.description, images)
        cases.append(case)
        if len(cases) > MAX_CASES:
            raise SuiteError(f"The suite has more than {MAX_CASES:,} test cases.")
    suite = Suite(prompt="", cases=tuple(cases), name=name)
    return Suite(prompt=prompt or default_template(suite.variables()), cases=suite.cases, name=name)


def case_from_row(row: Mapping[str, str], *, where: str) -> Case:
    """One case from a CSV row (or a row of the page's editor), `where` naming it in errors."""
    variables: dict[str, str] = {}
    asserts: list[Assertion] = []
    description = ""
    for key, value in row.items():
        value = "" if value is None else str(value)
        if key.startswith("__expected"):
            if value.strip():
                asserts.append(_checked(assertion_from_string(value), f"{where}, column {key}"))
        elif key == "__description":
            description = value
        elif key.startswith("__"):
            continue  # promptfoo's __prefix, __metric, ...: nothing Prism uses
        elif key:
            variables[key] = value
    return Case(vars=variables, asserts=tuple(asserts), description=description)


def assertion_from_string(expected: str) -> Assertion:
    """A CSV `__expected` cell as an assertion (promptfoo's rules; anything unrecognised is `equals`)."""
    for prefix, kind in _CODE_PREFIXES:
        if expected.startswith(prefix):
            return Assertion(type=kind, value=expected[len(prefix) :].strip())
    if expected.startswith("grade:") or expected.startswith("llm-rubric:"):
        return Assertion(type="llm-rubric", value=expected.split(":", 1)[1])
    if expected.startswith("python:"):
        return Assertion(type="python", value=expected[len("python:") :].strip())
    if expected.startswith("file://"):
        kind = "python" if ".py" in expected else "javascript"
        return Assertion(type=kind, value=expected[len("file://") :].strip())
    match = _CSV_ASSERTION.match(expected)
    if not match:
        return Assertion(type="equals", value=expected)
    negate, kind, threshold, value = match.groups()
    parsed: Any = value
    if kind in LIST_VALUED:
        parsed = [part.strip() for part in (value or "").split(",")]
    return Assertion(
        type=kind, value=parsed, negate=bool(negate), threshold=float(threshold) if threshold else None
    )


def _yaml_prompt(prompts: Any, at) -> str | None:
    if prompts is None:
        return None
    first = prompts[0] if isinstance(prompts, list) and prompts else prompts
    if isinstance(first, Mapping):
        first = first.get("raw") or first.get("prompt")
    if not isinstance(first, str):
        raise SuiteError(f"{at('prompts')} must be a prompt template (text) or a list of them.")
    if first.startswith("file://"):
        raise SuiteError(f"{at('prompts')} points at a file ({first[:80]}); paste the template instead.")
    return first


def _checked(assertion: Assertion, where: str) -> Assertion:
    """The assertion with its value in the shape its check needs, or SuiteError naming `where`."""
    if not assertion.supported:
        return assertion  # kept, named by Suite.unsupported(), never run
    kind, value = assertion.type, assertion.value
    if kind in THRESHOLD_VALUED:
        limit = assertion.threshold if assertion.threshold is not None else value
        try:
            limit = float(limit)
        except (TypeError, ValueError):
            raise SuiteError(f"{where}: `{kind}` needs a number as its threshold.") from None
        return Assertion(type=kind, threshold=limit)
    if kind in ("is-json", "contains-json"):
        schema = value
        if isinstance(schema, str):
            if not schema.strip():
                schema = None
            else:
                try:
                    schema = json.loads(schema)
                except ValueError:
                    raise SuiteError(f"{where}: the JSON Schema of `{assertion.name}` is not JSON.") from None
        if schema is not None:
            if not isinstance(schema, Mapping):
                raise SuiteError(
                    f"{where}: the value of `{assertion.name}` must be a JSON Schema (an object)."
                )
            try:
                jsonschema.Draft202012Validator.check_schema(schema)
            except jsonschema.SchemaError as exc:
                raise SuiteError(
                    f"{where}: the JSON Schema of `{assertion.name}` is invalid: {exc.message}"
                ) from None
        return Assertion(type=kind, value=schema, negate=assertion.negate)
    if kind in LIST_VALUED:
        items = value.split(",") if isinstance(value, str) else value
        if (
            not isinstance(items, list)
            or not items
            or not all(isinstance(i, (str, int, float)) for i in items)
        ):
            raise SuiteError(f"{where}: `{assertion.name}` needs a list of texts.")
        return Assertion(type=kind, value=[str(i).strip() for i in items], negate=assertion.negate)
    if value is None or isinstance(value, (Mapping, list)):
        if kind == "equals" and value is not None:
            return assertion  # promptfoo compares an object value as JSON
        raise SuiteError(f"{where}: `{assertion.name}` needs a text value.")
    text = str(value)
    if kind == "regex":
        try:
            re.compile(text)
        except re.error as exc:
            raise SuiteError(f"{where}: the regular expression {text!r} is invalid ({exc}).") from None
    if kind == "llm-rubric" and not text.strip():
        raise SuiteError(f"{where}: `llm-rubric` needs the rubric to grade by.")
    return Assertion(type=kind, value=text, negate=assertion.negate)


def _line_of(tree: Any, path: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at `path` (keys and list positions), as far as it exists."""
    node, line = tree, (tree.start_mark.line + 1 if tree is not None else None)
    for step in path:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if getattr(k, "value", None) == str(step)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            found = node.value[step]
        else:
            found = None
        if found is None:
            break
        node, line = found, found.start_mark.line + 1
    return line


# -- writing ------------------------------------------------------------------------------------------


def dump_yaml(suite: Suite) -> str:
    """The suite as a promptfoo config (`description`, `prompts`, `tests`)."""
    data = {
        "description": suite.name,
        "prompts": [suite.prompt],
        "tests": [case.to_dict() for case in suite.cases],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def assertion_to_string(assertion: Assertion) -> str:
    """An assertion in the CSV `__expected` form (the inverse of `assertion_from_string`)."""
    kind = assertion.type
    if kind == "llm-rubric" and not assertion.negate:
        return f"llm-rubric:{assertion.value}"
    if kind in ("javascript", "python") and not assertion.negate:
        return f"{kind}:{assertion.value}"
    head = assertion.name
    if assertion.threshold is not None:
        head += f"({assertion.threshold:g})"
    value = assertion.value
    if value is None:
        return head
    if kind in LIST_VALUED and isinstance(value, list):
        return f"{head}:{','.join(value)}"
    if isinstance(value, (Mapping, list)):
        return f"{head}:{json.dumps(value, separators=(',', ':'))}"
    if kind == "equals" and not assertion.negate and not _CSV_ASSERTION.match(str(value)):
        return str(value)
    return f"{head}:{value}"


def suite_rows(suite: Suite) -> tuple[list[str], list[dict[str, str]]]:
    """The suite as CSV columns and rows (variables, `__description`, `__expected1..N`)."""
    most = max((len(c.asserts) for c in suite.cases), default=0)
    columns = [*suite.variables(), "__description", *(f"__expected{i + 1}" for i in range(most))]
    rows = []
    for case in suite.cases:
        row = {name: case.vars.get(name, "") for name in suite.variables()}
        row["__description"] = case.description
        for i in range(most):
            row[f"__expected{i + 1}"] = assertion_to_string(case.asserts[i]) if i < len(case.asserts) else ""
        rows.append(row)
    return columns, rows


def dump_csv(suite: Suite) -> str:
    """The suite in promptfoo's CSV form (the template is not part of that form), with an `__images`
    column of `data:` URLs when a case has images."""
    columns, rows = suite_rows(suite)
    if any(case.images for case in suite.cases):
        columns = [*columns, "__images"]
        for row, case in zip(rows, suite.cases, strict=True):
            row["__images"] = " ".join(case.images)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
