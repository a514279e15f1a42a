"""What every test shares: a clean configuration, one offline model, fresh databases, one chromium.

A developer's shell or checkout must not change what a test sees, so before each test every `PRISM_*`
variable is removed and Streamlit's secrets point at an empty file (a `.streamlit/secrets.toml` in the
checkout or in the home folder is never read); a test sets what it needs with `monkeypatch.setenv`
or `AppTest.secrets`. The fixtures here are the ones several test folders need:

- `offline`: one unpaced offline model on loopback for the whole session (a real HTTP server);
- `db_url` and the fixtures built on it (`engine`, `session_maker`, `session`, `alice`, `bob`): a fresh
  database migrated to head for each test, once on SQLite and once on PostgreSQL (tests/databases.py);
  `empty_db_url` and `postgres_url` for tests that migrate for themselves;
- `browser`: one headless chromium per test file (tests/browser/support.py says why per file).

Folders keep fixtures that only they need, and a folder that needs a different kind of one (an
offline model of its own per test, for counting what reached it) defines it under the same name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from streamlit import config as streamlit_config
from streamlit.runtime.secrets import Secrets

from offline_model.runner import OfflineServer
from storage import close_database, open_database, repository, session_factory
from storage.models import User
from tests.browser.support import launch_chromium, missing_browser
from tests.databases import ENGINES, close_postgres_schemas, make_database_url


@pytest.fixture(scope="session")
def _empty_secrets(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "secrets.toml"
    path.write_text("")
    return path


@pytest.fixture(autouse=True)
def _configuration_from_the_test_only(monkeypatch, _empty_secrets) -> Iterator[None]:
    """No `PRISM_*` variable and no secrets file from outside the test reaches it."""
    for name in [name for name in os.environ if name.startswith("PRISM_")]:
        monkeypatch.delenv(name)
    before = streamlit_config.get_option("secrets.files")
    streamlit_config.set_option("secrets.files", [str(_empty_secrets)])
    # A fresh st.secrets, read from the empty file, as AppTest itself swaps st.secrets in and out.
    monkeypatch.setattr(streamlit, "secrets", Secrets())
    yield
    streamlit_config.set_option("secrets.files", before)


@pytest.fixture(scope="session")
def offline() -> Iterator[OfflineServer]:
    """One offline model for the session, as fast as it can go."""
    with OfflineServer.start(host="127.0.0.1", port=0, tokens_per_second=0, ttft_ms=0) as server:
        yield server


# -- databases ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _postgres_schemas_cleanup() -> Iterator[None]:
    yield
    close_postgres_schemas()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated to head once per run; each test gets its own copy (same schema and
    seeded rows as a fresh migration, without running Alembic two hundred times)."""
    path = tmp_path_factory.mktemp("template") / "prism.db"
    url = f"sqlite:///{path}"
    open_database(url)
    close_database(url)
    return path


@pytest.fixture(params=ENGINES)
def db_url(request, tmp_path, sqlite_template) -> Iterator[str]:
    """A fresh database at head, once per engine."""
    yield from make_database_url(request.param, tmp_path, sqlite_template)


@pytest.fixture(params=ENGINES)
def empty_db_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database (no tables at all), once per engine."""
    yield from make_database_url(request.param, tmp_path)


@pytest.fixture
def postgres_url(tmp_path) -> Iterator[str]:
    """A fresh, empty schema in the `test` database at 127.0.0.1:5432 (skips when none answers)."""
    yield from make_database_url("postgresql", tmp_path)


@pytest.fixture
def engine(db_url: str) -> Engine:
    return open_database(db_url)


@pytest.fixture
def session_maker(db_url: str) -> sessionmaker[Session]:
    # From the URL, not the `engine` fixture: the turn tests have an `engine` of their own (turns.engine).
    return session_factory(open_database(db_url))


@pytest.fixture
def session(session_maker: sessionmaker[Session]) -> Iterator[Session]:
    with session_maker() as s:
        yield s


@pytest.fixture
def alice(session: Session) -> User:
    user = repository.ensure_user(session, "alice@example.com", "Alice")
    session.commit()
    return user


@pytest.fixture
def bob(session: Session) -> User:
    user = repository.ensure_user(session, "bob@example.com", "Bob")
    session.commit()
    return user


# -- chromium ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    """One chromium per test file; each test opens its own context (cookies, session, tabs).

    Not per session: Playwright's sync API keeps an asyncio loop running on the main thread while it
    is open, and every later test that runs a loop of its own (the async client, the compare turns,
    the hosting tests' own Playwright) would fail with "another loop is running".
    """
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
