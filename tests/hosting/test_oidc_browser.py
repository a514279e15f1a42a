"""OIDC sign-in end to end in a real browser: a real OpenID provider on loopback (oidc-provider-mock),
a real `streamlit run` in `oidc` mode, Debian's chromium. Signing in goes through the provider's form
and back; the admin role follows the configured e-mail; signing out ends the session at the provider.
"""

from __future__ import annotations

import contextlib
import importlib.util
import threading

import pytest
from playwright.sync_api import expect

from tests.browser.support import AppServer, free_port

WAIT = 30_000  # generous for a busy machine; every wait ends as soon as its condition holds


@pytest.fixture
def provider():
    """oidc-provider-mock on 127.0.0.1. One host everywhere (provider, app, browser): with `localhost` in
    the browser and 127.0.0.1 in redirect_uri, Streamlit's sign-in fails silently ("Missing provider for
    OAuth callback" in its log)."""
    if importlib.util.find_spec("oidc_provider_mock") is None:
        pytest.skip("oidc-provider-mock is not installed (pip install -r requirements-dev.txt)")
    if importlib.util.find_spec("authlib") is None:
        pytest.skip("Authlib is not installed (streamlit[auth], in requirements.txt)")
    import oidc_provider_mock
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, oidc_provider_mock.app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def oidc_secrets(app_port: int, provider: str) -> str:
    return (
        "[auth]\n"
        'mode = "oidc"\n'
        'admins = ["ann@example.com"]\n'
        f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"\n'
        'cookie_secret = "a-long-random-cookie-secret-for-the-oidc-test"\n'
        'client_id = "prism"\n'
        'client_secret = "prism-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )


def sign_in(page, app_url: str, provider: str, email: str) -> None:
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Sign in to Prism")).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("stChatInputTextArea")).to_have_count(0)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(provider + "/**", timeout=WAIT)
    page.get_by_placeholder("sub").fill(email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(app_url + "**", timeout=WAIT)
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=WAIT)


def test_sign_in_and_out_through_a_real_identity_provider(tmp_path, provider, offline, browser):
    port = free_port()
    env = {
        "PRISM_DATABASE_URL": f"sqlite:///{tmp_path / 'prism.db'}",
        "PRISM_API_BASE_URL": offline.base_url,
        "PRISM_AUTH_MODE": "oidc",
    }
    with contextlib.ExitStack() as stack:
        app = AppServer(tmp_path / "app", env=env, secrets=oidc_secrets(port, provider), port=port)
        stack.callback(app.stop)
        app.start()

        ann_context = stack.enter_context(contextlib.closing(browser.new_context()))
        ann = ann_context.new_page()
        sign_in(ann, app.url, provider, "ann@example.com")
        sidebar = ann.get_by_test_id("stSidebar")
        expect(sidebar).to_contain_text("Signed in as ann@example.com (admin)", timeout=WAIT)

        # A second person, side by side in their own browser context, is not an admin.
        bob_context = stack.enter_context(contextlib.closing(browser.new_context()))
        bob = bob_context.new_page()
        sign_in(bob, app.url, provider, "bob@example.com")
        expect(bob.get_by_test_id("stSidebar")).to_contain_text("Signed in as bob@example.com", timeout=WAIT)
        expect(bob.get_by_test_id("stSidebar")).not_to_contain_text("(admin)")

        # Signing out goes through the provider's End Session page and back to the gate.
        sidebar.get_by_role("button", name="Sign out").click()
        ann.wait_for_url(provider + "/oauth2/end_session*", timeout=WAIT)
        ann.get_by_role("button", name="End session").click()
        ann.wait_for_url(app.url + "**", timeout=WAIT)
        expect(ann.get_by_role("heading", name="Sign in to Prism")).to_be_visible(timeout=WAIT)
        expect(ann.get_by_test_id("stChatInputTextArea")).to_have_count(0)
