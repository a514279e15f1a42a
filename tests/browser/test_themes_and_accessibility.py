"""Light and dark, accessibility, and the keyboard: what only a real browser shows.

- The theme follows the browser's colour-scheme preference (the context's `color_scheme`), read back as
  the app's computed background colour, and Streamlit's own menu switches it.
- axe-core (axe-playwright-python) finds no serious or critical violation on the chat, compare, presets
  and shared pages, in both themes, with content on them (a reply, a finished comparison with its
  differences open, a shared board).
- A keyboard-only journey: every step is Tab and Enter (or Space), never a click: send, Stop, Regenerate,
  open another chat from the history, switch page.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.support import AppServer, ChatPage, make_conversation, seed_for_long_reply, sqlite_url

pytest.importorskip("playwright.sync_api")
pytest.importorskip("axe_playwright_python")
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

BACKGROUNDS = {"light": "rgb(255, 255, 255)", "dark": "rgb(20, 19, 27)"}  # .streamlit/config.toml
BACKGROUND_JS = "getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor"
AXE = Axe()


@pytest.fixture(scope="module")
def fast_app(tmp_path_factory):
    """The app as the README starts it (the built-in offline model), paced as fast as it goes."""
    folder = tmp_path_factory.mktemp("themes-app")
    server = AppServer(
        folder,
        env={
            "PRISM_DATABASE_URL": sqlite_url(folder / "prism.db"),
            "PRISM_OFFLINE_TOKENS_PER_SECOND": "0",
            "PRISM_OFFLINE_TTFT_MS": "0",
        },
    )
    yield server.start()
    server.stop()


def themed_page(browser, scheme: str):
    context = browser.new_context(viewport={"width": 1300, "height": 900}, color_scheme=scheme)
    context.set_default_timeout(30_000)
    return context, context.new_page()


def serious_violations(page) -> list[str]:
    """axe's serious and critical findings, each with the elements it names (for the failure message)."""
    found = AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}: "
        + " ".join(v["nodes"][0].get("failureSummary", "").split())
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def go_to(page, chat: ChatPage, name: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    chat.wait_idle()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_theme_follows_the_browsers_preference(fast_app, browser, scheme):
    context, page = themed_page(browser, scheme)
    ChatPage(page, fast_app.url).open()
    assert page.evaluate(BACKGROUND_JS) == BACKGROUNDS[scheme]
    context.close()


def test_streamlits_menu_switches_between_light_and_dark(fast_app, browser):
    context, page = themed_page(browser, "dark")
    ChatPage(page, fast_app.url).open()
    page.get_by_test_id("stMainMenu").click()
    choices = page.get_by_test_id("stThemeSwitcher").get_by_role("menuitemradio")
    expect(choices).to_have_text([re.compile(r"System$"), re.compile(r"Light$"), re.compile(r"Dark$")])
    choices.filter(has_text="Light").click()
    expect(page.get_by_test_id("stApp")).to_have_css("background-color", BACKGROUNDS["light"])
    if not page.get_by_test_id("stThemeSwitcher").is_visible():  # the menu may stay open after a choice
        page.get_by_test_id("stMainMenu").click()
    page.get_by_test_id("stThemeSwitcher").get_by_role("menuitemradio").filter(has_text="Dark").click()
    expect(page.get_by_test_id("stApp")).to_have_css("background-color", BACKGROUNDS["dark"])
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_the_chat_compare_presets_and_shared_pages(fast_app, browser, scheme):
    context, page = themed_page(browser, scheme)
    chat = ChatPage(page, fast_app.url).open()
    found: dict[str, list[str]] = {"empty chat": serious_violations(page)}

    chat.send("What does temperature do? [[fault:no-usage]]")
    chat.wait_reply_done()
    found["chat with a reply"] = serious_violations(page)

    go_to(page, chat, "Presets")
    expect(page.get_by_role("heading", name="Presets")).to_be_visible()
    found["presets"] = serious_violations(page)

    go_to(page, chat, "Compare")
    expect(page.get_by_role("heading", name="Compare")).to_be_visible()
    chat.wait_ready()
    found["compare, empty"] = serious_violations(page)
    chat.send("What does temperature change in a reply?")
    expect(page.get_by_role("button", name="Open in chat")).to_have_count(2, timeout=60_000)
    page.wait_for_url(re.compile(r"run=\d+"))
    chat.wait_idle()
    expect(page.get_by_test_id("stVegaLiteChart")).to_be_visible()
    found["compare, a finished run"] = serious_violations(page)
    page.get_by_role("tab", name="Differences").click()
    found["compare, differences"] = serious_violations(page)

    page.get_by_role("tab", name="Save and export").click()
    page.get_by_role("button", name="Share").click()
    page.get_by_role("button", name="Create link").click()
    link = page.get_by_test_id("stCode").filter(has_text="token=")
    expect(link).to_be_visible()
    token = re.search(r"token=([A-Za-z0-9_-]+)", link.inner_text()).group(1)
    page.goto(fast_app.url + f"shared?token={token}")
    expect(page.get_by_text("A read-only copy")).to_be_visible()
    expect(page.get_by_test_id("stVegaLiteChart")).to_be_visible()
    chat.wait_idle()
    found["shared board"] = serious_violations(page)
    context.close()
    assert {page_name: v for page_name, v in found.items() if v} == {}


# -- the keyboard ----------------------------------------------------------------------------------------

FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el) return "";
  return [el.getAttribute("data-testid") || "", el.getAttribute("aria-label") || "",
          (el.innerText || "").trim().slice(0, 80), el.getAttribute("href") || ""].join(" | ");
}"""


def tab_to(page, pattern: str, *, limit: int = 120, backwards: bool = False) -> str:
    """Press Tab (or Shift+Tab) until the focused element matches `pattern`; fail naming what was seen."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focused = page.evaluate(FOCUS_JS)
        if re.search(pattern, focused):
            return focused
        seen.append(focused)
    raise AssertionError(f"no focusable element matching {pattern!r} within {limit} Tabs; saw {seen[-15:]}")


