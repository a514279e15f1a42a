"""Fixtures for the multi-server tests: a fresh PostgreSQL schema, an offline model, Debian's chromium.

Two real `streamlit run` processes share one database here, as two app servers behind the proxy of
compose.yaml do. Tests skip, saying why, when PostgreSQL, chromium or Playwright is missing
(`postgres_url` and `browser` come from the root conftest.py).
"""

from __future__ import annotations

import pytest

from offline_model.runner import OfflineServer


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
def offline():
    """One offline model both app servers talk to, so the test can count what reached it (a fresh one
    per test here, unlike the session-wide `offline` of the root conftest.py)."""
    with OfflineServer.start(host="127.0.0.1", port=0, tokens_per_second=0, ttft_ms=0) as server:
        yield server
