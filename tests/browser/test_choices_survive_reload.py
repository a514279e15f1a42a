"""What a person chose is what every reload, tab and app server shows; their line breaks are kept.

Two app servers share one database, as a hosted demo behind a proxy does. Each step is followed by a
reload (and a look from the other server): a reload shows what was really saved, not what one browser
session remembered.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import API_KEY
from tests.browser.support import AppServer, ChatPage, make_conversation, sqlite_url

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory, keyed_offline):
    """Two app servers on one SQLite file, talking to the same offline model."""
    shared = tmp_path_factory.mktemp("shared-db") / "prism.db"
    env = {
        "PRISM_API_BASE_URL": keyed_offline.base_url,
        "PRISM_API_KEY": API_KEY,
        "PRISM_DATABASE_URL": sqlite_url(shared),
    }
    servers = [AppServer(tmp_path_factory.mktemp(f"server-{n}"), env=env) for n in (1, 2)]
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


KEPT = "Kept: the conversation continues from this one"


def kept_card(chat: ChatPage, message: int = 1):
    """The candidate card marked kept in a multi-candidate reply (the innermost column that holds the
    mark: ancestors come first in document order)."""
    return chat.messages.nth(message).get_by_test_id("stColumn").filter(has_text=KEPT).last


def test_the_kept_candidate_and_the_follow_up_show_on_reload_and_on_the_other_server(two_servers, page):
    first, second = two_servers
    database = first.extra_env["PRISM_DATABASE_URL"]
    conversation = make_conversation(database, params={"n": 3, "temperature": 1.8}, title="Candidates")

    chat = ChatPage(page, first.url).open(conversation)
    chat.send("describe sampling")
    keep = page.get_by_role("button", name="Keep this one")
    expect(keep).to_have_count(2, timeout=60_000)
    chat.wait_idle()
    expect(kept_card(chat)).to_contain_text("Candidate 1")
    keep.first.click()  # candidate 2's
    expect(kept_card(chat)).to_contain_text("Candidate 2")
    chat.wait_idle()

    page.reload()
    chat.wait_ready()
    expect(kept_card(chat)).to_contain_text("Candidate 2")  # not back at candidate 1
    chat.send("go on from the second one")
    expect(chat.messages).to_have_count(4, timeout=60_000)
    chat.wait_idle()

    for url in (first.url, second.url):
        ChatPage(page, url).open(conversation)
        expect(chat.messages).to_have_count(4)
        expect(chat.messages.nth(2)).to_contain_text("go on from the second one")
        expect(kept_card(chat)).to_contain_text("Candidate 2")


def test_an_older_version_continued_stays_shown_on_reload_and_on_the_other_server(two_servers, page):
    first, second = two_servers
    chat = ChatPage(page, first.url).open()
    chat.send("original question")
    chat.wait_reply_done()
    conversation = chat.conversation_id()
    chat.messages.first.get_by_role("button", name=re.compile("Edit")).click()
    box = page.get_by_label("Edit your message")
    box.fill("edited question")
    page.get_by_role("button", name="Send edited").click()
    chat.sent_after = 0
    chat.wait_reply_done()
    expect(chat.messages.first).to_contain_text("edited question")
    chat.messages.first.get_by_role("button", name="‹").click()
    expect(chat.messages.first).to_contain_text("original question", timeout=30_000)
    expect(chat.messages).to_have_count(2, timeout=30_000)
    chat.wait_idle()  # the run that drew the older version is over before the next message is typed
    chat.send("continue the original")
    chat.wait_reply_done()

    for url in (first.url, second.url):
        ChatPage(page, url).open(conversation)
        expect(chat.messages).to_have_count(4)
        expect(chat.messages.first).to_contain_text("original question")
        expect(chat.messages.first).to_contain_text("1/2")
        expect(chat.messages.nth(2)).to_contain_text("continue the original")


def test_line_breaks_typed_in_a_message_are_shown(two_servers, page):
    first, _ = two_servers
    chat = ChatPage(page, first.url).open()
    chat.input.fill("line one\nline two")
    chat.input.press("Enter")
    chat.wait_reply_done()
    page.reload()
    chat.wait_ready()
    shown = chat.messages.first.get_by_test_id("stText").inner_text()
    assert shown.splitlines() == ["line one", "line two"]


def test_settings_set_in_the_box_survive_closing_it_and_a_reload(two_servers, keyed_offline, page):
    """The box's fields are drawn only while it is open, and opening or closing it reruns only the box
    (a fragment): what was typed in them is still what is sent, and what a reload shows."""
    first, second = two_servers
    chat = ChatPage(page, first.url).open()
    box = page.get_by_text("System prompt and parameters")
    temperature = page.get_by_role("spinbutton", name="Temperature")
    system = page.get_by_role("textbox", name="System prompt", exact=True)
    expect(temperature).to_have_count(0)  # a closed box draws none of its fields
    box.click()
    system.fill("Answer in one sentence.")
    temperature.fill("0.4")
    temperature.press("Enter")
    chat.wait_idle()
    box.click()  # closed again
    expect(temperature).to_have_count(0)
    chat.wait_idle()

    chat.send("What does top_p do?")
    chat.wait_reply_done()
    body = keyed_offline.received[-1]["body"]
    assert body["temperature"] == 0.4
    assert body["messages"][0] == {"role": "system", "content": "Answer in one sentence."}

    conversation = chat.conversation_id()
    for url in (first.url, second.url):
        ChatPage(page, url).open(conversation)
        box.click()
        expect(temperature).to_have_value("0.40")
        expect(system).to_have_value("Answer in one sentence.")
