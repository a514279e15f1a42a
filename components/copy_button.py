"""A one-click Copy button: puts a reply's markdown on the clipboard, in the browser, with no rerun.

Streamlit has no widget that writes the clipboard (only st.code's own copy icon, which needs a code
block on screen), and a Python button cannot do it: the clipboard is the browser's, and a browser lets
a page write it only while it handles the person's click. So this is a small `st.components.v2`
component: a button drawn in the page itself (not an iframe) whose click handler calls
`navigator.clipboard.writeText` with the text it was given.

What must stay true:
- The text travels as the component's JSON `data` and is only ever handed to `writeText` (and the
  button's words are set with `textContent`): outside text is never parsed as HTML or markdown here.
- The component's HTML, CSS and JavaScript are these fixed strings; they load nothing (the icon is an
  inline SVG path, no font or address), so the page still fetches nothing from outside and the
  Content-Security-Policy (which leaves scripts to Streamlit, whose components load as blob: modules)
  holds.
- It looks like Streamlit's tertiary buttons beside it, in the light and the dark theme (it reads the
  theme's own CSS variables).
"""

from __future__ import annotations

import streamlit as st

ICON = (
    '<svg aria-hidden="true" viewBox="0 0 24 24" width="18" height="18"><path fill="currentColor" '
    'd="M9 18q-.825 0-1.412-.587Q7 16.825 7 16V4q0-.825.588-1.413Q8.175 2 9 2h9q.825 0 1.413.587Q20 '
    "3.175 20 4v12q0 .825-.587 1.413Q18.825 18 18 18Zm0-2h9V4H9v12Zm-4 6q-.825 0-1.413-.587Q3 20.825 3 "
    '20V6h2v14h11v2Z"/></svg>'
)
HTML = (
    f'<button type="button" class="copy" title="Copy the reply as markdown">{ICON}<span>Copy</span></button>'
)
CSS = """
.copy {
  display: inline-flex; align-items: center; gap: 0.4rem; padding: 0.25rem 0.25rem; min-height: 2.5rem;
  border: none; background: transparent; cursor: pointer; border-radius: 0.5rem;
  color: var(--st-text-color, inherit); font-family: var(--st-font, inherit);
  font-size: 0.875rem; line-height: 1.6; white-space: nowrap;
}
.copy:hover, .copy:focus-visible { color: var(--st-primary-color, inherit); }
.copy:focus-visible { outline: 2px solid var(--st-primary-color, currentColor); outline-offset: 1px; }
"""
JS = """
export default function ({ parentElement, data }) {
  const button = parentElement.querySelector("button.copy");
  const words = button.querySelector("span");
  button.setAttribute("aria-label", (data && data.label) || "Copy");
  button.onclick = async () => {
    try {
      await navigator.clipboard.writeText((data && data.text) || "");
      words.textContent = "Copied";
    } catch (problem) {
      words.textContent = "Copy failed";
    }
    setTimeout(() => { words.textContent = "Copy"; }, 1500);
  };
}
"""

_copy = st.components.v2.component("prism_copy", html=HTML, css=CSS, js=JS)


def copy_button(text: str, *, key: str, label: str = "Copy the reply as markdown") -> None:
    """A Copy button that puts `text` on the clipboard when clicked (in the current container)."""
    _copy(key=key, data={"text": text, "label": label}, width="content", height="content")
