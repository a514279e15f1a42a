"""The database schema as SQLAlchemy 2 typed models.

What must stay true: these classes describe the schema at Alembic's head revision. The schema changes
only through a new file in storage/migrations/versions/ (a test compares the two), never by editing a
released migration. Every row a person owns is reachable from a `users` row, so repository functions
can scope each query by the acting user.

Timestamps are timezone-aware UTC in Python on both engines (SQLite stores them naive, see UTCDateTime).
Text columns are StorableText/StorableString and JSON goes through storage.storable's serializer, so
NUL and lone surrogates are stored losslessly, the same way on both engines (see storage/storable.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.storable import StorableString, StorableText

MESSAGE_STATUSES = ("streaming", "complete", "stopped", "error", "length", "interrupted")
ROLES = ("system", "user", "assistant", "tool")


def utcnow() -> datetime:
    """Now, timezone-aware UTC (the only clock the schema uses)."""
    return datetime.now(UTC)


class _SQLiteUTC(sqlite.DATETIME):
    """SQLite's DATETIME, read with datetime.fromisoformat (C) rather than a regular expression: a
    long conversation reads thousands of timestamps when it opens."""

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            return datetime.fromisoformat(value).replace(tzinfo=UTC)

        return process


class UTCDateTime(TypeDecorator):
    """A DateTime that always comes back timezone-aware UTC, on SQLite (which keeps no zone) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SQLiteUTC())
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is UTC:
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSON on SQLite, JSONB on PostgreSQL (smaller, indexable).
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    # Named like the migrations name them, so comparing models with the migrated schema finds no drift.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


# How a person proved who they are. A person is an (method, subject) pair (the Identity rows below),
# so password `ann`, OIDC subject `ann` and OIDC `ann@example.com` are three different people.
SIGN_IN_METHODS = ("local", "password", "oidc", "guest")


