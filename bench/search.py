"""Search at 1,000,000 messages against 200,000, on each engine, in the same run.

Builds two databases with bench/storage.py's generator (20 messages per conversation on average; one
user owns nine conversations in ten; the word searched for is in about half a percent of messages),
then times storage.repository.search_conversations for that word on both, alternating between them,
and prints the medians and their ratio. A search that reads every match grows with the database
(5x the matches here); one that stops once it has its 50 conversations does not. Goal: <= 1.5x.

    .venv/bin/python bench/search.py [--engines sqlite,postgresql] [--small 200000] [--large 1000000]
        [--rounds 30] [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import close_database, open_database, session_factory
from storage import repository as r
from storage.models import User

# bench/storage.py's generator (loaded by path: its module name is the storage package's).
_spec = importlib.util.spec_from_file_location("storage_bench", Path(__file__).with_name("storage.py"))
storage_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(storage_bench)
SEARCH_WORD, populate = storage_bench.SEARCH_WORD, storage_bench.populate

PER_CONVERSATION = 20


def build(url: str, messages: int):
    engine = open_database(url)
    started = time.perf_counter()
    user_id, _, _ = populate(engine, messages // PER_CONVERSATION, messages)
    print(f"  built {messages:,} messages in {time.perf_counter() - started:.0f} s")
    return session_factory(engine), user_id


def search_ms(make_session, user_id: int) -> tuple[float, int]:
    with make_session() as session:
        user = session.get(User, user_id)
        start = time.perf_counter()
        found = r.search_conversations(session, user, SEARCH_WORD)
        return (time.perf_counter() - start) * 1000, len(found)


def compare(label: str, urls: tuple[str, str], sizes: tuple[int, int], rounds: int) -> None:
    print(f"{label}:")
    (small, small_user), (large, large_user) = build(urls[0], sizes[0]), build(urls[1], sizes[1])
    search_ms(small, small_user)  # warm each database's cache, as a running app has
    search_ms(large, large_user)
    times: dict[int, list[float]] = {sizes[0]: [], sizes[1]: []}
    hits = {}
    for _ in range(rounds):
        for size, make_session, user_id in ((sizes[0], small, small_user), (sizes[1], large, large_user)):
            took, hits[size] = search_ms(make_session, user_id)
            times[size].append(took)
    a, b = statistics.median(times[sizes[0]]), statistics.median(times[sizes[1]])
    print(f"  search {SEARCH_WORD!r} at {sizes[0]:>9,} messages: median {a:6.2f} ms ({hits[sizes[0]]} found)")
    print(f"  search {SEARCH_WORD!r} at {sizes[1]:>9,} messages: median {b:6.2f} ms ({hits[sizes[1]]} found)")
    print(f"  ratio {b / a:.2f}x (goal <= 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--small", type=int, default=200_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    sizes = (args.small, args.large)
    for engine_name in args.engines.split(","):
        if engine_name == "sqlite":
            with tempfile.TemporaryDirectory(prefix="prism-search-") as folder:
                urls = (f"sqlite:///{folder}/small.db", f"sqlite:///{folder}/large.db")
                try:
                    compare("SQLite", urls, sizes, args.rounds)
                finally:
                    for url in urls:
                        close_database(url)
        elif engine_name == "postgresql":
            import psycopg

            plain = args.pg_url.replace("postgresql+psycopg://", "postgresql://")
            schemas = [f"prism_search_{uuid.uuid4().hex[:8]}" for _ in sizes]
            try:
                with psycopg.connect(plain, autocommit=True, connect_timeout=3) as conn:
                    for schema in schemas:
                        conn.execute(f'CREATE SCHEMA "{schema}"')
            except psycopg.OperationalError as exc:
                print(f"PostgreSQL: skipped, no server answers at {args.pg_url} ({exc})")
                continue
            urls = tuple(f"{args.pg_url}?options=-csearch_path%3D{schema}" for schema in schemas)
            try:
                compare("PostgreSQL", urls, sizes, args.rounds)
            finally:
                for url in urls:
                    close_database(url)
                with psycopg.connect(plain, autocommit=True) as conn:
                    for schema in schemas:
                        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        else:
            parser.error(f"unknown engine {engine_name!r}")


if __name__ == "__main__":
    main()
