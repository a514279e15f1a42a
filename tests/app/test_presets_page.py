"""The presets page: built-ins shown read-only; your own made, checked, edited and deleted."""

from __future__ import annotations


def open_presets(new_app):
    at = new_app().run()
    at.switch_page("views/presets.py").run()
    assert not at.exception, at.exception
    return at


def click(at, key):
    at.button(key=key).click().run()
    assert not at.exception, at.exception


def test_built_in_presets_are_listed_and_read_only(app_env, new_app):
    at = open_presets(new_app)
    labels = [e.label for e in at.expander]
    assert any(label.startswith("Deterministic") for label in labels)
    deterministic = next(e for e in at.expander if e.label.startswith("Deterministic"))
    assert '"temperature": 0' in deterministic.code[0].value
    assert not deterministic.button, "a built-in has no Save or Delete"


def test_a_new_parameter_set_is_checked_then_saved_and_reaches_the_chat(app_env, new_app):
    at = open_presets(new_app)
    at.text_input(key="presets.params.new.name").set_value("Hot")
    at.text_area(key="presets.params.new.text").set_value('{"temperature": 9}')
    click(at, "presets.params.new.save")
    assert any("emperature" in e.value for e in at.error), "an out-of-range value is explained"
    at.text_area(key="presets.params.new.text").set_value('{"temperature": 1.7, "seed": 3}')
    click(at, "presets.params.new.save")
    assert any(e.label == "Hot · yours" for e in at.expander)

    chat = new_app()
    chat.session_state["chat.settings_open.new"] = True  # the chat's settings box, opened
    picker = chat.run().selectbox(key="chat.pp.new.pick")
    picker.select(next(o for o in picker.options if o.startswith("Hot"))).run()
    assert chat.number_input(key="chat.p.new.temperature").value == 1.7
    assert chat.number_input(key="chat.p.new.seed").value == 3


def test_your_system_prompt_can_be_edited_and_deleted(app_env, new_app):
    at = open_presets(new_app)
    at.text_input(key="presets.system.new.name").set_value("Pirate")
    at.text_area(key="presets.system.new.text").set_value("Answer like a pirate.")
    click(at, "presets.system.new.save")
    mine = next(e for e in at.expander if e.label == "Pirate · yours")
    text_key = next(t.key for t in mine.text_area)
    at.text_area(key=text_key).set_value("Answer like a polite pirate.")
    save = next(b for b in mine.button if b.label == "Save")
    save.click().run()
    mine = next(e for e in at.expander if e.label == "Pirate · yours")
    assert mine.text_area[0].value == "Answer like a polite pirate."
    next(b for b in mine.button if b.label == "Delete").click().run()
    assert not any(e.label == "Pirate · yours" for e in at.expander)
