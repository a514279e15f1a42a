"""`status:CODE,times=N`: a fault that clears, so a retry can be seen to succeed (browser journey 6)."""

import httpx

from offline_model.runner import OfflineServer


def ask(client: httpx.Client, url: str, text: str) -> httpx.Response:
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": text}], "stream": False}
    return client.post(url + "chat/completions", json=body)


def test_a_status_fault_with_times_fails_only_that_many_requests():
    with OfflineServer.start(host="127.0.0.1", port=0) as server, httpx.Client() as client:
        text = "hello [[fault:status:429,retry=1,times=2]]"
        codes = [ask(client, server.base_url, text).status_code for _ in range(4)]
        assert codes == [429, 429, 200, 200]


def test_without_times_a_status_fault_never_clears():
    with OfflineServer.start(host="127.0.0.1", port=0) as server, httpx.Client() as client:
        codes = [ask(client, server.base_url, "hi [[fault:status:503]]").status_code for _ in range(3)]
        assert codes == [503, 503, 503]


def test_each_server_counts_on_its_own():
    text = "hello [[fault:status:500,times=1]]"
    for _ in range(2):
        with OfflineServer.start(host="127.0.0.1", port=0) as server, httpx.Client() as client:
            assert ask(client, server.base_url, text).status_code == 500
