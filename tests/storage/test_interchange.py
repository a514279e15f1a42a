"""Export and import: JSON (OpenAI messages format) and Markdown, one conversation or all, round trips
without loss; malformed files are refused with a clear message and change nothing."""

from __future__ import annotations

import base64
import json
import re

import pytest

from storage import interchange
from storage import repository as r
from storage.interchange import ImportRefused

from .images_for_tests import jpeg_with_exif, png_bytes

TRICKY = (
    'Text with <!-- prism-message {"id": 9} --> inside,\n### a fake heading\n\n'
    "![x](data:nope)\r\nand ünïcödé -->"
)


@pytest.fixture
def rich(session, alice):
    """Two conversations exercising every field: branches, images, tools, statuses, odd text."""
    c = r.create_conversation(
        session,
        alice,
        title="Everything -> all at once",
        system_prompt="You are terse.\nVery terse.",
        params={"temperature": 0.5, "response_format": {"type": "json_object"}},
        endpoint="google",
        model="gemini-2.5-flash",
    )
    q = r.add_message(
        session,
        alice,
        c.id,
        role="user",
        content="Look:",
        images=[(png_bytes(), "a.png"), (jpeg_with_exif(), "b.jpg")],
    )
    a1 = r.start_reply(session, alice, c.id, parent_id=q.id, request_body={"model": "m", "stream": True})
    r.finish_reply(
        session,
        alice,
        a1.id,
        status="length",
        content=TRICKY,
        thought="thinking...",
        finish_reason="length",
        usage={"prompt_tokens": 3, "completion_tokens": 4},
        timings={"ttft_s": 0.25},
        logprobs=[{"token": "T", "logprob": -0.5, "top": [["T", -0.5], ["A", -1.5]]}],
    )
    calls = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    a2 = r.add_message(session, alice, c.id, role="assistant", content="", parent_id=q.id, tool_calls=calls)
    t = r.add_message(session, alice, c.id, role="tool", content="42", parent_id=a2.id, tool_call_id="c1")
    branch_img = r.add_message(
        session,
        alice,
        c.id,
        role="user",
        content="",
        parent_id=a1.id,
        images=[(png_bytes(color=(0, 9, 0)), "g.png")],
    )
    err = r.start_reply(session, alice, c.id, parent_id=t.id, request_body={}, candidate_index=2)
    r.finish_reply(session, alice, err.id, status="error", content="par", error="The server said 500.")
    r.pin_conversation(session, alice, c.id)
    d = r.create_conversation(session, alice, title="Second")
    r.add_message(session, alice, d.id, role="user", content="hello")
    r.archive_conversation(session, alice, d.id)
    session.commit()
    return c, d, branch_img


def _without_stamp(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "exported_at"}


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_export_import_round_trip_is_lossless(session, alice, bob, rich, fmt):
    export = interchange.export_json if fmt == "json" else interchange.export_markdown
    before = interchange.export_dict(session, alice)
    data = export(session, alice)
    imported = interchange.import_conversations(session, bob, data)
    session.commit()
    assert len(imported) == 2
    after = interchange.export_dict(session, bob, [c.id for c in imported])
    assert _without_stamp(after) == _without_stamp(before)
    # And the Markdown or JSON of the copy is the same text again, stamp aside.
    again = export(session, bob, [c.id for c in imported])
    stamp = re.compile(r'"exported_at": ?"[^"]*"')
    assert stamp.sub("", again) == stamp.sub("", data)


def test_one_conversation_exports_alone(session, alice, rich):
    _c, d, _ = rich
    doc = json.loads(interchange.export_json(session, alice, [d.id]))
    assert [x["title"] for x in doc["conversations"]] == ["Second"]


def test_json_messages_are_plain_openai_format(session, alice, rich):
    c, _d, _ = rich
    doc = interchange.export_dict(session, alice, [c.id])["conversations"][0]
    messages = doc["messages"]
    assert messages[0] == {"role": "system", "content": "You are terse.\nVery terse."}
    user = messages[1]
    assert user["role"] == "user" and user["content"][0] == {"type": "text", "text": "Look:"}
    assert [p["image_url"]["url"][:22] for p in user["content"][1:]] == [
        "data:image/png;base64,",
        "data:image/jpeg;base64",
    ]
    assert messages[2]["tool_calls"][0]["id"] == "c1" and messages[3] == {
        "role": "tool",
        "content": "42",
        "tool_call_id": "c1",
    }
    allowed = {"role", "content", "tool_calls", "tool_call_id"}
    assert all(set(m) <= allowed for m in messages)
    # The image only on a side branch travels in the images table, once.
    assert len(doc["images"]) == 1


