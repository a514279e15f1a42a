"""Reads the images of a request with Pillow, so the offline model can say what it sees.

What must stay true: every image part of every user message is decoded (as the provider does); one that
is not a decodable ``data:`` URL is a 400 naming the message and the part
(``messages[2].content[1].image_url``); the description states size, mode and the dominant colour names,
with shares that come from counting pixels.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass

from offline_model.errors import ProviderError

DATA_URL_RE = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^,;]*)*?);base64,(?P<data>.*)$", re.S
)
MAX_IMAGE_BYTES = 7 * 1024 * 1024  # Gemini accepts about 7 MB per inline image
SAMPLE_SIZE = 48
# Named colours, by their RGB: each pixel counts toward the nearest one.
PALETTE = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "grey": (128, 128, 128),
    "red": (220, 30, 30),
    "orange": (255, 140, 0),
    "yellow": (250, 220, 40),
    "green": (40, 170, 60),
    "cyan": (0, 200, 220),
    "blue": (30, 70, 220),
    "purple": (130, 50, 170),
    "pink": (250, 150, 190),
    "brown": (130, 80, 40),
}


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    mode: str
    format: str
    colours: tuple[tuple[str, float], ...]  # (name, share 0..1), largest first

    def describe(self) -> str:
        """One plain sentence about the image."""
        shares = [f"{name} ({share:.0%})" for name, share in self.colours]
        if len(shares) > 1:
            colours = "mostly " + shares[0] + ", with " + " and ".join(shares[1:])
        else:
            colours = "all " + shares[0]
        return f"a {self.width}×{self.height} {self.format} image in {self.mode} mode, {colours}"


def _nearest(rgb: tuple[int, int, int]) -> str:
    r, g, b = rgb
    return min(
        PALETTE, key=lambda n: (PALETTE[n][0] - r) ** 2 + (PALETTE[n][1] - g) ** 2 + (PALETTE[n][2] - b) ** 2
    )


def read_image(url: str, where: str) -> ImageInfo:
    """Decode a data: URL image; raise a 400 naming ``where`` when it cannot be read."""
    if url.startswith(("http://", "https://")):
        raise ProviderError(
            400,
            f"Invalid value at '{where}': the offline model cannot fetch remote images; send a data: URL.",
            field=where,
        )
    match = DATA_URL_RE.match(url)
    if not match:
        raise ProviderError(
            400,
            f"Invalid value at '{where}': expected a base64 data: URL (data:image/png;base64,...).",
            field=where,
        )
    try:
        raw = base64.b64decode(match["data"], validate=False)
    except (binascii.Error, ValueError):
        raise ProviderError(
            400, f"Invalid value at '{where}': the base64 data is corrupt.", field=where
        ) from None
    if len(raw) > MAX_IMAGE_BYTES:
        raise ProviderError(400, f"Invalid value at '{where}': the image is larger than 7 MB.", field=where)
    from PIL import Image, UnidentifiedImageError  # imported on first use: it costs start-up time

    try:
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            width, height, mode, fmt = img.width, img.height, img.mode, img.format or "unknown"
            small = img.convert("RGB")
            small.thumbnail((SAMPLE_SIZE, SAMPLE_SIZE))
            data = small.tobytes()
            pixels = [(data[k], data[k + 1], data[k + 2]) for k in range(0, len(data), 3)]
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ProviderError(
            400,
            f"Invalid value at '{where}': Unable to process input image. It could not be decoded.",
            field=where,
        ) from None
    counts: dict[str, int] = {}
    for px in pixels:
        name = _nearest(px)
        counts[name] = counts.get(name, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    total = len(pixels) or 1
    colours = tuple((name, n / total) for name, n in ranked[:3] if n / total >= 0.05) or (
        (ranked[0][0], ranked[0][1] / total),
    )
    return ImageInfo(width, height, mode, fmt, colours)


def image_parts(message: dict) -> list[tuple[int, str]]:
    """(part index, url) of each image part of a message."""
    content = message.get("content")
    if not isinstance(content, list):
        return []
    found = []
    for j, part in enumerate(content):
        if isinstance(part, dict) and part.get("type") == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            found.append((j, url))
    return found


def read_request_images(messages: list[dict]) -> dict[int, list[ImageInfo]]:
    """Decode every image of every user message; map message index -> its images' info."""
    out: dict[int, list[ImageInfo]] = {}
    for i, msg in enumerate(messages):
        if msg.get("role") != "user":
            continue
        infos = [read_image(url, f"messages[{i}].content[{j}].image_url") for j, url in image_parts(msg)]
        if infos:
            out[i] = infos
    return out
