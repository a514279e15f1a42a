"""Fixtures for the multi-server tests: a fresh PostgreSQL schema, an offline model, Debian's chromium.

Two real `streamlit run` processes share one database here, as two app servers behind the proxy of
compose.yaml do. Tests skip, saying why, when PostgreSQL, chromium or Playwright is missing.
"""

from __future__ import annotations

import importlib.util

import pytest

from offline_model.runner import OfflineServer
from tests.browser.support import CHROMIUM, launch_chromium
from tests.storage.conftest import make_database_url


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = str(item.path).replace("\\", "/")
        if "tests/hosting/test_two_servers" in path:
            item.add_marker(pytest.mark.postgres)
        if any(
            f"tests/hosting/{name}" in path
            for name in ("test_two_servers", "test_oidc_browser", "test_first")
        ):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def postgres_url(tmp_path):
    """A fresh, empty schema in the `test` database at 127.0.0.1:5432 (skips when none answers)."""
    yield from make_database_url("postgresql", tmp_path)


@pytest.fixture
def offline():
    """One offline model both app servers talk to, so the test can count what reached it."""
    with OfflineServer.start(host="127.0.0.1", port=0, tokens_per_second=0, ttft_ms=0) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("python playwright is not installed (pip install -r requirements-dev.txt)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
