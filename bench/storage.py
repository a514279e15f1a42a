"""Benchmark: storage at the size of a busy team's history.

Builds a database of 10,000 conversations and 200,000 messages (one user owns 9,000 of the
conversations, another the rest, so every query has someone else's rows to skip), with one
1,000-message conversation, then times through the repository functions the pages call:

- list:   the 50 most recent conversations (pinned first)            goal on SQLite <= 10 ms
- open:   get_conversation + active_path of the 1,000-message chat   goal on SQLite <= 50 ms
- search: search_conversations for a word in ~0.5% of messages       goal on SQLite <= 50 ms
- append: add_message + commit                                       goal on SQLite <= 5 ms

Each figure is the median (and 95th percentile) of --rounds runs, each in a fresh session, as a
page rerun would do. Rows are loaded with bulk INSERTs (the schema, triggers and indexes are the
real ones from the migrations); the timed operations go through storage.repository.

    .venv/bin/python bench/storage.py [--engines sqlite,postgresql] [--conversations 10000]
        [--messages 200000] [--rounds 50] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from storage import close_database, open_database, session_factory
from storage import repository as r
from storage.models import Conversation, Message

GOALS_MS = {"list": 10, "open": 50, "search": 50, "append": 5}
VOCABULARY = 6000
SEARCH_WORD = "w0600"  # rank 600 of a Zipf vocabulary: in roughly half a percent of messages


WORDS = [f"w{i:04d}" for i in range(VOCABULARY)]


def words(rng: random.Random, n: int, cum_weights: list[float]) -> str:
    return " ".join(rng.choices(WORDS, cum_weights=cum_weights, k=n))


def populate(engine, conversations: int, messages: int, seed: int = 7) -> tuple[int, int, int]:
    """Fill the database; returns (bench user id, id of the 1,000-message conversation, a small one)."""
    rng = random.Random(seed)
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(VOCABULARY)))
    session = session_factory(engine)()
    owner = r.ensure_user(session, "bench@example.com", "Bench")
    other = r.ensure_user(session, "other@example.com", "Other")
    session.commit()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    conv_rows = []
    for i in range(conversations):
        at = start + timedelta(minutes=i)
        conv_rows.append(
            {
                "user_id": owner.id if i % 10 else other.id,
                "title": words(rng, 4, weights).capitalize(),
                "system_prompt": "",
                "params": {"temperature": 0.7},
                "endpoint": "default",
                "model": "gemini-2.5-flash",
                "pinned": i % 997 == 0,
                "archived": i % 50 == 0,
                "created_at": at,
                "updated_at": at,
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(Conversation), conv_rows)
    with session_factory(engine)() as s:
        conv_ids = sorted(s.scalars(Conversation.__table__.select().with_only_columns(Conversation.id)))
        owners = dict(
            s.execute(
                Conversation.__table__.select().with_only_columns(Conversation.id, Conversation.user_id)
            ).all()
        )
    big = next(c for c in conv_ids if owners[c] == owner.id)
    small = next(c for c in reversed(conv_ids) if owners[c] == owner.id)
    per_conv = {c: (messages - 1000) // (len(conv_ids) - 1) for c in conv_ids}
    per_conv[big] = 1000
    left = messages - sum(per_conv.values())
    for c in [c for c in conv_ids if c != big][:left]:
        per_conv[c] += 1
    batch: list[dict] = []
    next_id = 1
    for c in conv_ids:
        parent = None
        for n in range(per_conv[c]):
            at = start + timedelta(seconds=next_id)
            batch.append(
                {
                    "id": next_id,
                    "conversation_id": c,
                    "parent_id": parent,
                    "role": "user" if n % 2 == 0 else "assistant",
                    "content": words(rng, rng.randint(15, 80), weights),
                    "status": "complete",
                    "candidate_index": 0,
                    "usage": {"prompt_tokens": 10, "completion_tokens": 40} if n % 2 else None,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            parent = next_id
            next_id += 1
        if len(batch) >= 20_000:
            with engine.begin() as conn:
                conn.execute(insert(Message), batch)
            batch = []
    if batch:
        with engine.begin() as conn:
            conn.execute(insert(Message), batch)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('messages', 'id'), (SELECT max(id) FROM messages))"
            )
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    session.close()
    return owner.id, big, small


def timed(fn, rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each round. CPU time is what the operation costs this
    process; on a busy machine wall time adds the wait for a core (and, on PostgreSQL, the server)."""
    fn()  # warm caches, as a running app has
    wall, cpu = [], []
    for _ in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return wall, cpu


