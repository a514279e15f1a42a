"""Export and import of conversations: JSON in the OpenAI messages format, and Markdown.

What must stay true:
- Export -> import -> export gives the same file (apart from `exported_at`): every branch, status,
  thought, usage, timing, request body, tool call, logprob and image survives, in both formats.
- The JSON's `messages` list of each conversation is a plain OpenAI Chat Completions message list
  (the active branch, system prompt first, images as data URLs): it can be sent to the API as it is.
  The rest of the tree and Prism's own fields sit beside it in `tree`, with images not already in
  `messages` in `images` (by sha256), so no image is written twice.
- A plain OpenAI message list (a JSON array, or an object with "messages") imports as one linear
  conversation, so files from other tools come in too.
- Import checks the whole file (and decodes every image) before it writes a row; a malformed file is
  refused with ImportRefused, whose message says where and what, and nothing is changed.
- Markdown is readable as it is (headings, text, images as data URLs) and carries the same fields in
  HTML comments, which Markdown viewers do not show.
- Import has bounds (ImportLimits: the file's size and its number of messages, from the settings), and
  refuses, naming the problem, a file nested deeper than MAX_DEPTH and text holding a lone surrogate
  (half of a UTF-16 pair, which no browser or file can carry as text). NUL is accepted: storage keeps it
  (storage/storable.py).
- Import is linear in the file's size: messages are written with bulk INSERTs (RETURNING their ids, in
  order) and their parents set with one bulk UPDATE, and a progress callback hears how far it got.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from storage import branches, repository, storable
from storage import images as image_module
from storage.models import (
    MESSAGE_STATUSES,
    ROLES,
    Attachment,
    Conversation,
    Message,
    MessageAttachment,
    User,
)

FORMAT = "prism-conversations"
VERSION = 1
MESSAGE_FIELDS = (
    "thought",
    "status",
    "error",
    "finish_reason",
    "usage",
    "timings",
    "request_body",
    "tool_calls",
    "tool_call_id",
    "logprobs",
    "candidate_index",
)
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>[A-Za-z0-9+/=\s]*)$")


# Deeper than any export Prism writes (a JSON schema in a request body nests a few dozen levels at most),
# and far below the depth at which Python's JSON reader or writer runs out of stack.
MAX_DEPTH = 100
# Messages written per bulk INSERT (and per progress report).
BATCH = 2000
_SURROGATE = re.compile("[\ud800-\udfff]")
_HUGE_NUMBER = "{where} holds a number longer than the 4,300 digits Prism reads."


@dataclass(frozen=True)
class ImportLimits:
    """What one import may hold; None means no limit. The app builds this from its settings."""

    max_bytes: int | None = 20 * 1024 * 1024
    max_messages: int | None = 20_000


# Told (stage, done, total) as the import writes, counted in messages (stage: "Saving").
Progress = Callable[[str, int, int], None]


class ImportRefused(ValueError):
    """The file cannot be imported; `message` says where and why, in plain words. Nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------------------------------- export


