"""Presets: system prompts and parameter sets, built-in (seeded by migrations) and per user.

What must stay true: built-in presets (user_id NULL) are visible to everyone and changed only by
migrations; a user sees the built-ins plus their own presets, and can change or delete only their own.
Parameter presets are dicts of Chat Completions request fields (e.g. {"temperature": 0}) that the
parameter form merges over the conversation's parameters.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import Preset, User, utcnow

KINDS = ("system", "params")
PRESET_FIELDS = frozenset({"name", "description", "system_prompt", "params"})


def list_presets(session: Session, user: User, kind: str | None = None) -> list[Preset]:
    """Built-ins first (in seeding order), then the user's own by name."""
    stmt = select(Preset).where(or_(Preset.user_id.is_(None), Preset.user_id == user.id))
    if kind is not None:
        stmt = stmt.where(Preset.kind == _check_kind(kind))
    stmt = stmt.order_by(
        Preset.builtin.desc(), Preset.kind, Preset.user_id.is_not(None), Preset.name, Preset.id
    )
    presets = list(session.scalars(stmt))
    builtins = sorted((p for p in presets if p.builtin), key=lambda p: (p.kind, p.id))
    own = [p for p in presets if not p.builtin]
    return builtins + own


def get_preset(session: Session, user: User, preset_id: int) -> Preset | None:
    """A built-in or one of the user's presets; None otherwise."""
    return session.scalar(
        select(Preset).where(Preset.id == preset_id, or_(Preset.user_id.is_(None), Preset.user_id == user.id))
    )


def create_preset(
    session: Session,
    user: User,
    *,
    kind: str,
    name: str,
    system_prompt: str = "",
    params: dict[str, Any] | None = None,
    description: str = "",
) -> Preset:
    """A new preset of the user's; ValueError for an empty or already used name (per kind)."""
    kind = _check_kind(kind)
    name = _check_name(session, user, kind, name)
    now = utcnow()
    preset = Preset(
        user_id=user.id,
        kind=kind,
        name=name,
        description=description,
        system_prompt=system_prompt if kind == "system" else "",
        params=dict(params or {}) if kind == "params" else {},
        builtin=False,
        created_at=now,
        updated_at=now,
    )
    session.add(preset)
    session.flush()
    return preset


def update_preset(session: Session, user: User, preset_id: int, **fields: Any) -> Preset | None:
    """Change name, description, system_prompt or params of one of the user's presets (None: not theirs)."""
    unknown = set(fields) - PRESET_FIELDS
    if unknown:
        raise TypeError(f"update_preset does not set {', '.join(sorted(unknown))}")
    preset = _own(session, user, preset_id)
    if preset is None:
        return None
    if "name" in fields and fields["name"].strip() != preset.name:
        fields["name"] = _check_name(session, user, preset.kind, fields["name"])
    for name, value in fields.items():
        setattr(preset, name, dict(value or {}) if name == "params" else value)
    preset.updated_at = utcnow()
    session.flush()
    return preset


def delete_preset(session: Session, user: User, preset_id: int) -> bool:
    """Delete one of the user's presets; False for built-ins and others' presets."""
    preset = _own(session, user, preset_id)
    if preset is None:
        return False
    session.delete(preset)
    session.flush()
    return True


def _own(session: Session, user: User, preset_id: int) -> Preset | None:
    return session.scalar(select(Preset).where(Preset.id == preset_id, Preset.user_id == user.id))


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"A preset is a 'system' prompt or a 'params' set, not {kind!r}.")
    return kind


def _check_name(session: Session, user: User, kind: str, name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValueError("A preset needs a name.")
    taken = session.scalar(
        select(Preset.id).where(Preset.user_id == user.id, Preset.kind == kind, Preset.name == name)
    )
    if taken is not None:
        raise ValueError(f"You already have a preset named {name!r}.")
    return name
