"""The machinery the browser journeys and the browser benchmarks share: a real app server and chromium.

Why it exists: AppTest runs the page script in the test's own process and shows only final text; these
journeys need what a person gets, so the app runs as `streamlit run serve.py` (the app behind its security
headers, as the README's first command starts it) in its own process (its own environment, SQLite file
and working folder) and Debian's chromium drives it through Playwright. `entry="app.py"` runs the bare
app, without the headers.

What must stay true:
- every wait polls for a condition (the health endpoint, an element, a row in the database); no sleep
  stands in for one;
- an app server is isolated: its working folder holds a copy of the project's `.streamlit/config.toml`
  and the test's own `secrets.toml` (never the developer's), HOME points into that folder, and only
  the PRISM_* variables the test gives reach it;
- processes are ended by their own id, never by name.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
# Debian's chromium; PRISM_TEST_CHROMIUM points elsewhere (or at nothing, to see the suite skip).
CHROMIUM = Path(os.environ.get("PRISM_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts"
# Debian's chromium, quiet on a closed network: no update checks, sync or first-run pages.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HEALTH_TIMEOUT = 30.0


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, every: float = 0.05):
    """Poll `condition` until it returns something truthy; return that, or fail saying what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)  # the polling interval, not a stand-in for the condition


class AppServer:
    """`streamlit run serve.py` (or `entry`) as a child process on a loopback port, with its own env and
    folder."""

    def __init__(
        self,
        workdir: Path,
        *,
        env: Mapping[str, str],
        secrets: str = "",
        port: int | None = None,
        entry: str = "serve.py",
    ) -> None:
        self.workdir = workdir
        self.entry = entry
        self.extra_env = dict(env)
        self.secrets = secrets
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / "streamlit.log"
        self.started_at: float | None = None
        self.healthy_after: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PRISM_", "STREAMLIT_"))}
        env["HOME"] = str(self.workdir / "home")
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    def _prepare_folder(self) -> None:
        config = self.workdir / ".streamlit"
        config.mkdir(parents=True, exist_ok=True)
        (self.workdir / "home").mkdir(exist_ok=True)
        shutil.copy(ROOT / ".streamlit" / "config.toml", config / "config.toml")
        (config / "secrets.toml").write_text(self.secrets)

    def start(self, *, wait: bool = True) -> AppServer:
        """Start the server; with `wait`, return once /_stcore/health answers ok."""
        self._prepare_folder()
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / self.entry),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(self.port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ]
        log = self.log_path.open("ab")
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            command, cwd=self.workdir, env=self._environment(), stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        if wait:
            self.wait_healthy()
        return self

    def _health(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(
                f"streamlit exited with {self.process.returncode} before it was healthy:\n{self.log_tail()}"
            )
        try:
            return httpx.get(self.url + "_stcore/health", timeout=2).text == "ok"
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT) -> float:
        """Wait until the health endpoint answers ok; return seconds since start."""
        try:
            wait_for(self._health, timeout=timeout, what=f"{self.url}_stcore/health", every=0.02)
        except AssertionError as problem:
            raise AssertionError(f"{problem}\n{self.log_tail()}") from None
        assert self.started_at is not None
        self.healthy_after = time.monotonic() - self.started_at
        return self.healthy_after

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to save or clean up (a crash, an OOM kill)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """End the server politely, then firmly (by its own pid)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()

    def rss_bytes(self) -> int:
        """The server's resident memory, from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS in /proc status")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def running_app(workdir: Path, **kwargs) -> Iterator[AppServer]:
    """An AppServer for the length of a `with` block."""
    server = AppServer(workdir, **kwargs)
    try:
        yield server.start()
    finally:
        server.stop()


def missing_browser() -> str | None:
    """Why the browser tests cannot run here (chromium or Playwright is missing), or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium); the browser journeys need it"
    if importlib.util.find_spec("playwright") is None:
        return "python playwright is not installed (pip install -r requirements-dev.txt)"
    return None


def launch_chromium(playwright):
    """Debian's chromium through Playwright (no `playwright install`: it cannot download here)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


RECORDER_JS = """
() => {
  window.__prismStates = [];
  const snap = () => {
    const messages = document.querySelectorAll('[data-testid="stChatMessage"]');
    const last = messages[messages.length - 1];
    if (!last || !last.querySelector('[data-testid="stChatMessageAvatarAssistant"]')) return;
    const body = last.querySelector('[data-testid="stChatMessageContent"]');
    const text = body ? body.innerText : "";
    const states = window.__prismStates;
    if (!states.length || states[states.length - 1].text !== text) {
      states.push({t: performance.now(), text: text});
    }
  };
  new MutationObserver(snap).observe(document.body, {subtree: true, childList: true, characterData: true});
  snap();
}
"""


# -- the chat page, as a person uses it -----------------------------------------------------------------


