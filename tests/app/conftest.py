"""Fixtures for driving the real app with Streamlit's AppTest against the real offline model on loopback
(`offline`, one per session, comes from the root conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.databases import ENGINES, make_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_env(monkeypatch, tmp_path, offline):
    """Point the app at a fresh SQLite file and at the session's offline model (the root conftest.py
    has already cleared every other PRISM_* variable and the secrets)."""
    monkeypatch.setenv("PRISM_DATABASE_URL", f"sqlite:///{tmp_path / 'prism.db'}")
    monkeypatch.setenv("PRISM_API_BASE_URL", offline.base_url)
    offline.received.clear()
    return offline


@pytest.fixture
def new_app():
    """Make an AppTest of the real entry script (each call is a fresh browser session)."""

    def make(*, settings_open: bool = False, all_parameters: bool = False) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
        if settings_open or all_parameters:  # a new chat's settings box opened, as a click on it does
            at.session_state["chat.settings_open.new"] = True
        if all_parameters:  # and its "All parameters" switch on: every field drawn
            at.session_state["chat.all_params"] = True
        return at

    return make


def open_settings(at: AppTest, key: str = "new") -> AppTest:
    """Open a chat's "System prompt and parameters" box, as a click on it does (`key`: the
    conversation's id, or "new"), and run. Its fields are drawn only while it is open."""
    at.session_state[f"chat.settings_open.{key}"] = True
    return at.run()


@pytest.fixture(params=ENGINES)
def engine_db_url(request, monkeypatch, tmp_path, app_env):
    """app_env on each engine; yields the database URL: app_env's SQLite file, or a fresh, empty
    PostgreSQL schema the app migrates on first use (skipped with a reason when none answers)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'prism.db'}"
        return
    for url in make_database_url("postgresql", tmp_path):
        monkeypatch.setenv("PRISM_DATABASE_URL", url)
        yield url
