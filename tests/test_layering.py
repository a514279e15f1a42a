"""The direction of dependencies is checked, not hoped for (docs/architecture.md draws it).

chat_client, storage, turns, evals and offline_model never import streamlit; chat_client and storage do not
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
    # evals runs through turns (the engine); its command line starts the offline model as the app does.
    "evals": {"streamlit", "components", "views"},
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


APP_PARTS = ["app.py", "chat_client", "components", "storage", "turns", "views"]


def reaches_below_httpx(path: Path) -> list[str]:
    """httpcore imports, a library's private module (`x._y`), or httpx's `extensions` (trace hooks,
    the raw network stream): what the network layer keeps behind `httpx`'s public API."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            root, *rest = name.split(".")
            if root == "httpcore" or (root not in APP_PARTS and any(p.startswith("_") for p in rest)):
                found.append(f"import {name}")
        if isinstance(node, ast.keyword) and node.arg == "extensions":
            found.append("extensions=")
        if isinstance(node, ast.Attribute) and node.attr == "extensions":
            found.append(".extensions")
    return found


def test_nothing_reaches_below_httpx_public_api():
    offenders = {
        str(path.relative_to(ROOT)): found
        for part in APP_PARTS
        for path in files_of(part)
        if (found := reaches_below_httpx(path))
    }
    assert offenders == {}


def test_the_checker_sees_a_reach_below_httpx(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from httpx_sse._decoders import SSELineDecoder\nimport httpcore\n"
        "r = http.stream('GET', u, extensions={'trace': t})\ns = r.extensions['network_stream']\n"
    )
    assert reaches_below_httpx(sample) == [
        "import httpx_sse._decoders",
        "import httpcore",
        "extensions=",
        ".extensions",
    ]


def test_there_is_no_pages_folder_beside_app_py():
    # Streamlit reads a `pages/` folder beside the entry script as the old folder-based navigation and,
    # in any run that starts before st.navigation is called, runs the page alone: without app.py's
    # sign-in gate. The pages live in views/ and app.py lists them with st.navigation.
    assert not (ROOT / "pages").exists()
