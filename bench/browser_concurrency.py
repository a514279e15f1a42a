"""Ten browser sessions streaming at once on one app server, against one session alone.

Each session has its own browser context and its own conversation, seeded so every reply is the same
long text; the offline model streams it at a fixed pace. A MutationObserver in each page records when
the visible reply text changes. Printed: whether every reply completed, and the 95th percentile of the
gaps between visible updates with 1 session and with 10 at once (goal: at most 2x).

    .venv/bin/python bench/browser_concurrency.py [--sessions 10] [--tokens-per-second 20]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from offline_model.runner import OfflineServer  # noqa: E402
from tests.browser.support import (  # noqa: E402
    AppServer,
    ChatPage,
    launch_chromium,
    make_conversation,
    seed_for_long_reply,
    sqlite_url,
    stored_messages,
    words,
)

PROMPT = "Describe how Prism streams and saves a long reply."
# Arrival time of every websocket message, to tell the server's pace from the browser's drawing.
FRAMES_JS = """
(() => {
  window.__prismFrames = [];
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener("message", () => window.__prismFrames.push(performance.now()));
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})();
"""


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def update_gaps(chat: ChatPage) -> list[float]:
    """Seconds between successive visible growths of the reply text."""
    times, last = [], 0
    for state in chat.reply_states():
        n = len(words(state["text"]))
        if "Waiting for the model" in state["text"] or n <= last:
            continue
        times.append(state["t"] / 1000)
        last = n
    return [b - a for a, b in itertools.pairwise(times)]


def frame_gaps(chat: ChatPage, since: float) -> list[float]:
    """Seconds between websocket messages received after `since` (page ms) while the reply streamed."""
    times = [t / 1000 for t in chat.page.evaluate("window.__prismFrames") if t >= since]
    return [b - a for a, b in itertools.pairwise(times)]


def run_sessions(browser, server: AppServer, database: str, seed: int, count: int):
    """Stream the seeded reply in `count` sessions at once: (update gaps, frame gaps, all complete)."""
    contexts = [browser.new_context() for _ in range(count)]
    for context in contexts:
        context.add_init_script(FRAMES_JS)
    chats = []
    for context in contexts:
        conversation = make_conversation(database, params={"seed": seed})
        chat = ChatPage(context.new_page(), server.url).open(conversation)
        chat.record_reply_states()
        chats.append((chat, conversation))
    sent_at = []
    for chat, _ in chats:  # all ten Enter presses within a fraction of a second
        sent_at.append(chat.page.evaluate("performance.now()"))
        chat.send(PROMPT)
    for chat, _ in chats:
        chat.wait_reply_done(timeout=180_000)
    gaps = [gap for chat, _ in chats for gap in update_gaps(chat)]
    frames = [gap for (chat, _), since in zip(chats, sent_at, strict=True) for gap in frame_gaps(chat, since)]
    complete = all(
        [m["status"] for m in stored_messages(database, conversation)] == ["complete", "complete"]
        for _, conversation in chats
    )
    for context in contexts:
        context.close()
    return gaps, frames, complete


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--tokens-per-second", type=float, default=20)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with (
        OfflineServer.start() as planner,
        OfflineServer.start(tokens_per_second=args.tokens_per_second, ttft_ms=100) as model,
        tempfile.TemporaryDirectory() as folder,
    ):
        seed, _ = seed_for_long_reply(planner.base_url, PROMPT, min_tokens=80)
        database = sqlite_url(Path(folder) / "p.db")
        server = AppServer(
            Path(folder), env={"PRISM_API_BASE_URL": model.base_url, "PRISM_DATABASE_URL": database}
        ).start()
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                run_sessions(browser, server, database, seed, 1)  # warm-up
                started = time.monotonic()
                single, single_frames, single_ok = run_sessions(browser, server, database, seed, 1)
                many, many_frames, many_ok = run_sessions(browser, server, database, seed, args.sessions)
                browser.close()
        finally:
            server.stop()

    print(
        f"offline model pace: {args.tokens_per_second:.0f} tokens/s; took {time.monotonic() - started:.0f} s"
    )
    print(
        f"1 session:  complete={single_ok}; p95 gap between visible updates {p95(single) * 1000:.0f} ms "
        f"(median {statistics.median(single) * 1000:.0f} ms, {len(single)} gaps)"
    )
    print(
        f"{args.sessions} sessions: complete={many_ok}; "
        f"p95 gap between visible updates {p95(many) * 1000:.0f} ms "
        f"(median {statistics.median(many) * 1000:.0f} ms, {len(many)} gaps)"
    )
    print(f"ratio {p95(many) / p95(single):.2f}x (goal <= 2x)")
    print(
        f"websocket messages as they arrive in the page: p95 gap {p95(single_frames) * 1000:.0f} ms alone, "
        f"{p95(many_frames) * 1000:.0f} ms with {args.sessions} sessions "
        f"({p95(many_frames) / p95(single_frames):.2f}x): the server's side of the figure above"
    )


if __name__ == "__main__":
    main()
