"""Importing and exporting suites in promptfoo's formats: the YAML `tests:` list and the CSV form.

The examples in data/ are written from promptfoo's documentation: every assertion type Prism checks
(with `not-`), and a few it does not, which must be named at import and never run. A malformed suite is
refused with the line or the field named.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals import promptfoo
from evals.suite import SUPPORTED, Assertion, SuiteError, fill

DATA = Path(__file__).parent / "data"


def names(suite) -> list[list[str]]:
    return [[a.name for a in case.asserts] for case in suite.cases]


def test_yaml_example_reads_template_cases_and_every_supported_type():
    suite = promptfoo.load("promptfooconfig.yaml", (DATA / "promptfooconfig.yaml").read_bytes())
    assert suite.name == "Capitals and formats"
    assert suite.prompt == "Answer briefly: {{question}}"
    assert [c.description for c in suite.cases][:2] == ["Capital of France", "Arithmetic"]
    assert fill(suite.prompt, suite.cases[0].vars) == "Answer briefly: What is the capital of France?"
    used = {a.type for case in suite.cases for a in case.asserts if a.supported}
    assert used == set(SUPPORTED)
    negated = {a.type for case in suite.cases for a in case.asserts if a.negate}
    assert negated >= {"contains", "icontains", "equals", "starts-with", "regex", "is-json", "llm-rubric"}
    schema = next(a for a in suite.cases[4].asserts if a.type == "is-json" and a.value)
    assert schema.value["required"] == ["city"]
    budget = suite.cases[5].asserts
    assert (budget[0].type, budget[0].threshold, budget[1].threshold) == ("cost", 0.001, 5000.0)


def test_yaml_unsupported_types_are_named_and_kept():
    suite = promptfoo.load("promptfooconfig.yaml", (DATA / "promptfooconfig.yaml").read_bytes())
    notes = suite.unsupported()
    assert len(notes) == 3
    assert all("Not for Prism" in n for n in notes)
    assert ["javascript" in notes[0], "python" in notes[1], "similar" in notes[2]] == [True, True, True]
    assert names(suite)[6] == ["javascript", "python", "similar"]


def test_csv_example_reads_every_prefix_like_promptfoo():
    suite = promptfoo.load("tests.csv", (DATA / "tests.csv").read_bytes())
    assert suite.prompt == "{{question}}"  # a CSV has no template: its only variable is the prompt
    assert names(suite) == [
        ["contains", "not-icontains", "icontains"],
        ["equals", "not-equals", "starts-with"],
        ["contains-any", "icontains-all", "not-contains-any"],
        ["regex", "not-regex"],
        ["is-json", "contains-json", "not-is-json"],
        ["cost", "latency", "llm-rubric"],
        ["llm-rubric", "not-llm-rubric"],
        ["javascript", "python", "javascript"],
        ["python", "similar", "javascript"],
    ]
    assert suite.cases[1].asserts[0].value == "4"
    assert suite.cases[2].asserts[0].value == ["red", "blue", "yellow"]
    assert suite.cases[3].asserts[0].value == r"\d{4}"
    assert suite.cases[4].asserts[1].value == {"type": "object", "required": ["city"]}
    assert suite.cases[5].asserts[0].threshold == 0.001
    assert suite.cases[5].asserts[2].value == "Is a greeting"
    assert suite.cases[0].description == "Capital"
    assert len(suite.unsupported()) == 6


@pytest.mark.parametrize("source", ["promptfooconfig.yaml", "tests.csv"])
def test_export_gives_back_what_was_imported(source):
    suite = promptfoo.load(source, (DATA / source).read_bytes())
    again_yaml = promptfoo.load_yaml(promptfoo.dump_yaml(suite))
    assert again_yaml.cases == suite.cases
    assert again_yaml.prompt == suite.prompt
    again_csv = promptfoo.load_csv(promptfoo.dump_csv(suite), prompt=suite.prompt)
    assert again_csv.cases == suite.cases


def test_a_bare_list_of_cases_is_a_suite():
    suite = promptfoo.load_yaml("- vars: {prompt: hi}\n  assert: [{type: contains, value: hi}]\n")
    assert suite.prompt == "{{prompt}}"
    assert names(suite) == [["contains"]]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("tests:\n  - vars: {q: [1, 2}\n", "line 2"),
        ("prompts: ['{{q}}']\n", "no `tests:`"),
        ("tests: file://cases.yaml\n", "import that file itself"),
        ("tests:\n  - vars: {q: a}\n  - 7\n", "tests[1] (line 3)"),
        ("tests:\n  - vars: {q: a}\n    assert: contains\n", "tests[0].assert (line 3)"),
        (
            "tests:\n  - vars: {q: a}\n    assert:\n      - value: x\n",
            "tests[0].assert[0] (line 4) needs a `type`",
        ),
        (
            "tests:\n  - vars: {q: a}\n    assert:\n      - {type: regex, value: '(unclosed'}\n",
            "tests[0].assert[0] (line 4): the regular expression",
        ),
        (
            "tests:\n  - vars: {q: a}\n    assert:\n      - {type: is-json, value: {type: 12}}\n",
            "JSON Schema of `is-json` is invalid",
        ),
        ("tests:\n  - vars: {q: a}\n    assert:\n      - {type: cost}\n", "`cost` needs a number"),
        (
            "tests:\n  - vars: {q: a}\n    assert:\n      - {type: contains}\n",
            "`contains` needs a text value",
        ),
        ("tests:\n  - vars: {q: {nested: 1}}\n", "tests[0].vars.q (line 2) must be text"),
        ("tests:\n  - vars: {q: a}\n    images: [http://example.com/x.png]\n", "data:image"),
        ("!!python/object/apply:os.system ['true']\n", "cannot be read"),
    ],
)
def test_malformed_yaml_is_refused_naming_where(text, said):
    with pytest.raises(SuiteError) as refused:
        promptfoo.load_yaml(text)
    assert said in str(refused.value)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "empty"),
        ("q,q\na,b\n", "names q more than once"),
        ("q,__expected\nfine,contains:x\ntoo,many,fields\n", "Line 3 of the CSV has 3 fields"),
        ("q,__expected\nfine,regex:(oops\n", "line 2, column __expected: the regular expression"),
        ("q,__expected\nfine,latency:soon\n", "line 2, column __expected: `latency` needs a number"),
    ],
)
def test_malformed_csv_is_refused_naming_where(text, said):
    with pytest.raises(SuiteError) as refused:
        promptfoo.load_csv(text)
    assert said in str(refused.value)


def test_a_file_that_is_not_text_is_refused_in_words():
    with pytest.raises(SuiteError, match="not UTF-8"):
        promptfoo.load("suite.yaml", b"\xff\xfe\x00junk")


def test_a_template_variable_no_case_sets_is_a_problem_not_a_blank():
    suite = promptfoo.load_yaml("prompts: ['{{q}} and {{other}}']\ntests:\n  - vars: {q: a}\n")
    assert suite.problems() == ["Case 1: the prompt uses {{other}} but the case sets no such variable."]


def test_csv_strings_round_trip_for_each_form():
    for text in [
        "contains:a",
        "not-icontains:b",
        "latency(250)",
        "is-json",
        "grade:kind",
        "javascript:1",
        "plain",
    ]:
        assertion = promptfoo.assertion_from_string(text)
        again = promptfoo.assertion_from_string(promptfoo.assertion_to_string(assertion))
        assert again == assertion, text
    assert promptfoo.assertion_from_string("plain") == Assertion(type="equals", value="plain")


def png(colour=(200, 30, 30), size=(6, 4)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_images_named_in_yaml_or_csv_are_read_through_the_caller_and_kept_as_data_urls():
    files = {"red.png": png(), "shots/blue.png": png((20, 30, 200))}
    yaml_text = (
        "prompts: ['What colour? {{q}}']\ntests:\n"
        "  - vars: {q: one}\n    images: [red.png, 'file://shots/blue.png']\n"
        "  - vars: {q: two}\n"
    )
    suite = promptfoo.load("suite.yaml", yaml_text.encode(), image_files=files.get)
    first = suite.cases[0].images
    assert len(first) == 2 and all(i.startswith("data:image/png;base64,") for i in first)
    assert suite.cases[1].images == ()

    csv_text = "q,__expected,__images\none,contains:x,red.png shots/blue.png\ntwo,contains:y,\n"
    from_csv = promptfoo.load("cases.csv", csv_text.encode(), image_files=files.get)
    assert from_csv.cases[0].images == first and from_csv.cases[1].images == ()
    # Exported, the images travel as data: URLs and import again with nothing to look up.
    again = promptfoo.load("again.csv", promptfoo.dump_csv(from_csv).encode())
    assert [c.images for c in again.cases] == [c.images for c in from_csv.cases]
    again = promptfoo.load("again.yaml", promptfoo.dump_yaml(suite).encode())
    assert [c.images for c in again.cases] == [c.images for c in suite.cases]


@pytest.mark.parametrize(
    ("name", "text", "files", "said"),
    [
        (
            "suite.yaml",
            "tests:\n  - vars: {q: a}\n  - vars: {q: b}\n    images: [cat.png]\n",
            {},
            "tests[1].images (line 4)[0]: the image 'cat.png' was not found",
        ),
        (
            "cases.csv",
            "q,__images\na,cat.png\n",
            {},
            "line 2, column __images[0]: the image 'cat.png' was not found",
        ),
        (
            "suite.yaml",
            "tests:\n  - vars: {q: a}\n    images: [notes.png]\n",
            {"notes.png": b"plain text, not a picture"},
            "tests[0].images (line 3)[0]: 'notes.png':",
        ),
    ],
)
def test_an_image_that_cannot_be_had_is_refused_naming_the_case_and_file(name, text, files, said):
    with pytest.raises(SuiteError) as refused:
        promptfoo.load(name, text.encode(), image_files=files.get)
    assert said in str(refused.value)
