"""The parameter form is generated from `Params`: every field of `Params` appears in the chat page's form
and in each compare column's editor, with the label, range, tab and placeholder its spec gives; and
what the form holds reaches the wire in `Params.to_wire`'s shape (Gemini's extras nested)."""

from __future__ import annotations

import dataclasses

import pytest

from chat_client import Params
from chat_client.params import GROUPS

WIDGET_KINDS = ("text_input", "number_input", "text_area", "selectbox", "toggle", "radio")


def form_widgets(at, prefix):
    """The form's widgets under `prefix`, by label, with the tab each is drawn in."""
    tab_of = {}
    for tab in at.tabs:
        for kind in WIDGET_KINDS:
            for widget in tab.get(kind):
                if (widget.key or "").startswith(prefix):
                    tab_of[widget.key] = tab.label
    found = {}
    for kind in WIDGET_KINDS:
        for widget in at.get(kind):
            if (widget.key or "").startswith(prefix):
                found[widget.label] = (widget, tab_of.get(widget.key))
    return found


def chat_form(new_app):
    return new_app(all_parameters=True).run(), "chat.p.new."


def compare_editor(new_app):
    at = new_app().run()
    at.switch_page("views/compare.py").run()
    return at, "compare.p.1."


@pytest.mark.parametrize("open_form", [chat_form, compare_editor], ids=["chat form", "compare editor"])
def test_every_params_field_is_in_the_form_with_the_label_range_and_tab_of_its_spec(
    app_env, new_app, open_form
):
    at, prefix = open_form(new_app)
    assert not at.exception, at.exception
    widgets = form_widgets(at, prefix)
    for name in Params.field_names():
        spec = Params.spec(name)
        assert spec.label in widgets, f"{name}: no widget labelled {spec.label!r}"
        widget, tab = widgets[spec.label]
        expected_tab = None if spec.common else spec.group  # the common few are in view, above the tabs
        assert tab == expected_tab, f"{name} is in tab {tab!r}, its spec says {expected_tab!r}"
        assert spec.help in (widget.help or ""), name
        if spec.range_text():
            assert f"Allowed: {spec.range_text()}." in widget.help, name
            assert widget.placeholder == spec.placeholder_text(), name
    groups = [
        g
        for g in GROUPS
        if any(not Params.spec(n).common and Params.spec(n).group == g for n in Params.field_names())
    ]
    assert [t.label for t in at.tabs][: len(groups)] == groups


def test_the_common_fields_are_in_view_and_the_rest_wait_behind_all_parameters(app_env, new_app, monkeypatch):
    # Which fields are in view is each spec's `common` flag, not a list in the page: flag one more
    # field and it moves into view.
    original = Params.spec.__func__

    def spec(cls, name):
        found = original(cls, name)
        return dataclasses.replace(found, common=True) if name == "seed" else found

    monkeypatch.setattr(Params, "spec", classmethod(spec))
    at, prefix = chat_form(new_app)
    switch = "chat.all_params"
    at.toggle(key=switch).set_value(False).run()
    assert not at.exception, at.exception
    in_view = {
        w.key[len(prefix) :]
        for kind in WIDGET_KINDS
        for w in at.get(kind)
        if (w.key or "").startswith(prefix)
    }
    assert in_view == {"model", "temperature", "max_completion_tokens", "reasoning_effort", "seed"}
    assert [t.label for t in at.tabs if t.label in GROUPS] == []

    at.number_input(key=prefix + "seed").set_value(11).run()
    at.toggle(key=switch).set_value(True).run()
    at.number_input(key=prefix + "top_p").set_value(0.5).run()
    at.toggle(key=switch).set_value(False).run()
    at.toggle(key=switch).set_value(True).run()
    assert at.number_input(key=prefix + "top_p").value == 0.5, "a hidden field keeps its value"
    assert at.number_input(key=prefix + "seed").value == 11
    assert "Seed" not in {w.label for tab in at.tabs for w in tab.get("number_input")}


def test_a_nested_field_set_in_the_form_reaches_the_wire_nested(app_env, new_app):
    at, prefix = chat_form(new_app)
    at.number_input(key=prefix + "thinking_budget").set_value(512)
    at.text_input(key=prefix + "cached_content").set_value("cachedContents/abc")
    at.chat_input(key="chat.input").set_value("hello").run()
    assert not at.exception, at.exception
    body = app_env.received[-1]["body"]
    assert body["extra_body"] == {
        "google": {"thinking_config": {"thinking_budget": 512}, "cached_content": "cachedContents/abc"}
    }
    assert "thinking_budget" not in body and "cached_content" not in body


def stored_conversation_params(app_env):
    import os

    from storage import open_database, repository, session_factory

    make_session = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        return [c.params for c in repository.list_conversations(session, user)]


def test_a_conversation_keeps_params_in_their_flat_json_form(app_env, new_app):
    at, prefix = chat_form(new_app)
    at.number_input(key=prefix + "thinking_budget").set_value(512)
    at.chat_input(key="chat.input").set_value("hello").run()
    [params] = stored_conversation_params(app_env)
    assert params["thinking_budget"] == 512 and "extra_body" not in params
    assert Params.from_dict(params).thinking_budget == 512


def test_a_conversation_stored_in_the_older_nested_shape_still_fills_the_form(app_env, new_app):
    import os

    from storage import open_database, repository, session_factory

    make_session = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        older = {
            "model": "gemini-2.5-flash",
            "temperature": 0.3,
            "extra_body": {
                "google": {"thinking_config": {"thinking_budget": 2048, "include_thoughts": True}}
            },
        }
        conversation = repository.create_conversation(session, user, title="Older", params=older)
        session.commit()
        conversation_id = conversation.id
    at = new_app(all_parameters=True)
    at.query_params["c"] = str(conversation_id)
    at.session_state[f"chat.settings_open.{conversation_id}"] = True
    at.run()
    assert not at.exception, at.exception
    prefix = f"chat.p.{conversation_id}."
    assert at.number_input(key=prefix + "thinking_budget").value == 2048
    assert at.toggle(key=prefix + "include_thoughts").value is True
    assert at.number_input(key=prefix + "temperature").value == 0.3


def test_a_preset_sets_only_its_own_fields_even_beside_another_nested_one(app_env, new_app):
    # A preset kept in the older nested shape once replaced the whole of extra_body, so applying
    # "show thoughts" dropped the thinking budget already in the form.
    import os

    from storage import open_database, presets, repository, session_factory

    make_session = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        nested = {"extra_body": {"google": {"thinking_config": {"include_thoughts": True}}}}
        presets.create_preset(session, user, kind="params", name="Show thoughts", params=nested)
        session.commit()
    at, prefix = chat_form(new_app)
    at.number_input(key=prefix + "thinking_budget").set_value(1024)
    at.session_state["chat.settings_open.new"] = True  # opened: its presets are read
    at.run()
    picker = at.selectbox(key="chat.preset.new")
    picker.select(next(o for o in picker.options if o.startswith("Parameters: Show thoughts"))).run()
    assert not at.exception, at.exception
    assert at.number_input(key=prefix + "thinking_budget").value == 1024
    assert at.toggle(key=prefix + "include_thoughts").value is True
