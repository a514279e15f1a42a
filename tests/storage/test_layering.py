"""Layering: storage never imports streamlit or chat_client (docs/architecture.md draws the arrows)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_storage_imports_neither_streamlit_nor_chat_client():
    modules = sorted(
        "storage." + ".".join(p.relative_to(ROOT / "storage").with_suffix("").parts)
        for p in (ROOT / "storage").rglob("*.py")
        if "versions" not in p.parts and p.name not in ("__init__.py", "__main__.py", "env.py")
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'chat_client'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    assert len(modules) >= 8
