"""The sidebar's Import, end to end: a file it cannot take is refused in plain words naming the problem
(never a traceback), its limits come from the settings, and a slow import shows a progress bar."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest


def import_file(at, name: str, data: bytes):
    at.file_uploader(key="chat.import_file").upload(name, data, "application/json").run()
    at.button(key="chat.import_btn").click().run()
    assert not at.exception, at.exception
    return at


def errors(at) -> str:
    return " ".join(e.value for e in at.error)


@pytest.mark.parametrize(
    "data, words",
    [
        (b"[" * 100_000 + b"]" * 100_000, "levels deep"),
        (b'[{"role": "user", "content": "\\ud800"}]', "half of a UTF-16 character pair"),
        (b'[{"role": "user", "content": "a"}]' * 2, "not valid JSON"),
    ],
    ids=["deep", "surrogate", "two-documents"],
)
def test_a_file_import_cannot_take_is_refused_in_plain_words(app_env, new_app, data, words):
    at = import_file(new_app().run(), "chats.json", data)
    assert "Nothing was imported: " in errors(at) and words in errors(at)


def test_the_import_limits_come_from_the_settings(app_env, new_app, monkeypatch):
    monkeypatch.setenv("PRISM_IMPORT_MAX_MESSAGES", "3")
    monkeypatch.setenv("PRISM_IMPORT_MAX_MB", "1")
    messages = [{"role": "user", "content": str(i)} for i in range(4)]
    at = import_file(new_app().run(), "four.json", json.dumps(messages).encode())
    assert "holds 4 messages; Prism imports up to 3 at once" in errors(at)
    at = import_file(
        new_app().run(), "big.json", json.dumps([{"role": "user", "content": "x" * 2**21}]).encode()
    )
    assert "The file is 2.0 MB; Prism imports files of up to 1.0 MB" in errors(at)
    at = import_file(new_app().run(), "three.json", json.dumps(messages[:3]).encode())
    assert not at.error


def progress_script():
    import streamlit as st

    from components.conversation_list import ProgressAfter

    now = [0.0]
    bar = ProgressAfter(1.0, clock=lambda: now[0])
    now[0] = st.session_state.get("elapsed", 0.0)
    bar.update("Saving", 50, 100)
    if st.session_state.get("finish"):
        bar.done()


def test_the_progress_bar_appears_only_after_a_second_and_goes_when_done():
    at = AppTest.from_function(progress_script)
    at.session_state["elapsed"] = 0.9
    assert not at.run().get("progress")  # a quick import shows no bar
    at.session_state["elapsed"] = 1.5
    [bar] = at.run().get("progress")
    assert bar.proto.value == 50 and "Saving 50 of 100 messages" in bar.proto.text
    at.session_state["finish"] = True
    assert not at.run().get("progress")
