"""Running turns: the one place where a request is sent and its reply saved.

`turns.engine` runs every turn (one asyncio loop, the HTTP client handed in). `turns.conversation`
writes what a person asks of a conversation (a message, an edit, a regenerate, tool results) before
anything is sent; `turns.chat` is a chat reply on the engine (the chat page), `turns.compare` several
parameter sets at once (the compare page). Pages ask these modules for a turn and draw its events;
none of them imports streamlit, so tests drive them directly. docs/architecture.md shows where they
sit among the other parts.
"""

from turns.chat import (
    COMPLETE,
    ERROR,
    LENGTH,
    STOPPED,
    Candidate,
    Turn,
    to_wire_messages,
)

__all__ = [
    "COMPLETE",
    "ERROR",
    "LENGTH",
    "STOPPED",
    "Candidate",
    "Turn",
    "to_wire_messages",
]
