"""Repository: every read and write of a person's data, scoped to the acting user.

What must stay true:
- Every public function takes (session, user, ...) and filters by `user.id`, so no query can forget the
  owner. Another user's id behaves exactly like an id that does not exist: None, False, [] or NotFound,
  never a hint that the row exists.
- Functions flush; the caller commits (one commit per unit of work, e.g. per grow_reply tick).
- Nothing is lost (docs/architecture.md, "Storage"): start_reply makes the row before the first token
  is shown, grow_reply saves the text as it grows (and refreshes updated_at: the heartbeat liveness.py reads),
  finish_reply records how it ended. A reply left "streaming" by a dead writer is saved as
  "interrupted" when its conversation is next opened (get_conversation / active_path).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import column, delete, exists, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from storage import accounts, branches, liveness
from storage import images as image_module
from storage.models import (
    MESSAGE_STATUSES,
    ROLES,
    Attachment,
    CompareRunAttachment,
    Conversation,
    Message,
    MessageAttachment,
    User,
    utcnow,
)


class NotFound(LookupError):
    """The object does not exist or belongs to someone else (the two are never told apart)."""


CONVERSATION_FIELDS = frozenset(
    {"title", "system_prompt", "params", "endpoint", "model", "pinned", "archived"}
)
FINISHED_STATUSES = frozenset(MESSAGE_STATUSES) - {"streaming"}
# Never stored in request_body even if a caller passes a body carrying them.
_SECRET_KEYS = frozenset({"api_key", "apikey", "authorization", "key"})

_WORD = re.compile(r"[^\W_]+")
# PostgreSQL only: messages.search_vector, to_tsvector('simple', content) stored by the database
# itself (a generated column, kept out of the model so no query loads it).
_SEARCH_VECTOR = literal_column("messages.search_vector")
SEARCH_SLICE = 20_000  # PostgreSQL reads matches among the newest this many message ids first...
SEARCH_GROWTH = 8  # ...then among this many times as many older ones, until the page is full

# Ids per IN (...) list: well under SQLite's and PostgreSQL's limits on bound parameters.
_IDS_PER_QUERY = 500

ImageInput = tuple[bytes, str] | image_module.NormalisedImage | Attachment


# ---------------------------------------------------------------------------------------------- users


def ensure_user(
    session: Session, identity: str, display_name: str = "", role: str = "user", *, method: str = "local"
) -> User:
    """The account of (method, identity), created on first sight; display name and role follow the caller.

    `identity` is the subject within its sign-in method (storage/accounts.py): password `ann` and OIDC
    `ann` are two people. The default method is the local one (`none` mode, scripts and tests)."""
    return accounts.ensure_account(session, method, identity, display_name=display_name, role=role)


# ------------------------------------------------------------------------------------- conversations


def create_conversation(
    session: Session,
    user: User,
    *,
    title: str = "New chat",
    system_prompt: str = "",
    params: dict | None = None,
    endpoint: str = "",
    model: str = "",
) -> Conversation:
    """A new, empty conversation owned by `user`."""
    now = utcnow()
    conv = Conversation(
        user_id=user.id,
        title=title,
        system_prompt=system_prompt,
        params=dict(params or {}),
        endpoint=endpoint,
        model=model,
        pinned=False,
        archived=False,
        created_at=now,
        updated_at=now,
    )
    session.add(conv)
    session.flush()
    return conv


def list_conversations(
    session: Session, user: User, *, limit: int = 50, offset: int = 0, archived: bool = False
) -> list[Conversation]:
    """One page of the user's conversations: pinned first, then the most recently active."""
    stmt = (
        select(Conversation)
        .where(Conversation.user_id == user.id, Conversation.archived == archived)
        .order_by(Conversation.pinned.desc(), Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(stmt))


def titles_starting(session: Session, user: User, prefix: str) -> list[str]:
    """The titles of the user's conversations that begin with `prefix` (to make a new title unique)."""
    stmt = select(Conversation.title).where(
        Conversation.user_id == user.id, Conversation.title.startswith(prefix, autoescape=True)
    )
    # LIKE ignores case on SQLite: keep only the exact prefix.
    return [t for t in session.scalars(stmt) if t.startswith(prefix)]


def count_conversations(session: Session, user: User, *, archived: bool = False) -> int:
    """How many conversations list_conversations would page through."""
    stmt = select(func.count()).where(Conversation.user_id == user.id, Conversation.archived == archived)
    return int(session.scalar(stmt) or 0)


def get_conversation(session: Session, user: User, conversation_id: int) -> Conversation | None:
    """The user's conversation, or None; replies left streaming by a dead writer become "interrupted"."""
    conv = _own_conversation(session, user, conversation_id)
    if conv is not None:
        _settle_conversation_streams(session, conv.id)
    return conv


def update_conversation(
    session: Session, user: User, conversation_id: int, **fields: Any
) -> Conversation | None:
    """Change some of title, system_prompt, params, endpoint, model, pinned, archived; None if not theirs."""
    unknown = set(fields) - CONVERSATION_FIELDS
    if unknown:
        raise TypeError(f"update_conversation does not set {', '.join(sorted(unknown))}")
    conv = _own_conversation(session, user, conversation_id)
    if conv is None:
        return None
    for name, value in fields.items():
        if name == "params":
            value = dict(value or {})
        elif name in ("pinned", "archived"):
            value = bool(value)
        setattr(conv, name, value)
    session.flush()
    return conv


def rename_conversation(
    session: Session, user: User, conversation_id: int, title: str
) -> Conversation | None:
    """Set the title (surrounding whitespace trimmed; empty becomes "New chat")."""
    return update_conversation(session, user, conversation_id, title=title.strip() or "New chat")


def pin_conversation(
    session: Session, user: User, conversation_id: int, pinned: bool = True
) -> Conversation | None:
    """Pin (or unpin) a conversation: pinned ones list first."""
    return update_conversation(session, user, conversation_id, pinned=pinned)


def archive_conversation(
    session: Session, user: User, conversation_id: int, archived: bool = True
) -> Conversation | None:
    """Archive (or restore) a conversation: archived ones list only with archived=True."""
    return update_conversation(session, user, conversation_id, archived=archived)


def delete_conversation(session: Session, user: User, conversation_id: int) -> bool:
    """Delete the conversation, its messages and the images nothing else uses; False if not theirs."""
    conv = _own_conversation(session, user, conversation_id)
    if conv is None:
        return False
    attachment_ids = list(
        session.scalars(
            select(MessageAttachment.attachment_id)
            .join(Message, Message.id == MessageAttachment.message_id)
            .where(Message.conversation_id == conv.id)
            .distinct()
        )
    )
    session.flush()  # pending changes to its messages must not be flushed after they are gone
    # One DELETE; the database cascades to messages (in any branch order), their image links and
    # share links. The ORM's own cascade would delete loaded messages one by one, parents possibly
    # before children, which the self-referencing foreign key forbids.
    session.execute(
        delete(Conversation).where(Conversation.id == conv.id).execution_options(synchronize_session=False)
    )
    gone = [
        o for o in session.identity_map.values() if isinstance(o, Message) and o.conversation_id == conv.id
    ]
    for obj in [conv, *gone]:
        if obj in session:  # expunging the conversation cascades to the messages it has loaded
            session.expunge(obj)
    forget_unused_images(session, user, attachment_ids)
    return True


def search_conversations(
    session: Session, user: User, query: str, *, limit: int = 50, archived: bool | None = None
) -> list[Conversation]:
    """The user's conversations whose title, or one of whose messages, holds every word of `query`
    (each word also matches as a prefix: "stor" finds "storage"); most recently active first.

    One function over two engines: SQLite's FTS5 indexes or PostgreSQL's full-text GIN indexes, over
    titles and message text, both with Unicode word splitting and no stemming, so the same words find
    the same conversations (one difference: FTS5 also ignores accents, "elan" finds "élan").
    `archived`: None searches all, True/False only archived / only active ones.

    It does not read every match to return `limit`: the matching messages are walked newest first
    (FTS5 in descending rowid order; on PostgreSQL slice by slice of message ids, see _newest_first,
    through the GIN index over the stored `search_vector` column) and the walk stops at the
    `limit`-th distinct conversation; title matches (one per conversation) are added, and those
    candidates are ordered by their last activity. A conversation whose only match is older than the
    newest matches of `limit` other conversations is left out of a full page.
    """
    words = search_words(query)
    if not words:
        return []
    shown = [] if archived is None else [Conversation.archived == archived]
    if session.get_bind().dialect.name == "postgresql":
        tsquery = func.to_tsquery("simple", " & ".join(f"{w}:*" for w in words))
        found = _newest_matches_postgres(session, user, tsquery, shown, limit)
        title_match = func.to_tsvector("simple", Conversation.title).op("@@")(tsquery)
    else:
        fts_query = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
        found = _newest_matches_sqlite(session, user, fts_query, shown, limit)
        title_rows = text("SELECT rowid FROM conversations_fts WHERE conversations_fts MATCH :t").bindparams(
            t=fts_query
        )
        title_match = Conversation.id.in_(title_rows.columns(column("rowid")))
    by_title = select(Conversation.id).where(Conversation.user_id == user.id, *shown, title_match)
    if len(found) >= limit:
        # A full page from the messages already: only a title match active since the oldest of them
        # can still make the page, so the title index is asked about those alone.
        cutoff = session.scalar(
            select(func.min(Conversation.updated_at)).where(Conversation.id.in_(list(found)))
        )
        by_title = by_title.where(Conversation.updated_at >= cutoff)
    by_title = by_title.order_by(Conversation.updated_at.desc(), Conversation.id.desc()).limit(limit)
    found.update(dict.fromkeys(session.scalars(by_title)))
    if not found:
        return []
    stmt = (
        select(Conversation)
        .where(Conversation.id.in_(list(found)), Conversation.user_id == user.id)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def _newest_matches_sqlite(
    session: Session, user: User, fts_query: str, shown: list, limit: int
) -> dict[int, None]:
    """Up to `limit` of the user's conversations, in the order of their newest matching message.

    FTS5 hands its matches out in descending rowid order as they are read, so one statement is read
    only as far as the `limit`-th conversation."""
    fts = table("messages_fts", column("rowid"))
    hits = (
        select(Message.conversation_id)
        .select_from(fts)
        .join(Message, Message.id == fts.c.rowid)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(text("messages_fts MATCH :q").bindparams(q=fts_query), Conversation.user_id == user.id, *shown)
        .order_by(fts.c.rowid.desc())
    )
    found: dict[int, None] = {}
    result = session.execute(hits, execution_options={"yield_per": 200})
    try:
        for conversation_id in result.scalars():
            found[conversation_id] = None
            if len(found) >= limit:
                break
    finally:
        result.close()  # the rest of the matches are never read
    return found


def _newest_matches_postgres(
    session: Session, user: User, tsquery: Any, shown: list, limit: int
) -> dict[int, None]:
    """Up to `limit` of the user's conversations, in the order of their newest matching message.

    A GIN index has no order, and walking the primary key backwards checks every message on the way,
    so the matches are read in slices of message ids: the newest SEARCH_SLICE first, then each slice
    SEARCH_GROWTH times the last, until `limit` conversations are found. Each slice is the GIN index's
    bitmap ANDed with the id range, so only that slice's rows are read; whose conversation each is,
    is then asked of those conversations alone."""
    found: dict[int, None] = {}
    upper = session.scalar(select(func.max(Message.id)))
    size = SEARCH_SLICE
    while upper is not None and upper > 0 and len(found) < limit:
        lower = max(upper - size, 0)
        in_slice = list(
            dict.fromkeys(
                session.scalars(
                    select(Message.conversation_id)
                    .where(Message.id > lower, Message.id <= upper, _SEARCH_VECTOR.op("@@")(tsquery))
                    .order_by(Message.id.desc())
                )
            )
        )
        theirs = (
            set(
                session.scalars(
                    select(Conversation.id).where(
                        Conversation.id.in_(in_slice), Conversation.user_id == user.id, *shown
                    )
                )
            )
            if in_slice
            else set()
        )
        for conversation_id in in_slice:
            if conversation_id in theirs and len(found) < limit:
                found[conversation_id] = None
        upper, size = lower, size * SEARCH_GROWTH
    return found


def search_hits(session: Session, user: User, conversation_ids: Iterable[int], query: str) -> dict[int, str]:
    """For each of the user's conversations named, the text of its first message holding every word
    of `query` (what a search result shows under its title); conversations found only by title are
    left out."""
    words = search_words(query)
    hits: dict[int, str] = {}
    if not words:
        return hits
    for conversation_id in conversation_ids:
        stmt = (
            select(Message.content)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Conversation.user_id == user.id,
                Message.conversation_id == conversation_id,
                *(Message.content.icontains(w, autoescape=True) for w in words),
            )
            .order_by(Message.id)
            .limit(1)
        )
        found = session.scalar(stmt)
        if found:
            hits[conversation_id] = found
    return hits


def search_words(query: str) -> list[str]:
    """The words of a search query, lower-cased (punctuation and operators are not search syntax here)."""
    return [w.lower() for w in _WORD.findall(query or "")][:16]


# ------------------------------------------------------------------------------------------ messages


def add_message(
    session: Session,
    user: User,
    conversation_id: int,
    *,
    role: str,
    content: str,
    parent_id: int | None = None,
    images: Iterable[ImageInput] = (),
    tool_calls: list | None = None,
    tool_call_id: str | None = None,
    status: str = "complete",
) -> Message:
    """Append a message under `parent_id` (None: a root); images are normalised and deduplicated.

    Raises NotFound when the conversation or parent is not the user's, ValueError for a bad role or
    status, storage.images.ImageRejected for an upload that is not a usable image.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if status not in MESSAGE_STATUSES:
        raise ValueError(f"status must be one of {', '.join(MESSAGE_STATUSES)}, not {status!r}")
    conv = _require_conversation(session, user, conversation_id)
    _require_parent(session, conv, parent_id)
    stored = [store_image(session, user, image) for image in images]  # may raise before anything is added
    now = utcnow()
    message = Message(
        conversation_id=conv.id,
        parent_id=parent_id,
        role=role,
        content=content,
        status=status,
        tool_calls=tool_calls,
        tool_call_id=tool_call_id,
        candidate_index=0,
        stream_owner=liveness.current_tag() if status == "streaming" else None,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    conv.updated_at = now
    session.flush()
    if stored:
        for position, attachment in enumerate(stored):
            session.add(
                MessageAttachment(message_id=message.id, attachment_id=attachment.id, position=position)
            )
        session.flush()
    message.__dict__["attachments"] = list(stored)
    return message


def start_reply(
    session: Session,
    user: User,
    conversation_id: int,
    *,
    parent_id: int | None,
    request_body: dict,
    candidate_index: int = 0,
) -> Message:
    """Create the assistant row of a reply about to stream (status "streaming", empty text)."""
    conv = _require_conversation(session, user, conversation_id)
    _require_parent(session, conv, parent_id)
    now = utcnow()
    message = Message(
        conversation_id=conv.id,
        parent_id=parent_id,
        role="assistant",
        content="",
        status="streaming",
        request_body=_without_secrets(request_body),
        candidate_index=candidate_index,
        stream_owner=liveness.current_tag(),
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    conv.updated_at = now
    session.flush()
    return message


def grow_reply(
    session: Session, user: User, message_id: int, *, content: str, thought: str | None = None
) -> None:
    """Save the reply's text so far (call at least every second while streaming: it is the heartbeat)."""
    grow_row(_require_message(session, user, message_id), content=content, thought=thought, label="reply")
    session.flush()


def grow_row(row: Any, *, content: str, thought: str | None, label: str) -> None:
    """Save a streaming row's text so far (a chat reply or a compare result: the same columns)."""
    if row.status not in ("streaming", "interrupted"):
        raise ValueError(f"{label} {row.id} is already finished ({row.status})")
    row.content = content
    if thought is not None:
        row.thought = thought
    row.status = "streaming"  # a live writer reclaims a row a reader thought was abandoned
    row.stream_owner = liveness.current_tag()
    row.updated_at = utcnow()


def check_finished_status(status: str) -> None:
    """Refuse a status a finished reply cannot have."""
    if status not in FINISHED_STATUSES:
        raise ValueError(f"status must be one of {', '.join(sorted(FINISHED_STATUSES))}, not {status!r}")


def finish_row(row: Any, *, status: str, content: str, **optional: Any) -> None:
    """Record how a streaming row ended; optional fields left None keep what is stored."""
    row.status = status
    row.content = content
    row.stream_owner = None
    row.updated_at = utcnow()
    for name, value in optional.items():
        if value is not None:
            setattr(row, name, value)


def finish_reply(
    session: Session,
    user: User,
    message_id: int,
    *,
    status: str,
    content: str,
    thought: str | None = None,
    finish_reason: str | None = None,
    usage: dict | None = None,
    timings: dict | None = None,
    error: str | None = None,
    tool_calls: list | None = None,
    logprobs: list | None = None,
) -> Message:
    """Record how the reply ended; optional fields left None keep what is stored."""
    check_finished_status(status)
    message = _require_message(session, user, message_id)
    finish_row(
        message,
        status=status,
        content=content,
        thought=thought,
        finish_reason=finish_reason,
        usage=usage,
        timings=timings,
        error=error,
        tool_calls=tool_calls,
        logprobs=logprobs,
    )
    conv = session.get(Conversation, message.conversation_id)
    if conv is not None:
        conv.updated_at = message.updated_at
    session.flush()
    return message


def get_message(session: Session, user: User, message_id: int) -> Message | None:
    """One of the user's messages, or None."""
    message = _own_message(session, user, message_id)
    if message is not None:
        _load_attachments(session, [message])
    return message


def conversation_messages(session: Session, user: User, conversation_id: int) -> list[Message]:
    """Every message of the conversation (all branches), oldest first; [] if not theirs.

    For what needs every row whole (an export, a share snapshot); a page that shows one branch reads
    `conversation_outline` and then `messages_by_id` for the messages it draws."""
    conv = _own_conversation(session, user, conversation_id)
    if conv is None:
        return []
    messages = list(
        session.scalars(select(Message).where(Message.conversation_id == conv.id).order_by(Message.id))
    )
    _load_attachments(session, messages, conversation_id=conv.id)
    _settle_dead_streams(session, [m for m in messages if m.status == "streaming"])
    return messages


class MessageOutline(NamedTuple):
    """What finding a branch needs of a message, and no more: its place in the tree."""

    id: int
    parent_id: int | None
    candidate_index: int


def conversation_outline(session: Session, user: User, conversation_id: int) -> list[MessageOutline]:
    """The outline of every message of the conversation (all branches), oldest first; [] if not theirs.

    Three small columns per row instead of whole rows with their attachments: a 5,000-message
    conversation's outline costs a few milliseconds where its rows cost about a hundred, so the
    branch shown, its length and each navigator's count are found without reading any text.
    It does not settle dead streams (get_conversation does, with a query on status alone)."""
    conv = _own_conversation(session, user, conversation_id)
    if conv is None:
        return []
    stmt = (
        select(Message.id, Message.parent_id, Message.candidate_index)
        .where(Message.conversation_id == conv.id)
        .order_by(Message.id)
    )
    return list(map(MessageOutline._make, _driver_rows(session, stmt)))


def messages_by_id(
    session: Session, user: User, conversation_id: int, message_ids: Iterable[int]
) -> dict[int, Message]:
    """Those of `message_ids` that are messages of the user's conversation, whole, with their images."""
    conv = _own_conversation(session, user, conversation_id)
    wanted = sorted(set(message_ids))
    if conv is None or not wanted:
        return {}
    found: dict[int, Message] = {}
    for start in range(0, len(wanted), _IDS_PER_QUERY):
        chunk = wanted[start : start + _IDS_PER_QUERY]
        stmt = select(Message).where(Message.conversation_id == conv.id, Message.id.in_(chunk))
        found.update((m.id, m) for m in session.scalars(stmt))
    # A few messages: their images by id. Many (a whole long branch): the conversation's images in
    # one query, with no list of ids too long for the database to take.
    many = len(wanted) > _IDS_PER_QUERY
    _load_attachments(session, list(found.values()), conversation_id=conv.id if many else None)
    return found


def branch_messages(session: Session, user: User, conversation_id: int, path: Sequence[Any]) -> list[Message]:
    """The whole rows of a branch found on the outline (`path`: outlines or messages), in its order."""
    found = messages_by_id(session, user, conversation_id, (m.id for m in path))
    return [found[m.id] for m in path if m.id in found]


def active_path(
    session: Session, user: User, conversation_id: int, *, choose: dict[int, int] | None = None
) -> list[Message]:
    """Root to leaf along the branch the person chose (stored with the conversation), else the newest
    attempt; `choose` ({parent id, 0 for roots: child id}) overrides the stored choices. [] if not theirs.

    The branch is found on the outline; only its own messages are read whole."""
    conv = _own_conversation(session, user, conversation_id)
    if conv is None:
        return []
    _settle_conversation_streams(session, conv.id)
    outline = conversation_outline(session, user, conversation_id)
    path = branches.follow(outline, branches.choices(conv.branch_choices) if choose is None else choose)
    return branch_messages(session, user, conv.id, path)


def choose_branch(
    session: Session, user: User, conversation_id: int, parent_id: int | None, child_id: int | None
) -> dict[int, int] | None:
    """Remember that the conversation follows `child_id` under `parent_id` (None: the roots), or forget
    the choice there (`child_id` None: the newest version is followed). Returns every choice now stored
    ({parent id, 0 for roots: child id}); None, changing nothing, if either is not the user's."""
    conv = _own_conversation(session, user, conversation_id)
    if conv is None:
        return None
    picked = dict(conv.branch_choices or {})
    slot = str(parent_id or 0)
    if child_id is None:
        changed = picked.pop(slot, None) is not None
    else:
        child = _own_message(session, user, child_id)
        if child is None or child.conversation_id != conv.id or (child.parent_id or 0) != (parent_id or 0):
            return None
        changed = picked.get(slot) != child.id
        picked[slot] = child.id
    if changed:
        conv.branch_choices = picked  # a new dict, so the JSON column is seen as changed
        session.flush()
    return branches.choices(picked)


# --------------------------------------------------------------------------------------- attachments


def store_image(session: Session, user: User, image: ImageInput) -> Attachment:
    """Normalise (unless already done) and store an image for `user`, reusing an identical one."""
    if isinstance(image, Attachment):
        if image.user_id != user.id:
            raise NotFound("No such image.")
        return image
    normalised = image if isinstance(image, image_module.NormalisedImage) else image_module.normalise(*image)
    existing = session.scalar(
        select(Attachment).where(Attachment.user_id == user.id, Attachment.sha256 == normalised.sha256)
    )
    if existing is not None:
        return existing
    attachment = Attachment(
        user_id=user.id,
        sha256=normalised.sha256,
        mime=normalised.mime,
        data=normalised.data,
        thumbnail=normalised.thumbnail,
        thumbnail_mime=normalised.thumbnail_mime,
        width=normalised.width,
        height=normalised.height,
        size=len(normalised.data),
        filename=normalised.filename,
        created_at=utcnow(),
    )
    session.add(attachment)
    session.flush()
    return attachment


def get_attachment(session: Session, user: User, attachment_id: int) -> Attachment | None:
    """One of the user's images, or None."""
    return session.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.user_id == user.id)
    )


