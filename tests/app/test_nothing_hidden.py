"""What a person chose or typed is still there after a reload, and a refused write loses nothing.

A "reload" is a fresh AppTest session opening the conversation from its URL, as a reload, a second tab
or another app server would: nothing from the first browser session carries over, only the database.
Driven against the real app and a real offline model on loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from storage import open_database, repository, session_factory
from tests.app.conftest import open_settings

P = "chat.p.new."


def send(at, text):
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception
    return at


def chat(at):
    return [
        (m.name, " ".join([t.value for t in m.text] + [md.value for md in m.markdown]))
        for m in at.chat_message
    ]


def reopen(new_app, at):
    """The same conversation in a new browser session (a reload, a new tab)."""
    again = new_app(all_parameters=True)
    again.query_params["c"] = at.query_params["c"]
    again.run()
    assert not again.exception, again.exception
    return again


def kept_candidate(at) -> int | None:
    """The number of the candidate card that says it is kept (captions are read top to bottom)."""
    current = None
    for caption in at.caption:
        if caption.value.startswith("Candidate "):
            current = int(caption.value.split()[1])
        elif "Kept: the conversation continues from this one" in caption.value:
            return current
    return None


def stored(conversation_id: int):
    make_session = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        return repository.conversation_messages(session, user, conversation_id)


def test_the_kept_candidate_and_the_follow_up_show_after_a_reload(app_env, new_app):
    at = new_app(all_parameters=True).run()
    at.number_input(key=P + "n").set_value(3)
    at.number_input(key=P + "temperature").set_value(1.8)
    send(at, "describe sampling")
    assert kept_candidate(at) == 1
    keep = [b for b in at.button if b.label == "Keep this one"]
    keep[0].click().run()  # the first button left is candidate 2's
    assert kept_candidate(at) == 2

    again = reopen(new_app, at)
    assert kept_candidate(again) == 2, "a reload went back to candidate 1"
    open_settings(again, at.query_params["c"])
    again.number_input(key=next(n.key for n in again.number_input if n.key.endswith(".n"))).set_value(None)
    send(again, "go on from the second one")
    second = next(m for m in stored(int(at.query_params["c"])) if m.candidate_index == 1)
    assert app_env.received[-1]["body"]["messages"][1]["content"] == second.content

    third = reopen(new_app, at)
    texts = [text for _, text in chat(third)]
    assert "go on from the second one" in texts, "the follow-up is hidden after a reload"
    assert len(texts) == 4


def test_an_older_version_continued_is_what_a_reload_shows(app_env, new_app):
    at = new_app(all_parameters=True).run()
    send(at, "original question")
    next(b for b in at.button if b.label == "Edit").click().run()
    box = next(t.key for t in at.text_area if t.key.startswith("chat.edit."))
    at.text_area(key=box).set_value("edited question")
    next(b for b in at.button if b.label == "Send edited").click().run()
    assert chat(at)[0][1] == "edited question"
    next(b for b in at.button if b.key and b.key.startswith("chat.prev.")).click().run()
    assert chat(at)[0][1] == "original question"
    send(at, "continue the original")

    again = reopen(new_app, at)
    texts = [text for _, text in chat(again)]
    assert texts[0] == "original question", "a reload jumped to the edited version"
    assert texts[2] == "continue the original", "the continuation is hidden after a reload"
    assert any(c.value == "1/2" for c in again.caption)


def test_a_failed_candidate_shows_its_error_with_retry(app_env, new_app):
    at = new_app(all_parameters=True).run()
    at.number_input(key=P + "n").set_value(2)
    send(at, "tell me about sampling [[fault:error:after=6]]")
    again = reopen(new_app, at)
    rows = [m for m in stored(int(at.query_params["c"])) if m.role == "assistant"]
    assert rows and all(m.status == "error" for m in rows)
    shown = " ".join(e.value for e in again.error)
    assert rows[0].error and rows[0].error in shown, "the saved error is not shown with the candidates"
    assert any(b.label == "Retry" for b in again.button)


def test_line_breaks_in_a_message_are_shown_as_typed(app_env, new_app):
    at = new_app(all_parameters=True).run()
    send(at, "line one\nline two\n\n# not a heading")
    again = reopen(new_app, at)
    user = again.chat_message[0]
    assert [t.value for t in user.text] == ["line one\nline two\n\n# not a heading"]
    assert not list(user.markdown), "the person's own words were read as markdown"


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs for the database, so a test can fill it; skipped where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("filling a disk needs a tmpfs mount, which needs root here")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of the disk with one file; deleting it frees them again."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_keeps_the_message_in_the_box_and_says_so(app_env, new_app, monkeypatch, small_disk):
    monkeypatch.setenv("PRISM_DATABASE_URL", f"sqlite:///{small_disk / 'prism.db'}")
    at = new_app(all_parameters=True).run()
    send(at, "a first message, saved while there is room")
    sent_before = len(app_env.received)
    filler = fill(small_disk)

    long_text = "Twenty thousand characters of careful writing. " * 420
    at.chat_input[0].set_value(long_text).run()
    assert not at.exception, "a traceback reached the page"
    shown = " ".join(e.value for e in at.error)
    assert "Prism could not save your message: the disk is full" in shown
    assert "your text is still in the box" in shown
    box = at.chat_input[0].proto  # what the browser is told to put back in the box
    assert box.set_value and box.value == long_text, "the text left the box"
    assert len(app_env.received) == sent_before, "a message that was not saved was sent"

    filler.unlink()
    at.chat_input[0].set_value(long_text).run()
    assert not at.exception
    assert long_text in [m.content for m in stored(int(at.query_params["c"]))]


def test_a_choice_the_full_disk_refuses_is_shown_and_said_plainly(app_env, new_app, monkeypatch, small_disk):
    monkeypatch.setenv("PRISM_DATABASE_URL", f"sqlite:///{small_disk / 'prism.db'}")
    at = new_app(all_parameters=True).run()
    at.number_input(key=P + "temperature").set_value(1.5)
    send(at, "tell me about top_p")
    next(b for b in at.button if b.label == "Regenerate").click().run()
    second = chat(at)[1][1]
    fill(small_disk)
    next(b for b in at.button if b.key and b.key.startswith("chat.prev.")).click().run()
    assert not at.exception, "a traceback reached the page"
    shown = " ".join(w.value for w in at.warning)
    assert "Prism could not save which version you chose: the disk is full" in shown
    assert chat(at)[1][1] != second, "the chosen version is not shown"
    assert any(c.value == "1/2" for c in at.caption)


def test_an_edit_the_full_disk_refuses_stays_in_the_edit_box(app_env, new_app, monkeypatch, small_disk):
    monkeypatch.setenv("PRISM_DATABASE_URL", f"sqlite:///{small_disk / 'prism.db'}")
    at = new_app(all_parameters=True).run()
    send(at, "original question")
    next(b for b in at.button if b.label == "Edit").click().run()
    box = next(t.key for t in at.text_area if t.key.startswith("chat.edit."))
    edited = "edited question, with care " * 200
    at.text_area(key=box).set_value(edited)
    fill(small_disk)
    next(b for b in at.button if b.label == "Send edited").click().run()
    assert not at.exception, "a traceback reached the page"
    assert "Prism could not save your message: the disk is full" in " ".join(e.value for e in at.error)
    assert at.text_area(key=box).value == edited, "the edited text left the edit box"
    assert not [w for w in at.warning if "Session State" in w.value], "Streamlit warned about the box's value"
