""" "Copy as curl" and "copy as Python (httpx)": the key is an environment reference, and both snippets
really work: each is run against the offline model with the key only in the environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from chat_client import Endpoint, Params, build_body, messages
from chat_client.snippets import as_curl, as_httpx
from offline_model.runner import OfflineServer

KEY = "sk-snippet-SECRET-42"
BODY = build_body(
    Params(model="gemini-2.5-flash", temperature=0.2, max_tokens=8, stop=["it's"]),
    [messages.user_message("Say 'hi' \"twice\" $HOME `x` \\ é")],
)


@pytest.fixture(scope="module")
def server():
    with OfflineServer.start(api_key=KEY) as srv:
        yield srv


def test_snippets_never_hold_the_key():
    ep = Endpoint("http://127.0.0.1:1/v1/", api_key=KEY)
    for text in (as_curl(ep, BODY), as_httpx(ep, BODY)):
        assert KEY not in text and "PRISM_API_KEY" in text
    assert '"Authorization: Bearer $PRISM_API_KEY"' in as_curl(ep, BODY)
    assert "os.environ['PRISM_API_KEY']" in as_httpx(ep, BODY)


def test_without_a_key_no_authorization_header():
    ep = Endpoint("http://127.0.0.1:1/v1/")
    assert "Authorization" not in as_curl(ep, BODY) and "Authorization" not in as_httpx(ep, BODY)


def _env():
    return {**os.environ, "PRISM_API_KEY": KEY}


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_snippet_runs(server):
    cmd = as_curl(Endpoint(server.base_url, api_key=KEY), BODY)
    out = subprocess.run(["bash", "-c", cmd], env=_env(), capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "chat.completion.chunk" in out.stdout and "data: [DONE]" in out.stdout
    assert server.received[-1]["body"] == BODY


@pytest.mark.parametrize("stream", [True, False])
def test_python_snippet_runs(server, stream):
    body = {**BODY, "stream": stream}
    code = as_httpx(Endpoint(server.base_url, api_key=KEY), body)
    compile(code, "<snippet>", "exec")
    out = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert ("chat.completion.chunk" if stream else '"chat.completion"') in out.stdout
    assert server.received[-1]["body"] == body