class ChatPage:
    """The chat page in one browser tab, addressed by Streamlit's test ids (`data-testid`, such as
    stChatMessage and stChatInputStopButton), which stay put when the page's text changes."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.sent_after = 0  # messages on screen when the last message was sent

    def open(self, conversation_id: int | None = None) -> ChatPage:
        url = self.base_url + (f"?c={conversation_id}" if conversation_id else "")
        self.page.goto(url)
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30_000) -> None:
        """The page is drawn and idle: the chat input exists and no script run is going on."""
        from playwright.sync_api import expect

        expect(self.page.get_by_test_id("stChatInputTextArea")).to_be_enabled(timeout=timeout)
        self.wait_idle(timeout)

    def wait_idle(self, timeout: float = 30_000) -> None:
        from playwright.sync_api import expect

        expect(self.page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=timeout)

    @property
    def input(self):
        return self.page.get_by_test_id("stChatInputTextArea")

    @property
    def messages(self):
        return self.page.get_by_test_id("stChatMessage")

    def send(self, text: str) -> None:
        """Type a message and press Enter, as a person does."""
        self.sent_after = self.messages.count()
        self.input.fill(text)
        self.input.press("Enter")

    def wait_reply_done(self, timeout: float = 60_000) -> None:
        """The reply has been saved and redrawn from the database (it has its Regenerate/Retry button)."""
        import re

        from playwright.sync_api import expect

        wait_for(
            lambda: self.messages.count() >= self.sent_after + 2,
            timeout=timeout / 1000,
            what="the sent message and its reply on the page",
        )
        last = self.messages.last
        expect(last.get_by_test_id("stChatMessageAvatarAssistant")).to_have_count(1, timeout=timeout)
        expect(last.get_by_role("button", name=re.compile("Regenerate|Retry"))).to_be_visible(timeout=timeout)
        self.wait_idle(timeout)

    def conversation_id(self, timeout: float = 15.0) -> int:
        """The open conversation's id, from the URL (?c=ID)."""

        def from_url() -> int | None:
            query = httpx.URL(self.page.url).params.get("c")
            return int(query) if query and query.isdigit() else None

        return wait_for(from_url, timeout=timeout, what="?c=ID in the URL")

    def reply(self, index: int = -1):
        """The content of an assistant message (the last one by default)."""
        replies = self.page.locator(
            '[data-testid="stChatMessage"]:has([data-testid="stChatMessageAvatarAssistant"])'
        )
        count = replies.count()
        return replies.nth(index if index >= 0 else count + index)

    def record_reply_states(self) -> None:
        """Start recording, in the page itself, every distinct text the last reply shows (with times).

        A MutationObserver runs inside chromium, so no state is missed between two polls from here."""
        self.page.evaluate(RECORDER_JS)

    def reply_states(self) -> list[dict]:
        """What `record_reply_states` saw: [{"t": ms since page start, "text": ...}, ...]."""
        return self.page.evaluate("window.__prismStates || []")

    def screenshot(self, name: str) -> Path:
        """Save a full-page screenshot under test-artifacts/ (git-ignored)."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


# -- what the app saved ---------------------------------------------------------------------------------


def stored_messages(database_url: str, conversation_id: int, identity: str = "local") -> list[dict]:
    """The conversation's messages as the app saved them, as plain dicts (read from the test process)."""
    from storage import open_database, repository, session_factory
    from storage.models import User

    make_session = session_factory(open_database(database_url))
    with make_session() as session:
        user = session.query(User).filter_by(identity=identity).one()
        rows = [
            {
                "id": m.id,
                "role": m.role,
                "content": m.content or "",
                "status": m.status,
                "error": m.error,
                "images": [(a.mime, a.width, a.height) for a in m.attachments],
            }
            for m in repository.conversation_messages(session, user, conversation_id)
        ]
        session.commit()  # conversation_messages may have settled a dead stream as interrupted
        return rows


def words(text: str) -> list[str]:
    """The words of a text, so rendered markdown and the raw reply can be compared."""
    import re

    return re.findall(r"\w+", text)


def planned_reply(base_url: str, messages: list[dict], **params) -> dict:
    """Ask an offline model (not streaming) what it answers to this request: a seeded reply is the
    same on every offline model built from the same corpus, so a test can know the whole reply first."""
    body = {"model": "gemini-2.5-flash", "messages": messages, "stream": False, **params}
    response = httpx.post(base_url.rstrip("/") + "/chat/completions", json=body, timeout=30)
    response.raise_for_status()
    data = response.json()
    return {"text": data["choices"][0]["message"]["content"], "tokens": data["usage"]["completion_tokens"]}


def seed_for_long_reply(base_url: str, prompt: str, min_tokens: int) -> tuple[int, str]:
    """A seed whose reply to `prompt` has at least `min_tokens` tokens, and that reply."""
    for seed in range(1, 200):
        reply = planned_reply(base_url, [{"role": "user", "content": prompt}], seed=seed)
        if reply["tokens"] >= min_tokens:
            return seed, reply["text"]
    raise AssertionError(f"no seed below 200 gives a reply of {min_tokens} tokens to {prompt!r}")


def make_conversation(database_url: str, *, params: dict, title: str = "New chat", identity: str = "local"):
    """Create a conversation the way the app would, with stored parameters; return its id."""
    from storage import open_database, repository, session_factory

    make_session = session_factory(open_database(database_url))
    with make_session() as session:
        user = repository.ensure_user(session, identity, display_name="You", role="admin")
        conversation = repository.create_conversation(session, user, title=title, params=params)
        session.commit()
        return conversation.id