def conversation_to_dict(session: Session, user: User, conversation_id: int) -> dict[str, Any] | None:
    """One conversation as the JSON export's conversation object; None if not the user's."""
    conv = repository.get_conversation(session, user, conversation_id)
    if conv is None:
        return None
    messages = repository.conversation_messages(session, user, conv.id)
    # The branch followed, found on the rows already read (the page finds the same one on the outline).
    path = branches.follow(messages, branches.choices(conv.branch_choices))
    local = {m.id: n for n, m in enumerate(messages, start=1)}
    openai_messages: list[dict[str, Any]] = []
    if conv.system_prompt:
        openai_messages.append({"role": "system", "content": conv.system_prompt})
    in_messages: set[str] = set()
    for m in path:
        openai_messages.append(_openai_message(m))
        in_messages.update(a.sha256 for a in m.attachments)
    tree = []
    extra_images: dict[str, dict[str, str]] = {}  # images not already in `messages`, once each
    for m in messages:
        node: dict[str, Any] = {
            "id": local[m.id],
            "parent": local.get(m.parent_id) if m.parent_id is not None else None,
            "role": m.role,
            "content": m.content,
            "images": [a.sha256 for a in m.attachments],
            "image_names": [a.filename for a in m.attachments],
        }
        node.update({name: getattr(m, name) for name in MESSAGE_FIELDS})
        node["created_at"] = _iso(m.created_at)
        node["updated_at"] = _iso(m.updated_at)
        tree.append(node)
        for a in m.attachments:
            if a.sha256 not in in_messages:
                extra_images[a.sha256] = {"data_url": a.data_url()}
    return {
        "title": conv.title,
        "system_prompt": conv.system_prompt,
        "params": conv.params,
        "endpoint": conv.endpoint,
        "model": conv.model,
        "pinned": conv.pinned,
        "archived": conv.archived,
        "created_at": _iso(conv.created_at),
        "updated_at": _iso(conv.updated_at),
        "messages": openai_messages,
        "tree": tree,
        "active": [local[m.id] for m in path],
        "images": extra_images,
    }


def export_dict(session: Session, user: User, conversation_ids: list[int] | None = None) -> dict[str, Any]:
    """The export document for the given conversations (None: all of the user's, oldest first).
    Raises repository.NotFound for an id that is not the user's."""
    if conversation_ids is None:
        conversation_ids = list(
            session.scalars(
                select(Conversation.id).where(Conversation.user_id == user.id).order_by(Conversation.id)
            )
        )
    conversations = []
    for cid in conversation_ids:
        doc = conversation_to_dict(session, user, cid)
        if doc is None:
            raise repository.NotFound(f"No conversation {cid}.")
        conversations.append(doc)
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _iso(datetime.now(UTC)),
        "conversations": conversations,
    }


def export_json(session: Session, user: User, conversation_ids: list[int] | None = None) -> str:
    """The export as JSON text (UTF-8, indented)."""
    return json.dumps(export_dict(session, user, conversation_ids), ensure_ascii=False, indent=1)


def export_markdown(session: Session, user: User, conversation_ids: list[int] | None = None) -> str:
    """The export as Markdown: readable, and importable again without loss."""
    doc = export_dict(session, user, conversation_ids)
    out = [f"<!-- prism-export {_meta({k: doc[k] for k in ('format', 'version', 'exported_at')})} -->\n"]
    for conv in doc["conversations"]:
        images = _image_table(conv)
        meta = {k: v for k, v in conv.items() if k not in ("messages", "tree", "images")}
        out.append(f"\n# {_one_line(conv['title'])}\n\n<!-- prism-conversation {_meta(meta)} -->\n")
        if conv["system_prompt"]:
            out.append("\n> **System prompt:** " + conv["system_prompt"].replace("\n", "\n> ") + "\n")
        for node in conv["tree"]:
            # Unset fields are left out to keep the comment short; import reads them as their defaults.
            meta = {k: v for k, v in node.items() if k != "content" and v not in (None, [])}
            meta["content_length"] = len(node["content"])
            heading = node["role"].capitalize()
            if node["status"] not in ("complete",):
                heading += f" ({node['status']})"
            out.append(f"\n<!-- prism-message {_meta(meta)} -->\n### {heading}\n\n{node['content']}\n")
            for n, sha in enumerate(node["images"], start=1):
                out.append(f"\n![image {n}]({images[sha]['data_url']})\n")
    return "".join(out)


# ---------------------------------------------------------------------------------------------- import


