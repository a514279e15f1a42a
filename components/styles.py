"""The few style rules the chat page needs that Streamlit's own options do not give.

Streamlit centres a button's label, sizes a caption small and grey, and stacks a row of columns one per
line on a narrow screen. A history list reads as a list only when its titles line up on the left; the
branch navigator must be readable; a reply's actions must stay one row on a phone. Each rule below names
the element by the key Streamlit turns into a class (`st-key-...`, the key's dots and other signs
become `-`), so it reaches only the elements it is meant for.

What must stay true: this is Prism's own fixed CSS, never text from outside (no value is formatted
in); it loads nothing (no font, no image, no address), so the page still fetches nothing from outside.
"""

from __future__ import annotations

import streamlit as st

CSS = """
<style>
/* The history list: rows of left-aligned titles, the time on the right. A title wraps to a second
   line rather than being cut on one: two chats named alike differ only at the end (" (2)"). */
.st-key-chat-history button { justify-content: flex-start; text-align: left; min-height: 2rem; }
.st-key-chat-history button [data-testid="stMarkdownContainer"] {
  display: -webkit-box !important; -webkit-box-orient: vertical; -webkit-line-clamp: 2;
  overflow: hidden; text-overflow: clip; white-space: normal; overflow-wrap: break-word;
}
.st-key-chat-history button [data-testid="stMarkdownContainer"] p {
  text-align: left; white-space: normal !important;
}
.st-key-chat-history button > div { justify-content: flex-start; min-width: 0; }
/* The branch navigator: arrows and count as large and as dark as the text around it. */
[class*="st-key-chat-nav-"] button p { font-size: 1.5rem; line-height: 1; font-weight: 600; }
[class*="st-key-chat-nav-"] [data-testid="stCaptionContainer"] p {
  font-size: 1rem; color: inherit; opacity: 1; font-weight: 600;
}
/* The token view: each token underlined in its probability's colour (the tint alone was too pale),
   with no padding that would read as a space between tokens. */
[class*="st-key-tokens-"] .stMarkdownColoredBackground { padding: 0.1rem 0; border-radius: 0; }
[class*="st-key-tokens-"] .stMarkdownColoredText { box-shadow: inset 0 -0.2rem 0 currentColor; }
/* A reply's actions: one row, even on a phone (the row scrolls sideways rather than stacking). */
[class*="st-key-chat-actions-"] { flex-wrap: nowrap; overflow-x: auto; }
[class*="st-key-chat-actions-"] > div { flex: 0 0 auto; width: auto; min-width: 0; }
</style>
"""


def chat_page() -> None:
    """Add the chat page's style rules (an element that takes no space)."""
    st.html(CSS)


# The compare page and a shared compare board. Replies sit in narrow columns (a third of the page, or
# the whole of a phone's): a markdown table in a reply kept its natural width and ran over the next
# column (on a phone, off the page, cut). A reply's table scrolls sideways inside its own column
# instead, after its cells have wrapped as far as they can; code blocks already scroll in theirs.
# The sidebar's saved comparisons read as a list: titles on the left, as the chat history's are.
COMPARE_CSS = """
<style>
[class*="st-key-compare-board-"] [data-testid="stMarkdownContainer"] table {
  display: block; max-width: 100%; overflow-x: auto;
}
.st-key-compare-runs button { justify-content: flex-start; text-align: left; }
.st-key-compare-runs button > div { justify-content: flex-start; min-width: 0; }
.st-key-compare-runs button [data-testid="stMarkdownContainer"] p { text-align: left; }
</style>
"""


def compare_page() -> None:
    """Add the compare page's (and a shared compare board's) style rules (an element that takes no
    space)."""
    st.html(COMPARE_CSS)
