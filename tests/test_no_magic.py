"""Streamlit's "magic" is off, and no page relies on it.

With magic on, a bare expression in a page script is drawn as if passed to `st.write`, and every page
script is parsed and rewritten for it again whenever a browser opens the app while no other session is
open (Streamlit empties its script cache when the last session leaves): a cost on each such page load.
Prism's pages draw only through explicit calls, so `.streamlit/config.toml` turns magic off; these
tests keep both true (a bare expression added to a page would silently draw nothing).
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest
from streamlit.runtime.scriptrunner import magic

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py"))]


def test_magic_is_off_in_the_config():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["magicEnabled"] is False


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_page_draws_through_magic(script):
    tree = magic.add_magic(script.read_text(), str(script))
    drawn = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "transparent_write"
    ]
    assert not drawn, f"{script.name} has bare expressions magic would draw, at lines {drawn}"
