"""What the app adds to time to first token, as a person sees it in a real browser.

For each of N messages: the time from the Enter key (a keydown listener's performance.now() inside
chromium) to the first visible text of the reply (a MutationObserver in the page), minus the offline
model's own time to first token. That one is measured straight against the same server with httpx,
one request after each message, on ONE kept-alive connection opened before anything is timed (the
app's own client keeps its connections alive too, so a connection's set-up belongs in neither). The
difference is everything Prism and Streamlit add: the rerun, saving the user's message, building the
request, the client, the websocket and the browser drawing it. Goal: median <= 150 ms.
bench/browser_peer.py prints the same figure as a ratio to the minimal Streamlit chat's.

    .venv/bin/python bench/browser_first_token.py [--runs 10] [--ttft-ms 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from offline_model.runner import OfflineServer  # noqa: E402
from tests.browser.support import AppServer, ChatPage, launch_chromium, sqlite_url, wait_for  # noqa: E402

ENTER_JS = """
() => {
  window.__prismEnterAt = null;
  const mark = e => { if (e.key === "Enter") window.__prismEnterAt = performance.now(); };
  document.addEventListener("keydown", mark, {capture: true, once: true});
}
"""


def model_ttft(http: httpx.Client) -> float:
    """Seconds from sending a streaming request to the first content chunk, on `http`'s kept-alive
    connection (the stream is read to its end, so the connection goes back to the pool)."""
    body = {
        "model": "gemini-2.5-flash",
        "messages": [{"role": "user", "content": "Hello there"}],
        "stream": True,
    }
    seen = None
    start = time.perf_counter()
    with http.stream("POST", "chat/completions", json=body, timeout=30) as response:
        for line in response.iter_lines():
            if seen is None and line.startswith("data:") and '"content"' in line:
                seen = time.perf_counter() - start
    if seen is None:
        raise AssertionError("no content chunk")
    return seen


def first_visible(chat: ChatPage) -> float | None:
    for state in chat.reply_states():
        text = state["text"].strip()
        if text and "Waiting for the model" not in text:
            return state["t"]
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--ttft-ms", type=int, default=200, help="the offline model's own time to first token"
    )
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with (
        OfflineServer.start(tokens_per_second=50, ttft_ms=args.ttft_ms) as model,
        tempfile.TemporaryDirectory() as folder,
    ):
        http = httpx.Client(base_url=model.base_url)
        model_ttft(http)  # opens the kept-alive connection; not counted
        own_times = []
        server = AppServer(
            Path(folder),
            env={
                "PRISM_API_BASE_URL": model.base_url,
                "PRISM_DATABASE_URL": sqlite_url(Path(folder) / "p.db"),
            },
        ).start()
        seen = []
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page()
                chat = ChatPage(page, server.url)
                chat.open()  # warm: the first run imports everything
                for i in range(args.runs + 1):
                    chat.open()
                    chat.record_reply_states()
                    page.evaluate(ENTER_JS)
                    chat.send(f"Question number {i}: what is a token?")
                    shown = wait_for(lambda: first_visible(chat), timeout=60, what="the first visible token")
                    enter = page.evaluate("window.__prismEnterAt")
                    chat.wait_reply_done()
                    if i > 0:  # the first measured message also warms the turn code
                        seen.append((shown - enter) / 1000)
                        own_times.append(model_ttft(http))
                browser.close()
        finally:
            http.close()
            server.stop()

    own = statistics.median(own_times)
    added = [s - own for s in seen]
    print(f"offline model's own time to first token, kept-alive connection: median {own * 1000:.0f} ms")
    print(
        f"Enter -> first visible token in chromium: median {statistics.median(seen) * 1000:.0f} ms "
        f"(min {min(seen) * 1000:.0f}, max {max(seen) * 1000:.0f}, {len(seen)} messages)"
    )
    print(
        f"added by the app and the browser: median {statistics.median(added) * 1000:.0f} ms (goal <= 150 ms)"
    )


if __name__ == "__main__":
    main()
