"""The direction of dependencies (design.md section 1) is checked, not hoped for.

chat_client, storage, turns and offline_model never import streamlit; chat_client and storage do not
import each other; offline_model does not import chat_client (two independent implementations of the
protocol keep each other honest).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "chat_client": {"streamlit", "storage", "offline_model", "turns", "components", "views"},
    "storage": {"streamlit", "chat_client", "offline_model", "turns", "components", "views"},
    "offline_model": {"streamlit", "chat_client", "storage", "turns", "components", "views"},
    "turns": {"streamlit", "components", "views", "offline_model"},
    "settings.py": {"streamlit"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def files_of(part: str) -> list[Path]:
    target = ROOT / part
    return [target] if target.is_file() else sorted(target.rglob("*.py"))


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_part_does_not_import_what_it_must_not(part):
    files = files_of(part)
    assert files, f"{part} has no Python files"
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[part])
        for path in files
        if imported_roots(path) & FORBIDDEN[part]
    }
    assert offenders == {}


def test_the_checker_sees_a_forbidden_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import streamlit as st\nfrom storage.models import User\n")
    assert imported_roots(sample) == {"streamlit", "storage"}
