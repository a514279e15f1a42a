"""Regenerate the README's screenshots: the chat page in light and dark, the compare page, a shared board.

    python docs/screenshots.py            # writes docs/chat-light.png, docs/chat-dark.png, ...
    python docs/screenshots.py --out DIR  # somewhere else (to look before replacing them)

It starts the app as the README does (no key: the built-in offline model), in its own folder with its
own SQLite file, drives Debian's chromium through Playwright (tests/browser/support.py's harness), and
ends the server by its own pid. The offline model's replies are seeded, so a rerun gives the same text.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.support import ChatPage, launch_chromium, running_app, sqlite_url  # noqa: E402

VIEWPORT = {"width": 1280, "height": 860}


def open_page(browser, url: str, scheme: str, height: int = VIEWPORT["height"]):
    context = browser.new_context(viewport={**VIEWPORT, "height": height}, color_scheme=scheme)
    context.set_default_timeout(60_000)
    page = context.new_page()
    return context, page, ChatPage(page, url).open()


def chat(browser, url: str, scheme: str, out: Path) -> None:
    context, page, chat_page = open_page(browser, url, scheme)
    chat_page.send("What does temperature do to a reply?")
    chat_page.wait_reply_done()
    page.mouse.move(0, 0)
    page.screenshot(path=str(out / f"chat-{scheme}.png"))
    context.close()


def compare_and_share(browser, url: str, out: Path) -> None:
    from playwright.sync_api import expect

    context, page, chat_page = open_page(browser, url, "light", height=1500)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Compare").click()
    expect(page.get_by_role("heading", name="Compare")).to_be_visible()
    chat_page.wait_ready()
    page.locator("summary").filter(has_text="Sweep a parameter").click()
    values = page.get_by_role("textbox", name="Values (comma separated)").first
    values.fill("0, 1, 2")
    values.press("Enter")
    chat_page.wait_idle()
    page.get_by_role("button", name="Fill the columns").click()
    chat_page.wait_idle()
    expect(page.get_by_test_id("stMainBlockContainer")).to_contain_text("temperature 2")
    chat_page.send("What does temperature change in a reply?")
    expect(page.get_by_role("button", name="Open in chat")).to_have_count(3, timeout=120_000)
    page.wait_for_url(re.compile(r"run=\d+"))
    chat_page.wait_idle()
    expect(page.get_by_test_id("stVegaLiteChart")).to_be_visible()
    chat_page.wait_idle()
    page.mouse.move(0, 0)
    page.screenshot(path=str(out / "compare.png"))

    page.get_by_role("tab", name="Save and export").click()
    page.get_by_role("button", name="Share").click()
    page.get_by_role("button", name="Create link").click()
    link = page.get_by_test_id("stCode").filter(has_text="token=")
    expect(link).to_be_visible()
    token = re.search(r"token=([A-Za-z0-9_-]+)", link.inner_text()).group(1)
    page.goto(url + f"shared?token={token}")
    expect(page.get_by_text("A read-only copy")).to_be_visible()
    chat_page.wait_idle()
    expect(page.get_by_test_id("stVegaLiteChart")).to_be_visible()
    chat_page.wait_idle()
    page.screenshot(path=str(out / "shared-board.png"))
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        env = {
            "PRISM_DATABASE_URL": sqlite_url(Path(folder) / "prism.db"),
            "PRISM_OFFLINE_TOKENS_PER_SECOND": "0",
            "PRISM_OFFLINE_TTFT_MS": "0",
        }
        with running_app(Path(folder), env=env) as app:
            browser = launch_chromium(p)
            try:
                for scheme in ("light", "dark"):
                    chat(browser, app.url, scheme, args.out)
                compare_and_share(browser, app.url, args.out)
            finally:
                browser.close()
    print(f"screenshots written to {args.out}")


if __name__ == "__main__":
    main()
