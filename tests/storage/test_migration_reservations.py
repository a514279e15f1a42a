"""The reservations migration: a database at the evaluations revision, with usage rows in it, upgrades
to head on both engines; every old row keeps its counts and gets no reservation, so quotas read the
same totals as before, and new rows can reserve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from storage import database, migrations, open_database, session_factory, usage
from storage.models import UsageEvent, User
from turns import quota

BEFORE = "0005_evaluations"
DAY = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_usage_rows_keep_their_counts_and_get_no_reservation(empty_db_url):
    engine = database._create_engine(empty_db_url)
    migrations.upgrade(engine, BEFORE)
    stamp = DAY.replace(tzinfo=None) if engine.dialect.name == "sqlite" else DAY
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, identity, display_name, role, created_at) "
                "VALUES (7, 'ann', 'Ann', 'user', :t)"
            ),
            {"t": stamp},
        )
        for event_id, tokens in ((1, 120), (2, 80)):
            conn.execute(
                text(
                    "INSERT INTO usage_events (id, user_id, created_at, kind, model, requests, "
                    "prompt_tokens, completion_tokens, reasoning_tokens, total_tokens, message_id) "
                    "VALUES (:id, 7, :t, 'chat', 'gemini-2.5-flash', 1, 10, :c, 0, :total, NULL)"
                ),
                {"id": event_id, "t": stamp, "c": tokens - 10, "total": tokens},
            )
        if engine.dialect.name == "postgresql":
            for table in ("users", "usage_events"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 100)"))
    engine.dispose()

    engine = open_database(empty_db_url)
    assert migrations.current_revision(engine) == migrations.head_revision()
    make_session = session_factory(engine)
    with make_session() as s:
        rows = list(s.scalars(select(UsageEvent).order_by(UsageEvent.id)))
        assert [(e.total_tokens, e.reserved_tokens, e.reserved_until) for e in rows] == [
            (120, 0, None),
            (80, 0, None),
        ]
        ann = s.get(User, 7)
        assert usage.usage_totals(s, ann, since=DAY - timedelta(hours=1), now=DAY).tokens == 200
    limits = quota.Limits(tokens_per_day=1000)
    quota.admit(make_session, 7, limits, reserve=800, now=DAY)
    with make_session() as s:
        assert usage.usage_totals(s, s.get(User, 7), since=DAY - timedelta(hours=1), now=DAY).tokens == 1000
