"""Image normalisation: every stored image is re-encoded from its pixels by Pillow.

What must stay true:
- The stored bytes carry no metadata (EXIF, GPS, comments, XMP): the image is rebuilt from pixels.
- EXIF orientation is applied first, so the picture looks the way the camera held it.
- The longest side is at most MAX_SIDE pixels; a thumbnail of at most THUMB_SIDE pixels comes along.
- Anything Pillow cannot decode is refused with NotAnImage, naming what the file is when it can tell
  (an SVG drawing, a HEIC photo, a PDF...) and what can be sent instead; anything whose declared size
  would expand beyond MAX_PIXELS (a decompression bomb) is refused with ImageTooLarge *before* its
  pixels are decoded, and so is a PNG whose compressed text or colour-profile chunk (zTXt, iTXt, iCCP)
  would expand beyond Pillow's limit for such chunks (1 MB each, 64 MB in all).
- The same input gives the same bytes, so sha256 of the output deduplicates repeated uploads.
- `data_url` is the one place an image becomes a `data:` URL (requests, exports, share snapshots).
"""

from __future__ import annotations

import base64
import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

MAX_SIDE = 2048
THUMB_SIDE = 256
MAX_PIXELS = 40_000_000  # a 40-megapixel photo decodes; a 50,000 x 50,000 bomb does not
MAX_BYTES = 25 * 1024 * 1024
JPEG_QUALITY = 90
SENDABLE = "Prism can send PNG, JPEG, WebP and GIF images"
# ISO base media brands of HEIF/HEIC stills (what an iPhone saves by default).
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


def data_url(data: bytes, mime: str) -> str:
    """An image as a base64 `data:` URL (RFC 2397), the shape the Chat Completions API takes."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


class ImageRejected(ValueError):
    """An upload that cannot be stored as an image; `message` is plain words for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAnImage(ImageRejected):
    """The bytes are not an image Pillow can read."""


class ImageTooLarge(ImageRejected):
    """The file or its pixel count is beyond the limits (this includes decompression bombs)."""


@dataclass(frozen=True)
class NormalisedImage:
    data: bytes
    mime: str
    width: int
    height: int
    thumbnail: bytes
    thumbnail_mime: str
    sha256: str
    filename: str = ""

    def data_url(self) -> str:
        """The image as a `data:` URL."""
        return data_url(self.data, self.mime)


def normalise(data: bytes, filename: str = "") -> NormalisedImage:
    """Decode, orient, strip, bound and re-encode an uploaded image; raise ImageRejected if it is not one."""
    name = filename or "image"
    if len(data) > MAX_BYTES:
        raise ImageTooLarge(
            f"{name} is {len(data) / 1e6:.0f} MB; images up to {MAX_BYTES // 2**20} MB are accepted."
        )
    with warnings.catch_warnings():
        # Pillow warns (rather than raises) between MAX_IMAGE_PIXELS and twice that; we refuse both.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
            width, height = img.size  # read from the header; no pixels decoded yet
        except ValueError as exc:
            if _is_chunk_bomb(exc):
                raise ImageTooLarge(_chunk_bomb(name)) from exc
            raise NotAnImage(_not_readable(name, data)) from exc
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise NotAnImage(_not_readable(name, data)) from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooLarge(
                f"{name} declares an enormous size and was refused (a decompression bomb?)."
            ) from exc
        if width * height > MAX_PIXELS or width <= 0 or height <= 0:
            raise ImageTooLarge(
                f"{name} is {width} x {height} pixels; "
                f"images up to {MAX_PIXELS // 1_000_000} megapixels are accepted."
            )
        source_format = (img.format or "").upper()
        try:
            img.seek(0)  # first frame of an animation
            img.load()
            if _already_normal(img, source_format):
                # Our own output coming back (an import, a re-upload): keep its bytes, so a JPEG is not
                # re-compressed at every round trip and the hash still deduplicates.
                return _result(data, img, "image/jpeg" if source_format == "JPEG" else "image/png", filename)
            img = ImageOps.exif_transpose(img)
            img = _to_srgb(img)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooLarge(
                f"{name} declares an enormous size and was refused (a decompression bomb?)."
            ) from exc
        except ValueError as exc:
            if _is_chunk_bomb(exc):
                raise ImageTooLarge(_chunk_bomb(name)) from exc
            raise NotAnImage(f"{name} is damaged or truncated and cannot be read.") from exc
        except (OSError, SyntaxError, EOFError) as exc:
            raise NotAnImage(f"{name} is damaged or truncated and cannot be read.") from exc

    has_alpha = img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info)
    img = img.convert("RGBA" if has_alpha else "RGB")
    img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # Photos stay JPEG; anything with transparency or drawn (PNG, GIF, BMP...) becomes PNG, losslessly.
    as_jpeg = not has_alpha and source_format in ("JPEG", "MPO", "WEBP", "HEIF", "AVIF")
    clean = Image.new(img.mode, img.size)
    clean.paste(img)  # a fresh image: no info dict, no EXIF, no ICC, no text chunks
    out = io.BytesIO()
    if as_jpeg:
        clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        mime = "image/jpeg"
    else:
        clean.save(out, format="PNG", optimize=False, compress_level=6)
        mime = "image/png"
    return _result(out.getvalue(), clean, mime, filename)


