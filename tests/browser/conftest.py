"""Fixtures for the browser journeys: real app servers, real offline models, Debian's chromium.

Every test here is marked `browser` and is skipped, with the reason, when /usr/bin/chromium or Playwright
is missing. App servers are shared where a journey does not care what else ran on them (each test still
gets its own browser context, so its own Streamlit session and a new conversation); a journey that kills
or reconfigures its server starts its own. See tests/browser/support.py for the machinery; `browser`
(one chromium per file) comes from the root conftest.py.
"""

from __future__ import annotations

import pytest

from offline_model.runner import OfflineServer
from tests.browser.support import AppServer, missing_browser, sqlite_url

API_KEY = "sk-prism-browser-test-7f3a9c2e5b1d4068a2c4e6f8"
# The in-app offline model's pace for journeys that must see a reply grow (tokens per second).
IN_APP_TOKENS_PER_SECOND = "25"
# The external offline model's pace for journeys that must act mid-reply (Stop, SIGKILL).
SLOW_TOKENS_PER_SECOND = 8.0


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _needs_chromium():
    """Skip before any server starts: autouse session fixtures are set up first."""
    reason = missing_browser()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.set_default_timeout(30_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture(scope="session")
def keyed_offline():
    """An offline model that demands the API key, as fast as it can go."""
    with OfflineServer.start(api_key=API_KEY, tokens_per_second=0, ttft_ms=0) as server:
        yield server


@pytest.fixture(scope="session")
def slow_offline():
    """An offline model paced slowly enough to act in the middle of a reply."""
    with OfflineServer.start(tokens_per_second=SLOW_TOKENS_PER_SECOND, ttft_ms=50) as server:
        yield server


@pytest.fixture(scope="session")
def keyed_app(tmp_path_factory, keyed_offline):
    """An app configured with an API key, talking to the keyed offline model."""
    folder = tmp_path_factory.mktemp("keyed-app")
    server = AppServer(
        folder,
        env={
            "PRISM_API_BASE_URL": keyed_offline.base_url,
            "PRISM_API_KEY": API_KEY,
            "PRISM_DATABASE_URL": sqlite_url(folder / "prism.db"),
        },
    )
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
def first_run_app(tmp_path_factory):
    """An app as a fresh machine runs it: no base URL, no key, a new database; the in-app offline model."""
    folder = tmp_path_factory.mktemp("first-run-app")
    server = AppServer(
        folder,
        env={
            "PRISM_DATABASE_URL": sqlite_url(folder / "data" / "prism.db"),
            "PRISM_OFFLINE_TOKENS_PER_SECOND": IN_APP_TOKENS_PER_SECOND,
            "PRISM_OFFLINE_TTFT_MS": "100",
        },
    )
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
def slow_app(tmp_path_factory, slow_offline):
    """An app talking to the slow offline model (no key), for acting mid-reply."""
    folder = tmp_path_factory.mktemp("slow-app")
    server = AppServer(
        folder,
        env={
            "PRISM_API_BASE_URL": slow_offline.base_url,
            "PRISM_DATABASE_URL": sqlite_url(folder / "prism.db"),
        },
    )
    yield server.start()
    server.stop()
