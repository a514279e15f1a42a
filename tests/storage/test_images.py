"""Images: normalised by Pillow (orientation applied, metadata gone, size bounded, re-encoded, thumbnail),
deduplicated by hash, and refused with a clear error when they are not images or are bombs."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from storage import images
from storage import repository as r
from storage.images import ImageTooLarge, NotAnImage

from .images_for_tests import HEIC, SVG, jpeg_with_exif, png_bytes, png_with_chunk_bomb, small_chunks_png


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_exif_orientation_is_applied_and_metadata_dropped():
    out = images.normalise(jpeg_with_exif(size=(60, 20), orientation=6), "photo.jpg")
    img = _open(out.data)
    assert (out.width, out.height) == (20, 60) == img.size  # rotated upright
    assert out.mime == "image/jpeg"
    assert "exif" not in img.info and not img.getexif()
    assert b"SpyCam" not in out.data
    # orientation 6 = rotate 90° clockwise: the yellow top-left marker is now at the top right
    r_, g, b = img.convert("RGB").getpixel((17, 2))
    assert r_ > 200 and g > 200 and b < 80


def test_png_text_chunks_are_dropped_and_alpha_kept():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Secret Person")
    buf = io.BytesIO()
    Image.new("RGBA", (30, 30), (0, 255, 0, 128)).save(buf, format="PNG", pnginfo=info)
    out = images.normalise(buf.getvalue(), "a.png")
    img = _open(out.data)
    assert out.mime == "image/png" and img.mode == "RGBA"
    assert b"Secret Person" not in out.data and not img.info


def test_longest_side_is_bounded_and_thumbnail_is_small():
    buf = io.BytesIO()
    Image.new("RGB", (images.MAX_SIDE * 2, 300), (9, 9, 9)).save(buf, format="JPEG")
    out = images.normalise(buf.getvalue(), "wide.jpg")
    assert out.width == images.MAX_SIDE and out.height == 150
    thumb = _open(out.thumbnail)
    assert max(thumb.size) == images.THUMB_SIDE and out.thumbnail_mime == "image/webp"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "WEBP", "TIFF"])
def test_other_formats_are_re_encoded(fmt):
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(buf, format=fmt)
    out = images.normalise(buf.getvalue(), f"x.{fmt.lower()}")
    assert out.mime in ("image/png", "image/jpeg")
    assert _open(out.data).format in ("PNG", "JPEG")


def test_normalising_is_stable_so_hashes_dedupe():
    raw = jpeg_with_exif()
    once = images.normalise(raw)
    assert images.normalise(raw).sha256 == once.sha256
    assert images.normalise(once.data).data == once.data  # already normal: bytes kept


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, I am text", b"%PDF-1.7\n...", png_bytes()[:40]],
    ids=["empty", "text", "pdf", "truncated-png"],
)
def test_non_images_are_refused_with_a_clear_message(data):
    with pytest.raises(NotAnImage) as err:
        images.normalise(data, "upload.bin")
    assert "upload.bin" in err.value.message


def _png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares an enormous canvas (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(50_000, 50_000), (10_000, 5_000)])
def test_decompression_bombs_are_refused_before_decoding(size):
    with pytest.raises(ImageTooLarge) as err:
        images.normalise(_png_header_claiming(*size), "bomb.png")
    assert "bomb.png" in err.value.message


def test_oversized_files_are_refused():
    with pytest.raises(ImageTooLarge):
        images.normalise(b"\0" * (images.MAX_BYTES + 1), "huge.jpg")


def test_same_image_twice_is_stored_once(session, alice):
    conv = r.create_conversation(session, alice)
    a = r.add_message(session, alice, conv.id, role="user", content="1", images=[(png_bytes(), "a.png")])
    b = r.add_message(session, alice, conv.id, role="user", content="2", images=[(png_bytes(), "copy.png")])
    assert a.attachments[0].id == b.attachments[0].id


def test_message_keeps_image_order_and_thumbnails(session, alice):
    conv = r.create_conversation(session, alice)
    red, blue = png_bytes(color=(255, 0, 0)), png_bytes(color=(0, 0, 255))
    m = r.add_message(
        session, alice, conv.id, role="user", content="two", images=[(blue, "b.png"), (red, "r.png")]
    )
    session.commit()
    session.expunge_all()
    got = r.get_message(session, alice, m.id)
    assert [a.filename for a in got.attachments] == ["b.png", "r.png"]
    assert got.attachments[0].data_url().startswith("data:image/png;base64,")
    assert _open(got.attachments[0].thumbnail).size == (40, 30)


def test_a_bad_image_adds_nothing(session, alice):
    conv = r.create_conversation(session, alice)
    session.commit()
    with pytest.raises(NotAnImage):
        r.add_message(
            session,
            alice,
            conv.id,
            role="user",
            content="x",
            images=[(png_bytes(), "ok.png"), (b"no", "bad")],
        )
    session.rollback()
    assert r.conversation_messages(session, alice, conv.id) == []


def test_deleting_a_conversation_deletes_images_only_it_used(session, alice):
    one = r.create_conversation(session, alice)
    two = r.create_conversation(session, alice)
    shared = png_bytes(color=(1, 1, 1))
    only = png_bytes(color=(2, 2, 2))
    m1 = r.add_message(session, alice, one.id, role="user", content="", images=[(shared, "s"), (only, "o")])
    r.add_message(session, alice, two.id, role="user", content="", images=[(shared, "s")])
    shared_id, only_id = (a.id for a in m1.attachments)
    session.commit()
    assert r.delete_conversation(session, alice, one.id)
    session.commit()
    assert r.get_attachment(session, alice, shared_id) is not None
    assert r.get_attachment(session, alice, only_id) is None


@pytest.mark.parametrize(
    "data, name, what",
    [
        (SVG, "logo.svg", "logo.svg is an SVG drawing"),
        (SVG, "drawing.bin", "drawing.bin is an SVG drawing"),
        (HEIC, "IMG_0001.HEIC", "IMG_0001.HEIC is a HEIC/HEIF photo"),
        (HEIC, "photo", "photo is a HEIC/HEIF photo"),
        (b"%PDF-1.7\n...", "paper.pdf", "paper.pdf is a PDF document"),
        (b"just text", "notes.txt", "notes.txt is not an image Prism can read"),
    ],
    ids=["svg", "svg-by-content", "heic", "heic-by-content", "pdf", "text"],
)
def test_a_file_prism_cannot_send_is_named_for_what_it_is(data, name, what):
    with pytest.raises(NotAnImage) as err:
        images.normalise(data, name)
    assert err.value.message.startswith(what)
    assert err.value.message.endswith("; Prism can send PNG, JPEG, WebP and GIF images.")


@pytest.mark.parametrize(
    "kind, after_pixels",
    [(b"zTXt", False), (b"zTXt", True), (b"iTXt", False), (b"iCCP", False)],
    ids=["ztxt", "ztxt-after-pixels", "itxt", "iccp"],
)
def test_a_compressed_chunk_bomb_is_refused_as_a_bomb(kind, after_pixels):
    data = png_with_chunk_bomb(kind, after_pixels)
    assert len(data) < 100_000  # tiny on the wire
    with pytest.raises(ImageTooLarge) as err:
        images.normalise(data, "innocent.png")
    assert err.value.message.startswith("innocent.png holds a compressed text or colour-profile chunk")
    assert "decompression bomb" in err.value.message


def test_many_text_chunks_adding_up_past_the_limit_are_refused_as_a_bomb():
    with pytest.raises(ImageTooLarge, match="decompression bomb"):
        images.normalise(small_chunks_png(copies=80), "many.png")


def test_an_image_becomes_the_data_url_the_api_takes():
    assert images.data_url(b"\x89PNG", "image/png") == "data:image/png;base64,iVBORw=="
    out = images.normalise(png_bytes(), "a.png")
    assert out.data_url() == images.data_url(out.data, out.mime)