def _is_chunk_bomb(exc: ValueError) -> bool:
    """Pillow's refusal of a PNG text or ICC chunk that decompresses beyond its limits."""
    text = str(exc)
    return "MAX_TEXT_CHUNK" in text or "Too much memory used in text chunks" in text


def _chunk_bomb(name: str) -> str:
    return (
        f"{name} holds a compressed text or colour-profile chunk that would expand to more than "
        "Prism reads (a decompression bomb?), so it was refused."
    )


def _not_readable(name: str, data: bytes) -> str:
    """Why `data` cannot be sent, naming what it seems to be."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    lower = name.lower()
    if (
        lower.endswith((".svg", ".svgz"))
        or head.startswith(b"<svg")
        or (head.startswith(b"<?xml") and b"<svg" in head)
    ):
        what = "an SVG drawing"
    elif (data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS) or lower.endswith((".heic", ".heif")):
        what = "a HEIC/HEIF photo (save or export it as JPEG to send it)"
    elif data.startswith(b"%PDF"):
        what = "a PDF document"
    else:
        return f"{name} is not an image Prism can read; {SENDABLE}."
    return f"{name} is {what}; {SENDABLE}."


# What Pillow reports for a JPEG or PNG that carries nothing but pixels (and the JFIF header).
_HARMLESS_INFO = frozenset(
    {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "progressive", "progression"}
)


def _already_normal(img: Image.Image, source_format: str) -> bool:
    """True for a JPEG (RGB) or PNG (RGB/RGBA) within MAX_SIDE that carries no metadata at all."""
    if max(img.size) > MAX_SIDE or set(img.info) - _HARMLESS_INFO:
        return False
    if source_format == "JPEG":
        app_segments = [marker for marker, _ in getattr(img, "applist", [])]
        return img.mode == "RGB" and app_segments in ([], ["APP0"])
    return source_format == "PNG" and img.mode in ("RGB", "RGBA") and not img.info


def _result(data: bytes, img: Image.Image, mime: str, filename: str) -> NormalisedImage:
    thumb = img.convert("RGBA" if img.mode == "RGBA" else "RGB")
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    thumb.save(out, format="WEBP", quality=80)
    return NormalisedImage(
        data=data,
        mime=mime,
        width=img.width,
        height=img.height,
        thumbnail=out.getvalue(),
        thumbnail_mime="image/webp",
        sha256=hashlib.sha256(data).hexdigest(),
        filename=filename,
    )


def _to_srgb(img: Image.Image) -> Image.Image:
    """Convert pixels to sRGB when an ICC profile says they are in another space (then drop the profile)."""
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK"):
        if img.mode == "CMYK":
            return img.convert("RGB")
        return img
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        dst = ImageCms.createProfile("sRGB")
        out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(img, src, dst, outputMode=out_mode) or img
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img.convert("RGB") if img.mode == "CMYK" else img
