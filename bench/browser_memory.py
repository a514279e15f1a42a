"""Server memory for the first browser session, and per extra idle session.

Starts the real app, reads the server's resident memory from /proc once it is healthy, opens the
first chromium session on the chat page and reads it again once the page is drawn: that growth is
what the first session costs (the page's imports, the database, its first run), the figure
bench/browser_peer.py prints as a ratio to the minimal Streamlit chat's. Then it opens N more
sessions (each its own browser context, each with the chat page drawn and idle), reads it again, and
prints the growth per extra session (goal <= 30 MB).

    .venv/bin/python bench/browser_memory.py [--sessions 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.support import AppServer, ChatPage, launch_chromium, sqlite_url  # noqa: E402

MB = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        server = AppServer(
            Path(folder), env={"PRISM_DATABASE_URL": sqlite_url(Path(folder) / "p.db")}
        ).start()
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                healthy = server.rss_bytes()
                first = browser.new_context()
                ChatPage(first.new_page(), server.url).open()
                first_session = server.rss_bytes()
                ChatPage(first.new_page(), server.url).open()  # a second load settles lazy imports
                base = server.rss_bytes()
                contexts = []
                for _ in range(args.sessions):
                    context = browser.new_context()
                    ChatPage(context.new_page(), server.url).open()
                    contexts.append(context)
                after = server.rss_bytes()
                browser.close()
        finally:
            server.stop()

    per = (after - base) / args.sessions
    print(
        f"server RSS when healthy: {healthy / MB:.0f} MB; with the first session's page drawn: "
        f"{first_session / MB:.0f} MB (the first session: {(first_session - healthy) / MB:.1f} MB)"
    )
    print(f"server RSS with 2 sessions: {base / MB:.0f} MB; with {args.sessions} more: {after / MB:.0f} MB")
    print(f"per extra idle session: {per / MB:.1f} MB (goal <= 30 MB)")


if __name__ == "__main__":
    main()
