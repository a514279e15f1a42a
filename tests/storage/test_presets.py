"""Presets: built-ins seeded by migration and read-only; each user's own on top."""

from __future__ import annotations

import pytest

from storage import presets


def test_builtins_are_seeded_with_the_promised_parameter_sets(session, alice):
    by_name = {p.name: p for p in presets.list_presets(session, alice, "params")}
    assert by_name["Deterministic"].params == {"temperature": 0}
    assert by_name["Creative"].params["temperature"] > 1
    assert by_name["JSON output"].params["response_format"] == {"type": "json_object"}
    assert all(p.builtin and p.user_id is None for p in by_name.values())


def test_builtin_system_prompts_are_substantial(session, alice):
    system = presets.list_presets(session, alice, "system")
    assert len(system) >= 5
    assert all(len(p.system_prompt) > 150 and p.description for p in system)
    assert len({p.name for p in system}) == len(system)


def test_user_presets_come_after_builtins_and_can_change(session, alice):
    mine = presets.create_preset(
        session, alice, kind="system", name="Pirate", system_prompt="Talk like a pirate."
    )
    listed = presets.list_presets(session, alice, "system")
    assert listed[-1].id == mine.id and all(p.builtin for p in listed[:-1])
    presets.update_preset(session, alice, mine.id, name="Sea dog", system_prompt="Arr.")
    assert presets.get_preset(session, alice, mine.id).system_prompt == "Arr."
    assert presets.delete_preset(session, alice, mine.id)
    assert presets.get_preset(session, alice, mine.id) is None


def test_parameter_preset_keeps_its_dict(session, alice):
    p = presets.create_preset(
        session, alice, kind="params", name="Short", params={"max_tokens": 64, "stop": ["\n"]}
    )
    session.commit()
    session.expunge_all()
    assert presets.get_preset(session, alice, p.id).params == {"max_tokens": 64, "stop": ["\n"]}


def test_builtins_cannot_be_changed_or_deleted(session, alice):
    builtin = presets.list_presets(session, alice, "params")[0]
    assert presets.update_preset(session, alice, builtin.id, name="Mine now") is None
    assert presets.delete_preset(session, alice, builtin.id) is False
    assert presets.get_preset(session, alice, builtin.id).name != "Mine now"


@pytest.mark.parametrize("name", ["", "   "])
def test_preset_needs_a_name(session, alice, name):
    with pytest.raises(ValueError):
        presets.create_preset(session, alice, kind="system", name=name)


def test_preset_names_are_unique_per_user_and_kind(session, alice, bob):
    presets.create_preset(session, alice, kind="system", name="Mine")
    with pytest.raises(ValueError):
        presets.create_preset(session, alice, kind="system", name="Mine")
    presets.create_preset(session, alice, kind="params", name="Mine")  # another kind: fine
    presets.create_preset(session, bob, kind="system", name="Mine")  # another user: fine


def test_unknown_kind_is_refused(session, alice):
    with pytest.raises(ValueError):
        presets.create_preset(session, alice, kind="tools", name="x")
