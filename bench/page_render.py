"""How long the chat page takes to open a long conversation, against a short one, in the same run.

Builds a fresh SQLite database with one conversation of 5,000 messages and one of 10, then opens each
with Streamlit's AppTest (the real page script, no browser) several times and prints the medians and
their ratio. Goal: at most 1.3x, i.e. the cost is flat in history length, because the page
draws only the latest messages and loads the branch with one query.

    .venv/bin/python bench/page_render.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(url: str, sizes: list[int]) -> list[int]:
    from storage import open_database, repository, session_factory

    make_session = session_factory(open_database(url))
    ids = []
    with make_session() as session:
        user = repository.ensure_user(session, "local", display_name="You", role="admin")
        for size in sizes:
            conversation = repository.create_conversation(session, user, title=f"{size} messages")
            parent = None
            for i in range(size):
                role = "user" if i % 2 == 0 else "assistant"
                text = f"Message {i}: " + "a sentence about sampling temperature and seeds. " * 6
                parent = repository.add_message(
                    session, user, conversation.id, role=role, content=text, parent_id=parent
                ).id
            ids.append(conversation.id)
        session.commit()
    return ids


def open_time(conversation_id: int) -> float:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["c"] = str(conversation_id)
    start = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - start
    assert not at.exception, at.exception
    assert len(at.chat_message) > 0
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        os.environ["PRISM_DATABASE_URL"] = url
        os.environ["PRISM_OFFLINE_TOKENS_PER_SECOND"] = "0"
        short_id, long_id = build(url, [10, 5000])
        open_time(short_id)  # warm up: imports, migrations, the offline model
        short, long = [], []
        for _ in range(args.runs):
            short.append(open_time(short_id))
            long.append(open_time(long_id))
        short_ms, long_ms = statistics.median(short) * 1000, statistics.median(long) * 1000
        print(f"open a 10-message conversation:    median {short_ms:7.1f} ms over {args.runs} runs")
        print(f"open a 5,000-message conversation: median {long_ms:7.1f} ms over {args.runs} runs")
        print(f"ratio long/short: {long_ms / short_ms:.2f}x (goal: at most 1.3x)")


if __name__ == "__main__":
    main()
