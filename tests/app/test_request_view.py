"""The request view ("Request": the body, copy as curl, copy as Python) never shows a person who is not
an admin the endpoint's base URL, which may be an internal address: they see the endpoint's public URL
when the operator configured one (`PRISM_API_PUBLIC_URL`, `public_url` in `[[endpoints]]`), else a
`$PRISM_API_BASE_URL` reference, and the snippet still runs. An admin sees the real address."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import httpx
import pytest

from chat_client import Endpoint
from chat_client.snippets import as_curl, as_httpx
from settings import load_settings
from tests.app.hosting_support import ANN, BOB, password_secrets, sign_in

PUBLIC = "https://generativelanguage.googleapis.com/v1beta/openai/"
BODY = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}], "stream": True}


@pytest.fixture
def hosted(app_env, new_app, monkeypatch):
    monkeypatch.setenv("PRISM_AUTH_MODE", "password")

    def make():
        at = new_app()
        at.secrets.update(password_secrets())
        return at

    return make


def snippets_after_a_reply(at) -> list[str]:
    at.chat_input[0].set_value("hello there").run()
    texts = [c.value for c in at.code]
    assert any("curl" in t for t in texts) and any("httpx" in t for t in texts)
    return texts


def internal_host(offline) -> str:
    url = httpx.URL(offline.base_url)
    return f"{url.host}:{url.port}"


def test_someone_who_is_not_an_admin_sees_no_base_url(hosted, offline):
    bob = sign_in(hosted().run(), "bob", BOB)
    texts = snippets_after_a_reply(bob)
    assert internal_host(offline) not in str(bob._tree), "the internal address reached the page"
    assert any('"${PRISM_API_BASE_URL%/}/chat/completions"' in t for t in texts)
    assert any("os.environ['PRISM_API_BASE_URL']" in t for t in texts)


def test_someone_who_is_not_an_admin_sees_the_public_url_when_one_is_set(hosted, offline, monkeypatch):
    monkeypatch.setenv("PRISM_API_PUBLIC_URL", PUBLIC)
    bob = sign_in(hosted().run(), "bob", BOB)
    texts = snippets_after_a_reply(bob)
    assert internal_host(offline) not in str(bob._tree)
    assert sum(PUBLIC + "chat/completions" in t for t in texts) == 2


def test_an_admin_sees_the_real_address(hosted, offline, monkeypatch):
    monkeypatch.setenv("PRISM_API_PUBLIC_URL", PUBLIC)
    ann = sign_in(hosted().run(), "ann", ANN)
    texts = snippets_after_a_reply(ann)
    assert sum(offline.base_url.rstrip("/") + "/chat/completions" in t for t in texts) == 2


def test_public_url_is_read_per_endpoint():
    config = load_settings(
        {},
        {
            "api": {"base_url": "http://10.0.0.5/v1/", "public_url": PUBLIC},
            "endpoints": [
                {
                    "name": "lab",
                    "base_url": "http://10.0.0.6/v1/",
                    "public_url": "https://lab.example.com/v1/",
                },
                {"name": "plain", "base_url": "http://10.0.0.7/v1/"},
            ],
        },
    )
    assert config.api_public_url == PUBLIC
    assert [e.public_url for e in config.extra_endpoints] == ["https://lab.example.com/v1/", None]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_snippets_without_an_address_run_with_the_variable_set(offline):
    endpoint = Endpoint(offline.base_url, public_url=None)
    env = {**os.environ, "PRISM_API_BASE_URL": offline.base_url}
    curl = as_curl(endpoint, BODY, show_url=False)
    assert offline.base_url not in curl
    out = subprocess.run(["bash", "-c", curl], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "data: [DONE]" in out.stdout, out.stderr
    code = as_httpx(endpoint, BODY, show_url=False)
    assert offline.base_url not in code
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "chat.completion.chunk" in out.stdout, out.stderr
