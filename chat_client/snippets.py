"""Requests as text ("copy as curl", "copy as Python (httpx)"), so a person can rerun one by hand.

What must stay true: the key never appears in a snippet. The Authorization header refers to an
environment variable instead (`$PRISM_API_KEY` in the shell, `os.environ["PRISM_API_KEY"]` in Python),
so a snippet can be pasted into a bug report. The body is exactly what `build_body` would send.
The address is the endpoint's own only when the caller says it may be shown (`show_url`); otherwise it
is the endpoint's public URL when one is configured, else a reference to `$PRISM_API_BASE_URL`, so an
internal base URL never reaches a person who should not see it.
"""

from __future__ import annotations

import json
import pprint
import shlex
from typing import Any

from chat_client.endpoint import Endpoint

KEY_ENV = "PRISM_API_KEY"
URL_ENV = "PRISM_API_BASE_URL"


def shown_chat_url(endpoint: Endpoint, *, show_url: bool) -> str | None:
    """The chat URL a snippet may show: the real one, the public one, or None (say `$PRISM_API_BASE_URL`)."""
    if show_url:
        return endpoint.chat_url
    if endpoint.public_url:
        return endpoint.public_url.rstrip("/") + "/chat/completions"
    return None


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, indent=2, ensure_ascii=False)


def as_curl(
    endpoint: Endpoint, body: dict[str, Any], *, key_env: str = KEY_ENV, show_url: bool = True
) -> str:
    """A shell command that sends `body` with curl; the key is read from $key_env (and the address
    from $PRISM_API_BASE_URL when it may not be shown and no public URL is configured)."""
    url = shown_chat_url(endpoint, show_url=show_url)
    where = shlex.quote(url) if url else f'"${{{URL_ENV}%/}}/chat/completions"'
    lines = [f"curl -sS{' -N' if body.get('stream', True) else ''} {where}"]
    if endpoint.api_key:
        lines.append(f'-H "Authorization: Bearer ${key_env}"')
    lines.append("-H 'Content-Type: application/json'")
    lines.append("--data-binary @- <<'JSON'")
    # A quoted heredoc passes the body through untouched; no line of indented JSON can be `JSON` alone.
    return " \\\n  ".join(lines) + "\n" + _json(body) + "\nJSON\n"


def as_httpx(
    endpoint: Endpoint, body: dict[str, Any], *, key_env: str = KEY_ENV, show_url: bool = True
) -> str:
    """A Python script that sends `body` with httpx (and httpx-sse when streaming); the address as in
    `as_curl`."""
    streaming = body.get("stream", True)
    out = ["import os", "", "import httpx"]
    if streaming:
        out.append("from httpx_sse import connect_sse")
    url = shown_chat_url(endpoint, show_url=show_url)
    where = repr(url) if url else f'os.environ[{URL_ENV!r}].rstrip("/") + "/chat/completions"'
    out += ["", f"url = {where}"]
    if endpoint.api_key:
        out.append(f'headers = {{"Authorization": "Bearer " + os.environ[{key_env!r}]}}')
    else:
        out.append("headers = {}")
    out.append("body = " + pprint.pformat(body, sort_dicts=False, width=100))
    out.append("")
    out.append("with httpx.Client(timeout=httpx.Timeout(120.0, connect=10.0)) as client:")
    if streaming:
        out += [
            '    with connect_sse(client, "POST", url, headers=headers, json=body) as source:',
            "        if source.response.status_code >= 400:",
            "            source.response.read()",
            "            raise SystemExit(f'HTTP {source.response.status_code}: {source.response.text}')",
            "        for event in source.iter_sse():",
            '            if event.data == "[DONE]":',
            "                break",
            "            print(event.data)",
        ]
    else:
        out += [
            "    response = client.post(url, headers=headers, json=body)",
            "    print(response.status_code)",
            "    print(response.text)",
        ]
    return "\n".join(out) + "\n"
