"""Prism's storage: SQLAlchemy models, engines and sessions, repository functions, Alembic migrations.

No Streamlit and no chat_client here (a test checks it): pages, turns and scripts hand in a Session and
the acting user. Start with `engine = open_database(url)`; `Session = session_factory(engine)`.

Modules: accounts (identities, sign-in sessions, the sign-in throttle's counts, guest counts),
repository (users, conversations, messages, images, search), presets, compare (compare runs),
sharing (share links), usage (the ledger behind quotas), interchange (export and import), images
(normalising uploads), liveness (telling a crashed stream from a live one), migrations (Alembic).
"""

from storage import accounts, compare, images, interchange, models, presets, repository, sharing, usage
from storage.database import close_database, open_database, session_factory
from storage.images import ImageRejected, ImageTooLarge, NotAnImage
from storage.repository import NotFound

__all__ = [
    "ImageRejected",
    "ImageTooLarge",
    "NotAnImage",
    "NotFound",
    "accounts",
    "close_database",
    "compare",
    "images",
    "interchange",
    "models",
    "open_database",
    "presets",
    "repository",
    "session_factory",
    "sharing",
    "usage",
]
