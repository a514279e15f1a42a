"""Every Streamlit call that renders text gets either a literal or text that went through the renderer.

Streamlit renders markdown (images included) in st.markdown, captions, titles, alerts, toasts and the
labels and help tooltips of widgets, so a page that hands outside text to any of them directly can make
the browser fetch an address. This test reads views/ and components/ as Python syntax trees and fails
on any such call whose text argument is not:
- a literal string (or an f-string whose every value is itself allowed),
- a call to a `rendering.` function (`rendering.outside`, `rendering.label`, `rendering.plain`, or
  `rendering.trusted` for text Prism's own code builds: numbers, settings, fixed words),
- a module constant (an UPPER_CASE name, or an item looked up in one): Prism's own words,
- a value an f-string formats as a number or date (`{x:.0f}`, `{t:%H:%M}`, `{len(x)}`, `{i + 1}`),
- a conditional or a `+` of allowed parts.
Option lists of radio, pills and segmented controls (whose options render as markdown) need a
`format_func` that is a rendering function or a lambda returning a rendering call; selectbox and
multiselect options are plain text, so they need `format_func` only when their options are not literal.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Method name -> positions and keywords that Streamlit renders as markdown.
TEXT_ARGUMENTS = {
    name: (0, "body")
    for name in ("markdown", "caption", "write", "error", "warning", "info", "success", "toast", "exception")
}
TEXT_ARGUMENTS.update({name: (0, "body") for name in ("title", "header", "subheader")})
TEXT_ARGUMENTS.update(
    {
        name: (0, "label")
        for name in (
            "button",
            "download_button",
            "link_button",
            "form_submit_button",
            "page_link",
            "expander",
            "popover",
            "status",
            "checkbox",
            "toggle",
            "radio",
            "selectbox",
            "multiselect",
            "text_input",
            "text_area",
            "number_input",
            "slider",
            "select_slider",
            "date_input",
            "time_input",
            "file_uploader",
            "color_picker",
            "pills",
            "segmented_control",
            "metric",
            "badge",
            "spinner",
            "chat_input",
        )
    }
)
MARKDOWN_OPTIONS = {"radio", "pills", "segmented_control", "select_slider"}
PLAIN_OPTIONS = {"selectbox", "multiselect"}
NOT_STREAMLIT = {"log", "logger", "logging", "rendering", "re", "json", "os", "time", "math", "text"}


def _is_rendering_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "rendering"
    )


def _is_constant_name(node: ast.AST) -> bool:
    """A module constant (UPPER_CASE) is Prism's own text; so is an item looked up in one."""
    if isinstance(node, ast.Subscript):
        node = node.value
    return isinstance(node, ast.Name) and node.id.isupper()


def _number(part: ast.FormattedValue) -> bool:
    """A value formatted as a number or a date, counted, or computed with a number: not text."""
    spec = part.format_spec
    if isinstance(spec, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in spec.values):
        text = "".join(str(v.value) for v in spec.values)
        if text and (text[-1] in "dfeEgGn%xX" or "%" in text):
            return True
    value = part.value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return value.func.id in ("len", "int", "round")
    if isinstance(value, ast.BinOp):
        sides = (value.left, value.right)
        return any(isinstance(side, ast.Constant) and type(side.value) is int for side in sides)
    return False


