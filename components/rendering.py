"""The one renderer for text that did not come from Prism's own code.

Model replies, thought summaries, provider errors, tool names and arguments, imported conversations,
titles, preset names, file names and shared snapshots are all written by someone else. Streamlit renders
markdown in `st.markdown` and also in captions, titles, alerts, toasts and widget labels (label markdown
includes images), so any of those surfaces could make the browser fetch an address the moment a page is
drawn: an injected instruction can make a model write private conversation text into an image address.

What must stay true (tests/test_rendering.py, tests/test_render_calls.py and the browser tracker
in tests/browser/test_hostile_text.py check it):
- `safe_markdown` returns markdown in which no image can be read outside fenced or indented code blocks,
  except an image whose address is on an operator-trusted host (exact host, http or https). Every other
  image becomes an inert placeholder naming the host, with the address as inline code. As the last step
  every `!` before `[` outside code blocks is escaped, so an image form this module does not recognise
  still cannot survive; over-escaping inside inline code is accepted as cosmetic.
- Links are clickable only to http, https, mailto or a relative address; any other scheme (javascript:,
  data:, vbscript:, file:, in any case and with entity or whitespace tricks) is shown as text. A link
  whose text is not its address shows the real host after it.
- Bidirectional overrides and invisible controls are shown as `<U+202E>` in names (`label`, `plain`);
  in messages they are kept, except inside link text and addresses, where they could hide a target.
- The output is checked with a CommonMark parser; if it still finds an untrusted image or an unsafe link
  (a case the rewriting missed), the whole text is shown as literal text instead.
- Raw HTML is never enabled: every wrapper here calls Streamlit with unsafe_allow_html left False.

The functions above the "Streamlit wrappers" line are pure (string in, string out) so they can be tested
without a page; the wrappers below are thin and are what the pages call.
"""

from __future__ import annotations

import html
import re
import time
import unicodedata
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import streamlit as st
from markdown_it import MarkdownIt
from markdown_it.common.utils import normalizeReference, unescapeAll

# Bidi embeddings and overrides, isolates, zero-width and direction marks, the byte-order mark.
CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + [chr(c) for c in range(0x200B, 0x2010)]
    + ["\ufeff"]
)
_CONTROL_RE = re.compile("[" + "".join(sorted(CONTROLS)) + "]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")
SAFE_SCHEMES = ("http", "https", "mailto")
ADDRESS_SHOWN = 300  # characters of an address shown in a placeholder; past that it is cut with "..."

# A strict http(s) address for trusted images: no user part, no backslash, no space or control.
_TRUSTABLE = re.compile(r"^(https?)://([A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:[/?#][^\s\\<>\"'`]*)?$", re.I)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]{1,31}):([^\s<>]*)>")
_WORD = re.compile(r"\S+")
_URL_MARKS = ("://", "www.", "mailto:", "](")


# -- pure core ------------------------------------------------------------------------------------------


def visible_controls(text: str) -> str:
    """Show each bidi or invisible control character as `<U+XXXX>` instead of letting it act."""
    return _CONTROL_RE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def escape_markdown(text: str) -> str:
    """Make text literal inside Streamlit markdown (also inside `:color[...]` directives)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def plain(text: Any) -> str:
    """A name for a surface that shows plain text (selectbox options, text inputs): controls visible."""
    return visible_controls("" if text is None else str(text))


def label(text: Any) -> str:
    """A name (title, preset, file name) for a surface that renders markdown: literal, controls visible."""
    return escape_markdown(plain(text)).replace("\n", " ")


def code(text: Any) -> str:
    """Outside text (a tool name, an id) as inline code: inert, whatever backticks it holds."""
    return _code_span(" ".join(plain(text).split()) or " ")


def _is_latin(ch: str) -> bool:
    """Basic Latin to Latin Extended-B and Latin Extended Additional: the letters whose accents
    SQLite's FTS5 tokenizer removes (unicode61, remove_diacritics)."""
    code = ord(ch)
    return code < 0x250 or 0x1E00 <= code < 0x1F00


def _folded(text: str, accents: bool) -> tuple[str, list[int]]:
    """`text` lower-cased (and, with `accents`, with the accents of Latin letters removed, as FTS5
    does), with, for each folded character, the index of the character of `text` it came from."""
    out: list[str] = []
    owner: list[int] = []
    for i, ch in enumerate(text):
        folded = ch.lower()
        if accents:
            parts = unicodedata.normalize("NFD", folded)
            if _is_latin(parts[0]) or unicodedata.combining(parts[0]):
                folded = "".join(c for c in parts if not unicodedata.combining(c))
        out.append(folded)
        owner.extend([i] * len(folded))
    return "".join(out), owner


