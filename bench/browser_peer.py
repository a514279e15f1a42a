"""Prism in chromium against its peer, the minimal Streamlit chat (bench/minimal_chat.py), in one run.

Both apps run at once, each as its own `streamlit run`, against one offline model (the same pace and
time to first token), and every measurement alternates between them, so a busy machine slows both
alike; each figure is printed as Prism's ratio to the peer's. The peer's own set-up (its server, its
first run, its HTTP client's first connection) happens before anything is timed, as Prism's does.

- page ready: from navigation start to the last change of the page once the run has finished (the
  run's `script_finished` message has arrived and the page has not changed for QUIET_S), for a new
  chat; and Prism's 10-, 1,000- and 5,000-message chats against its 10-message one;
- Enter to first visible token, minus the model's own time to first token measured on a kept-alive
  connection (no connection set-up in either figure);
- a rerun after an interaction: a click on a toggle (the peer's "Details"; Prism's "Tokens" on the
  last reply) to the page's last change once that run has finished, and Prism's on its 1,000-message
  chat against its 10-message one;
- what one stored message costs: elements and bytes a page load sends per message drawn;
- server memory of the first browser session: resident memory of a freshly started server once its
  first session's page is ready, minus what it held when healthy (fresh servers, interleaved).

Timings come from the page itself (performance.now(), a MutationObserver, the websocket's messages
decoded as Streamlit's ForwardMsg), not from polling here.

    .venv/bin/python bench/browser_peer.py [--rounds 5] [--ttft-ms 200] [--only first-token]

`--only first-token` measures only Enter to first visible token (same servers, same stored chats, same
warm-up), for working on that figure without the ten-minute rest.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from offline_model.runner import OfflineServer  # noqa: E402
from tests.browser.support import AppServer, launch_chromium, sqlite_url, wait_for  # noqa: E402

QUIET_S = 0.4  # the page counts as drawn once nothing in it has changed for this long
MB = 1024 * 1024
SIZES = (2, 10, 1000, 5000)
TOKEN_WORDS = [
    "Temperature",
    "scales",
    "the",
    "logits",
    "before",
    "sampling",
    "a",
    "token",
    ".",
]  # Prism's stored conversations, in messages

WATCH_JS = """
(() => {
  window.__frames = [];
  window.__lastChange = 0;
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener("message", (e) => window.__frames.push({t: performance.now(), data: e.data}));
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
  const watch = () => new MutationObserver(() => { window.__lastChange = performance.now(); }).observe(
    document.documentElement, {subtree: true, childList: true, characterData: true, attributes: true});
  if (document.documentElement) watch(); else document.addEventListener("DOMContentLoaded", watch);
  document.addEventListener("click", () => { window.__clickAt = performance.now(); }, {capture: true});
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter") window.__enterAt = performance.now();
  }, {capture: true});
})();
"""

READ_FRAMES_JS = """
async (from) => {
  const out = [];
  const frames = window.__frames;
  for (let i = from; i < frames.length; i++) {
    let data = frames[i].data;
    if (data instanceof Blob) data = await data.arrayBuffer();
    const bytes = new Uint8Array(data);
    let s = "";
    for (let j = 0; j < bytes.length; j += 0x8000) {
      s += String.fromCharCode.apply(null, bytes.subarray(j, j + 0x8000));
    }
    out.push({t: frames[i].t, b64: btoa(s)});
  }
  return out;
}
"""

FIRST_TEXT_JS = """
() => {
  window.__firstText = null;
  const look = () => {
    if (window.__firstText !== null || window.__enterAt === undefined) return;
    const messages = document.querySelectorAll('[data-testid="stChatMessage"]');
    const last = messages[messages.length - 1];
    if (!last || !last.querySelector('[data-testid="stChatMessageAvatarAssistant"]')) return;
    const body = last.querySelector('[data-testid="stChatMessageContent"]');
    const text = body ? body.innerText.trim() : "";
    if (text && !text.includes("Waiting for the model")) window.__firstText = performance.now();
  };
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


class Watched:
    """One tab, with the websocket's messages decoded and the page's last change known."""

    def __init__(self, context, url: str) -> None:
        self.page = context.new_page()
        self.url = url
        self.messages: list[tuple[float, object, int]] = []  # (ms since navigation, ForwardMsg, bytes)

    def goto(self, query: str = "") -> float:
        """Open the page; ms from navigation start to the page drawn."""
        self.messages = []
        self.page.goto(self.url + query)
        return self.settle(after=0.0)

    def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        for frame in self.page.evaluate(READ_FRAMES_JS, len(self.messages)):
            raw = base64.b64decode(frame["b64"])
            self.messages.append((frame["t"], ForwardMsg.FromString(raw), len(raw)))

    def finished_after(self, after: float) -> bool:
        self._read()
        return any(m.WhichOneof("type") == "script_finished" and t > after for t, m, _ in self.messages)

    def settle(self, *, after: float, timeout: float = 60) -> float:
        """Wait for a run that finished after `after` (page ms) and a quiet page; the last change, in ms."""
        wait_for(lambda: self.finished_after(after), timeout=timeout, what="the run to finish")

        def quiet() -> float | None:
            now, last = self.page.evaluate("[performance.now(), window.__lastChange]")
            return last if now - last >= QUIET_S * 1000 else None

        last = wait_for(quiet, timeout=timeout, what="the page to stop changing", every=0.05)
        ready = self.page.get_by_test_id("stChatInputTextArea")
        wait_for(ready.is_enabled, timeout=timeout, what="the chat input")
        return last

    def run_cost(self) -> tuple[int, int]:
        """Elements (new or cached) and bytes the last page load's run sent."""
        elements = sum(
            1
            for _, m, _ in self.messages
            if m.WhichOneof("type") == "ref_hash"
            or (m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element")
        )
        return elements, sum(size for _, _, size in self.messages)

    def click(self, text: str) -> float:
        """Click the toggle labelled `text`; ms from the click to the page drawn after its rerun."""
        self.page.evaluate("window.__clickAt = undefined")
        self.page.get_by_text(text, exact=True).last.click()
        clicked = wait_for(
            lambda: self.page.evaluate("window.__clickAt"), timeout=10, what="the click to register"
        )
        return self.settle(after=clicked) - clicked

    def first_token(self, text: str) -> float:
        """Type a message, press Enter; ms from Enter to the reply's first visible text."""
        self.page.evaluate("window.__enterAt = undefined")
        self.page.evaluate(FIRST_TEXT_JS)
        box = self.page.get_by_test_id("stChatInputTextArea")
        box.fill(text)
        box.press("Enter")
        shown = wait_for(
            lambda: self.page.evaluate("window.__firstText"), timeout=60, what="the first visible token"
        )
        enter = self.page.evaluate("window.__enterAt")
        self.settle(after=enter)  # the reply is over (and, in Prism, redrawn from the database)
        return shown - enter


def build(database: str) -> dict[int, int]:
    """Prism's stored conversations, {messages: id}; each ends in a reply with log-probabilities."""
    from storage import open_database, repository, session_factory

    make_session = session_factory(open_database(database))
    tokens = [
        {"token": word, "logprob": -0.1 * (i % 7), "top": [[word, -0.1 * (i % 7)], ["other", -2.5]]}
        for i, word in enumerate(TOKEN_WORDS)
    ]
    ids = {}
    with make_session() as session:
        user = repository.ensure_user(session, "local", display_name="You", role="admin")
        for size in SIZES:
            conversation = repository.create_conversation(session, user, title=f"{size} messages")
            parent = None
            for i in range(size - 1):
                role = "user" if i % 2 == 0 else "assistant"
                text = f"Message {i}: " + "a sentence about sampling temperature and seeds. " * 6
                parent = repository.add_message(
                    session, user, conversation.id, role=role, content=text, parent_id=parent
                ).id
            body = {"model": "gemini-2.5-flash", "messages": [], "logprobs": True, "top_logprobs": 2}
            last = repository.start_reply(session, user, conversation.id, parent_id=parent, request_body=body)
            repository.finish_reply(
                session,
                user,
                last.id,
                status="complete",
                content=" ".join(t["token"] for t in tokens),
                finish_reason="stop",
                logprobs=tokens,
            )
            ids[size] = conversation.id
        session.commit()
    return ids


def model_ttft(http: httpx.Client) -> float:
    """The model's own time to first token on `http`'s kept-alive connection (ms)."""
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "Hi"}], "stream": True}
    seen = None
    start = time.perf_counter()
    with http.stream("POST", "chat/completions", json=body) as response:
        for line in response.iter_lines():  # read to the end: the connection goes back to the pool
            if seen is None and line.startswith("data:") and '"content"' in line:
                seen = (time.perf_counter() - start) * 1000
    assert seen is not None, "no content chunk"
    return seen


