"""Nothing lost: a reply whose process dies mid-stream keeps its saved text and reads as "interrupted";
a reply still growing elsewhere is left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from storage import liveness
from storage import repository as r
from storage.models import Message, utcnow

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys, time
    from storage import open_database, session_factory, repository as r
    Session = session_factory(open_database(sys.argv[1]))
    with Session() as s:
        user = r.ensure_user(s, "alice@example.com")
        conv = r.create_conversation(s, user, title="doomed")
        q = r.add_message(s, user, conv.id, role="user", content="tell me a long story")
        s.commit()  # the user's message is saved before the request goes out
        reply = r.start_reply(s, user, conv.id, parent_id=q.id, request_body={"model": "m"})
        s.commit()
        text = ""
        n = 0
        while True:  # stream forever, saving every token, until killed
            n += 1
            text += f"word{n} "
            r.grow_reply(s, user, reply.id, content=text)
            s.commit()
            if n == 5:
                print(conv.id, reply.id, flush=True)
            time.sleep(0.005)  # the pace of tokens arriving, not a wait for a condition
    """
)


def test_killed_writer_leaves_saved_text_marked_interrupted(db_url, session, alice):
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, db_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        line = child.stdout.readline()
        assert line, "the writer process died before streaming"
        conv_id, reply_id = map(int, line.split())
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL

    conv = r.get_conversation(session, alice, conv_id)
    assert conv is not None
    path = r.active_path(session, alice, conv_id)
    assert [m.role for m in path] == ["user", "assistant"]
    reply = path[-1]
    assert reply.id == reply_id
    assert reply.status == "interrupted"
    assert reply.content.startswith("word1 word2 word3 word4 word5 ")
    session.commit()
    session.expunge_all()
    assert r.get_message(session, alice, reply_id).status == "interrupted"  # saved, not just shown


def test_live_reply_in_this_process_stays_streaming(session, alice):
    conv = r.create_conversation(session, alice)
    reply = r.start_reply(session, alice, conv.id, parent_id=None, request_body={})
    r.grow_reply(session, alice, reply.id, content="so far")
    session.commit()
    assert r.active_path(session, alice, conv.id)[-1].status == "streaming"


def test_reply_from_another_host_goes_interrupted_after_the_staleness_window(session, alice):
    conv = r.create_conversation(session, alice)
    fresh = r.start_reply(session, alice, conv.id, parent_id=None, request_body={})
    stale = r.start_reply(session, alice, conv.id, parent_id=None, request_body={})
    session.commit()
    elsewhere = "other-host|pid:[1]|42|1000"
    old = utcnow() - liveness.STALE_AFTER - timedelta(seconds=1)
    session.execute(update(Message).where(Message.id == fresh.id).values(stream_owner=elsewhere))
    session.execute(
        update(Message).where(Message.id == stale.id).values(stream_owner=elsewhere, updated_at=old)
    )
    session.commit()
    session.expunge_all()
    by_id = {m.id: m.status for m in r.conversation_messages(session, alice, conv.id)}
    assert by_id == {fresh.id: "streaming", stale.id: "interrupted"}


def test_a_live_writer_reclaims_a_reply_marked_interrupted(session, alice):
    conv = r.create_conversation(session, alice)
    reply = r.start_reply(session, alice, conv.id, parent_id=None, request_body={})
    session.execute(update(Message).where(Message.id == reply.id).values(status="interrupted"))
    session.expunge_all()
    r.grow_reply(session, alice, reply.id, content="still here")
    assert r.get_message(session, alice, reply.id).status == "streaming"


def test_dead_pid_on_this_host_is_detected_and_reused_pid_too():
    me = liveness.current_tag()
    assert not liveness.writer_is_dead(me)
    host, ns, pid, start = me.split("|")
    assert liveness.writer_is_dead(f"{host}|{ns}|{pid}|{int(start) + 12345}")  # same pid, other process
    assert not liveness.writer_is_dead(f"elsewhere|{ns}|{pid}|{start}")
    assert not liveness.writer_is_dead(None)
    assert not liveness.writer_is_dead("garbage")
