"""Code, configuration and docs point only at files in the repository.

A reader of the repository has nothing else: a pointer to a design document, a notes file, an issue
number or a path on someone's machine is a dead end. What such a pointer meant belongs in the
docstring itself, in the README, or in docs/architecture.md.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Words that only ever point outside: a design card and its sections, notes and reference folders,
# issue numbers, absolute paths of a development machine.
OUTSIDE = re.compile(
    r"design\.md|design card|(?<!RFC \d{4} )\bsection \d|\breference/|streamlit-notes|contracts\.md"
    r"|\bissues? #?\d+|/work/|/home/\w+|/Users/\w+",
    re.IGNORECASE,
)
DOCUMENT = re.compile(r"(?<![\w/.-])([\w./-]+\.md)\b")  # a document named in the text
KINDS = (".py", ".toml", ".md", ".yaml", ".yml", ".conf", ".example", ".cfg")


def listed_files() -> list[str]:
    """The repository's files (tracked, or new and not ignored), relative to its root."""
    return subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()


NAMES = {Path(name).name for name in listed_files()}


def repository_files() -> list[Path]:
    keep = []
    for name in listed_files():
        path = ROOT / name
        if path == Path(__file__) or not path.is_file():
            continue
        if name.endswith(KINDS) or name.startswith(".ci/") or path.name == "Dockerfile":
            keep.append(path)
    return keep


def pointers_outside(text: str, where: Path) -> list[str]:
    """Every pointer in `text` that leads out of the repository (a named document that is not in it)."""
    found = [m.group(0) for m in OUTSIDE.finditer(text)]
    for match in DOCUMENT.finditer(text):
        name = match.group(1)
        if name.startswith(("http", "www.")) or "*" in name:
            continue
        if not ((ROOT / name).exists() or (where.parent / name).exists() or name in NAMES):
            found.append(name)
    return found


@pytest.mark.parametrize("path", repository_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_points_outside_the_repository(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    assert pointers_outside(text, path) == []


# The examples are put together at run time, so this file does not itself hold the pointers it tests.
@pytest.mark.parametrize(
    "text",
    [
        "See " + "design" + ".md sec" + "tion 4.",
        "the stop trap (" + "reference/" + "streamlit-notes" + ".md)",
        "Goal (" + "issue" + " 6): at most 2x",
        "events out. See /work/" + "shared/notes.",
        "every shape in gemini-openai-compat-" + "notes.md",
    ],
)
def test_the_checker_sees_a_pointer_outside(text):
    assert pointers_outside(text, ROOT / "x.py")


def test_the_checker_lets_pointers_inside_pass():
    text = "See docs/architecture.md and README.md; JSON integers (RFC 8259 section 6); notes.txt."
    assert pointers_outside(text, ROOT / "offline_model" / "x.py") == []
