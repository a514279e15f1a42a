"""Running turns: the one place where a request is sent and its reply saved (design.md section 1).

`turns.chat` runs one chat turn (the chat page); `turns.compare` runs several parameter sets at once
(the compare page). Neither imports streamlit, so tests drive them directly.
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
