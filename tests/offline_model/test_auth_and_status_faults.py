"""--api-key gives 401 to a wrong bearer; status:CODE faults answer in Gemini's list-shaped error body."""

from __future__ import annotations

import httpx
import pytest

from offline_model.runner import OfflineServer
from tests.offline_model.support import body


def test_wrong_key_is_401_and_right_key_is_served():
    with OfflineServer.start(api_key="sekret") as srv, httpx.Client(base_url=srv.base_url) as client:
        wrong = client.post("chat/completions", json=body(), headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.json()[0]["error"]["status"] == "UNAUTHENTICATED"
        assert client.get("models").status_code == 401
        right = client.post("chat/completions", json=body(), headers={"Authorization": "Bearer sekret"})
        assert right.status_code == 200
        assert all("authorization" not in r["headers"] for r in srv.received)
        assert len(srv.received) == 2


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (400, "INVALID_ARGUMENT"),
        (401, "UNAUTHENTICATED"),
        (403, "PERMISSION_DENIED"),
        (404, "NOT_FOUND"),
        (429, "RESOURCE_EXHAUSTED"),
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
    ],
)
def test_status_fault_answers_that_code_in_list_shape(http, code, status):
    r = http.post("chat/completions", json=body(), headers={"X-Offline-Fault": f"status:{code}"})
    assert r.status_code == code
    error = r.json()[0]["error"]
    assert error["code"] == code
    assert error["status"] == status
    assert "retry-after" not in r.headers
