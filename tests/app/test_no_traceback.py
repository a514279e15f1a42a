"""No page ever shows a traceback: malformed ids in the URL mean "not found" on both engines, and a
failure nobody foresaw becomes a plain sentence with an incident id while the server log keeps the
traceback (components/incidents.py, components/url_ids.py)."""

from __future__ import annotations

import logging
import re
import sqlite3

import pytest
from sqlalchemy import select

from components.url_ids import LARGEST_ID, NO_SUCH_ID, parse_id
from storage import open_database, repository, session_factory
from storage.models import User
from tests.app.conftest import ROOT

BAD_IDS = [
    "99999999999999999999",  # OverflowError on SQLite
    "2147483648",  # integer out of range on PostgreSQL
    str(2**63),
    "-1",
    "0",
    "1e3",
    " 1",
    "１",  # a full-width digit, which int() would read as 1
    "1.0",
    "abc",
    "1\x00",
]


@pytest.mark.parametrize("raw", BAD_IDS)
def test_a_value_that_cannot_name_a_row_reads_as_no_such_id(raw):
    assert parse_id(raw) == NO_SUCH_ID


def test_plain_ids_and_absence_read_as_themselves():
    assert (parse_id("1"), parse_id("0042"), parse_id(str(LARGEST_ID))) == (1, 42, LARGEST_ID)
    assert (parse_id(None), parse_id("")) == (None, None)


def page_text(at) -> str:
    parts = [e.value for kind in (at.error, at.warning, at.markdown, at.caption) for e in kind]
    return " ".join(str(p) for p in parts)


@pytest.mark.parametrize("raw", ["99999999999999999999", "2147483648", "-7", "1e3"])
def test_an_impossible_conversation_id_in_the_url_is_not_found(engine_db_url, new_app, raw):
    at = new_app()
    at.query_params["c"] = raw
    at.run()
    assert not at.exception, at.exception
    assert "That conversation was not found" in " ".join(w.value for w in at.warning)
    assert not at.error


@pytest.mark.parametrize("raw", ["99999999999999999999", "2147483648", "-7", "1e3"])
def test_an_impossible_compare_run_id_in_the_url_is_not_found(engine_db_url, new_app, raw):
    at = new_app().run()
    at.query_params["run"] = raw
    at.switch_page("views/compare.py").run()
    assert not at.exception, at.exception
    assert "That comparison was not found" in " ".join(w.value for w in at.warning)
    assert not at.error


def test_a_database_that_goes_away_under_a_running_page_shows_an_incident_not_a_traceback(
    app_env, new_app, tmp_path, caplog
):
    at = new_app().run()
    assert not at.exception
    with sqlite3.connect(tmp_path / "prism.db") as db:  # someone wipes the tables under the app
        db.execute("ALTER TABLE conversations RENAME TO conversations_gone")
    with caplog.at_level(logging.ERROR, logger="prism.incidents"):
        # A search: the sidebar's list is a cached read, so the page asks the database again now.
        at.text_input(key="chat.search").input("anything").run()
    assert not at.exception, at.exception
    shown = " ".join(e.value for e in at.error)
    found = re.search(r"incident ([0-9a-f]{8})", shown)
    assert found, shown
    assert "Something went wrong on Prism's side" in shown
    for detail in ("conversations", "sqlite", "Traceback", "OperationalError", ".py", "SELECT"):
        assert detail not in shown
    logged = [r for r in caplog.records if found.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the operator finds the traceback by the id


def test_streamlit_is_told_to_show_no_error_details():
    import tomllib

    from streamlit.config import ShowErrorDetailsConfigOptions

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == ShowErrorDetailsConfigOptions.NONE


def test_a_message_holding_nul_is_saved_and_answered_on_both_engines(engine_db_url, new_app, app_env):
    # (A browser cannot send a lone surrogate: the page encodes what it sends as UTF-8.)
    text = "line one\x00line two"
    at = new_app().run()
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception
    assert not at.error
    with session_factory(open_database(engine_db_url))() as session:
        user = session.scalars(select(User)).one()
        [conv] = repository.list_conversations(session, user)
        path = repository.active_path(session, user, conv.id)
    assert path[0].content == text
    assert path[1].status == "complete" and path[1].content
    assert app_env.received[-1]["body"]["messages"][-1]["content"] == text
