"""Bad input a browser must prove harmless: HTML and script in a reply, a title, a system prompt and a
shared page, and an image larger than the upload limit.

AppTest can show that the page passes such text to markdown; only a browser shows whether a script ran
or an element was injected. The hostile conversation is written straight into the app's database (as an
import or a past reply would leave it), then opened in chromium as its chat page and as a share link.
"""

from __future__ import annotations

import pytest

from tests.browser.support import ChatPage, stored_messages

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

HOSTILE = (
    "<script>window.__xss = 'script'</script>"
    "<img src=x onerror=\"window.__xss = 'img'\">"
    "<iframe src=\"javascript:window.__xss='iframe'\"></iframe>"
    '<b id="injected">bold</b>'
)


def hostile_conversation(database_url: str) -> tuple[int, str]:
    """A conversation whose title, system prompt, question and reply all carry HTML and script; and a
    share link to it."""
    from storage import open_database, repository, session_factory, sharing

    make_session = session_factory(open_database(database_url))
    with make_session() as session:
        user = repository.ensure_user(session, "local", display_name="You", role="admin")
        conversation = repository.create_conversation(
            session, user, title="Title " + HOSTILE, system_prompt="System " + HOSTILE
        )
        question = repository.add_message(
            session, user, conversation.id, role="user", content="Question " + HOSTILE
        )
        repository.add_message(
            session,
            user,
            conversation.id,
            role="assistant",
            content="Reply " + HOSTILE,
            parent_id=question.id,
        )
        link = sharing.create_share_link(session, user, conversation_id=conversation.id)
        session.commit()
        return conversation.id, link.token


def assert_inert(page) -> None:
    """Nothing ran and nothing was injected; the text is still there for a person to read."""
    assert page.evaluate("window.__xss") is None
    assert page.locator("#injected").count() == 0
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("iframe[src^='javascript']").count() == 0
    scripts = page.evaluate("[...document.scripts].filter(s => s.text.includes('__xss')).length")
    assert scripts == 0


def test_html_and_script_in_reply_title_system_prompt_and_shared_page_stay_text(keyed_app, page):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    conversation_id, token = hostile_conversation(keyed_app.extra_env["PRISM_DATABASE_URL"])

    chat = ChatPage(page, keyed_app.url).open(conversation_id)
    page.get_by_text("System prompt and parameters").click()
    chat.wait_idle()
    expect(page.get_by_role("textbox", name="System prompt")).to_have_value("System " + HOSTILE)
    expect(chat.messages).to_have_count(2)
    expect(chat.messages.first).to_contain_text("Question")
    expect(chat.reply()).to_contain_text("Reply")
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Title")
    assert_inert(page)
    chat.screenshot("bad-input-html-in-chat")

    page.goto(f"{keyed_app.url}shared?token={token}")
    expect(page.get_by_text("A read-only copy")).to_be_visible()
    chat.wait_idle()
    expect(page.get_by_test_id("stMain")).to_contain_text("Reply")
    assert_inert(page)
    assert dialogs == []
    chat.screenshot("bad-input-html-in-shared-page")


def test_an_image_over_the_upload_limit_is_refused_in_the_browser(keyed_app, page, tmp_path):
    chat = ChatPage(page, keyed_app.url).open()
    huge = tmp_path / "huge.png"  # 30 MB: a path, so chromium reads it itself
    huge.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(30 * 1024 * 1024))
    page.get_by_test_id("stChatInput").locator('input[type="file"]').set_input_files([huge])
    expect(page.get_by_test_id("stChatInput")).to_contain_text("huge.png")
    chat.screenshot("bad-input-30mb-image")  # the chip is marked in error; the file is not uploaded
    chat.send("Here is a huge picture.")
    chat.wait_reply_done()
    saved = stored_messages(keyed_app.extra_env["PRISM_DATABASE_URL"], chat.conversation_id())
    assert saved[0]["content"] == "Here is a huge picture."
    assert saved[0]["images"] == [], "the file over the limit never reached the server"
    assert saved[1]["status"] == "complete"