# ---------------------------------------------------------------------------------------- internals


# Ownership checks look in the session's identity map first: a conversation or message already loaded
# in this session (the usual case while a turn streams) needs no query, and its owner cannot change.


def _cached(session: Session, cls: type, ident: int) -> Any:
    return session.identity_map.get(session.identity_key(cls, ident))


def _own_conversation(session: Session, user: User, conversation_id: int) -> Conversation | None:
    conv = _cached(session, Conversation, conversation_id)
    if conv is not None:
        return conv if conv.user_id == user.id else None
    return session.scalar(
        select(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user.id)
    )


def _require_conversation(session: Session, user: User, conversation_id: int) -> Conversation:
    conv = _own_conversation(session, user, conversation_id)
    if conv is None:
        raise NotFound(f"No conversation {conversation_id}.")
    return conv


def _require_parent(session: Session, conv: Conversation, parent_id: int | None) -> None:
    if parent_id is None:
        return
    parent = _cached(session, Message, parent_id)
    if parent is not None:
        ok = parent.conversation_id == conv.id
    else:
        ok = bool(
            session.scalar(
                select(exists().where(Message.id == parent_id, Message.conversation_id == conv.id))
            )
        )
    if not ok:
        raise NotFound(f"No message {parent_id} in this conversation.")


