"""Migrations: a database made at the first revision, filled, then upgraded to head keeps everything;
the models match what the migrations build; open_database tunes SQLite and is one engine per URL."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage import database, migrations, open_database, presets, session_factory
from storage import repository as r
from storage.models import Base, Conversation

from .images_for_tests import png_bytes

FIRST = "0001_core"


def _fill_at_first_revision(engine) -> None:
    """Rows written with plain SQL, the way version 0001 of the app would have written them."""
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    stamp = now.replace(tzinfo=None) if engine.dialect.name == "sqlite" else now
    image = png_bytes()

    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, identity, display_name, role, created_at) "
                "VALUES (1, 'old@example.com', 'Old', 'user', :t)"
            ),
            {"t": stamp},
        )
        conn.execute(
            text(
                "INSERT INTO conversations (id, user_id, title, system_prompt, params, endpoint, model, "
                "pinned, archived, created_at, updated_at) VALUES (1, 1, 'Old chat about zeppelins', "
                "'Be kind', :p, 'default', 'gemini-2.5-flash', :f, :f, :t, :t)"
            ),
            {"p": json.dumps({"temperature": 0.3}), "f": False, "t": stamp},
        )
        for mid, parent, role, content, status in (
            (1, None, "user", "How do airships float?", "complete"),
            (2, 1, "assistant", "Lifting gas such as helium is lighter than air.", "complete"),
            (3, 1, "assistant", "Buoyancy, half writ", "streaming"),
        ):
            conn.execute(
                text(
                    "INSERT INTO messages (id, conversation_id, parent_id, role, content, status, "
                    "candidate_index, usage, created_at, updated_at) "
                    "VALUES (:id, 1, :parent, :role, :content, :status, 0, :usage, :t, :t)"
                ),
                {
                    "id": mid,
                    "parent": parent,
                    "role": role,
                    "content": content,
                    "status": status,
                    "usage": json.dumps({"prompt_tokens": 4}) if role == "assistant" else None,
                    "t": stamp,
                },
            )
        conn.execute(
            text(
                "INSERT INTO attachments (id, user_id, sha256, mime, data, thumbnail, thumbnail_mime, "
                "width, height, size, filename, created_at) "
                "VALUES (1, 1, :sha, 'image/png', :data, :data, 'image/png', 40, 30, :size, 'ship.png', :t)"
            ),
            {"sha": hashlib.sha256(image).hexdigest(), "data": image, "size": len(image), "t": stamp},
        )
        conn.execute(
            text("INSERT INTO message_attachments (message_id, attachment_id, position) VALUES (1, 1, 0)")
        )
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table in ("users", "conversations", "messages", "attachments"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 100)"))


def test_database_from_first_revision_upgrades_with_everything_in_it(empty_db_url):
    db_url = empty_db_url
    engine = database._create_engine(db_url)
    migrations.upgrade(engine, FIRST)
    assert migrations.current_revision(engine) == FIRST
    _fill_at_first_revision(engine)
    engine.dispose()

    engine = open_database(db_url)  # what the app does at start-up: upgrade to head
    assert migrations.current_revision(engine) == migrations.head_revision() != FIRST
    with session_factory(engine)() as s:
        user = r.ensure_user(s, "old@example.com", method="oidc")  # an e-mail: an OIDC account
        assert user.id == 1 and user.display_name == "Old"
        [conv] = r.list_conversations(s, user)
        assert conv.params == {"temperature": 0.3} and conv.system_prompt == "Be kind"
        assert conv.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        path = r.active_path(s, user, conv.id)
        assert [m.id for m in path] == [1, 3]
        assert path[1].status == "interrupted"  # left streaming by the old version's process
        assert path[0].attachments[0].filename == "ship.png"
        by_id = {m.id: m for m in r.conversation_messages(s, user, conv.id)}
        assert by_id[2].parent_id == by_id[3].parent_id  # two versions of one reply
        # The search index covers rows written before it existed.
        assert [c.id for c in r.search_conversations(s, user, "helium")] == [conv.id]
        assert [c.id for c in r.search_conversations(s, user, "zeppelin")] == [conv.id]
        # Seeded presets arrive with the upgrade; new rows get fresh ids after the old ones.
        names = {p.name for p in presets.list_presets(s, user)}
        assert {"Deterministic", "Creative", "JSON output"} <= names
        reply = r.add_message(s, user, conv.id, role="user", content="And blimps?", parent_id=3)
        assert reply.id > 3
        s.commit()


def test_models_match_the_migrated_schema(engine):
    def include(obj, name, type_, reflected, compare_to):
        # The search index lives outside the models (an FTS5 table and its shadow tables on SQLite;
        # on PostgreSQL the stored search_vector column, its GIN index and the title's expression
        # index); alembic's own table is not a model either.
        return not (name or "").startswith(
            (
                "messages_fts",
                "conversations_fts",
                "ix_messages_content_fts",
                "ix_conversations_title_fts",
                "search_vector",
                "ix_messages_search_vector",
            )
        )

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_downgrade_to_first_and_back_up(empty_db_url):
    db_url = empty_db_url
    engine = open_database(db_url)
    migrations.downgrade(engine, FIRST)
    assert migrations.current_revision(engine) == FIRST
    migrations.upgrade(engine)
    assert migrations.current_revision(engine) == migrations.head_revision()


def test_open_database_is_one_engine_per_url_and_reruns_nothing(db_url):
    first = open_database(db_url)
    assert open_database(db_url) is first


def test_sqlite_is_tuned_for_a_web_app(tmp_path):
    url = f"sqlite:///{tmp_path}/deep/er/prism.db"  # the folder is created
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        database.close_database(url)


def test_foreign_keys_are_enforced(session, alice):
    conv = r.create_conversation(session, alice)
    session.commit()
    session.add(
        Conversation(user_id=10**6, title="orphan", system_prompt="", params={}, endpoint="", model="")
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    assert r.get_conversation(session, alice, conv.id) is not None


def test_in_memory_sqlite_works_for_demos_and_tests():
    url = "sqlite://"
    try:
        make = session_factory(open_database(url))
        with make() as s:
            user = r.ensure_user(s, "demo")
            conv = r.create_conversation(s, user, title="in memory")
            s.commit()
        with make() as s:  # another session (and thread-safe pool) sees the same database
            assert r.get_conversation(s, user, conv.id).title == "in memory"
    finally:
        database.close_database(url)


def test_upgrading_from_evaluations_keeps_runs_and_clears_request_runs_left_in_compare(empty_db_url):
    """Before 0009 an evaluation sent its requests through a column-less compare run titled
    "... (requests)"; a crash left it in the Compare page. The upgrade removes only those."""
    engine = database._create_engine(empty_db_url)
    migrations.upgrade(engine, "0005_evaluations")
    now = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    stamp = now.replace(tzinfo=None) if engine.dialect.name == "sqlite" else now
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, identity, display_name, role, created_at) "
                "VALUES (1, 'ann', 'Ann', 'user', :t)"
            ),
            {"t": stamp},
        )
        for run_id, title, columns in (
            (1, "Capitals (requests)", []),  # left behind by a crashed evaluation
            (2, "What is 2+2?", [{"label": "a"}, {"label": "b"}]),  # a person's comparison
            (3, "My notes (requests)", [{"label": "a"}, {"label": "b"}]),  # a person's, titled alike
        ):
            conn.execute(
                text(
                    "INSERT INTO compare_runs (id, user_id, title, prompt, history, columns, repeats, "
                    "created_at, updated_at) VALUES (:id, 1, :title, 'p', :h, :c, 1, :t, :t)"
                ),
                {"id": run_id, "title": title, "h": "[]", "c": json.dumps(columns), "t": stamp},
            )
            conn.execute(
                text(
                    "INSERT INTO compare_results (run_id, column_index, repeat_index, turn_index, "
                    "candidate_index, prompt, content, status, created_at, updated_at) "
                    "VALUES (:id, 0, 0, 0, 0, 'p', 'a reply', 'complete', :t, :t)"
                ),
                {"id": run_id, "t": stamp},
            )
        conn.execute(
            text(
                "INSERT INTO eval_runs (id, user_id, title, suite, settings, repeats, status, reviews, "
                "created_at, updated_at) VALUES (1, 1, 'Capitals', :s, :st, 1, 'finished', :r, :t, :t)"
            ),
            {
                "s": json.dumps({"prompt": "{{q}}", "tests": [{"vars": {"q": "x"}}]}),
                "st": "[]",
                "r": "[]",
                "t": stamp,
            },
        )
        conn.execute(
            text(
                "INSERT INTO eval_cells (run_id, case_index, setting_index, repeat_index, passed, data, "
                "updated_at) VALUES (1, 0, 0, 0, :p, :d, :t)"
            ),
            {"p": True, "d": json.dumps({"case": 0, "setting": 0, "repeat": 0, "state": "done"}), "t": stamp},
        )
        if engine.dialect.name == "postgresql":
            for table in ("users", "compare_runs", "eval_runs"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 100)"))


def test_a_database_at_0005_upgrades_and_its_messages_are_found_by_search(empty_db_url):
    """The stored search column (PostgreSQL) is computed for the rows already there at the upgrade."""
    engine = database._create_engine(empty_db_url)
    migrations.upgrade(engine, FIRST)
    _fill_at_first_revision(engine)  # plain SQL, as an old version wrote it
    migrations.upgrade(engine, "0005_evaluations")
    engine.dispose()

    engine = open_database(empty_db_url)
    assert migrations.current_revision(engine) == migrations.head_revision()
    with session_factory(engine)() as s:
        user = r.ensure_user(s, "old@example.com", method="oidc")  # an e-mail: an OIDC account
        (conv,) = r.search_conversations(s, user, "helium")  # written before the upgrade
        assert conv.title and r.search_conversations(s, user, "zeppelin") == [conv]
        leaf = r.active_path(s, user, conv.id)[-1]
        r.add_message(s, user, conv.id, role="user", content="and hydrogen?", parent_id=leaf.id)
        s.commit()
        assert [c.id for c in r.search_conversations(s, user, "hydrogen")] == [conv.id]


def test_a_database_at_0008_upgrades_and_its_outline_comes_from_the_new_index(empty_db_url):
    """0010 adds the outline's covering index and the index of streaming rows over rows already
    there: the branch is found as before, a dead stream is still settled, and the outline is read
    from the index alone (no table row visited) on both engines."""
    engine = database._create_engine(empty_db_url)
    migrations.upgrade(engine, FIRST)
    _fill_at_first_revision(engine)  # plain SQL, as an old version wrote it
    migrations.upgrade(engine, "0008_search_index")
    engine.dispose()

    engine = open_database(empty_db_url)
    assert migrations.current_revision(engine) == migrations.head_revision() == "0010_message_skeleton"
    with session_factory(engine)() as s:
        user = r.ensure_user(s, "old@example.com", method="oidc")
        (conv,) = r.list_conversations(s, user)
        assert r.conversation_outline(s, user, conv.id) == [(1, None, 0), (2, 1, 0), (3, 1, 0)]
        path = r.active_path(s, user, conv.id)
        assert [(m.id, m.status) for m in path] == [(1, "complete"), (3, "interrupted")]
        s.commit()
    outline = "SELECT id, parent_id, candidate_index FROM messages WHERE conversation_id = 1 ORDER BY id"
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + outline))
            assert "COVERING INDEX ix_messages_outline" in plan and "TEMP B-TREE" not in plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # three rows: make the planner show its index
            plan = " ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + outline))
            assert "Index Only Scan using ix_messages_outline" in plan
