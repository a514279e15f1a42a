"""Shared fixtures: one offline model per dialect for the whole session, and an httpx client for it.

Tests talk to a real server over loopback (house style: no mocks of the HTTP path).
"""

from __future__ import annotations

import httpx
import pytest

from offline_model.runner import OfflineServer


@pytest.fixture(scope="session")
def server():
    with OfflineServer.start() as srv:
        yield srv


@pytest.fixture(scope="session")
def strict_server():
    with OfflineServer.start(strict_openai=True) as srv:
        yield srv


@pytest.fixture(scope="session")
def http(server):
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client
