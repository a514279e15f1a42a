"""Upload limits for a hosted demo: images per message from PRISM_MAX_FILES_PER_MESSAGE, enforced
before anything is sent; the size per file is server.maxUploadSize in .streamlit/config.toml."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def png(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(out, format="PNG")
    return out.getvalue()


def test_images_beyond_the_configured_number_are_left_out_and_said_so(app_env, new_app, monkeypatch):
    monkeypatch.setenv("PRISM_MAX_FILES_PER_MESSAGE", "1")
    at = new_app().run()
    at.chat_input[0].set_value("two pictures").upload("a.png", png((255, 0, 0)), "image/png").upload(
        "b.png", png((0, 0, 255)), "image/png"
    ).run()
    assert not at.exception
    sent = app_env.received[-1]["body"]["messages"][-1]["content"]
    images = [part for part in sent if isinstance(part, dict) and part.get("type") == "image_url"]
    assert len(images) == 1


def test_the_size_per_file_and_the_hosted_defaults_are_configured():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert 0 < config["server"]["maxUploadSize"] <= 50
    assert config["server"]["enableXsrfProtection"] is True
    assert config["client"]["toolbarMode"] == "viewer"
