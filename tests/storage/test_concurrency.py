"""Concurrent writers: 8 threads x 200 commits on one SQLite file, with no "database is locked".

The trap being tested is SQLite's: a transaction that reads, then writes, after another writer has
committed fails at once whatever the busy timeout (see storage/database.py). PostgreSQL runs the same
code with 50 writes per thread, enough to show it too holds, without doubling the suite's run time."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from storage import repository as r
from storage.models import Message

THREADS = 8
WRITES = 200


def test_eight_threads_write_two_hundred_times_each(session_maker, alice, engine):
    writes = WRITES if engine.dialect.name == "sqlite" else 50
    with session_maker() as s:
        convs = [r.create_conversation(s, alice, title=f"thread {i}").id for i in range(THREADS)]
        s.commit()
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def writer(index: int) -> None:
        try:
            start.wait()
            with session_maker() as s:
                parent = None
                for n in range(writes):
                    # read-then-write in one transaction: the pattern that trips SQLite's lock upgrade
                    r.get_conversation(s, alice, convs[(index + n) % THREADS])
                    m = r.add_message(
                        s, alice, convs[index], role="user", content=f"{index}:{n}", parent_id=parent
                    )
                    parent = m.id
                    s.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_maker() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == THREADS * writes
        path = r.active_path(s, alice, convs[3])
        assert [m.content for m in path] == [f"3:{n}" for n in range(writes)]