def run(url: str, label: str, conversations: int, messages: int, rounds: int) -> dict:
    t0 = time.perf_counter()
    engine = open_database(url)
    user_id, big, small = populate(engine, conversations, messages)
    took = time.perf_counter() - t0
    print(f"{label}: built {conversations:,} conversations / {messages:,} messages in {took:.0f} s")
    Session = session_factory(engine)

    def listing():
        with Session() as s:
            convs = r.list_conversations(s, s.get(r.User, user_id), limit=50)
            assert len(convs) == 50

    def opening():
        with Session() as s:
            user = s.get(r.User, user_id)
            assert r.get_conversation(s, user, big) is not None
            path = r.active_path(s, user, big)
            assert len(path) == 1000

    hits = []

    def searching():
        with Session() as s:
            found = r.search_conversations(s, s.get(r.User, user_id), SEARCH_WORD)
            hits.append(len(found))

    parent = {"id": None}

    def appending():
        with Session() as s:
            m = r.add_message(
                s, s.get(r.User, user_id), small, role="user", content="one more line", parent_id=parent["id"]
            )
            s.commit()
            parent["id"] = m.id

    with Session() as s:
        parent["id"] = r.active_path(s, s.get(r.User, user_id), small)[-1].id
    results = {
        "list": timed(listing, rounds),
        "open": timed(opening, rounds),
        "search": timed(searching, rounds),
        "append": timed(appending, rounds),
    }
    print(f"  (search for {SEARCH_WORD!r} returned {hits[-1]} conversations, limit 50)")
    return results


def report(label: str, results: dict[str, tuple[list[float], list[float]]], goals: bool) -> None:
    print(f"  load average while measuring: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    for name, (wall, cpu) in results.items():
        median = statistics.median(wall)
        p95 = statistics.quantiles(wall, n=20)[18] if len(wall) >= 20 else max(wall)
        verdict = "met" if median <= GOALS_MS[name] else "MISSED"
        goal = f"  goal <= {GOALS_MS[name]} ms {verdict}" if goals else ""
        print(
            f"  {label:<10} {name:<7} median {median:7.2f} ms   p95 {p95:7.2f} ms   "
            f"cpu median {statistics.median(cpu):7.2f} ms{goal}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for engine_name in args.engines.split(","):
        if engine_name == "sqlite":
            folder = tempfile.mkdtemp(prefix="prism-bench-")
            url = f"sqlite:///{folder}/bench.db"
            results = run(url, "SQLite", args.conversations, args.messages, args.rounds)
            report("SQLite", results, goals=True)
            close_database(url)
        elif engine_name == "postgresql":
            import psycopg

            schema = f"prism_bench_{uuid.uuid4().hex[:8]}"
            plain = args.pg_url.replace("postgresql+psycopg://", "postgresql://")
            try:
                with psycopg.connect(plain, autocommit=True, connect_timeout=3) as conn:
                    conn.execute(f'CREATE SCHEMA "{schema}"')
            except psycopg.OperationalError as exc:
                print(f"PostgreSQL: skipped, no server answers at {args.pg_url} ({exc})")
                continue
            url = f"{args.pg_url}?options=-csearch_path%3D{schema}"
            try:
                results = run(url, "PostgreSQL", args.conversations, args.messages, args.rounds)
                report("PostgreSQL", results, goals=False)
            finally:
                close_database(url)
                with psycopg.connect(plain, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        else:
            parser.error(f"unknown engine {engine_name!r}")


if __name__ == "__main__":
    main()