def first_session_memory(folder: Path, env: dict, entry: str, browser) -> float:
    """MB a freshly started server grows by when its first browser session's page is ready."""
    server = AppServer(folder, env=env, entry=entry).start()
    try:
        before = server.rss_bytes()
        context = browser.new_context()
        context.add_init_script(WATCH_JS)
        Watched(context, server.url).goto()
        after = server.rss_bytes()
        context.close()
    finally:
        server.stop()
    return (after - before) / MB


def ratio(prism: list[float], peer: list[float]) -> str:
    a, b = statistics.median(prism), statistics.median(peer)
    return f"Prism {a:7.0f}   peer {b:7.0f}   ratio {a / b:5.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ttft-ms", type=int, default=200, help="the offline model's time to first token")
    parser.add_argument("--only", choices=["first-token"], help="measure only this figure")
    args = parser.parse_args()
    everything = args.only is None

    from playwright.sync_api import sync_playwright

    with (
        OfflineServer.start(tokens_per_second=50, ttft_ms=args.ttft_ms) as model,
        tempfile.TemporaryDirectory() as tmp,
    ):
        folder = Path(tmp)
        (folder / "prism").mkdir()
        (folder / "peer").mkdir()
        database = sqlite_url(folder / "prism" / "p.db")
        ids = build(database)
        prism_env = {"PRISM_API_BASE_URL": model.base_url, "PRISM_DATABASE_URL": database}
        peer_env = {"PEER_API_BASE_URL": model.base_url}
        prism = AppServer(folder / "prism", env=prism_env).start()
        peer = AppServer(folder / "peer", env=peer_env, entry="bench/minimal_chat.py").start()
        opened = {name: [] for name in ("peer", "new", *SIZES)}
        toggled = {name: [] for name in ("peer", *SIZES)}
        first = {"peer": [], "prism": []}
        own = []
        http = httpx.Client(base_url=model.base_url, timeout=30)
        model_ttft(http)  # opens the connection that every later measurement reuses
        costs = {}
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                context = browser.new_context()
                context.add_init_script(WATCH_JS)
                peer_tab, prism_tab = Watched(context, peer.url), Watched(context, prism.url)
                # Warm both: imports, first runs, the database, each app's first connection to the model.
                peer_tab.goto()
                peer_tab.first_token("warm up")
                prism_tab.goto()
                prism_tab.first_token("warm up")
                for size in SIZES:
                    prism_tab.goto(f"?c={ids[size]}")

                def first_tokens() -> None:
                    peer_tab.goto()
                    first["peer"].append(peer_tab.first_token("What does temperature do?"))
                    prism_tab.goto()
                    first["prism"].append(prism_tab.first_token("What does temperature do?"))
                    own.extend(model_ttft(http) for _ in range(2))

                for _ in range(args.rounds):
                    if not everything:
                        first_tokens()
                        continue
                    opened["peer"].append(peer_tab.goto())
                    opened["new"].append(prism_tab.goto())
                    costs["new"] = prism_tab.run_cost()
                    for size in SIZES:
                        opened[size].append(prism_tab.goto(f"?c={ids[size]}"))
                        costs[size] = prism_tab.run_cost()
                    peer_tab.goto()
                    peer_tab.first_token("What is a token?")  # the peer's toggle reruns a chat too
                    for _ in range(2):  # on, then off: both runs count
                        toggled["peer"].append(peer_tab.click("Details"))
                    for size in SIZES:
                        prism_tab.goto(f"?c={ids[size]}")
                        for _ in range(2):
                            toggled[size].append(prism_tab.click("Tokens"))
                    first_tokens()
                context.close()
                prism.stop()
                peer.stop()
                memory = {"peer": [], "prism": []}
                for i in range(2 if everything else 0):
                    memory["peer"].append(
                        first_session_memory(folder / f"peer{i}", peer_env, "bench/minimal_chat.py", browser)
                    )
                    prism_env_i = {**prism_env, "PRISM_DATABASE_URL": sqlite_url(folder / f"m{i}.db")}
                    memory["prism"].append(
                        first_session_memory(folder / f"prism{i}", prism_env_i, "serve.py", browser)
                    )
                browser.close()
        finally:
            http.close()
            prism.stop()
            peer.stop()

    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"{args.rounds} rounds, interleaved; load average at the end: {load}")
    if everything:
        new_chat = ratio(opened["new"], opened["peer"])
        print(f"page ready, new chat (ms):                 {new_chat}   goal <= 1.5x")
    own = statistics.median(own)
    added_prism = [t - own for t in first["prism"]]
    added_peer = [t - own for t in first["peer"]]
    print(f"model's own time to first token, kept-alive connection: median {own:.0f} ms")
    print(f"Enter -> first visible token (ms):         {ratio(first['prism'], first['peer'])}")
    print(f"  ... added over the model's (ms):         {ratio(added_prism, added_peer)}   goal <= 1.5x")
    if not everything:
        return
    print(f"rerun after a toggle, 2-message chat (ms): {ratio(toggled[2], toggled['peer'])}")
    print(f"first browser session, server memory (MB): {ratio(memory['prism'], memory['peer'])}   goal <= 3x")
    base = statistics.median(opened[10])
    for size in (1000, 5000):
        print(
            f"Prism: open a {size:,}-message chat vs a 10-message one: "
            f"{statistics.median(opened[size]):.0f} / {base:.0f} ms = "
            f"{statistics.median(opened[size]) / base:.2f}x   goal <= 1.3x (5,000)"
        )
    base = statistics.median(toggled[10])
    print(
        f"Prism: toggle on a 1,000-message chat vs a 10-message one: "
        f"{statistics.median(toggled[1000]):.0f} / {base:.0f} ms = "
        f"{statistics.median(toggled[1000]) / base:.2f}x   goal <= 1.2x"
    )
    (new_elements, new_bytes), (ten_elements, ten_bytes) = costs["new"], costs[10]
    print(
        f"Prism: one stored message drawn costs {(ten_elements - new_elements) / 10:.1f} elements and "
        f"{(ten_bytes - new_bytes) / 10 / 1024:.1f} KB on page load "
        f"(new chat: {new_elements} elements, {new_bytes / 1024:.0f} KB)"
    )


if __name__ == "__main__":
    main()
