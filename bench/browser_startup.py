"""How long `streamlit run app.py` takes to answer /_stcore/health, and to draw the first page.

Starts the real app as a subprocess (its own SQLite file, the in-app offline model) several times and
prints the median time from launch to a healthy health endpoint (goal <= 2 s), and, in chromium, from
launch to the chat input being ready on the first page load (the first run pays for imports, the
database migration and building the offline model).

    .venv/bin/python bench/browser_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.support import AppServer, ChatPage, launch_chromium, sqlite_url  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    healthy, first_page = [], []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as folder:
                server = AppServer(
                    Path(folder), env={"PRISM_DATABASE_URL": sqlite_url(Path(folder) / "p.db")}
                )
                server.start()
                healthy.append(server.healthy_after)
                page = browser.new_page()
                ChatPage(page, server.url).open()
                first_page.append(time.monotonic() - server.started_at)
                page.close()
                server.stop()
        browser.close()

    print(
        f"streamlit run -> /_stcore/health ok: median {statistics.median(healthy):.2f} s "
        f"(min {min(healthy):.2f}, max {max(healthy):.2f}, {args.runs} runs; goal <= 2 s)"
    )
    print(f"streamlit run -> first chat page ready in chromium: median {statistics.median(first_page):.2f} s")


if __name__ == "__main__":
    main()
