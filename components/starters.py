"""Starter prompts for an empty chat: four buttons that show what Prism does, each sent in one click.

Streamlit 1.67's chat input has no suggestions of its own, so these are ordinary buttons (a keyboard
reaches them with Tab and Enter, and each carries its own label). A click stores the starter; the chat
page reads it as if it had been typed (`picked`), after setting the parameters the starter needs (a
JSON format, a tool) through the form's own `reseed`, so what was sent is what the form shows. Every
starter works on the offline model: it follows a temperature, returns valid JSON for `json_object`,
calls a function the user names, and describes an image's size and colours.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from chat_client import Params
from components import param_form, rendering

PENDING_KEY = "chat.starter"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city's name"}},
            "required": ["city"],
        },
    },
}


@dataclass(frozen=True)
class Starter:
    """One suggestion: its button, the message it sends, the parameters it sets, whether an image goes."""

    label: str
    icon: str
    text: str
    params: dict[str, Any] = field(default_factory=dict)
    image: bool = False


STARTERS = (
    Starter(
        "Temperature demo",
        ":material/thermostat:",
        "What does temperature do to a reply? (Sent at temperature 1.5: press Regenerate to see it change.)",
        {"temperature": 1.5},
    ),
    Starter(
        "A JSON reply",
        ":material/data_object:",
        "Describe the compare page as a JSON object.",
        {"response_format": {"type": "json_object"}},
    ),
    Starter(
        "A tool call",
        ":material/build:",
        "What is the weather in Paris? Use get_weather.",
        {"tools": [WEATHER_TOOL]},
    ),
    Starter("Describe an image", ":material/image:", "Describe this image.", {}, image=True),
)


class _Upload:
    """A generated image in the shape the chat input hands over (`name`, `getvalue()`)."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self._data = data

    def getvalue(self) -> bytes:
        return self._data


class StarterMessage:
    """A starter as the chat input's value: `.text` and `.files`."""

    def __init__(self, text: str, files: list[_Upload]) -> None:
        self.text = text
        self.files = files


def sample_image() -> bytes:
    """A small PNG with three colour bands, for the image starter (made here, nothing fetched)."""
    from PIL import Image  # here, not at the top: a page load that sends no image needs no Pillow

    image = Image.new("RGB", (240, 120), (40, 90, 200))
    image.paste((240, 200, 40), (80, 0, 160, 120))
    image.paste((200, 40, 60), (160, 0, 240, 120))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _pick(index: int, prefix: str, current: Params) -> None:
    starter = STARTERS[index]
    if starter.params:
        param_form.reseed(prefix, current.replace(**starter.params))
    st.session_state[PENDING_KEY] = index


def picked() -> StarterMessage | None:
    """The starter clicked in the last run, as a message to send (once), or None."""
    index = st.session_state.pop(PENDING_KEY, None)
    if index is None:
        return None
    starter = STARTERS[index]
    files = [_Upload("three-bands.png", sample_image())] if starter.image else []
    return StarterMessage(starter.text, files)


def show(prefix: str, current: Params) -> None:
    """The four starters, in a row that wraps on a narrow screen, for a chat with no messages yet.

    One flex row rather than `st.columns`: columns cost a block per button on every page load."""
    st.caption("Not sure where to start? Try one:")
    row = st.container(horizontal=True, gap="small")
    for index, starter in enumerate(STARTERS):
        row.button(
            rendering.trusted(starter.label),
            icon=starter.icon,
            key=f"chat.starter.{index}",
            help=rendering.trusted(starter.text),
            on_click=_pick,
            args=(index, prefix, current),
            width="stretch",
        )
