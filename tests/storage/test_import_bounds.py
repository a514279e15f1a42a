"""Import refuses, naming the problem, what it cannot take (deep nesting, lone surrogates, a file or a
message count over the limits) and writes nothing; what it takes it writes in bulk, reporting progress."""

from __future__ import annotations

import json

import pytest

from storage import interchange
from storage import repository as r
from storage.interchange import MAX_DEPTH, ImportLimits, ImportRefused


def chat(n: int) -> list[dict]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i}"} for i in range(n)]


def refused(session, user, data, **kwargs) -> str:
    with pytest.raises(ImportRefused) as caught:
        interchange.import_conversations(session, user, data, **kwargs)
    session.rollback()
    assert r.count_conversations(session, user) == 0  # nothing was written
    return caught.value.message


def test_json_nested_past_what_python_can_read_is_refused_as_too_deep(session, alice):
    message = refused(session, alice, "[" * 200_000 + "]" * 200_000)
    assert f"more than {MAX_DEPTH} levels deep" in message


def test_json_nested_deeper_than_any_export_is_refused_before_anything_is_stored(session, alice):
    deep: object = "bottom"
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    doc = [{"role": "assistant", "content": "x", "tool_calls": [{"id": "1", "deep": deep}]}]
    assert f"more than {MAX_DEPTH} levels deep" in refused(session, alice, json.dumps(doc))


def test_a_markdown_comment_nested_too_deep_is_refused_with_its_line(session, alice):
    conv = r.create_conversation(session, alice, title="t")
    r.add_message(session, alice, conv.id, role="user", content="hi")
    session.commit()
    text = interchange.export_markdown(session, alice, [conv.id])
    r.delete_conversation(session, alice, conv.id)
    session.commit()
    deep = "[" * 5000 + "]" * 5000
    text = text.replace('<!-- prism-message {"id":1,', f'<!-- prism-message {{"deep":{deep},"id":1,', 1)
    message = refused(session, alice, text)
    assert message.startswith("Line ") and "levels deep" in message


@pytest.mark.parametrize(
    "doc, where",
    [
        ('[{"role": "user", "content": "half a pair: \\ud800"}]', "[0].content"),
        ('{"messages": [{"role": "user", "content": "x"}], "title": "\\udfff"}', "title"),
    ],
    ids=["content", "title"],
)
def test_a_lone_surrogate_is_refused_naming_where_it_is(session, alice, doc, where):
    message = refused(session, alice, doc)
    assert "half of a UTF-16 character pair" in message and where in message


def test_a_raw_lone_surrogate_in_text_handed_over_is_refused(session, alice):
    assert "UTF-16" in refused(session, alice, '[{"role": "user", "content": "\ud800"}]')


def test_a_proper_surrogate_pair_is_an_ordinary_character(session, alice):
    [conv] = interchange.import_conversations(
        session, alice, '[{"role": "user", "content": "\\ud83d\\ude00"}]'
    )
    assert r.active_path(session, alice, conv.id)[0].content == "😀"


def test_a_file_over_the_size_limit_is_refused_with_both_sizes(session, alice):
    data = json.dumps(chat(1500)).encode()
    message = refused(session, alice, data, limits=ImportLimits(max_bytes=50_000))
    assert f"The file is {len(data) / 1024:.0f} KB" in message and "files of up to 49 KB" in message


@pytest.mark.parametrize("shape", ["openai", "prism", "markdown"])
def test_too_many_messages_are_refused_with_the_count_and_the_limit(session, alice, shape):
    conv = r.create_conversation(session, alice, title="t")
    parent = None
    for i in range(5):
        parent = r.add_message(session, alice, conv.id, role="user", content=str(i), parent_id=parent).id
    session.commit()
    data = {
        "openai": lambda: json.dumps(chat(5)),
        "prism": lambda: interchange.export_json(session, alice, [conv.id]),
        "markdown": lambda: interchange.export_markdown(session, alice, [conv.id]),
    }[shape]()
    r.delete_conversation(session, alice, conv.id)
    session.commit()
    message = refused(session, alice, data, limits=ImportLimits(max_messages=4))
    assert "holds 5 messages; Prism imports up to 4 at once" in message
    [again] = interchange.import_conversations(session, alice, data, limits=ImportLimits(max_messages=5))
    assert len(r.active_path(session, alice, again.id)) == 5


def test_the_default_limits_are_twenty_megabytes_and_twenty_thousand_messages():
    assert ImportLimits() == ImportLimits(max_bytes=20 * 1024 * 1024, max_messages=20_000)


def test_a_long_import_reports_its_progress_up_to_the_whole(session, alice):
    heard: list[tuple[str, int, int]] = []
    n = interchange.BATCH * 2 + 5
    [conv] = interchange.import_conversations(
        session, alice, json.dumps(chat(n)), progress=lambda *told: heard.append(told)
    )
    session.commit()
    assert heard[0] == ("Saving", 0, n) and heard[-1] == ("Saving", n, n)
    assert [done for _, done, _ in heard] == sorted(done for _, done, _ in heard) and len(heard) >= 4
    path = r.active_path(session, alice, conv.id)
    assert [m.content for m in path] == [f"message {i}" for i in range(n)]  # parents linked in order


def test_text_longer_than_its_column_is_refused_the_same_on_both_engines(session, alice):
    doc = {"title": "x" * 501, "messages": [{"role": "user", "content": "hi"}]}
    assert "title is longer than the 500 characters Prism keeps there" in refused(
        session, alice, json.dumps(doc)
    )
    call = [{"role": "tool", "tool_call_id": "c" * 201, "content": "{}"}]
    assert "tool_call_id is longer than the 200 characters" in refused(session, alice, json.dumps(call))
    doc["title"] = "x" * 500
    assert interchange.import_conversations(session, alice, json.dumps(doc))[0].title == "x" * 500


def test_a_number_too_long_to_read_is_refused(session, alice):
    message = refused(session, alice, '[{"role": "user", "content": "x", "n": ' + "9" * 5000 + "}]")
    assert message == "The file holds a number longer than the 4,300 digits Prism reads."


def test_a_candidate_index_no_column_can_hold_is_refused_on_both_engines(session, alice):
    conv = r.create_conversation(session, alice, title="t")
    r.add_message(session, alice, conv.id, role="user", content="hi")
    session.commit()
    doc = json.loads(interchange.export_json(session, alice, [conv.id]))
    r.delete_conversation(session, alice, conv.id)
    session.commit()
    doc["conversations"][0]["tree"][0]["candidate_index"] = 2**40
    assert "candidate_index must be a whole number from 0 to 2,147,483,647" in refused(
        session, alice, json.dumps(doc)
    )


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_time_that_falls_off_the_calendar_in_utc_is_refused(session, alice, when):
    doc = {"conversations": [{"title": "t", "created_at": when, "tree": []}]}
    assert "created_at" in (message := refused(session, alice, json.dumps(doc)))
    assert "outside the years 1 to 9999 in UTC" in message
