"""The bad-input matrix (README "Bad-input matrix"): what a person may hand the chat page, end to end.

Each test gives the real page (AppTest, real offline model on loopback) one kind of bad or awkward
input and checks what the person sees, what is saved and what reaches the model. Rows that need a real
browser (script in rendered text, the upload limit) are in tests/browser/test_hostile_text.py; rows
already covered elsewhere are named in the README table.
"""

from __future__ import annotations

import io
import os
import struct
import zlib

import pytest
from PIL import Image

from storage import open_database, repository, session_factory
from storage.models import User
from tests.storage.images_for_tests import HEIC, SVG, png_with_chunk_bomb

P = "chat.p.new."


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def png(size=(40, 30), colour=(220, 20, 20)) -> bytes:
    return encoded(Image.new("RGB", size, colour), "PNG")


def bomb_png(width: int = 60_000, height: int = 60_000) -> bytes:
    """A tiny PNG whose header declares 3.6 gigapixels (the IHDR size patched, its CRC fixed)."""
    data = bytearray(png((1, 1)))
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def exif_rotated_jpeg() -> bytes:
    """A 60x20 JPEG whose EXIF says "rotate 90° clockwise to view" (orientation 6): upright it is 20x60."""
    image = Image.new("RGB", (60, 20), (20, 20, 220))
    exif = Image.Exif()
    exif[0x0112] = 6
    return encoded(image, "JPEG", exif=exif.tobytes())


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (30, 30), colour) for colour in ((220, 20, 20), (20, 20, 220))]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def cmyk_jpeg() -> bytes:
    return encoded(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG")  # red, in ink


def send_with(at, text: str, *files: tuple[str, bytes, str]):
    box = at.chat_input[0].set_value(text)
    for name, data, mime in files:
        box = box.upload(name, data, mime)
    box.run()
    assert not at.exception, at.exception
    return at


def warnings(at) -> str:
    return " ".join(w.value for w in at.warning)


def last_request(app_env) -> dict:
    return app_env.received[-1]["body"]


def image_parts(app_env) -> list:
    content = last_request(app_env)["messages"][-1]["content"]
    return [p for p in content if isinstance(p, dict) and p.get("type") == "image_url"]


def saved(at) -> list[tuple[str, str, str, list]]:
    make_session = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    with make_session() as session:
        user = session.query(User).filter_by(identity="local").one()
        raw = at.query_params["c"]
        rows = repository.conversation_messages(session, user, int(raw[0] if isinstance(raw, list) else raw))
        return [
            (m.role, m.status, m.content or "", [(a.width, a.height) for a in m.attachments]) for m in rows
        ]


def reply_text(at) -> str:
    return " ".join(md.value for md in at.chat_message[-1].markdown)


def test_a_truncated_png_is_refused_by_name_and_the_text_is_still_sent(app_env, new_app):
    at = send_with(new_app(all_parameters=True).run(), "look", ("cut.png", png()[:60], "image/png"))
    assert "cut.png" in warnings(at) and "damaged or truncated" in warnings(at)
    assert image_parts(app_env) == []
    role, _, text, images = saved(at)[0]
    assert (role, text, images) == ("user", "look", [])


def test_a_decompression_bomb_is_refused_before_decoding(app_env, new_app):
    at = send_with(new_app(all_parameters=True).run(), "look", ("bomb.png", bomb_png(), "image/png"))
    assert "bomb.png" in warnings(at)
    assert "enormous size" in warnings(at) or "megapixels" in warnings(at)
    assert image_parts(app_env) == []
    assert saved(at)[0][3] == []


def test_a_cmyk_jpeg_is_converted_and_described(app_env, new_app):
    at = send_with(new_app(all_parameters=True).run(), "what colour?", ("ink.jpg", cmyk_jpeg(), "image/jpeg"))
    assert warnings(at) == ""
    assert len(image_parts(app_env)) == 1
    assert "RGB mode" in reply_text(at) and "red" in reply_text(at)
    assert saved(at)[0][3] == [(40, 30)]


def test_an_exif_rotated_photo_is_stored_and_sent_upright(app_env, new_app):
    at = send_with(
        new_app(all_parameters=True).run(), "which way up?", ("phone.jpg", exif_rotated_jpeg(), "image/jpeg")
    )
    assert warnings(at) == ""
    assert "20×60" in reply_text(at)
    assert saved(at)[0][3] == [(20, 60)]


def test_an_animated_gif_is_sent_as_its_first_frame(app_env, new_app):
    at = send_with(
        new_app(all_parameters=True).run(), "what is this?", ("blink.gif", animated_gif(), "image/gif")
    )
    assert warnings(at) == ""
    assert "30×30" in reply_text(at) and "red" in reply_text(at)
    assert image_parts(app_env)[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert saved(at)[0][3] == [(30, 30)]


def test_more_than_five_stop_strings_are_refused_before_sending(app_env, new_app):
    at = new_app(all_parameters=True).run()
    at.text_area(key=P + "stop").set_value("a\nb\nc\nd\ne\nf")
    at.run()
    assert any("stop" in e.value.lower() and "5" in e.value for e in at.error), [e.value for e in at.error]
    assert at.chat_input[0].disabled
    assert app_env.received == []


def test_a_one_megabyte_prompt_is_saved_whole_and_sent(app_env, new_app):
    prompt = ("All work and no play makes a long prompt. " * 25_000)[: 1 << 20]
    at = send_with(new_app(all_parameters=True).run(), prompt)
    assert last_request(app_env)["messages"][-1]["content"] == prompt
    (role, status, text, _), (reply_role, reply_status, reply, _) = saved(at)
    assert (role, status, len(text)) == ("user", "complete", 1 << 20)
    assert text == prompt
    assert (reply_role, reply_status) == ("assistant", "complete") and reply


def test_the_chat_input_lets_any_file_through_so_none_is_dropped_without_a_word(app_env, new_app):
    at = new_app(all_parameters=True).run()
    assert list(at.chat_input[0].proto.file_type) == []  # the browser filters nothing out


def test_an_svg_and_a_heic_are_named_at_sending_and_the_text_and_good_image_still_go(app_env, new_app):
    at = send_with(
        new_app(all_parameters=True).run(),
        "what are these?",
        ("logo.svg", SVG, "image/svg+xml"),
        ("IMG_0001.HEIC", HEIC, "image/heic"),
        ("red.png", png(), "image/png"),
    )
    said = warnings(at)
    assert "logo.svg is an SVG drawing; Prism can send PNG, JPEG, WebP and GIF images" in said
    assert "IMG_0001.HEIC is a HEIC/HEIF photo" in said
    assert len(image_parts(app_env)) == 1
    role, _, text, stored = saved(at)[0]
    assert (role, text, len(stored)) == ("user", "what are these?", 1)


def test_a_png_with_a_compressed_chunk_bomb_is_refused_as_a_bomb(app_env, new_app):
    at = send_with(
        new_app(all_parameters=True).run(), "look", ("meta.png", png_with_chunk_bomb(b"zTXt"), "image/png")
    )
    assert "meta.png holds a compressed text or colour-profile chunk" in warnings(at)
    assert "decompression bomb" in warnings(at) and image_parts(app_env) == []
    assert saved(at)[0][2] == "look"


@pytest.mark.parametrize(
    "schema_text, words",
    [
        ('{"anyOf": [{"$ref": "#"}]}', "leads back to itself"),
        ('{"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}', "a $ref cycle"),
        ('{"enum": ["' + "x" * 200_000 + '"]}', "Prism sends schemas up to 100,000 bytes"),
        ('{"items": ' * 100_000 + "{}" + "}" * 100_000, "nested far more than 64 levels deep"),
        ('{"items": ' * 500 + "{}" + "}" * 500, "nested more than 64 levels deep"),
    ],
    ids=["self-ref", "defs-cycle", "too-big", "too-deep-to-read", "too-deep-to-check"],
)
def test_a_json_schema_prism_cannot_check_is_refused_at_the_field_before_sending(
    app_env, new_app, schema_text, words
):
    at = new_app(all_parameters=True).run()
    at.radio(key=P + "format").set_value("json_schema").run()
    at.text_area(key=P + "schema_text").set_value(schema_text).run()
    assert not at.exception, at.exception
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert at.chat_input[0].disabled
    assert app_env.received == []
