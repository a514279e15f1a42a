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


def _chunk(kind: bytes, data: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_chunk_bomb(kind: bytes = b"zTXt", after_pixels: bool = False, copies: int = 1) -> bytes:
    """A 4x4 PNG carrying `copies` compressed chunks (zTXt, iTXt or iCCP) of 50 MB of zeros each,
    squeezed to about 50 KB: a decompression bomb in the metadata rather than in the pixels."""
    import zlib

    raw = png_bytes((4, 4))
    bomb = zlib.compress(b"\0" * 50_000_000, 9)
    payload = {
        b"zTXt": b"Comment\0\0" + bomb,
        b"iTXt": b"Comment\0\1\0\0\0" + bomb,
        b"iCCP": b"icc\0\0" + bomb,
    }[kind]
    at = raw.index(b"IEND" if after_pixels else b"IDAT") - 4
    return raw[:at] + _chunk(kind, payload) * copies + raw[at:]


def small_chunks_png(copies: int, size: int = 900_000) -> bytes:
    """A PNG with many zTXt chunks each under Pillow's per-chunk limit but together over its total."""
    import zlib

    raw = png_bytes((4, 4))
    at = raw.index(b"IDAT") - 4
    one = _chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"\0" * size, 9))
    return raw[:at] + one * copies + raw[at:]


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
# The start of an iPhone HEIC file: an ISO base media "ftyp" box with the heic brand.
HEIC = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64
