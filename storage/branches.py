"""Which branch of a conversation is shown, worked out from its messages in memory.

Regenerate and edit-and-resend add siblings under the same parent; a reply with n > 1 adds one sibling
per candidate, created in candidate order (turns.chat makes all candidate rows at once). So the
siblings under a parent fall into groups, each starting at a candidate-0 row: one group per attempt.
The conversation follows, at each parent, the child the person chose (stored with the conversation in
`Conversation.branch_choices`, so a reload, another tab, another app server and an export all agree),
else the newest attempt's first candidate. Plain functions over already-loaded rows, whole messages
or their outlines (`repository.MessageOutline`: id, parent id and candidate index are all they read),
so a page finds its branch on the outline and reads whole only the messages it draws. The chat page,
the export and "continue a conversation" in Compare all take the path from here, so they cannot
disagree about which branch is shown.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any


def children_by_parent(messages: Sequence[Any]) -> dict[int, list[Any]]:
    """Children of each parent id (0 for roots), oldest first."""
    children: dict[int, list[Any]] = {}
    for message in sorted(messages, key=_by_id):
        children.setdefault(message.parent_id or 0, []).append(message)
    return children


_by_id = operator.attrgetter("id")


def attempts(kids: Sequence[Any]) -> list[list[Any]]:
    """Siblings grouped into attempts: each starts at a candidate-0 row and holds its other candidates."""
    groups: list[list[Any]] = []
    for kid in kids:
        if not groups or (kid.candidate_index or 0) == 0:
            groups.append([kid])
        else:
            groups[-1].append(kid)
    return groups


def follow(
    messages: Sequence[Any],
    choose: Mapping[int, int] | None = None,
    *,
    children: Mapping[int, list[Any]] | None = None,
) -> list[Any]:
    """The path from the root to a leaf along the chosen children (`children`: children_by_parent of
    `messages`, when the caller has it already)."""
    children = children_by_parent(messages) if children is None else children
    choose = choose or {}
    path: list[Any] = []
    parent, seen = 0, set()
    while parent in children and parent not in seen:
        seen.add(parent)
        kids = children[parent]
        if len(kids) == 1:  # most parents: nothing to choose between
            nxt = kids[0]
        else:
            wanted = choose.get(parent)
            nxt = next((k for k in kids if k.id == wanted), None)
            if nxt is None:
                nxt = attempts(kids)[-1][0]
        path.append(nxt)
        parent = nxt.id
    return path


def position(messages_children: Mapping[int, list[Any]], message: Any) -> tuple[int, int, list[Any]]:
    """(1-based attempt number, attempt count, the attempt's candidates) for a message on the path."""
    groups = attempts(messages_children.get(message.parent_id or 0, [message]))
    for number, group in enumerate(groups, start=1):
        if any(m.id == message.id for m in group):
            return number, len(groups), group
    return 1, 1, [message]


def choices(stored: Mapping[str, Any] | None) -> dict[int, int]:
    """The stored branch choices (JSON keys are strings) as {parent id (0 for roots): child id}."""
    picked: dict[int, int] = {}
    for parent, child in (stored or {}).items():
        try:
            picked[int(parent)] = int(child)
        except (TypeError, ValueError):
            continue  # a hand-edited or damaged entry is ignored, never fatal
    return picked


def lineage(messages: Sequence[Any], leaf_id: int | None) -> list[Any]:
    """The messages from the root down to `leaf_id` (empty for None)."""
    by_id = {m.id: m for m in messages}
    path: list[Any] = []
    current = by_id.get(leaf_id) if leaf_id is not None else None
    while current is not None and len(path) <= len(by_id):
        path.append(current)
        current = by_id.get(current.parent_id) if current.parent_id else None
    return path[::-1]
