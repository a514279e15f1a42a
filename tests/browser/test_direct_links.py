"""A page opened by its own address goes through app.py like one opened from the navigation.

Was a bug: the page scripts lived in a folder named `pages/`, which Streamlit also treats as its older
automatic multipage folder. When the first run after the server started was a direct load of /compare
(or /admin, /shared?token=...: a bookmark or a share link opened after a restart), Streamlit ran that
file on its own, without app.py: no page config, no sign-in gate, and the sidebar listed the raw file
names. The pages now live in views/.
"""

from __future__ import annotations

import pytest

from tests.browser.support import AppServer, ChatPage, sqlite_url

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect


def test_a_direct_link_to_compare_shows_the_apps_navigation(tmp_path, page):
    server = AppServer(tmp_path, env={"PRISM_DATABASE_URL": sqlite_url(tmp_path / "prism.db")}).start()
    try:
        page.goto(server.url + "compare")  # the first run of this server process
        ChatPage(page, server.url).wait_idle()
        check_navigation(page)
    finally:
        server.stop()


def check_navigation(page) -> None:
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Shared links")).to_have_count(1, timeout=5_000)
    expect(nav.get_by_role("link", name="app", exact=True)).to_have_count(0, timeout=1_000)
