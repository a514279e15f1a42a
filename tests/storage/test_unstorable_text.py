"""Text no database can store as it is (NUL, lone surrogates) is stored losslessly, the same way on
SQLite and PostgreSQL, wherever a person's or a model's text is saved (storage/storable.py).

Every value is read back in a fresh session, so what is checked is what the database holds, not what
the session remembers.
"""

from __future__ import annotations

import json

import pytest

from storage import compare as compare_store
from storage import interchange, presets, sharing, storable
from storage import repository as r
from storage.models import Message, User

HARD = [
    "nul \x00 in the middle",
    "\x00",
    "a lone high surrogate \ud800 and a low one \udfff",
    "the escape character itself \U0010fffd000000 and \U0010fffd",
    "text that looks escaped: \U0010fffd00d800",
    "ordinary text, émoji 🙂, and a backslash-u: \\u0000",
]


@pytest.mark.parametrize("text", HARD)
def test_escape_is_undone_exactly(text):
    assert storable.unescape(storable.escape(text)) == text
    assert "\x00" not in storable.escape(text)
    storable.escape(text).encode("utf-8")  # no lone surrogate is left to fail the driver


def test_text_without_unstorable_characters_is_stored_as_it_is():
    plain = "ordinary text, émoji 🙂, and a backslash-u: \\u0000"
    assert storable.escape(plain) is plain
    assert storable.dumps({"a": plain}) == json.dumps({"a": plain})


def fresh_user(session_maker, user):
    session = session_maker()
    return session, session.get(User, user.id)


@pytest.mark.parametrize("text", HARD)
def test_messages_titles_and_replies_saved_while_streaming_keep_every_character(
    session_maker, session, alice, text
):
    conv = r.create_conversation(session, alice, title=text[:60], system_prompt=text, params={"stop": [text]})
    q = r.add_message(session, alice, conv.id, role="user", content=text)
    reply = r.start_reply(session, alice, conv.id, parent_id=q.id, request_body={"messages": [text]})
    session.commit()
    r.grow_reply(session, alice, reply.id, content=text, thought=text)
    session.commit()
    with session_maker() as s:
        assert s.get(Message, reply.id).content == text  # the streaming save, from the database
    r.finish_reply(session, alice, reply.id, status="error", content=text + text, error=text)
    r.rename_conversation(session, alice, conv.id, text[:50])
    session.commit()
    s, me = fresh_user(session_maker, alice)
    with s:
        again = r.get_conversation(s, me, conv.id)
        assert (again.title, again.system_prompt, again.params) == (text[:50], text, {"stop": [text]})
        path = r.active_path(s, me, conv.id)
        assert [m.content for m in path] == [text, text + text]
        assert (path[1].thought, path[1].error, path[1].request_body) == (text, text, {"messages": [text]})


@pytest.mark.parametrize("text", HARD[:3])
def test_presets_compare_runs_and_results_keep_every_character(session_maker, session, alice, text):
    preset = presets.create_preset(
        session, alice, kind="system", name="p " + text, system_prompt=text, description=text
    )
    run = compare_store.create_compare_run(
        session, alice, prompt=text, title=text, columns=[{"label": text, "params": {text: text}}]
    )
    result = compare_store.start_result(session, alice, run.id, column_index=0, prompt=text)
    session.commit()
    compare_store.grow_result(session, alice, result.id, content=text)
    session.commit()
    compare_store.finish_result(session, alice, result.id, status="complete", content=text)
    session.commit()
    s, me = fresh_user(session_maker, alice)
    with s:
        p = presets.get_preset(s, me, preset.id)
        assert (p.name, p.system_prompt, p.description) == ("p " + text, text, text)
        again = compare_store.get_compare_run(s, me, run.id)
        assert (again.title, again.prompt, again.columns) == (
            text,
            text,
            [{"label": text, "params": {text: text}}],
        )
        assert [(x.prompt, x.content) for x in again.results] == [(text, text)]


def test_a_lookup_by_a_value_holding_nul_finds_nothing_rather_than_failing(session, alice):
    assert sharing.open_share_link(session, "tok\x00en") is None
    assert r.search_conversations(session, alice, "a\x00b \ud800") == []
    presets.create_preset(session, alice, kind="system", name="with \x00 nul")
    with pytest.raises(ValueError):  # the same name is found again, so it is refused as used
        presets.create_preset(session, alice, kind="system", name="with \x00 nul")


def test_an_import_holding_nul_round_trips(session_maker, session, alice):
    doc = json.dumps(
        [{"role": "user", "content": "before\u0000after"}, {"role": "assistant", "content": "ok"}]
    )
    [conv] = interchange.import_conversations(session, alice, doc)
    session.commit()
    s, me = fresh_user(session_maker, alice)
    with s:
        assert [m.content for m in r.active_path(s, me, conv.id)] == ["before\x00after", "ok"]
        exported = json.loads(interchange.export_json(s, me, [conv.id]))
    assert exported["conversations"][0]["messages"][0]["content"] == "before\x00after"