def highlighted(text: Any, words: Sequence[str], width: int = 90, *, fold_accents: bool = False) -> str:
    """A window of `text` around the first of `words` found (each word also as a prefix), literal like
    `label`, with every match in bold: what a search result shows under its title. "" when none is found.

    Case never matters; with `fold_accents` neither do the accents of Latin letters ("cafe" bolds
    "Café" and "café" bolds "cafe"), as the search of the engine that found the text decides
    (storage.repository.search_folds_accents)."""
    flat = " ".join(plain(text).split())
    terms = [_folded(w, fold_accents)[0] for w in words if w]
    if not flat or not terms:
        return ""
    folded, owner = _folded(flat, fold_accents)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in terms) + r")\w*")
    spans = []
    for match in pattern.finditer(folded):
        if match.end() == match.start():
            continue
        start, end = owner[match.start()], owner[match.end() - 1] + 1
        while end < len(flat) and not _folded(flat[end], fold_accents)[0]:
            end += 1  # a combining mark that folded away still belongs to the word
        spans.append((start, end))
    if not spans:
        return ""
    first = spans[0][0]
    start = max(0, first - width // 3)
    if start:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(flat), start + width)
    out, at = [], start
    for span_start, span_end in spans:
        if span_start >= end:
            break
        span_start, span_end = max(span_start, at), min(span_end, end)
        if span_end <= span_start:
            continue
        out.append(escape_markdown(flat[at:span_start]))
        out.append("**" + escape_markdown(flat[span_start:span_end]) + "**")
        at = span_end
    out.append(escape_markdown(flat[at:end]))
    return ("…" if start else "") + "".join(out) + ("…" if end < len(flat) else "")


def trusted(text: str) -> str:
    """Mark text that Prism's own code built (numbers, settings, fixed words): passed through unchanged.

    It exists so the check over the pages can tell a reviewed exception from an oversight."""
    return text


def _clean_address(address: str) -> str:
    """An address as a browser reads it: entities and escapes decoded, spaces and C0 controls removed."""
    decoded = html.unescape(unescapeAll(address))
    return "".join(ch for ch in decoded if ord(ch) > 0x20 and ch not in CONTROLS and ch != "\x7f")


def link_is_safe(address: str) -> bool:
    """True for http, https, mailto and relative addresses; false for every other scheme."""
    for form in (address, urllib.parse.unquote(address)):  # a reference's address comes %-encoded
        match = _SCHEME.match(_clean_address(form).lower())
        if match is not None and match.group(1) not in SAFE_SCHEMES:
            return False
    return True


def image_host(address: str) -> str | None:
    """The host an image address names, or None when it names none (relative, data:)."""
    cleaned = _clean_address(address)
    if cleaned.startswith("//"):
        cleaned = "http:" + cleaned
    match = re.match(r"^[a-z][a-z0-9+.\-]*://([^/?#\\]*)", cleaned, re.I)
    if not match:
        return None
    host = match.group(1).rsplit("@", 1)[-1]
    host = re.sub(r":\d*$", "", host)
    return host.lower() or None


def image_is_trusted(address: str, hosts: Iterable[str]) -> bool:
    """True only for an http(s) address, written plainly, whose host is exactly one of `hosts`
    (a host on another port than the default one must be listed as "host:port")."""
    allowed = {h.strip().lower() for h in hosts if h and h.strip()}
    raw = unescapeAll(address)
    if not allowed or raw != _clean_address(address) or "&" in address:
        return False  # entities, escapes or hidden characters: too clever to trust
    match = _TRUSTABLE.match(raw)
    if not match:
        return False
    scheme, host, port = match.group(1).lower(), match.group(2).lower(), match.group(3)
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return host in allowed  # "img.example" means its default ports, as in the CSP's img-src
    return f"{host}:{port}" in allowed


