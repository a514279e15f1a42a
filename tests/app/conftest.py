"""Fixtures for driving the real app with Streamlit's AppTest against a real offline model on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from offline_model.runner import OfflineServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def offline():
    """One offline model for the app tests, as fast as it can go."""
    with OfflineServer.start(host="127.0.0.1", port=0, tokens_per_second=0, ttft_ms=0) as server:
        yield server


@pytest.fixture
def app_env(monkeypatch, tmp_path, offline):
    """Point the app at a fresh SQLite file and at the test's offline model."""
    monkeypatch.setenv("PRISM_DATABASE_URL", f"sqlite:///{tmp_path / 'prism.db'}")
    monkeypatch.setenv("PRISM_API_BASE_URL", offline.base_url)
    monkeypatch.delenv("PRISM_API_KEY", raising=False)
    monkeypatch.delenv("PRISM_AUTH_MODE", raising=False)
    offline.received.clear()
    return offline


@pytest.fixture
def new_app():
    """Make an AppTest of the real entry script (each call is a fresh browser session)."""

    def make() -> AppTest:
        return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)

    return make


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine_db_url(request, monkeypatch, tmp_path, app_env):
    """app_env on each engine; yields the database URL: app_env's SQLite file, or a fresh, empty
    PostgreSQL schema the app migrates on first use (skipped with a reason when none answers)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'prism.db'}"
        return
    from tests.storage.conftest import make_database_url

    for url in make_database_url("postgresql", tmp_path):
        monkeypatch.setenv("PRISM_DATABASE_URL", url)
        yield url