def _own_message(session: Session, user: User, message_id: int) -> Message | None:
    message = _cached(session, Message, message_id)
    if message is not None:
        conv = _cached(session, Conversation, message.conversation_id)
        if conv is not None:
            return message if conv.user_id == user.id else None
    return session.scalar(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.id == message_id, Conversation.user_id == user.id)
    )


def _require_message(session: Session, user: User, message_id: int) -> Message:
    message = _own_message(session, user, message_id)
    if message is None:
        raise NotFound(f"No message {message_id}.")
    return message


def _load_attachments(
    session: Session, messages: Sequence[Message], *, conversation_id: int | None = None
) -> None:
    """Fill `attachments` of every message in one query.

    Much cheaper than SQLAlchemy's selectin loading for a long conversation where most messages have
    no image (it was ~40% of opening a 1,000-message chat): the lists go straight into each instance's
    state, as a load would put them. The relationship is view-only, so nothing is flushed from them.
    """
    pending = [m for m in messages if "attachments" not in m.__dict__]
    if not pending:
        return
    stmt = select(MessageAttachment.message_id, Attachment).join(
        Attachment, Attachment.id == MessageAttachment.attachment_id
    )
    if conversation_id is not None:
        stmt = stmt.join(Message, Message.id == MessageAttachment.message_id).where(
            Message.conversation_id == conversation_id
        )
    else:
        stmt = stmt.where(MessageAttachment.message_id.in_([m.id for m in pending]))
    found: dict[int, list[Attachment]] = {}
    for message_id, attachment in session.execute(
        stmt.order_by(MessageAttachment.message_id, MessageAttachment.position)
    ):
        found.setdefault(message_id, []).append(attachment)
    for m in pending:
        m.__dict__["attachments"] = found.get(m.id, [])


