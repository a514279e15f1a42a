"""The hosting files keep their promises (Docker cannot run here, so the files are read, not run):
a non-root image with a health check, two app servers on PostgreSQL, a sticky websocket-aware proxy."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_image_runs_as_a_user_without_root_and_checks_health():
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "HEALTHCHECK" in dockerfile and "/_stcore/health" in dockerfile
    assert "secrets.toml" in (ROOT / ".dockerignore").read_text(), "secrets never go into the image"


def test_compose_runs_two_app_servers_on_postgresql_behind_the_proxy():
    compose = (ROOT / "compose.yaml").read_text()
    assert re.search(r"^  app1:\n    <<: \*app", compose, re.M)
    assert re.search(r"^  app2:\n    <<: \*app", compose, re.M)
    assert "PRISM_DATABASE_URL: postgresql+psycopg://" in compose
    assert "image: postgres:" in compose and "image: nginx:" in compose
    assert "STREAMLIT_SERVER_COOKIE_SECRET" in compose, "every server signs cookies with one secret"


def test_the_proxy_is_sticky_and_passes_websockets():
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    upstream = re.search(r"upstream prism \{(.*?)\}", nginx, re.S).group(1)
    assert "ip_hash;" in upstream
    assert {"app1:8501", "app2:8501"} <= set(re.findall(r"server (\S+)", upstream))
    assert "proxy_set_header Upgrade $http_upgrade;" in nginx
    assert "proxy_set_header Connection $connection_upgrade;" in nginx


def test_the_proxy_takes_the_largest_upload_the_app_takes():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    body_mb = int(re.search(r"client_max_body_size (\d+)m;", nginx).group(1))
    assert body_mb >= config["server"]["maxUploadSize"]
    assert config["server"]["enableXsrfProtection"] is True
    assert config["client"]["toolbarMode"] == "viewer"


def test_a_script_run_does_not_end_with_a_full_garbage_collection():
    # Streamlit's default collects every generation after each script run (each fragment run too),
    # holding the interpreter lock for ~100 ms: ten sessions streaming at once stall on each other's.
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