def import_conversations(
    session: Session,
    user: User,
    data: str | bytes,
    *,
    limits: ImportLimits = ImportLimits(),
    progress: Progress | None = None,
) -> list[Conversation]:
    """Import a JSON or Markdown export (or a plain OpenAI message list) as new conversations of `user`.

    Raises ImportRefused (nothing written) when the file is malformed or over `limits`. The caller commits.
    """
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if limits.max_bytes is not None and size > limits.max_bytes:
        raise ImportRefused(
            f"The file is {_megabytes(size)}; Prism imports files of up to {_megabytes(limits.max_bytes)}."
        )
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportRefused("The file is not UTF-8 text.") from exc
    stripped = data.lstrip()
    if not stripped:
        raise ImportRefused("The file is empty.")
    _check_text(stripped, "The file")  # text handed over as str may hold a raw lone surrogate
    try:
        doc = json.loads(stripped)
    except RecursionError as exc:
        raise ImportRefused(_too_deep("The file")) from exc
    except json.JSONDecodeError as exc:
        if stripped[0] in "[{":
            raise ImportRefused(
                f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from exc
        _check_count(stripped.count("\n<!-- prism-message "), limits)
        plans = _plans_from_markdown(stripped)
    except ValueError as exc:  # not a syntax error: an integer longer than Python reads (4,300 digits)
        raise ImportRefused(_HUGE_NUMBER.format(where="The file")) from exc
    else:
        _check_text(doc, "The file")
        _check_count(_count_json_messages(doc), limits)
        plans = _plans_from_json(doc)
    total = sum(len(plan.nodes) for plan in plans)
    _check_count(total, limits)
    if progress is not None:
        progress("Saving", 0, total)
    done = 0
    written = []
    for plan in plans:
        written.append(_write(session, user, plan, progress, done, total))
        done += len(plan.nodes)
    return written


def _check_lengths(plan: _Plan, where: str) -> None:
    """Refuse text longer than its column: PostgreSQL would refuse it mid-import, SQLite would not."""

    def fit(value: str | None, column: Any, at: str) -> None:
        limit = column.type.length
        if value is not None and len(storable.escape(value)) > limit:
            raise ImportRefused(f"{at} is longer than the {limit:,} characters Prism keeps there.")

    fit(plan.title, Conversation.__table__.c.title, f"{where} title")
    fit(plan.endpoint, Conversation.__table__.c.endpoint, f"{where} endpoint")
    fit(plan.model, Conversation.__table__.c.model, f"{where} model")
    for n, node in enumerate(plan.nodes):
        at = f"{where} message {n + 1}"
        fit(node.fields.get("finish_reason"), Message.__table__.c.finish_reason, f"{at}: finish_reason")
        fit(node.fields.get("tool_call_id"), Message.__table__.c.tool_call_id, f"{at}: tool_call_id")
        for image in node.images:
            fit(image.filename, Attachment.__table__.c.filename, f"{at}: an image name")


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 100 * 1024 else f"{size / 1024:.0f} KB"


def _too_deep(what: str) -> str:
    return f"{what} nests lists or objects more than {MAX_DEPTH} levels deep, which no Prism export does."


def _check_count(count: int, limits: ImportLimits) -> None:
    if limits.max_messages is not None and count > limits.max_messages:
        raise ImportRefused(
            f"The file holds {count:,} messages; Prism imports up to {limits.max_messages:,} at once. "
            "Split the file, or ask the operator to raise the limit."
        )


def _count_json_messages(doc: Any) -> int:
    """How many messages a parsed file holds, counted before anything is checked or decoded."""
    if isinstance(doc, list):
        return len(doc)
    if not isinstance(doc, dict):
        return 0
    convs = doc.get("conversations")
    if not isinstance(convs, list):
        return len(doc["messages"]) if isinstance(doc.get("messages"), list) else 0
    count = 0
    for conv in convs:
        if isinstance(conv, dict):
            listed = conv.get("tree") if "tree" in conv else conv.get("messages")
            count += len(listed) if isinstance(listed, list) else 0
    return count


def _check_text(doc: Any, what: str) -> None:
    """Refuse a document nested deeper than MAX_DEPTH or holding a lone surrogate, saying where.
    Iterative, so the check itself cannot run out of stack."""
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ImportRefused(_too_deep(what))
        if isinstance(value, str):
            found = _SURROGATE.search(value)
            if found is not None:
                raise ImportRefused(
                    f"{what} holds half of a UTF-16 character pair (\\u{ord(found.group()):04x}) "
                    f"{'at ' + where.lstrip('.') if where else 'in its text'}: that is not text a browser or "
                    "another app can read. Fix or remove it and import again."
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                if _SURROGATE.search(key):
                    raise ImportRefused(f"{what} has a key holding half of a UTF-16 character pair.")
                stack.append((item, f"{where}.{key}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))


@dataclass
class _Node:
    local_id: int
    parent: int | None
    role: str
    content: str
    images: list[image_module.NormalisedImage]
    fields: dict[str, Any]
    created_at: datetime | None
    updated_at: datetime | None


@dataclass
class _Plan:
    title: str
    system_prompt: str
    params: dict[str, Any]
    endpoint: str
    model: str
    pinned: bool
    archived: bool
    created_at: datetime | None
    updated_at: datetime | None
    nodes: list[_Node] = field(default_factory=list)
    # The branch the export showed, root first (local ids); the imported conversation opens on it.
    active: list[int] = field(default_factory=list)


def _plans_from_json(doc: Any) -> list[_Plan]:
    if isinstance(doc, list):
        return [_plan_from_openai(doc, "messages")]
    if not isinstance(doc, dict):
        raise ImportRefused("The JSON must be an object or a list of messages.")
    if "conversations" not in doc:
        if isinstance(doc.get("messages"), list):
            return [_plan_from_openai(doc["messages"], "messages", title=doc.get("title"))]
        raise ImportRefused('The JSON has neither "conversations" (a Prism export) nor "messages".')
    if doc.get("format", FORMAT) != FORMAT:
        raise ImportRefused(f"The JSON's format is {doc.get('format')!r}, not {FORMAT!r}.")
    if not isinstance(doc.get("version", VERSION), int) or doc.get("version", VERSION) > VERSION:
        raise ImportRefused(
            f"The file is version {doc.get('version')!r}; this app reads up to version {VERSION}."
        )
    convs = doc["conversations"]
    if not isinstance(convs, list):
        raise ImportRefused('"conversations" must be a list.')
    return [_plan_from_conversation(c, f"conversations[{i}]") for i, c in enumerate(convs)]


def _plan_from_conversation(conv: Any, where: str) -> _Plan:
    if not isinstance(conv, dict):
        raise ImportRefused(f"{where} must be an object.")
    if "tree" not in conv:
        messages = _require(conv, "messages", list, where)
        return _plan_from_openai(messages, f"{where}.messages", title=conv.get("title"))
    images = _collect_images(conv, where)
    plan = _Plan(
        title=_opt(conv, "title", str, where, "New chat"),
        system_prompt=_opt(conv, "system_prompt", str, where, ""),
        params=_opt(conv, "params", dict, where, {}),
        endpoint=_opt(conv, "endpoint", str, where, ""),
        model=_opt(conv, "model", str, where, ""),
        pinned=_opt(conv, "pinned", bool, where, False),
        archived=_opt(conv, "archived", bool, where, False),
        created_at=_time(conv.get("created_at"), f"{where}.created_at"),
        updated_at=_time(conv.get("updated_at"), f"{where}.updated_at"),
    )
    tree = _require(conv, "tree", list, where)
    seen: set[int] = set()
    for i, node in enumerate(tree):
        at = f"{where}.tree[{i}]"
        if not isinstance(node, dict):
            raise ImportRefused(f"{at} must be an object.")
        local_id = _require(node, "id", int, at)
        parent = node.get("parent")
        if local_id in seen:
            raise ImportRefused(f"{at}.id {local_id} is used twice.")
        if parent is not None and (not isinstance(parent, int) or parent not in seen):
            raise ImportRefused(f"{at}.parent {parent!r} is not an earlier message of this conversation.")
        seen.add(local_id)
        role = _require(node, "role", str, at)
        if role not in ROLES:
            raise ImportRefused(f"{at}.role {role!r} is not one of {', '.join(ROLES)}.")
        status = _opt(node, "status", str, at, "complete")
        if status not in MESSAGE_STATUSES:
            raise ImportRefused(f"{at}.status {status!r} is not one of {', '.join(MESSAGE_STATUSES)}.")
        shas = _opt(node, "images", list, at, [])
        missing = [s for s in shas if s not in images]
        if missing:
            raise ImportRefused(
                f"{at}.images refers to an image the file does not contain ({str(missing[0])[:12]}...)."
            )
        names = _opt(node, "image_names", list, at, [])
        names = [n if isinstance(n, str) else "" for n in names] + [""] * (len(shas) - len(names))
        fields = {name: node.get(name) for name in MESSAGE_FIELDS if name in node}
        fields["status"] = status
        for name, kind in (
            ("usage", dict),
            ("timings", dict),
            ("request_body", dict),
            ("tool_calls", list),
            ("logprobs", list),
        ):
            if fields.get(name) is not None and not isinstance(fields[name], kind):
                raise ImportRefused(
                    f"{at}.{name} must be {'an object' if kind is dict else 'a list'} or null."
                )
        for name in ("thought", "error", "finish_reason", "tool_call_id"):
            if fields.get(name) is not None and not isinstance(fields[name], str):
                raise ImportRefused(f"{at}.{name} must be text or null.")
        candidate = fields.get("candidate_index", 0)
        if not isinstance(candidate, int) or isinstance(candidate, bool) or not 0 <= candidate < 2**31:
            raise ImportRefused(f"{at}.candidate_index must be a whole number from 0 to 2,147,483,647.")
        if status == "streaming":
            fields["status"] = "interrupted"  # nobody is streaming into an imported reply
        plan.nodes.append(
            _Node(
                local_id=local_id,
                parent=parent,
                role=role,
                content=_require(node, "content", str, at),
                images=[
                    dataclasses.replace(images[s], filename=n) for s, n in zip(shas, names, strict=False)
                ],
                fields=fields,
                created_at=_time(node.get("created_at"), f"{at}.created_at"),
                updated_at=_time(node.get("updated_at"), f"{at}.updated_at"),
            )
        )
    active = _opt(conv, "active", list, where, [])
    if not all(isinstance(i, int) and not isinstance(i, bool) and i in seen for i in active):
        raise ImportRefused(f"{where}.active must list ids of this conversation's messages.")
    plan.active = active
    _check_lengths(plan, where)
    return plan


def _collect_images(conv: dict[str, Any], where: str) -> dict[str, image_module.NormalisedImage]:
    """sha256 -> image, from the data URLs in `messages` and the `images` table, each checked by Pillow."""
    found: dict[str, image_module.NormalisedImage] = {}
    table = _opt(conv, "images", dict, where, {})
    for sha, entry in table.items():
        at = f"{where}.images[{str(sha)[:12]}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("data_url"), str):
            raise ImportRefused(f"{at} must be an object with a data_url.")
        found[sha] = _decode_image(entry["data_url"], "", at)
    for i, message in enumerate(conv.get("messages") or []):
        for j, url in enumerate(_image_urls(message, f"{where}.messages[{i}]")):
            image = _decode_image(url, "", f"{where}.messages[{i}].content[{j}]")
            found.setdefault(image.sha256, image)
    return found


def _plan_from_openai(messages: list[Any], where: str, title: Any = None) -> _Plan:
    """A linear conversation from a plain OpenAI message list (a system message becomes the system prompt)."""
    plan = _Plan("", "", {}, "", "", False, False, None, None)
    parent: int | None = None
    for i, message in enumerate(messages):
        at = f"{where}[{i}]"
        if not isinstance(message, dict):
            raise ImportRefused(f"{at} must be an object with a role and content.")
        role = _require(message, "role", str, at)
        if role == "developer":
            role = "system"
        if role not in ROLES:
            raise ImportRefused(f"{at}.role {role!r} is not one of {', '.join(ROLES)}.")
        text = _text_of(message, at)
        if role == "system" and not plan.nodes and not plan.system_prompt:
            plan.system_prompt = text
            continue
        urls = _image_urls(message, at)
        fields: dict[str, Any] = {"status": "complete"}
        if message.get("tool_calls") is not None:
            if not isinstance(message["tool_calls"], list):
                raise ImportRefused(f"{at}.tool_calls must be a list.")
            fields["tool_calls"] = message["tool_calls"]
        if message.get("tool_call_id") is not None:
            fields["tool_call_id"] = str(message["tool_call_id"])
        node_id = len(plan.nodes) + 1
        plan.nodes.append(
            _Node(
                node_id,
                parent,
                role,
                text,
                [_decode_image(u, "", f"{at}.content") for u in urls],
                fields,
                None,
                None,
            )
        )
        parent = node_id
    if not plan.nodes and not plan.system_prompt:
        raise ImportRefused(f"{where} holds no messages.")
    first_user = next((n.content for n in plan.nodes if n.role == "user" and n.content.strip()), "")
    plan.title = (
        title if isinstance(title, str) and title.strip() else (_one_line(first_user)[:80] or "Imported chat")
    )
    _check_lengths(plan, where)
    return plan


_MARKER = re.compile(r"^<!-- prism-(export|conversation|message) (\{.*\}) -->$", re.MULTILINE)
_IMAGE_LINE = re.compile(r"\n!\[[^\]\n]*\]\((data:[^)\s]+)\)\n")


def _plans_from_markdown(text: str) -> list[_Plan]:
    """Read a Markdown export front to back. A message's text is taken by its recorded length, so text
    that happens to look like a marker (a pasted export, say) is read as text, not as structure."""
    if not text.startswith("<!-- prism-export "):
        raise ImportRefused(
            "This Markdown was not exported by Prism (it has no prism-export marker), so its messages "
            "cannot be told apart reliably. Import a Prism export, or JSON in the OpenAI messages format."
        )
    conversations: list[dict[str, Any]] = []
    pos = 0
    line, counted_to = 1, 0  # line numbers counted forward only, so reading stays linear in the file
    while (marker := _MARKER.search(text, pos)) is not None:
        kind = marker.group(1)
        line += text.count("\n", counted_to, marker.start())
        counted_to = marker.start()
        try:
            meta = json.loads(marker.group(2))
        except RecursionError as exc:
            raise ImportRefused(_too_deep(f"Line {line}: the prism-{kind} comment")) from exc
        except json.JSONDecodeError as exc:
            raise ImportRefused(
                f"Line {line}: the prism-{kind} comment is not valid JSON ({exc.msg})."
            ) from exc
        except ValueError as exc:
            raise ImportRefused(_HUGE_NUMBER.format(where=f"Line {line}: the prism-{kind} comment")) from exc
        _check_text(meta, f"Line {line}: the prism-{kind} comment")
        if not isinstance(meta, dict):
            raise ImportRefused(f"Line {line}: the prism-{kind} comment must hold an object.")
        pos = marker.end()
        if kind == "export":
            if (
                meta.get("format") != FORMAT
                or not isinstance(meta.get("version"), int)
                or meta["version"] > VERSION
            ):
                raise ImportRefused(f"Line {line}: unknown export format or version.")
            continue
        if kind == "conversation":
            conversations.append({**meta, "messages": [], "tree": [], "images": {}})
            continue
        if not conversations:
            raise ImportRefused(f"Line {line}: a message comes before any conversation.")
        length = meta.pop("content_length", None)
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise ImportRefused(f"Line {line}: the message has no valid content_length.")
        heading = re.compile(r"\n### [^\n]*\n\n").match(text, pos)
        if heading is None:
            raise ImportRefused(f"Line {line + 1}: expected a '### Role' heading after the message comment.")
        content = text[heading.end() : heading.end() + length]
        pos = heading.end() + length
        if len(content) != length or not text.startswith("\n", pos):
            raise ImportRefused(
                f"Line {line}: the message text is shorter or longer than its recorded length."
            )
        pos += 1
        shas = meta.get("images") or []
        if not isinstance(shas, list):
            raise ImportRefused(f"Line {line}: the message's images must be a list.")
        table = conversations[-1]["images"]
        for sha in shas:
            image = _IMAGE_LINE.match(text, pos)
            if image is None:
                raise ImportRefused(f"Line {line}: the message lists {len(shas)} images but shows fewer.")
            table[str(sha)] = {"data_url": image.group(1)}
            pos = image.end()
        conversations[-1]["tree"].append({**meta, "content": content})
    if not conversations:
        raise ImportRefused("The Markdown holds no conversations.")
    return [_plan_from_conversation(conv, f"conversation {i + 1}") for i, conv in enumerate(conversations)]


def _write(
    session: Session, user: User, plan: _Plan, progress: Progress | None, done: int, total: int
) -> Conversation:
    """Write one checked conversation: its messages in bulk INSERTs of BATCH rows (ids returned in
    order), then every parent link in one bulk UPDATE (a parent is always an earlier message)."""
    now = datetime.now(UTC)
    conv = repository.create_conversation(
        session,
        user,
        title=plan.title,
        system_prompt=plan.system_prompt,
        params=plan.params,
        endpoint=plan.endpoint,
        model=plan.model,
    )
    conv.pinned, conv.archived = plan.pinned, plan.archived
    conv.created_at = plan.created_at or now
    conv.updated_at = plan.updated_at or now
    session.flush()
    # Every row of one INSERT has the same keys; a field no message of this conversation sets is left
    # out (its column default, NULL), which keeps each statement short.
    used = {name for node in plan.nodes for name, value in node.fields.items() if value is not None}
    defaults = {name: None for name in used} | {"status": "complete"}
    ids: dict[int, int] = {}
    links: list[dict[str, int]] = []
    attachments: list[dict[str, int]] = []
    stored: dict[str, int] = {}  # sha256 -> attachment id, so a repeated image is looked up once
    for start in range(0, len(plan.nodes), BATCH):
        nodes = plan.nodes[start : start + BATCH]
        rows = [
            defaults
            | {name: value for name, value in node.fields.items() if name in used}
            | {
                "conversation_id": conv.id,
                "parent_id": None,
                "role": node.role,
                "content": node.content,
                "created_at": node.created_at or now,
                "updated_at": node.updated_at or node.created_at or now,
            }
            for node in nodes
        ]
        new_ids = session.scalars(insert(Message).returning(Message.id, sort_by_parameter_order=True), rows)
        for node, message_id in zip(nodes, new_ids, strict=True):
            ids[node.local_id] = message_id
            if node.parent is not None:
                links.append({"id": message_id, "parent_id": ids[node.parent]})
            for position, image in enumerate(node.images):
                if image.sha256 not in stored:
                    stored[image.sha256] = repository.store_image(session, user, image).id
                attachments.append(
                    {"message_id": message_id, "attachment_id": stored[image.sha256], "position": position}
                )
        if progress is not None:
            progress("Saving", done + start + len(nodes), total)
    if links:
        session.execute(update(Message), links)
    if attachments:
        session.execute(insert(MessageAttachment), attachments)
    # Open on the branch the export showed: at each step of it, the version that was chosen there.
    parents = {node.local_id: node.parent for node in plan.nodes}
    conv.branch_choices = {
        str(ids[parents[local]] if parents[local] is not None else 0): ids[local] for local in plan.active
    }
    session.flush()
    return conv


# ------------------------------------------------------------------------------------------- helpers


def _openai_message(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": m.role}
    if m.attachments:
        parts: list[dict[str, Any]] = []
        if m.content:
            parts.append({"type": "text", "text": m.content})
        parts.extend({"type": "image_url", "image_url": {"url": a.data_url()}} for a in m.attachments)
        out["content"] = parts
    else:
        out["content"] = m.content
    if m.tool_calls:
        out["tool_calls"] = m.tool_calls
    if m.tool_call_id is not None:
        out["tool_call_id"] = m.tool_call_id
    return out


def _text_of(message: dict[str, Any], where: str) -> str:
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ImportRefused(f"{where}.content must be text or a list of parts.")
    texts = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise ImportRefused(f"{where}.content[{j}] must be an object with a type.")
        if part["type"] == "text":
            if not isinstance(part.get("text"), str):
                raise ImportRefused(f"{where}.content[{j}].text must be text.")
            texts.append(part["text"])
        elif part["type"] != "image_url":
            raise ImportRefused(
                f"{where}.content[{j}] has type {part['type']!r}; only text and image_url are read."
            )
    return "\n".join(texts)


def _image_urls(message: Any, where: str) -> list[str]:
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        return []
    urls = []
    for j, part in enumerate(message["content"]):
        if isinstance(part, dict) and part.get("type") == "image_url":
            image_url = part.get("image_url")
            url = image_url.get("url") if isinstance(image_url, dict) else image_url
            if not isinstance(url, str):
                raise ImportRefused(f"{where}.content[{j}].image_url has no url.")
            urls.append(url)
    return urls


def _decode_image(url: str, filename: str, where: str) -> image_module.NormalisedImage:
    match = _DATA_URL.match(url)
    if match is None:
        raise ImportRefused(
            f"{where}: images must be data URLs (data:image/...;base64,...); links are not fetched."
        )
    try:
        raw = base64.b64decode(re.sub(r"\s", "", match.group("data")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImportRefused(f"{where}: the image's base64 data is damaged.") from exc
    try:
        return image_module.normalise(raw, filename)
    except image_module.ImageRejected as exc:
        raise ImportRefused(f"{where}: {exc.message}") from exc


def _image_table(conv: dict[str, Any]) -> dict[str, dict[str, str]]:
    """sha256 -> {"data_url"} for every image of an exported conversation (messages and table)."""
    table = dict(conv["images"])
    for message in conv["messages"]:
        for url in _image_urls(message, ""):
            raw = base64.b64decode(url.split(",", 1)[1])
            table.setdefault(hashlib.sha256(raw).hexdigest(), {"data_url": url})
    return table


def _require(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in obj:
        raise ImportRefused(f"{where} has no {key!r}.")
    return _check(obj[key], kind, f"{where}.{key}")


def _opt(obj: dict[str, Any], key: str, kind: type, where: str, default: Any) -> Any:
    if obj.get(key) is None:
        return default
    return _check(obj[key], kind, f"{where}.{key}")


def _check(value: Any, kind: type, where: str) -> Any:
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        names = {str: "text", int: "a whole number", bool: "true or false", list: "a list", dict: "an object"}
        raise ImportRefused(f"{where} must be {names.get(kind, kind.__name__)}.")
    return value


def _time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ImportRefused(f"{where} must be an ISO 8601 time.")
    try:
        parsed = datetime.fromisoformat(value)
        # In UTC, as stored: a time at the very edge of the calendar can fall off it (year 0 or 10000).
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except ValueError as exc:
        raise ImportRefused(f"{where} {value[:40]!r} is not an ISO 8601 time.") from exc
    except OverflowError as exc:
        raise ImportRefused(f"{where} {value[:40]!r} is outside the years 1 to 9999 in UTC.") from exc


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _meta(obj: dict[str, Any]) -> str:
    """JSON for an HTML comment: one line, and no '>' so the comment cannot be closed early."""
    return (
        json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        .replace(">", "\\u003e")
        .replace("\n", "\\n")
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())
