"""A developer's shell and home folder cannot change what a test sees (the root conftest.py).

The second test runs the first in a fresh pytest process whose environment carries PRISM_* variables
and whose home folder holds a `.streamlit/secrets.toml`, as a developer's machine might.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import streamlit as st

from settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_a_test_sees_no_prism_variable_and_no_secrets():
    assert [name for name in os.environ if name.startswith("PRISM_")] == []
    assert st.secrets.to_dict() == {}
    config = load_settings(os.environ, st.secrets.to_dict())
    assert (config.api_key, config.auth_mode, config.model) == (None, "none", "gemini-2.5-flash")


def test_a_developers_shell_and_secrets_do_not_reach_a_test(tmp_path):
    home = tmp_path / "home"
    (home / ".streamlit").mkdir(parents=True)
    (home / ".streamlit" / "secrets.toml").write_text(
        'PRISM_MODEL = "from-the-home-secrets"\n[api]\napi_key = "sk-from-the-home-secrets"\n'
    )
    env = {
        **os.environ,
        "HOME": str(home),
        "PRISM_API_KEY": "sk-from-the-shell",
        "PRISM_AUTH_MODE": "password",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-x",
            "--no-header",
            f"{Path(__file__).relative_to(ROOT)}::test_a_test_sees_no_prism_variable_and_no_secrets",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
