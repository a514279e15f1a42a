"""The very first request a fresh app server gets cannot skip the sign-in gate.

Why: with a `pages/` folder beside app.py (where the pages lived until they moved to views/),
Streamlit runs the first script runs of a process with its old folder-based navigation, until app.py
has called st.navigation once. A first visitor who asked for /admin or /shared directly then ran that
page without app.py and its gate. Each page therefore also checks the signed-in person itself; this
test asks a fresh server for those pages first, in a real browser.
"""

from __future__ import annotations

import contextlib

from playwright.sync_api import expect

import passwords
from tests.browser.support import AppServer

WAIT = 30_000


def test_a_fresh_server_shows_nothing_private_to_a_first_visitor(tmp_path, offline, browser):
    from storage import open_database, repository, session_factory, sharing

    database_url = f"sqlite:///{tmp_path / 'prism.db'}"
    make_session = session_factory(open_database(database_url))
    with make_session() as session:
        ann = repository.ensure_user(session, "ann", role="admin", method="password")
        conversation = repository.create_conversation(session, ann, title="Ann's private board notes")
        repository.add_message(
            session, ann, conversation.id, role="user", content="Ann's private board notes"
        )
        link = sharing.create_share_link(session, ann, conversation_id=conversation.id)
        session.commit()
        token = link.token
    secrets = (
        f'[auth]\nmode = "password"\nadmins = ["ann"]\n[auth.users]\nann = "{passwords.hash_password("x")}"\n'
    )
    env = {
        "PRISM_DATABASE_URL": database_url,
        "PRISM_API_BASE_URL": offline.base_url,
        "PRISM_AUTH_MODE": "password",
    }
    for path in ("admin", f"shared?token={token}", "shared"):
        with contextlib.ExitStack() as stack:
            server = AppServer(tmp_path / path.split("?")[0], env=env, secrets=secrets)
            stack.callback(server.stop)
            server.start()
            context = stack.enter_context(contextlib.closing(browser.new_context()))
            page = context.new_page()
            page.goto(server.url + path)
            # The run has finished: the status widget is gone and something was drawn.
            expect(page.get_by_test_id("stApp")).to_be_visible(timeout=WAIT)
            expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=WAIT)
            expect(
                page.locator("[data-testid='stMain'] [data-testid='stElementContainer']").first
            ).to_be_attached(timeout=WAIT)
            shown = page.get_by_test_id("stMain").inner_text()
            assert "board notes" not in shown, (path, shown)
            assert "Usage" not in shown and "All share links" not in shown, (path, shown)
