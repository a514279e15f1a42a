"""Prism's storage: SQLAlchemy models, engines and sessions, repository functions, Alembic migrations.

No Streamlit and no chat_client here (a test checks it): pages, turns and scripts hand in a Session and
the acting user. Start with `engine = open_database(url)`; `Session = session_factory(engine)`.
"""

from storage import images, models, repository
from storage.database import close_database, open_database, session_factory
from storage.images import ImageRejected, ImageTooLarge, NotAnImage
from storage.repository import NotFound

__all__ = [
    "ImageRejected",
    "ImageTooLarge",
    "NotAnImage",
    "NotFound",
    "close_database",
    "images",
    "models",
    "open_database",
    "repository",
    "session_factory",
]
