"""Images: each image part is decoded with Pillow and the reply says its size, mode and dominant colour
names; prompt tokens count 258 per image; an undecodable image is a 400 naming message and part."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests.offline_model.support import MODEL, complete, field_of


def data_url(img: Image.Image, fmt: str = "PNG") -> str:
    buf = io.BytesIO()
    img.save(buf, fmt)
    mime = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[fmt]
    return f"data:{mime};base64," + base64.b64encode(buf.getvalue()).decode()


def two_colour(size=(64, 48), left=(255, 255, 255), right=(220, 30, 30), split=16, mode="RGB") -> Image.Image:
    img = Image.new("RGB", size, right)
    img.paste(left, (0, 0, split, size[1]))
    return img.convert(mode)


def ask(*urls: str, text: str = "What is in this image?", **params) -> dict:
    parts = [{"type": "text", "text": text}] + [{"type": "image_url", "image_url": {"url": u}} for u in urls]
    return {"model": MODEL, "messages": [{"role": "user", "content": parts}], **params}


def test_reply_states_size_mode_and_dominant_colours(http):
    text = complete(http, ask(data_url(two_colour()), temperature=0))["choices"][0]["message"]["content"]
    assert "64×48" in text
    assert "RGB" in text and "PNG" in text
    assert "mostly red (75%)" in text
    assert "white (25%)" in text


@pytest.mark.parametrize(
    ("colour", "name"),
    [((0, 0, 0), "black"), ((30, 70, 220), "blue"), ((40, 170, 60), "green"), ((250, 220, 40), "yellow")],
)
def test_colour_names(http, colour, name):
    url = data_url(Image.new("RGB", (10, 10), colour))
    assert f"all {name}" in complete(http, ask(url))["choices"][0]["message"]["content"]


@pytest.mark.parametrize(("mode", "fmt"), [("L", "PNG"), ("RGBA", "PNG"), ("RGB", "JPEG"), ("RGB", "WEBP")])
def test_modes_and_formats(http, mode, fmt):
    url = data_url(two_colour(mode=mode), fmt)
    text = complete(http, ask(url))["choices"][0]["message"]["content"]
    assert f"{fmt} image in {mode} mode" in text


def test_several_images_are_each_described(http):
    text = complete(http, ask(data_url(two_colour()), data_url(Image.new("RGB", (5, 7), (0, 0, 0)))))
    content = text["choices"][0]["message"]["content"]
    assert "2 images" in content and "64×48" in content and "5×7" in content


def test_prompt_tokens_count_258_per_image(http):
    url = data_url(two_colour())
    one = complete(http, ask(url, reasoning_effort="none"))["usage"]["prompt_tokens"]
    two = complete(http, ask(url, url, reasoning_effort="none"))["usage"]["prompt_tokens"]
    assert two - one == 258


@pytest.mark.parametrize(
    "url",
    [
        "data:image/png;base64,bm90IGFuIGltYWdl",  # "not an image"
        "data:image/png;base64,iVBORw0KGgo=",  # a PNG signature and nothing else
        "not a url at all",
    ],
)
def test_undecodable_image_is_a_400_naming_message_and_part(http, url):
    payload = ask(url)
    payload["messages"] = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        payload["messages"][0],
    ]
    r = http.post("chat/completions", json=payload)
    assert r.status_code == 400
    assert field_of(r) == "messages[2].content[1].image_url"
