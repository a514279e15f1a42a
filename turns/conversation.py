"""What a person asks of a conversation, written down before the reply is requested.

A turn starts with a write: the person's message (with its images), an edited message that starts a
new branch, a request for another version of a reply, or the results of the tools a reply called.
The chat page turns a button or the chat input into one of the small requests below (`Send`, `Edit`,
`Regenerate`, `ToolResults`) and hands it to `save`, which writes it down and says where the reply goes
(`Written.reply_parent`) and what the model must be sent (`Written.wire_messages`). The reply itself,
one row or one row per candidate when n > 1, is written by the engine that streams it (`turns.Turn`).

What must stay true:
- everything the person typed or attached is committed before any request is sent;
- one transaction per request: when the database refuses any part of it, nothing of it is kept and
  `save` returns `NotSaved` with plain words (the page gives the text back to the person);
- the reply just asked for is the version the conversation follows at its parent, on every tab and
  app server (the stored branch choice there is cleared, so the newest attempt is followed), and an
  edit is the version followed where the original stood;
- nothing here imports streamlit: tests drive it directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage import branches, database, repository
from storage.images import NormalisedImage
from storage.models import Conversation, Message, User
from turns import titles
from turns.chat import to_wire_messages


@dataclass(frozen=True)
class Send:
    """A new message from the person, answering `parent_id` (None: the first message, or a new root)."""

    text: str
    images: tuple[NormalisedImage, ...] = ()
    parent_id: int | None = None

    @property
    def has_content(self) -> bool:
        """True when there is something to send: words (not only spaces) or an image."""
        return bool(self.text.strip() or self.images)


@dataclass(frozen=True)
class Edit:
    """The person's message `message_id` rewritten: a new version beside it, with the same images."""

    message_id: int
    text: str


@dataclass(frozen=True)
class Regenerate:
    """Another version of the reply to `parent_id` (Retry, when the last one failed)."""

    parent_id: int


@dataclass(frozen=True)
class ToolResults:
    """What each tool call of reply `assistant_id` returned, as (call id, result text), in call order."""

    assistant_id: int
    results: tuple[tuple[str, str], ...]


Request = Send | Edit | Regenerate | ToolResults


@dataclass(frozen=True)
class NewConversation:
    """How a conversation started by its first message is set up: the page's settings at the time."""

    system_prompt: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    endpoint: str = ""
    model: str = ""


@dataclass(frozen=True)
class Written:
    """What `save` wrote: the conversation as it now stands, and where its reply goes."""

    conversation_id: int | None  # None: there was no conversation and nothing to start one with
    title: str
    created: bool  # True when this request started the conversation
    outline: tuple[repository.MessageOutline, ...]  # every message of the conversation, after the write
    choices: Mapping[int, int]  # the versions followed ({parent id, 0 for roots: child id})
    reply_parent: int | None  # the message the reply answers; None: nothing to answer
    branch: tuple[Message, ...] = ()  # the whole rows of `path`, read in the same transaction

    @property
    def path(self) -> list[Message]:
        """The branch to show: up to the message being answered, else the one the person follows."""
        return list(self.branch)

    def wire_messages(self, system_prompt: str) -> list[dict[str, Any]]:
        """The OpenAI-format messages the reply is asked with: the system prompt, then the path."""
        return to_wire_messages(system_prompt, self.path)


@dataclass(frozen=True)
class NotSaved:
    """The database refused the write; nothing of the request was kept and nothing may be sent."""

    request: Request
    why: str  # plain words ("the disk is full"), never the driver's text


def save(
    make_session: sessionmaker[Session],
    user_id: int,
    conversation_id: int | None,
    request: Request,
    *,
    new: NewConversation | None = None,
    choices: Mapping[int, int] | None = None,
) -> Written | NotSaved:
    """Save what `request` asks of conversation `conversation_id` (None: start one with a `Send`) in
    one transaction, committed before anything is sent; say where the reply goes."""
    try:
        with make_session() as session:
            user = session.get(User, user_id)
            conversation = (
                repository.get_conversation(session, user, conversation_id) if conversation_id else None
            )
            created = False
            if conversation is None and isinstance(request, Send) and request.has_content:
                conversation = _start(session, user, request, new or NewConversation())
                created = True
            if conversation is None:
                return Written(None, "", False, (), dict(choices or {}), None)
            reply_parent = _save(session, user, conversation, request)
            followed = dict(choices or {})
            if reply_parent is not None:
                # The new reply is the version to follow there, on every tab and server.
                followed = repository.choose_branch(session, user, conversation.id, reply_parent, None) or {}
            session.commit()  # before the request: nothing the person typed is lost
            # The branch is found on the outline; only its messages (the whole history the reply is
            # asked with) are read whole, not every other branch's.
            outline = tuple(repository.conversation_outline(session, user, conversation.id))
            if reply_parent is not None:
                path = branches.lineage(outline, reply_parent)
            else:
                path = branches.follow(outline, followed)
            branch = tuple(repository.branch_messages(session, user, conversation.id, path))
            return Written(
                conversation.id, conversation.title, created, outline, followed, reply_parent, branch
            )
    except SQLAlchemyError as problem:
        return NotSaved(request, database.describe_write_failure(problem))


def _start(session: Session, user: User, request: Send, new: NewConversation) -> Conversation:
    return repository.create_conversation(
        session,
        user,
        title=_new_title(session, user, request.text),
        system_prompt=new.system_prompt,
        params=dict(new.params),
        endpoint=new.endpoint,
        model=new.model,
    )


def _new_title(session: Session, user: User, text: str) -> str:
    """A short summary of the first message, numbered when another of the person's chats has it."""
    title = titles.summary(text)
    return titles.unique(title, repository.titles_starting(session, user, title))


def _save(session: Session, user: User, conversation: Conversation, request: Request) -> int | None:
    """Write the request's messages; return the id of the message the reply answers (None: no reply)."""
    if isinstance(request, Send):
        if not request.has_content:
            return None
        return _add(session, user, conversation, "user", request.text, request.parent_id, request.images)
    if isinstance(request, Regenerate):
        return request.parent_id
    if isinstance(request, Edit):
        original = repository.get_message(session, user, request.message_id)
        if original is None:
            return None
        saved = _add(
            session, user, conversation, "user", request.text, original.parent_id, original.attachments
        )
        repository.choose_branch(session, user, conversation.id, original.parent_id, saved)
        return saved
    parent = request.assistant_id
    for call_id, result in request.results:
        parent = _add(session, user, conversation, "tool", result, parent, (), tool_call_id=call_id)
    return parent


def _add(
    session: Session,
    user: User,
    conversation: Conversation,
    role: str,
    text: str,
    parent_id: int | None,
    images: Sequence[Any],
    *,
    tool_call_id: str | None = None,
) -> int:
    message = repository.add_message(
        session,
        user,
        conversation.id,
        role=role,
        content=text,
        parent_id=parent_id,
        images=list(images),
        tool_call_id=tool_call_id,
    )
    return message.id
