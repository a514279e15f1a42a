"""Small images made in memory for the storage tests (no binary fixtures in the repository)."""

from __future__ import annotations

import io

from PIL import Image


def png_bytes(size: tuple[int, int] = (40, 30), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def jpeg_with_exif(size: tuple[int, int] = (60, 20), orientation: int = 6) -> bytes:
    """A JPEG whose EXIF says "rotate 90°" (orientation 6) and which carries a camera make and GPS tag."""
    img = Image.new("RGB", size, (10, 120, 240))
    for x in range(10):  # a marker in the top-left corner, to see where it ends up
        for y in range(5):
            img.putpixel((x, y), (255, 255, 0))
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (59.0, 54.0, 0.0)}  # GPSInfo
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif, quality=95)
    return out.getvalue()
