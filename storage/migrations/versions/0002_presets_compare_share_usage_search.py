"""Presets (built-ins seeded here), compare runs, share links, the usage ledger, and full-text search.

Search: on SQLite an FTS5 index over message text, kept in step with `messages` by triggers and filled
from the rows already there; on PostgreSQL a GIN index over to_tsvector('simple', content). The
'simple' configuration (no stemming, no stop words) matches what FTS5's unicode61 tokenizer does, so
both engines find the same conversations for the same words.

Revision ID: 0002_more
Revises: 0001_core
Create Date: 2026-11-27 04:20:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from storage.models import UTCDateTime

revision: str = "0002_more"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# Frozen copies: a later change to a built-in is a new migration that updates the row by slug.
SYSTEM_PRESETS = [
    (
        "concise",
        "Concise expert",
        "Short, direct answers; details only when asked.",
        "You are a knowledgeable assistant. Answer the question directly in as few words as a complete "
        "answer needs: lead with the answer, then at most a few sentences or bullet points of support. "
        "Do not restate the question, do not add disclaimers, and do not offer further help. If the "
        "question is ambiguous, state the interpretation you chose in one short clause.",
    ),
    (
        "teacher",
        "Patient teacher",
        "Explains step by step, checks understanding.",
        "You are a patient teacher. Explain ideas step by step, starting from what the learner most "
        "likely already knows. Use one concrete example for every abstract idea, define each technical "
        "term the first time you use it, and keep paragraphs short. End with one short question that lets "
        "the learner check their understanding.",
    ),
    (
        "code-reviewer",
        "Code reviewer",
        "Finds bugs first, then clarity; shows fixes as code.",
        "You are a senior software engineer reviewing code. First list correctness problems (bugs, edge "
        "cases, error handling, security, concurrency), most serious first, each with the line or "
        "construct it concerns and a corrected snippet. Then list at most three improvements to clarity "
        "or structure. Do not comment on formatting a formatter would fix. If the code is sound, say so.",
    ),
    (
        "editor",
        "Writing editor",
        "Tightens prose and explains the important changes.",
        "You are a careful copy editor. Rewrite the text the user gives you so it is clear, correct and "
        "concise, keeping the author's meaning, voice and language. Return the edited text first, then a "
        "short list of the changes that matter (not every comma). Never add facts that are not in the "
        "original.",
    ),
    (
        "translator",
        "Translator",
        "Faithful translation; keeps formatting and tone.",
        "You are a professional translator. Translate the user's text into the language they ask for "
        "(into English if they name none; into the user's language if the text is already in English). "
        "Keep the meaning, tone, formatting, numbers and names exactly; do not explain or summarise. If "
        "a phrase has no direct equivalent, choose the natural one and add a brief translator's note.",
    ),
    (
        "socratic",
        "Socratic tutor",
        "Guides with questions instead of giving the answer.",
        "You are a Socratic tutor. Do not give the final answer. Ask one guiding question at a time that "
        "moves the learner a small step forward, acknowledge what they got right, and when they are stuck "
        "offer a hint rather than the solution. Confirm clearly once they reach the answer themselves.",
    ),
    (
        "data-extractor",
        "Data extractor",
        "Pulls structured fields out of text as JSON.",
        "You extract structured data. Read the user's text and return only a JSON object with the fields "
        "they ask for (or, if they name none, the people, organisations, dates, amounts and places it "
        "mentions). Use null for a field the text does not give; never invent values. Output JSON only, "
        "with no commentary and no code fences.",
    ),
]

PARAM_PRESETS = [
    (
        "deterministic",
        "Deterministic",
        "Temperature 0: the same prompt gives the same answer.",
        {"temperature": 0},
    ),
    ("balanced", "Balanced", "A middle setting for everyday questions.", {"temperature": 0.7, "top_p": 0.95}),
    (
        "creative",
        "Creative",
        "Higher temperature for brainstorming and stories, with a little less repetition.",
        {"temperature": 1.3, "top_p": 0.95, "frequency_penalty": 0.3},
    ),
    (
        "json-output",
        "JSON output",
        "The reply is a valid JSON object.",
        {"response_format": {"type": "json_object"}, "temperature": 0},
    ),
    (
        "no-thinking",
        "No thinking",
        "Thinking off: fastest and cheapest replies.",
        {"reasoning_effort": "none"},
    ),
    (
        "think-hard",
        "Think hard",
        "A large thinking budget, with the thought summary shown.",
        {
            "extra_body": {
                "google": {"thinking_config": {"thinking_budget": 24576, "include_thoughts": True}}
            },
        },
    ),
]


def upgrade() -> None:
    presets = op.create_table(
        "presets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("slug", sa.String(100), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("system_prompt", sa.Text(), nullable=False),
        sa.Column("params", JSONType, nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "kind", "name", name="uq_presets_user_kind_name"),
    )
    op.create_index("ix_presets_user_id", "presets", ["user_id"])

    op.create_table(
        "compare_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("history", JSONType, nullable=False),
        sa.Column("columns", JSONType, nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_compare_runs_user_updated", "compare_runs", ["user_id", "updated_at"])
    op.create_table(
        "compare_run_attachments",
        sa.Column(
            "run_id", sa.Integer(), sa.ForeignKey("compare_runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "attachment_id",
            sa.Integer(),
            sa.ForeignKey("attachments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_compare_run_attachments_attachment_id", "compare_run_attachments", ["attachment_id"])
    op.create_table(
        "compare_results",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "run_id", sa.Integer(), sa.ForeignKey("compare_runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("column_index", sa.Integer(), nullable=False),
        sa.Column("repeat_index", sa.Integer(), nullable=False),
        sa.Column("turn_index", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("thought", sa.Text(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finish_reason", sa.String(50), nullable=True),
        sa.Column("usage", JSONType, nullable=True),
        sa.Column("timings", JSONType, nullable=True),
        sa.Column("request_body", JSONType, nullable=True),
        sa.Column("tool_calls", JSONType, nullable=True),
        sa.Column("logprobs", JSONType, nullable=True),
        sa.Column("candidate_index", sa.Integer(), nullable=False),
        sa.Column("stream_owner", sa.String(300), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_compare_results_run_id", "compare_results", ["run_id"])

    op.create_table(
        "share_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "compare_run_id",
            sa.Integer(),
            sa.ForeignKey("compare_runs.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("snapshot", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("token", name="uq_share_links_token"),
    )
    op.create_index("ix_share_links_user_id", "share_links", ["user_id"])

    op.create_table(
        "usage_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("reasoning_tokens", sa.Integer(), nullable=False),
        sa.Column("total_tokens", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_usage_events_user_created", "usage_events", ["user_id", "created_at"])
    op.create_index("ix_usage_events_created_at", "usage_events", ["created_at"])

    _create_search_index()
    _seed_presets(presets)


def _create_search_index() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE messages_fts USING fts5("
            "content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        # The external-content recipe from https://www.sqlite.org/fts5.html#external_content_tables
        op.execute(
            "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
            "INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END"
        )
        op.execute(
            "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
            "INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); END"
        )
        op.execute(
            "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN "
            "INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); "
            "INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END"
        )
        op.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
    else:
        op.execute(
            "CREATE INDEX ix_messages_content_fts ON messages USING gin (to_tsvector('simple', content))"
        )
        op.execute(
            "CREATE INDEX ix_conversations_title_fts ON conversations USING gin (to_tsvector('simple', title))"
        )


def _seed_presets(presets: sa.Table) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "user_id": None,
            "kind": "system",
            "slug": slug,
            "name": name,
            "description": description,
            "system_prompt": prompt,
            "params": {},
            "builtin": True,
            "created_at": now,
            "updated_at": now,
        }
        for slug, name, description, prompt in SYSTEM_PRESETS
    ] + [
        {
            "user_id": None,
            "kind": "params",
            "slug": slug,
            "name": name,
            "description": description,
            "system_prompt": "",
            "params": params,
            "builtin": True,
            "created_at": now,
            "updated_at": now,
        }
        for slug, name, description, params in PARAM_PRESETS
    ]
    op.bulk_insert(presets, rows)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_messages_content_fts")
        op.execute("DROP INDEX IF EXISTS ix_conversations_title_fts")
    op.drop_table("usage_events")
    op.drop_table("share_links")
    op.drop_table("compare_results")
    op.drop_table("compare_run_attachments")
    op.drop_table("compare_runs")
    op.drop_table("presets")
