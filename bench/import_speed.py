"""Benchmark: importing a long conversation (the sidebar's Import), per engine and file shape.

Builds one linear conversation of --messages messages (about 200 characters each), exports it as a
plain OpenAI message list, a Prism JSON export and a Prism Markdown export, and times
storage.interchange.import_conversations + commit for each, with the import limits off. Before bulk
inserts and linear Markdown reading, 20,000 Markdown messages took 45 s on SQLite.

    .venv/bin/python bench/import_speed.py [--messages 20000] [--engines sqlite,postgresql]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from storage import close_database, interchange, open_database, session_factory
from storage import repository as r

NO_LIMITS = interchange.ImportLimits(max_bytes=None, max_messages=None)


def run(url: str, n: int) -> dict[str, float]:
    make = session_factory(open_database(url))
    chat = [{"role": ("user", "assistant")[i % 2], "content": f"message {i} " * 20} for i in range(n)]
    files = {"openai": json.dumps(chat)}
    with make() as session:
        user = r.ensure_user(session, "bench@example.com")
        [conv] = interchange.import_conversations(session, user, files["openai"], limits=NO_LIMITS)
        session.commit()
        files["prism json"] = interchange.export_json(session, user, [conv.id])
        files["markdown"] = interchange.export_markdown(session, user, [conv.id])
    seconds = {}
    for shape, data in files.items():
        with make() as session:
            user = r.ensure_user(session, "bench@example.com")
            start = time.perf_counter()
            interchange.import_conversations(session, user, data, limits=NO_LIMITS)
            session.commit()
            seconds[shape] = time.perf_counter() - start
    close_database(url)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for engine in args.engines.split(","):
        if engine == "sqlite":
            url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
            seconds = run(url, args.messages)
        else:
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            plain = args.pg_url.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(plain, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            try:
                seconds = run(f"{args.pg_url}?options=-csearch_path%3D{schema}", args.messages)
            finally:
                with psycopg.connect(plain, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        for shape, s in seconds.items():
            print(f"{engine:10} {args.messages:>7,} messages  {shape:10}  {s:6.2f} s")


if __name__ == "__main__":
    main()