class User(Base):
    """A person's account: everything they own hangs off it. Who signs in to it is decided by its
    identities, never by `identity`, which is only a unique handle for logs and the admin page
    (`method:subject` of the identity it was made for; the bare subject for the local method, such as
    `local`, the one `none`-mode user)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(StorableString(320), unique=True)
    display_name: Mapped[str] = mapped_column(StorableString(200), default="")
    role: Mapped[str] = mapped_column(StorableString(20), default="user")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, identity={self.identity!r}, role={self.role!r})"


class Identity(Base):
    """One way into an account: (sign-in method, subject), unique. An operator may point a second
    identity at an existing account on purpose (storage/accounts.py, `python -m storage.accounts link`)."""

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("method", "subject", name="uq_identities_method_subject"),
        Index("ix_identities_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(StorableString(20))
    subject: Mapped[str] = mapped_column(StorableString(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"Identity({self.method}:{self.subject} -> user {self.user_id})"


class SignInSession(Base):
    """A sign-in that a browser holds as a cookie: only the SHA-256 of its random token is stored, so a
    copy of the database signs nobody in. Revoked (sign-out, "sign out everywhere") or expired rows
    are refused by every app server."""

    __tablename__ = "sign_in_sessions"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_sign_in_sessions_token_hash"),
        Index("ix_sign_in_sessions_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(StorableString(64))
    method: Mapped[str] = mapped_column(StorableString(20))
    address: Mapped[str] = mapped_column(StorableString(64), default="")
    user_agent: Mapped[str] = mapped_column(StorableString(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    def is_open(self, now: datetime | None = None) -> bool:
        """Neither revoked nor expired."""
        return self.revoked_at is None and self.expires_at > (now or utcnow())


class SignInFailure(Base):
    """A wrong password, per (name, client address): the sign-in throttle counts these, on every server."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_name_address", "name_key", "address", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name_key: Mapped[str] = mapped_column(StorableString(320))
    address: Mapped[str] = mapped_column(StorableString(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GuestVisit(Base):
    """A guest account seen from a client address on a UTC day: the per-address guest caps sum the
    usage of every guest seen from the address that day."""

    __tablename__ = "guest_visits"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(StorableString(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        # list_conversations: pinned first, most recent next, per owner.
        Index("ix_conversations_user_list", "user_id", "archived", "pinned", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(StorableString(500), default="New chat")
    system_prompt: Mapped[str] = mapped_column(StorableText, default="")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    endpoint: Mapped[str] = mapped_column(StorableString(200), default="")
    model: Mapped[str] = mapped_column(StorableString(200), default="")
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    # Which version the person chose at each branching point: {"parent id" (0 for roots): child id}.
    # Kept here, not in the browser session, so every tab, app server and export shows the same branch.
    branch_choices: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation",
        order_by="Message.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"Conversation(id={self.id!r}, title={self.title!r})"


class ReplyColumns:
    """What a model reply holds, wherever it is stored: a chat message and a compare result share it.

    A mixin of mapped columns, so both tables keep their own columns (the schema is unchanged) and a
    column added here is added to both, with one migration. `status` stays with each table: a chat
    message starts `complete` (a user's message is whole at once), a compare result `streaming`.
    """

    content: Mapped[str] = mapped_column(StorableText, default="")
    thought: Mapped[str | None] = mapped_column(StorableText, default=None)
    error: Mapped[str | None] = mapped_column(StorableText, default=None)
    finish_reason: Mapped[str | None] = mapped_column(StorableString(50), default=None)
    usage: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    timings: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    request_body: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    tool_calls: Mapped[list[Any] | None] = mapped_column(default=None)
    logprobs: Mapped[list[Any] | None] = mapped_column(default=None)
    candidate_index: Mapped[int] = mapped_column(Integer, default=0)
    # Which process is writing a "streaming" reply ("host:pid:process start"), so a reader can tell a
    # reply whose writer died from one still growing in another process. None once finished.
    stream_owner: Mapped[str | None] = mapped_column(StorableString(300), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageAttachment(Base):
    """Links a message to an image; one image may serve several messages (deduplicated by hash)."""

    __tablename__ = "message_attachments"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class Message(ReplyColumns, Base):
    """One message of a conversation: the user's, a tool result, or a reply (with its columns below)."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_parent", "conversation_id", "parent_id"),
        # The conversation's outline (repository.conversation_outline) from the index alone.
        Index("ix_messages_outline", "conversation_id", "id", "parent_id", "candidate_index"),
        # Only the rows still streaming: settling dead streams on every open reads just those.
        Index(
            "ix_messages_streaming",
            "conversation_id",
            sqlite_where=text("status = 'streaming'"),
            postgresql_where=text("status = 'streaming'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True, default=None
    )
    role: Mapped[str] = mapped_column(StorableString(20))
    status: Mapped[str] = mapped_column(StorableString(20), default="complete")
    tool_call_id: Mapped[str | None] = mapped_column(StorableString(200), default=None)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    # Loaded in one query for a whole list of messages by the repository functions that return
    # messages (see repository._load_attachments); elsewhere loaded on first access.
    attachments: Mapped[list[Attachment]] = relationship(
        secondary="message_attachments",
        order_by="MessageAttachment.position",
        lazy="select",
        viewonly=True,
    )

    def __repr__(self) -> str:
        return (
            f"Message(id={self.id!r}, role={self.role!r}, status={self.status!r}, parent={self.parent_id!r})"
        )


class Attachment(Base):
    """A normalised image (see storage.images), stored once per owner and hash."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("user_id", "sha256", name="uq_attachments_user_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(StorableString(64))
    mime: Mapped[str] = mapped_column(StorableString(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail_mime: Mapped[str] = mapped_column(StorableString(100))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(StorableString(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def data_url(self) -> str:
        """The image as a data URL, the shape the Chat Completions API takes."""
        from storage.images import data_url  # storage.images imports Pillow: only when needed

        return data_url(self.data, self.mime)

    def __repr__(self) -> str:
        return f"Attachment(id={self.id!r}, sha256={self.sha256[:12]!r}, {self.width}x{self.height})"


class Preset(Base):
    """A system-prompt preset (kind "system") or a parameter preset (kind "params").

    Built-in presets have user_id None and builtin True; they are seeded and updated by migrations
    (matched by `slug`) and read-only for users. A user's presets sit on top.
    """

    __tablename__ = "presets"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "name", name="uq_presets_user_kind_name"),
        Index("ix_presets_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), default=None)
    kind: Mapped[str] = mapped_column(StorableString(20))
    slug: Mapped[str | None] = mapped_column(StorableString(100), default=None)
    name: Mapped[str] = mapped_column(StorableString(200))
    description: Mapped[str] = mapped_column(StorableText, default="")
    system_prompt: Mapped[str] = mapped_column(StorableText, default="")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"Preset(id={self.id!r}, kind={self.kind!r}, name={self.name!r}, builtin={self.builtin!r})"


class CompareRun(Base):
    """One comparison: a prompt (with optional history and images) sent to 2-6 columns, k times each."""

    __tablename__ = "compare_runs"
    __table_args__ = (Index("ix_compare_runs_user_updated", "user_id", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(StorableString(500), default="Comparison")
    prompt: Mapped[str] = mapped_column(StorableText, default="")
    # OpenAI-format messages sent before the prompt (the "history" a run may carry).
    history: Mapped[list[Any]] = mapped_column(default=list)
    # One dict per column: {"label", "endpoint", "model", "system_prompt", "params"}.
    columns: Mapped[list[Any]] = mapped_column(default=list)
    repeats: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    results: Mapped[list[CompareResult]] = relationship(
        back_populates="run",
        order_by=lambda: [
            CompareResult.turn_index,
            CompareResult.column_index,
            CompareResult.repeat_index,
            CompareResult.id,
        ],
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    attachments: Mapped[list[Attachment]] = relationship(
        secondary="compare_run_attachments",
        order_by="CompareRunAttachment.position",
        lazy="selectin",
        viewonly=True,
    )

    def __repr__(self) -> str:
        return f"CompareRun(id={self.id!r}, title={self.title!r}, columns={len(self.columns or [])})"


class CompareRunAttachment(Base):
    """The images sent with a compare run's prompt."""

    __tablename__ = "compare_run_attachments"

    run_id: Mapped[int] = mapped_column(ForeignKey("compare_runs.id", ondelete="CASCADE"), primary_key=True)
    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class CompareResult(ReplyColumns, Base):
    """One reply in a compare run: column x repeat, for one turn (turn 0 is the run's prompt)."""

    __tablename__ = "compare_results"
    __table_args__ = (Index("ix_compare_results_run_id", "run_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("compare_runs.id", ondelete="CASCADE"))
    column_index: Mapped[int] = mapped_column(Integer)
    repeat_index: Mapped[int] = mapped_column(Integer, default=0)
    turn_index: Mapped[int] = mapped_column(Integer, default=0)
    prompt: Mapped[str] = mapped_column(StorableText, default="")
    status: Mapped[str] = mapped_column(StorableString(20), default="streaming")

    run: Mapped[CompareRun] = relationship(back_populates="results")

    def __repr__(self) -> str:
        return (
            f"CompareResult(id={self.id!r}, column={self.column_index!r}, repeat={self.repeat_index!r}, "
            f"status={self.status!r})"
        )


class ShareLink(Base):
    """A read-only snapshot of a conversation or compare run, opened by an unguessable token."""

    __tablename__ = "share_links"
    __table_args__ = (
        UniqueConstraint("token", name="uq_share_links_token"),
        Index("ix_share_links_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(StorableString(100))
    kind: Mapped[str] = mapped_column(StorableString(20))  # "conversation" or "compare"
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), default=None
    )
    compare_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("compare_runs.id", ondelete="CASCADE"), default=None
    )
    title: Mapped[str] = mapped_column(StorableString(500), default="")
    # What the link shows, frozen at sharing time (storage.interchange's JSON shape).
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    def is_open(self, now: datetime | None = None) -> bool:
        """Neither revoked nor expired."""
        now = now or utcnow()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def __repr__(self) -> str:
        return f"ShareLink(id={self.id!r}, kind={self.kind!r}, open={self.is_open()!r})"


class UsageEvent(Base):
    """The usage ledger: one row per request (and its tokens), counted for quotas and the admin page.

    Rows outlive the conversations they came from: deleting a chat does not refund a quota.
    """

    __tablename__ = "usage_events"
    __table_args__ = (
        Index("ix_usage_events_user_created", "user_id", "created_at"),
        Index("ix_usage_events_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(StorableString(20), default="chat")
    model: Mapped[str] = mapped_column(StorableString(200), default="")
    requests: Mapped[int] = mapped_column(Integer, default=1)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    reasoning_tokens: Mapped[int] = mapped_column(Integer, default=0)
    total_tokens: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[int | None] = mapped_column(Integer, default=None)
    # Tokens the request may still use, counted against the quotas until it is settled (turns/quota.py);
    # an unsettled reservation stops counting at `reserved_until` (its writer died).
    reserved_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reserved_until: Mapped[datetime | None] = mapped_column(default=None)

    def __repr__(self) -> str:
        return f"UsageEvent(id={self.id!r}, user_id={self.user_id!r}, total_tokens={self.total_tokens!r})"


class SavedSuite(Base):
    """A prompt suite a person keeps: its template and test cases (the dict of evals.suite.Suite)."""

    __tablename__ = "eval_suites"
    __table_args__ = (Index("ix_eval_suites_user_updated", "user_id", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(StorableString(500), default="Suite")
    suite: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"SavedSuite(id={self.id!r}, name={self.name!r})"


class EvaluationRun(Base):
    """One run of a suite over 1-6 settings, k repeats each: what was run, and the blind-review votes."""

    __tablename__ = "eval_runs"
    __table_args__ = (Index("ix_eval_runs_user_updated", "user_id", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    suite_id: Mapped[int | None] = mapped_column(
        ForeignKey("eval_suites.id", ondelete="SET NULL"), default=None, index=True
    )
    title: Mapped[str] = mapped_column(StorableString(500), default="Evaluation")
    # A copy of the suite as run (editing or deleting the saved suite does not change a finished run).
    suite: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # One dict per setting: {"name", "endpoint", "model", "system_prompt", "params"}; never a key.
    settings: Mapped[list[Any]] = mapped_column(default=list)
    grader: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    repeats: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(StorableString(20), default="running")
    # The process running it (storage/liveness.py's tag), so a run whose process died reads as interrupted.
    writer: Mapped[str | None] = mapped_column(StorableString(200), default=None)
    # Set by a page in any app process; the process running the run stops it (evals/live.py).
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Blind review votes: {"case", "repeat", "a", "b", "winner": setting index or None for a tie}.
    reviews: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    cells: Mapped[list[EvaluationCell]] = relationship(
        back_populates="run",
        order_by=lambda: [
            EvaluationCell.case_index,
            EvaluationCell.repeat_index,
            EvaluationCell.setting_index,
        ],
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"EvaluationRun(id={self.id!r}, title={self.title!r}, status={self.status!r})"


class EvaluationCell(Base):
    """One request of an evaluation run (case x setting x repeat) and its checked outcome."""

    __tablename__ = "eval_cells"
    __table_args__ = (
        UniqueConstraint(
            "run_id", "case_index", "setting_index", "repeat_index", name="uq_eval_cells_position"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("eval_runs.id", ondelete="CASCADE"))
    case_index: Mapped[int] = mapped_column(Integer)
    setting_index: Mapped[int] = mapped_column(Integer)
    repeat_index: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[bool | None] = mapped_column(Boolean, default=None)
    # The whole cell as evals.runner.Cell.to_dict() writes it: state, reply, error, usage, checks.
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    run: Mapped[EvaluationRun] = relationship(back_populates="cells")

    def __repr__(self) -> str:
        return (
            f"EvaluationCell(run={self.run_id!r}, case={self.case_index!r}, setting={self.setting_index!r}, "
            f"repeat={self.repeat_index!r}, passed={self.passed!r})"
        )