def test_markdown_is_readable(session, alice, rich):
    md = interchange.export_markdown(session, alice)
    assert "# Everything -> all at once" in md
    assert "### User\n\nLook:" in md and "### Assistant (error)" in md
    assert "![image 1](data:image/png;base64," in md


def test_plain_openai_message_list_imports_as_one_conversation(session, alice):
    png = base64.b64encode(png_bytes()).decode()
    messages = [
        {"role": "system", "content": "Be nice."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
            ],
        },
        {"role": "assistant", "content": "A red rectangle."},
    ]
    for data in (json.dumps(messages), json.dumps({"messages": messages})):
        [conv] = interchange.import_conversations(session, alice, data)
        path = r.active_path(session, alice, conv.id)
        assert conv.system_prompt == "Be nice." and conv.title == "What is in this picture?"
        assert [(m.role, m.content) for m in path] == [
            ("user", "What is in this picture?"),
            ("assistant", "A red rectangle."),
        ]
        assert path[0].attachments[0].width == 40


def _tree_doc() -> dict:
    return {
        "format": "prism-conversations",
        "version": 1,
        "conversations": [
            {
                "title": "ok",
                "messages": [],
                "tree": [{"id": 1, "parent": None, "role": "user", "content": "fine"}],
            },
            {
                "title": "bad",
                "messages": [],
                "tree": [{"id": 1, "parent": None, "role": "user", "content": "x"}],
            },
        ],
    }


def _break(path: str, value):
    def apply(doc):
        node = doc["conversations"][1]["tree"][0]
        node[path] = value
        return doc

    return apply


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ("", "empty"),
        ("{not json", "not valid JSON"),
        (b"\xff\xfe\x00bad", "UTF-8"),
        ("42", "must be an object"),
        (json.dumps({"hello": 1}), "neither"),
        (json.dumps({"format": "other", "conversations": []}), "format"),
        (json.dumps({"format": "prism-conversations", "version": 99, "conversations": []}), "version"),
        (json.dumps(_break("role", "robot")(_tree_doc())), "conversations[1].tree[0].role"),
        (json.dumps(_break("parent", 7)(_tree_doc())), "parent"),
        (json.dumps(_break("status", "done")(_tree_doc())), "status"),
        (json.dumps(_break("content", 5)(_tree_doc())), "content must be text"),
        (json.dumps(_break("usage", "lots")(_tree_doc())), "usage"),
        (json.dumps(_break("images", ["abc"])(_tree_doc())), "image the file does not contain"),
        (
            json.dumps(
                [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
                    }
                ]
            ),
            "data URLs",
        ),
        (
            json.dumps(
                [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image_url", "image_url": {"url": "data:image/png;base64,aGVsbG8="}}
                        ],
                    }
                ]
            ),
            "not an image",
        ),
        (json.dumps([{"role": "wizard", "content": "hi"}]), "role"),
        (json.dumps([]), "no messages"),
        ("# Some notes\n\nJust markdown.", "not exported by Prism"),
    ],
)
def test_malformed_import_is_refused_and_changes_nothing(session, alice, data, says):
    existing = r.create_conversation(session, alice, title="before")
    session.commit()
    with pytest.raises(ImportRefused) as err:
        interchange.import_conversations(session, alice, data)
    assert says in err.value.message
    session.rollback()
    assert [c.id for c in r.list_conversations(session, alice)] == [existing.id]


def test_damaged_markdown_is_refused(session, alice, rich):
    md = interchange.export_markdown(session, alice)
    cut = md.replace("Look:", "Look")  # text no longer matches its recorded length
    with pytest.raises(ImportRefused) as err:
        interchange.import_conversations(session, alice, cut)
    assert err.value.message.startswith("Line ")


def test_imported_streaming_reply_becomes_interrupted(session, alice):
    doc = _tree_doc()
    doc["conversations"] = doc["conversations"][:1]
    doc["conversations"][0]["tree"][0].update(role="assistant", status="streaming")
    [conv] = interchange.import_conversations(session, alice, json.dumps(doc))
    assert r.active_path(session, alice, conv.id)[0].status == "interrupted"


def test_exporting_someone_elses_conversation_is_not_found(session, alice, bob, rich):
    c, _d, _ = rich
    with pytest.raises(r.NotFound):
        interchange.export_json(session, bob, [c.id])
    assert interchange.export_dict(session, bob)["conversations"] == []
    assert interchange.conversation_to_dict(session, bob, c.id) is None
