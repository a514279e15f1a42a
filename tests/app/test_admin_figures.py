"""The admin page's figures add up, and single-user `none` mode has no admin page.

- Usage per person and day: prompt + answer + thinking tokens = tokens, whichever way the provider
  counted thinking (Gemini on top of completion, OpenAI inside it), for rows written through the
  ledger and for a real reply with thinking sent through the page.
- In `none` mode the Admin page is neither in the navigation nor shown when its address is asked for.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import open_database, repository, session_factory, usage
from tests.app.hosting_support import ANN, BOB, password_secrets, sign_in

ROOT = Path(__file__).resolve().parents[2]


def test_the_token_columns_add_up_with_thinking_counted_either_way(app_env, new_app, monkeypatch, tmp_path):
    monkeypatch.setenv("PRISM_AUTH_MODE", "password")
    at = new_app()
    at.secrets.update(password_secrets())
    bob = sign_in(at.run(), "bob", BOB)
    bob.chat_input[0].set_value("think about prism").run()  # a real reply, for a real ledger row
    make_session = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    now = datetime.now(UTC)
    with make_session() as session:
        bob_row = repository.ensure_user(session, "bob", method="password")  # the bob who signed in
        # Gemini: thinking on top of completion. OpenAI: thinking inside completion.
        usage.record_usage(
            session,
            bob_row,
            prompt_tokens=10,
            completion_tokens=20,
            reasoning_tokens=30,
            total_tokens=60,
            at=now,
        )
        usage.record_usage(
            session,
            bob_row,
            prompt_tokens=10,
            completion_tokens=50,
            reasoning_tokens=30,
            total_tokens=60,
            at=now,
        )
        real = usage.usage_totals(
            session, bob_row, since=now.replace(hour=0, minute=0, second=0, microsecond=0)
        )
        session.commit()

    at = new_app()
    at.secrets.update(password_secrets())
    ann = sign_in(at.run(), "ann", ANN)
    ann.switch_page("views/admin.py").run()
    table = ann.dataframe[0].value
    assert "thinking tokens" in table.columns
    [bob_today] = table.to_dict("records")
    assert bob_today["tokens"] == real.tokens
    assert (
        bob_today["prompt tokens"] + bob_today["answer tokens"] + bob_today["thinking tokens"]
        == bob_today["tokens"]
    )
    assert bob_today["thinking tokens"] >= 60


def test_split_completion_reads_both_shapes():
    assert usage.split_completion(10, 20, 30, 60) == (20, 30)  # Gemini
    assert usage.split_completion(10, 50, 30, 60) == (20, 30)  # OpenAI
    assert usage.split_completion(10, 20, 0, 30) == (20, 0)


def test_none_mode_does_not_list_the_admin_page(app_env, new_app):
    at = new_app().run()
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/admin.py")


def test_none_mode_shows_nothing_at_the_admin_page_itself(app_env):
    from streamlit.testing.v1 import AppTest

    page = AppTest.from_file(
        str(ROOT / "views" / "admin.py"), default_timeout=30
    ).run()  # the page's own guard
    assert [t.value for t in page.title] != ["Admin"]
    assert not page.dataframe
    assert any("hosted demo" in e.value for e in page.error)