def _code_span(text: str) -> str:
    """`text` as inline code, with a fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _shown_address(address: str) -> str:
    shown = visible_controls(" ".join(address.split()))
    return shown if len(shown) <= ADDRESS_SHOWN else shown[:ADDRESS_SHOWN] + "..."


def image_placeholder(address: str, alt: str = "") -> str:
    """The inert text shown instead of an image: it names the host and shows the address as code."""
    cleaned = _clean_address(address)
    host = image_host(address)
    if cleaned.lower().startswith("data:"):
        where = "an embedded data image"
    elif host:
        where = f"image from {escape_markdown(visible_controls(host))}"
    else:
        where = "image at a relative address"
    alt_words = " ".join(plain(alt).split())
    described = f" ({escape_markdown(alt_words[:80])})" if alt_words else ""
    return f"*{where}{described}, not loaded:* {_code_span(_shown_address(cleaned))}"


class _Parser:
    """Rewrites the inline markdown of one text: images to placeholders, unsafe links to text."""

    def __init__(self, references: dict[str, dict], hosts: Sequence[str]) -> None:
        self.references = references
        self.hosts = hosts
        self.kept: list[str] = []  # trusted images, put back after the final escaping

    # -- small readers, each returning the index after what it read, or None ---------------------------

    @staticmethod
    def _structure(s: str) -> tuple[dict[int, int], dict[int, int]]:
        """One linear pass: where each code span that closes ends, and which `]` closes each `[`
        (escapes and code spans skipped, innermost pairs first)."""
        runs = [(m.start(), m.end()) for m in re.finditer(r"`+", s)]
        next_same: dict[int, int] = {}
        seen: dict[int, int] = {}
        for start, end in reversed(runs):
            length = end - start
            if length in seen:
                next_same[start] = seen[length]
            seen[length] = end
        run_end = dict(runs)
        code: dict[int, int] = {}
        close: dict[int, int] = {}
        stack: list[int] = []
        i = 0
        while i < len(s):
            c = s[i]
            if c == "\\":
                i += 2
                continue
            if c == "`":
                if i in next_same:
                    code[i] = next_same[i]
                    i = code[i]
                else:
                    i = run_end.get(i, i + 1)
                continue
            if c == "[":
                stack.append(i)
            elif c == "]" and stack:
                close[stack.pop()] = i
            i += 1
        return code, close

    @staticmethod
    def _inline_target(s: str, i: int) -> tuple[int, str] | None:
        """Read `(destination "title")` starting at the `(` at i: (index after `)`, destination)."""
        j = i + 1
        while j < len(s) and s[j] in " \t\n":
            j += 1
        if j < len(s) and s[j] == "<":
            k = j + 1
            while k < len(s) and s[k] not in "<>\n":
                k += 2 if s[k] == "\\" else 1
            if k >= len(s) or s[k] != ">":
                return None
            destination, j = s[j + 1 : k], k + 1
        else:
            start, depth = j, 0
            while j < len(s) and s[j] > " ":
                if s[j] == "\\":
                    j += 2
                    continue
                if s[j] == "(":
                    depth += 1
                elif s[j] == ")":
                    if depth == 0:
                        break
                    depth -= 1
                j += 1
            destination = s[start:j]
        while j < len(s) and s[j] in " \t\n":
            j += 1
        if j < len(s) and s[j] in "\"'(":
            close = ")" if s[j] == "(" else s[j]
            k = j + 1
            while k < len(s) and s[k] != close:
                k += 2 if s[k] == "\\" else 1
            if k >= len(s):
                return None
            j = k + 1
            while j < len(s) and s[j] in " \t\n":
                j += 1
        if j < len(s) and s[j] == ")":
            return j + 1, destination
        return None

    def _reference(self, name: str) -> dict | None:
        # A label is at most 999 characters (CommonMark); longer text is never a reference.
        if not self.references or len(name) > 999:
            return None
        return self.references.get(normalizeReference(name))

    def _target(self, s: str, close: int, text: str) -> tuple[int, str] | None:
        """What follows `]` at `close`: an inline target or a reference; (index after it, address)."""
        after = close + 1
        if after < len(s) and s[after] == "(":
            found = self._inline_target(s, after)
            if found:
                return found
        if after < len(s) and s[after] == "[":
            end = s.find("]", after + 1)
            if end > 0 and "[" not in s[after + 1 : end]:
                name = s[after + 1 : end] or text
                ref = self._reference(name)
                if ref is not None:
                    return end + 1, ref["href"]
        ref = self._reference(text) if text.strip() else None
        if ref is not None:
            return after, ref["href"]
        return None

    # -- the rewrite ------------------------------------------------------------------------------------

    def rewrite(self, s: str, depth: int = 0) -> str:
        code, close = self._structure(s)
        out: list[str] = []
        i = 0
        while i < len(s):
            c = s[i]
            if c == "\\":
                out.append(s[i : i + 2])
                i += 2
                continue
            if c == "`":
                run = len(s[i:]) - len(s[i:].lstrip("`"))
                stop = code.get(i, i + run)
                out.append(s[i:stop])
                i = stop
                continue
            if c == "!" and i + 1 in close:
                done = self._image(s, i, close[i + 1], out)
                if done is not None:
                    i = done
                    continue
            if c == "[" and i in close:
                done = self._link(s, i, close[i], out, depth)
                if done is not None:
                    i = done
                    continue
            if c == "<":
                match = _AUTOLINK.match(s, i)
                if match:
                    if link_is_safe(match.group(0)[1:-1]):
                        out.append(match.group(0))
                    else:
                        out.append(_code_span(_shown_address(match.group(0)[1:-1])) + " (link not followed)")
                    i = match.end()
                    continue
            out.append(c)
            i += 1
        return "".join(out)

    def _image(self, s: str, i: int, close: int, out: list[str]) -> int | None:
        alt = s[i + 2 : close]
        found = self._target(s, close, alt)
        if found is None:
            return None
        end, address = found
        if image_is_trusted(address, self.hosts):
            self.kept.append(f"![{label(unescapeAll(alt))}](<{unescapeAll(address)}>)")
            out.append(f"\x00{len(self.kept) - 1}\x00")
        else:
            out.append(image_placeholder(address, unescapeAll(alt)))
        return end

    def _link(self, s: str, i: int, close: int, out: list[str], depth: int) -> int | None:
        text = s[i + 1 : close]
        found = self._target(s, close, text)
        if found is None:
            return None
        end, address = found
        # Deep nesting is not worth its cost: past a few levels the link text is shown literally.
        shown_text = visible_controls(self.rewrite(text, depth + 1)) if depth < 4 else label(text)
        cleaned = _clean_address(address)
        if not link_is_safe(address):
            out.append(f"{shown_text} (link not followed: {_code_span(_shown_address(cleaned))})")
            return end
        target = re.sub(r"([\\&<>])", r"\\\1", cleaned)  # literal inside <...>: no entity, no escape
        host = image_host(cleaned)
        if host is None and cleaned.lower().startswith("mailto:"):
            host = cleaned[7:]
        words = " ".join(plain(unescapeAll(text)).split()).rstrip("/").lower()
        suffix = ""
        if host and words not in (host, cleaned.rstrip("/").lower()):
            suffix = f" ({escape_markdown(visible_controls(host))})"
        out.append(f"[{shown_text}](<{target}>){suffix}")
        return end


@lru_cache(maxsize=4)
def _markdown_parser(inline: bool = True) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.validateLink = lambda url: True  # see every link and image, whatever its scheme
    if not inline:
        md.disable("inline")  # blocks and link reference definitions only: the first pass needs no more
    else:
        # The check looks only at links and images; emphasis never changes what is one (CommonMark
        # resolves brackets first), and skipping it halves the cost of the check.
        md.disable(["emphasis", "strikethrough"])
    return md


_BANG = re.compile(r"(\\*)!(?=\[)")


def _escape_bangs(text: str) -> str:
    """Escape every `!` before `[` not already escaped, so no image can be read from it."""
    return _BANG.sub(lambda m: m.group(0) if len(m.group(1)) % 2 else m.group(1) + "\\!", text)


def _escape_controls_near_addresses(text: str) -> str:
    """Controls inside a word that looks like an address (which GFM may link) are shown, not obeyed."""
    if not _CONTROL_RE.search(text):
        return text

    def word(match: re.Match) -> str:
        found = match.group(0)
        return visible_controls(found) if any(mark in found.lower() for mark in _URL_MARKS) else found

    return _WORD.sub(word, text)


def _segments(text: str, kinds: dict[int, str]) -> Iterator[tuple[str, str]]:
    """The text as runs of (kind, lines): "code" (a code block), "definition" (a link reference
    definition, which shows nothing) or "text"."""
    lines = text.splitlines(keepends=True)
    run: list[str] = []
    current = None
    for number, line in enumerate(lines):
        kind = kinds.get(number, "text")
        if current is not None and kind != current:
            yield current, "".join(run)
            run = []
        current = kind
        run.append(line)
    if run:
        yield current or "text", "".join(run)


def _line_kinds(tokens, references: dict[str, dict]) -> dict[int, str]:
    kinds: dict[int, str] = {}
    for ref in references.values():
        if ref.get("map"):
            kinds.update(dict.fromkeys(range(*ref["map"]), "definition"))
    for token in tokens:
        if token.type in ("fence", "code_block") and token.map:
            kinds.update(dict.fromkeys(range(*token.map), "code"))
    return kinds


def _literal(text: str, kinds: dict[int, str]) -> str:
    """The fallback: everything outside code blocks as literal text."""
    parts = _segments(text, kinds)
    return "".join(p if kind == "code" else escape_markdown(visible_controls(p)) for kind, p in parts)


def _unsafe_tokens(tokens, hosts: Sequence[str]) -> bool:
    for token in tokens:
        for child in token.children or []:
            if child.type == "image" and not image_is_trusted(str(child.attrs.get("src", "")), hosts):
                return True
            if child.type == "link_open":
                href = str(child.attrs.get("href", ""))
                if not link_is_safe(href) or _CONTROL_RE.search(href):
                    return True
    return False


def safe_markdown(text: Any, image_hosts: Sequence[str] = ()) -> str:
    """Markdown that cannot make the browser fetch or run anything (see the module docstring)."""
    text = "" if text is None else str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    env: dict = {}
    tokens = _markdown_parser(inline=False).parse(text, env)
    references = env.get("references", {})
    kinds = _line_kinds(tokens, references)
    parser = _Parser(references, tuple(image_hosts))
    parts = []
    for kind, part in _segments(text, kinds):
        if kind == "code":
            parts.append(part)
        elif kind == "definition":  # shows nothing; its address is checked where it is used
            parts.append(_escape_bangs(part))
        else:
            parts.append(_escape_bangs(_escape_controls_near_addresses(parser.rewrite(part))))
    result = re.sub("\x00(\\d+)\x00", lambda m: parser.kept[int(m.group(1))], "".join(parts))
    # No `[` and no `<`: no link or image can be read (no autolink literals here), nothing to check.
    if ("[" in result or "<" in result) and _unsafe_tokens(_markdown_parser().parse(result, {}), image_hosts):
        return _literal(text, kinds)
    return result


# -- Streamlit wrappers -----------------------------------------------------------------------------------


def image_hosts() -> tuple[str, ...]:
    """The operator's trusted image hosts (settings: PRISM_IMAGE_HOSTS / rendering.image_hosts)."""
    from components import resources

    try:
        return resources.settings().image_hosts
    except ValueError:
        return ()


