"""Running turns: the one place where a request is sent and its reply saved.

`turns.engine` runs every turn (one asyncio loop, the HTTP client handed in); `turns.chat` is a chat
reply on it (the chat page), `turns.compare` several parameter sets at once (the compare page). None
imports streamlit, so tests drive them directly.
"""

from turns.chat import (
    COMPLETE,
    ERROR,
    LENGTH,
    STOPPED,
    Candidate,
    Turn,
    save_user_message,
    to_wire_messages,
)

__all__ = [
    "COMPLETE",
    "ERROR",
    "LENGTH",
    "STOPPED",
    "Candidate",
    "Turn",
    "save_user_message",
    "to_wire_messages",
]