def test_a_keyboard_only_journey_send_stop_regenerate_open_a_chat_switch_page(slow_app, offline, page):
    database = slow_app.extra_env["PRISM_DATABASE_URL"]
    prompt = "Explain how the offline model samples a reply, in detail."
    seed, _ = seed_for_long_reply(offline.base_url, prompt, min_tokens=60)
    earlier = make_conversation(database, params={"seed": seed}, title="An earlier chat")
    current = make_conversation(database, params={"seed": seed}, title="Keyboard chat")
    chat = ChatPage(page, slow_app.url).open(current)

    # Send: Tab to the message box, type, Enter.
    tab_to(page, r"stChatInputTextArea")
    page.keyboard.type(prompt)
    page.keyboard.press("Enter")
    expect(chat.reply()).to_contain_text("the", timeout=30_000)

    # Stop: while it streams, Tab (backwards, it sits after the box) to the stop button and press it.
    tab_to(page, r"stChatInputStopButton|aria-label=.*[Ss]top| \| Stop", backwards=True, limit=30)
    page.keyboard.press("Enter")
    expect(chat.reply()).to_contain_text("Stopped:", timeout=20_000)
    chat.wait_idle()

    # Regenerate: Tab to the reply's Regenerate (or Retry) button, Enter; a second version arrives.
    # A button's text starts with its icon's name ("refresh\n\nRegenerate"), so the label may follow it.
    tab_to(page, r"\| (?:\w+\n\n)?(Regenerate|Retry) \|")
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(r"2\s*/\s*2"))).to_be_visible(timeout=60_000)
    chat.wait_idle(60_000)

    # Open a chat: Tab to the earlier conversation in the history list, Enter.
    tab_to(page, r"An earlier chat")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"[?&]c={earlier}\b"))
    expect(page.get_by_role("heading", name="An earlier chat")).to_be_visible()

    # Switch page: Tab to the Compare link in the navigation, Enter.
    tab_to(page, r"compare$", backwards=True)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Compare")).to_be_visible()
