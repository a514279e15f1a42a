"""The pages around the chat, in a hosted (password) app, as a person coming from other chat apps sees
them: a sign-in form in a narrow centred column (not fields a screen wide), one that fits a phone;
axe finds nothing serious on the sign-in and admin pages in either theme; the admin's period survives
a reload; the sidebar's Sign out is as wide as the buttons under it.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.app.hosting_support import ANN, users
from tests.browser.support import AppServer, ChatPage, sqlite_url

pytest.importorskip("playwright.sync_api")
pytest.importorskip("axe_playwright_python")
from playwright.sync_api import expect

from tests.browser.test_themes_and_accessibility import serious_violations

LAPTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def password_app(tmp_path_factory):
    """Password mode with ann as admin, on the built-in offline model, as fast as it goes."""
    folder = tmp_path_factory.mktemp("pages-polish-app")
    people = "\n".join(f"{name} = {json.dumps(hashed)}" for name, hashed in users().items())
    server = AppServer(
        folder,
        env={
            "PRISM_DATABASE_URL": sqlite_url(folder / "prism.db"),
            "PRISM_OFFLINE_TOKENS_PER_SECOND": "0",
            "PRISM_OFFLINE_TTFT_MS": "0",
        },
        secrets=f'[auth]\nmode = "password"\nadmins = ["ann"]\n\n[auth.users]\n{people}\n',
    )
    yield server.start()
    server.stop()


def open_page(browser, viewport, scheme="light"):
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    context.set_default_timeout(30_000)
    return context, context.new_page()


def sign_in_as_ann(page, url: str) -> ChatPage:
    page.goto(url)
    page.get_by_role("textbox", name="Name").fill("ann")
    page.get_by_role("textbox", name="Password").fill(ANN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Signed in as ann")
    chat = ChatPage(page, url)
    chat.wait_ready()
    return chat


def test_the_sign_in_form_is_a_narrow_centred_column_that_fits_a_phone(password_app, browser):
    context, page = open_page(browser, LAPTOP)
    page.goto(password_app.url)
    name = page.get_by_role("textbox", name="Name")
    expect(name).to_be_visible()
    box, main = name.bounding_box(), page.get_by_test_id("stMain").bounding_box()
    assert 300 <= box["width"] <= 480, f"the name field is {box['width']:.0f} px wide on a laptop"
    middle, main_middle = box["x"] + box["width"] / 2, main["x"] + main["width"] / 2
    assert abs(middle - main_middle) < 24, f"the form is not centred: {box} in {main}"
    button = page.get_by_role("button", name="Sign in").bounding_box()
    assert abs(button["width"] - box["width"]) < 2, "Sign in is as wide as the fields above it"
    context.close()

    context, page = open_page(browser, PHONE)
    page.goto(password_app.url)
    name = page.get_by_role("textbox", name="Name")
    expect(name).to_be_visible()
    box = name.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_the_sign_in_and_admin_pages(password_app, browser, scheme):
    context, page = open_page(browser, LAPTOP, scheme)
    page.goto(password_app.url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    found = {"sign-in": serious_violations(page)}
    page.get_by_role("textbox", name="Name").fill("ann")
    page.get_by_role("textbox", name="Password").fill("not ann's password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("do not match")).to_be_visible()
    found["sign-in, a wrong password"] = serious_violations(page)

    chat = sign_in_as_ann(page, password_app.url)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="All share links")).to_be_visible()  # the page's end
    expect(page.get_by_text("7 days")).to_be_visible()
    chat.wait_idle()
    found["admin"] = serious_violations(page)
    context.close()
    assert {name: v for name, v in found.items() if v} == {}


def test_the_admins_period_survives_a_reload(password_app, browser):
    context, page = open_page(browser, LAPTOP)
    chat = sign_in_as_ann(page, password_app.url)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Admin").click()
    period = page.get_by_role("radiogroup", name="Period")
    expect(period.get_by_role("radio", name="7 days")).to_be_checked()
    period.get_by_text("30 days").click()
    page.wait_for_url(re.compile(r"[?&]period=30\b"))
    chat.wait_idle()
    page.reload()
    expect(page.get_by_role("radiogroup", name="Period").get_by_role("radio", name="30 days")).to_be_checked()
    context.close()


def test_sign_out_is_as_wide_as_the_sidebars_other_buttons(password_app, browser):
    context, page = open_page(browser, LAPTOP)
    sign_in_as_ann(page, password_app.url)
    sidebar = page.get_by_test_id("stSidebar")
    sign_out = sidebar.get_by_role("button", name="Sign out").bounding_box()
    new_chat = sidebar.get_by_role("button", name="New chat").bounding_box()
    assert abs(sign_out["x"] - new_chat["x"]) < 2 and abs(sign_out["width"] - new_chat["width"]) < 2, (
        sign_out,
        new_chat,
    )
    context.close()