def _driver_rows(session: Session, stmt: Any) -> list[tuple]:
    """The rows of a select of integer columns as the database driver returns them (plain tuples).

    SQLAlchemy's result processing costs more than the query for thousands of small rows (about half
    of reading a 5,000-message outline); integers need none of it. The statement is still built and
    compiled by SQLAlchemy for the session's own connection and transaction, with bound parameters."""
    connection = session.connection()
    compiled = stmt.compile(dialect=connection.dialect)
    params = compiled.construct_params()
    bound = tuple(params[name] for name in compiled.positiontup) if compiled.positional else params
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), bound)
        return cursor.fetchall()
    finally:
        cursor.close()


def _settle_conversation_streams(session: Session, conversation_id: int) -> None:
    """Settle the conversation's dead streams, reading only its rows still marked streaming."""
    # The literal (not a bound value) lets both engines use the partial index of streaming rows.
    still_streaming = Message.status == literal_column("'streaming'")
    streaming = session.scalars(
        select(Message).where(Message.conversation_id == conversation_id, still_streaming)
    )
    _settle_dead_streams(session, list(streaming))


def _settle_dead_streams(session: Session, streaming: Sequence[Message]) -> None:
    """Save as "interrupted" the streaming replies whose writer is gone (see storage.liveness)."""
    now = utcnow()
    changed = False
    for message in streaming:
        if message.status == "streaming" and liveness.is_interrupted(
            message.stream_owner, message.updated_at, now
        ):
            message.status = "interrupted"
            if not message.error:
                message.error = "The reply was cut short: the app stopped while it was streaming."
            changed = True
    if changed:
        session.flush()


def forget_unused_images(session: Session, user: User, attachment_ids: Iterable[int]) -> None:
    """Delete those of the user's images (among `attachment_ids`) no message or compare run uses any more."""
    ids = list(attachment_ids)
    if not ids:
        return
    in_message = exists().where(MessageAttachment.attachment_id == Attachment.id)
    in_compare = exists().where(CompareRunAttachment.attachment_id == Attachment.id)
    session.execute(
        delete(Attachment)
        .where(Attachment.user_id == user.id, Attachment.id.in_(ids), ~in_message, ~in_compare)
        .execution_options(synchronize_session=False)
    )
    session.flush()


def _without_secrets(body: dict) -> dict:
    return {k: v for k, v in (body or {}).items() if k.lower() not in _SECRET_KEYS}
