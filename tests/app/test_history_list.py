"""The sidebar's history list as a person reads it: pinned chats first, then the rest under Today,
Yesterday, Previous 7 days and Older, each row a title and how long ago; new chats get short titles
that tell them apart."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

from storage import open_database, repository, session_factory


def shown(markdown: str) -> str:
    """What a label's markdown reads as on screen (the renderer escapes signs like parentheses)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def sidebar_items(at):
    """The sidebar's history, top to bottom: ("group", heading) and ("row", title, time shown)."""
    items = []

    def walk(node):
        for child in getattr(node, "children", {}).values():
            kind = getattr(child, "type", None)
            if kind == "caption" and child.value.startswith("**"):
                items.append(("group", child.value.strip("*")))
            elif kind == "button" and (child.key or "").startswith("chat.open."):
                items.append(("row", shown(child.label)))
            elif kind == "caption" and items and items[-1][0] == "row" and len(items[-1]) == 2:
                items[-1] = (*items[-1], child.value)
            walk(child)

    walk(at.sidebar)
    return items


def add_conversations(rows):
    """Conversations of the local user, each (title, last active, pinned)."""
    make_session = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        for title, when, pinned in rows:
            conversation = repository.create_conversation(session, user, title=title)
            conversation.pinned = pinned
            conversation.updated_at = when
        session.commit()


def test_chats_are_grouped_by_day_with_pinned_first_and_a_relative_time(app_env, new_app):
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = midnight + (now - midnight) / 2  # earlier today, whatever the time now
    add_conversations(
        [
            ("Last month", midnight - timedelta(days=30), False),
            ("Three days ago", midnight - timedelta(days=3) + timedelta(hours=1), False),
            ("Last night", midnight - timedelta(hours=1), False),
            ("This morning", today, False),
            ("Pinned long ago", midnight - timedelta(days=90), True),
            ("Just now", now - timedelta(seconds=5), False),
        ]
    )
    at = new_app().run()
    assert not at.exception, at.exception
    items = sidebar_items(at)
    assert [i[:2] for i in items] == [
        ("group", "Pinned"),
        ("row", "Pinned long ago"),
        ("group", "Today"),
        ("row", "Just now"),
        ("row", "This morning"),
        ("group", "Yesterday"),
        ("row", "Last night"),
        ("group", "Previous 7 days"),
        ("row", "Three days ago"),
        ("group", "Older"),
        ("row", "Last month"),
    ]
    shown = {i[1]: i[2] for i in items if i[0] == "row"}
    assert shown["Just now"] == "now"
    assert shown["Three days ago"] in ("2 d", "3 d")
    last_month = midnight - timedelta(days=30)
    assert shown["Last month"] in (f"{last_month:%-d %b}", f"{last_month:%-d %b %Y}")


def test_new_chats_get_short_titles_unique_within_the_list(app_env, new_app):
    at = new_app().run()
    at.chat_input[0].set_value("Tell me a story about a dragon.").run()
    at.sidebar.button(key="chat.new").click().run()
    at.chat_input[0].set_value("Tell me a story about a dragon.").run()
    at.sidebar.button(key="chat.new").click().run()
    at.chat_input[0].set_value("Tell me a story about a dragon.").run()
    assert not at.exception, at.exception
    assert shown(at.title[0].value) == "Dragon story (3)"
    rows = [i[1] for i in sidebar_items(at) if i[0] == "row"]
    assert rows == ["Dragon story (3)", "Dragon story (2)", "Dragon story"]


def test_a_starter_sent_twice_lists_two_short_titles_the_second_numbered(app_env, new_app):
    at = new_app().run()
    for _ in range(2):
        next(b for b in at.button if b.label == "Temperature demo").click().run()
        assert not at.exception, at.exception
        at.sidebar.button(key="chat.new").click().run()
    rows = [i[1] for i in sidebar_items(at) if i[0] == "row"]
    assert rows == ["What does temperature do (2)", "What does temperature do"]