def outside(text: Any) -> str:
    """Outside text (a reply, a thought, an error body) made safe for any markdown surface."""
    return safe_markdown(text, image_hosts())


def markdown(text: Any, *, where: Any = None, **kwargs: Any) -> None:
    """`st.markdown` for outside text (on `where`, a container or slot, when given)."""
    (where or st).markdown(outside(text), **kwargs)


def caption(text: Any, *, where: Any = None, **kwargs: Any) -> None:
    """`st.caption` for outside text."""
    (where or st).caption(outside(text), **kwargs)


def error(text: Any, *, where: Any = None, **kwargs: Any) -> None:
    """`st.error` for outside text (a provider's error body)."""
    (where or st).error(outside(text), **kwargs)


def warning(text: Any, *, where: Any = None, **kwargs: Any) -> None:
    """`st.warning` for outside text."""
    (where or st).warning(outside(text), **kwargs)


def title(text: Any, *, where: Any = None, **kwargs: Any) -> None:
    """`st.title` for a name someone typed or imported: literal, controls visible."""
    (where or st).title(label(text), **kwargs)


def stream_markdown(chunks: Iterable[str], *, where: Any = None) -> str:
    """Show a growing reply safely (each update re-rendered whole); return the full text.

    `st.write_stream` would render the raw text itself, so it is not used for outside text."""
    slot = (where or st).empty()
    full, shown, next_draw = "", "", 0.0
    hosts = image_hosts()
    for chunk in chunks:
        if not chunk:
            continue
        full += chunk
        now = time.monotonic()
        if now >= next_draw:
            # A long reply costs more to render each time: wait at least twice that before the next
            # redraw, so rendering never takes more than a third of the stream's time.
            slot.markdown(safe_markdown(full, hosts))
            shown, next_draw = full, now + 2 * (time.monotonic() - now)
    if shown != full:
        slot.markdown(safe_markdown(full, hosts))
    return full