def allowed(node: ast.AST | None) -> bool:
    """Whether an argument is literal, or text that passed through the renderer."""
    if node is None:
        return True
    if isinstance(node, ast.Constant) or _is_constant_name(node):
        return True
    if isinstance(node, ast.JoinedStr):
        return all(
            allowed(part.value) or _number(part) if isinstance(part, ast.FormattedValue) else True
            for part in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return allowed(node.left) and allowed(node.right)
    if isinstance(node, ast.IfExp):
        return allowed(node.body) and allowed(node.orelse)
    if isinstance(node, ast.BoolOp):
        return all(allowed(value) for value in node.values)
    if isinstance(node, ast.List | ast.Tuple):
        return all(allowed(item) for item in node.elts)
    if isinstance(node, ast.ListComp):
        return allowed(node.elt)
    return _is_rendering_call(node)


def _format_func_ok(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id == "rendering"
    if isinstance(node, ast.Lambda):
        return allowed(node.body)
    return False


def _literal_options(node: ast.AST | None) -> bool:
    if node is None or _is_constant_name(node):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("list", "range"):
        return all(_literal_options(arg) or node.func.id == "range" for arg in node.args)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return all(isinstance(item, ast.Constant) for item in node.elts)
    if isinstance(node, ast.Dict):
        return all(isinstance(key, ast.Constant) for key in node.keys)
    return False


def _receiver(func: ast.Attribute) -> str:
    value = func.value
    while isinstance(value, ast.Attribute | ast.Subscript | ast.Call):
        value = value.value if not isinstance(value, ast.Call) else value.func
    return value.id if isinstance(value, ast.Name) else ""


def problems_in(source: str, filename: str = "<test>") -> list[str]:
    """Each call that renders text it did not get from a literal or the renderer, as "file:line call"."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        if _receiver(node.func) in NOT_STREAMLIT:
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        where = f"{filename}:{node.lineno} .{name}()"
        if "help" in keywords and not allowed(keywords["help"]):
            found.append(f"{where} help=")
        if name == "tabs" and node.args and not allowed(node.args[0]):
            found.append(f"{where} tab labels")
        if name not in TEXT_ARGUMENTS:
            continue
        position, keyword = TEXT_ARGUMENTS[name]
        text = node.args[position] if len(node.args) > position else keywords.get(keyword)
        if not allowed(text):
            found.append(f"{where} text")
        if name in MARKDOWN_OPTIONS | PLAIN_OPTIONS:
            options = node.args[1] if len(node.args) > 1 else keywords.get("options")
            formatter = keywords.get("format_func")
            if formatter is not None:
                if not _format_func_ok(formatter):
                    found.append(f"{where} format_func")
            elif not _literal_options(options):
                found.append(f"{where} options")
        if name in ("metric",):
            for extra in [*node.args[1:3], keywords.get("value"), keywords.get("delta")]:
                if extra is not None and not allowed(extra):
                    found.append(f"{where} value")
    return found


def page_files() -> list[Path]:
    return sorted([*(ROOT / "views").rglob("*.py"), *(ROOT / "components").rglob("*.py")])


def test_every_text_call_in_the_pages_goes_through_the_renderer():
    problems = []
    for path in page_files():
        if path.name == "rendering.py":  # the renderer's own wrappers; tests/test_rendering.py covers it
            continue
        problems += problems_in(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert problems == [], "text that did not pass through components/rendering.py:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "source",
    [
        "st.markdown(reply)",
        "st.caption(f'Saved as {name}')",
        "slot.error(problem.message)",
        "cols[0].button(title, key='x')",
        "st.expander(label=conversation.title)",
        "st.title(conversation.title if conversation else 'New chat')",
        "st.radio('Preset', names)",
        "st.radio('Preset', ids, format_func=lambda i: names[i])",
        "st.selectbox('Preset', names)",
        "st.tabs([a.title for a in runs])",
        "st.button('Go', help=preset.description)",
        "st.toast(message)",
        "st.metric('Run', run.name)",
        "st.caption(f'{name:>10}')",
        "st.caption(f'{run.name + suffix}')",
        "st.markdown(rendering.label(a) or b)",
    ],
)
def test_the_check_catches_outside_text(source):
    assert problems_in(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "st.markdown('**Fixed** words')",
        "st.markdown(rendering.outside(reply))",
        "st.caption(f'Saved as {rendering.label(name)}')",
        "st.title(rendering.label(t) if t else 'New chat')",
        "st.radio('Preset', ids, format_func=rendering.label)",
        "st.radio('Preset', ids, format_func=lambda i: rendering.label(names[i]))",
        "st.selectbox('Mode', ['a', 'b'])",
        "st.caption(rendering.trusted(f'{count} tokens'))",
        "st.tabs([rendering.label(a.title) for a in runs])",
        "logger.info(message)",
        "st.caption(f'{len(cells)} done, {share:.0%}, at {when:%H:%M}, number {i + 1}')",
        "st.caption(STATUS_NOTES[status])",
        "st.selectbox('Expires', list(EXPIRY_CHOICES))",
    ],
)
def test_the_check_lets_rendered_or_literal_text_through(source):
    assert problems_in(source) == []
