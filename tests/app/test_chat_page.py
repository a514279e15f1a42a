"""The chat page, complete, driven with AppTest against a real offline model on loopback.

Each test does what a person would do on the page and checks what they would see, or what reached the
wire (the offline model's request log).
"""

from __future__ import annotations

import io
import json

from PIL import Image

from tests.app.conftest import open_settings

P = "chat.p.new."  # the parameter form's key prefix for a chat not yet saved


def sent(app_env, n=-1):
    return app_env.received[n]["body"]


def chat(at):
    return [
        (m.name, " ".join([t.value for t in m.text] + [md.value for md in m.markdown]))
        for m in at.chat_message
    ]


def send(at, text):
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception
    return at


def button(at, label=None, key=None):
    found = [b for b in at.button if (label is None or b.label == label) and (key is None or b.key == key)]
    assert found, f"no button {label or key!r}; have {[b.label for b in at.button]}"
    return found[0]


def png(size=(32, 16), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def test_parameters_set_in_the_form_reach_the_wire_and_nothing_else(app_env, new_app):
    at = new_app(all_parameters=True).run()
    at.number_input(key=P + "temperature").set_value(0.3)
    at.number_input(key=P + "seed").set_value(7)
    at.text_area(key=P + "stop").set_value("zebra\nquokka")
    send(at, "hello")
    body = sent(app_env)
    assert body["temperature"] == 0.3
    assert body["seed"] == 7
    assert body["stop"] == ["zebra", "quokka"]
    assert "top_p" not in body and "n" not in body and "presence_penalty" not in body


def test_temperature_zero_gives_the_same_reply_when_regenerated(app_env, new_app):
    at = new_app(settings_open=True).run()
    at.number_input(key=P + "temperature").set_value(0.0)
    send(at, "What does the seed parameter do?")
    first = chat(at)[1][1]
    button(at, "Regenerate").click().run()
    assert not at.exception
    assert chat(at)[1][1] == first
    assert any(c.value == "2/2" for c in at.caption), "the reply shows it is version 2 of 2"
    assert [sent(app_env, i)["temperature"] for i in (-2, -1)] == [0.0, 0.0]


def test_parameters_are_kept_with_the_conversation(app_env, new_app):
    at = new_app(settings_open=True).run()
    at.number_input(key=P + "temperature").set_value(1.5)
    send(at, "remember my temperature")
    conversation_id = at.query_params["c"]
    again = new_app()
    again.query_params["c"] = conversation_id
    open_settings(again.run(), conversation_id)
    assert again.number_input(key=f"chat.p.{conversation_id}.temperature").value == 1.5


def test_an_invalid_value_is_explained_next_to_the_field_and_sending_waits(app_env, new_app):
    at = new_app(settings_open=True).run()
    at.number_input(key=P + "temperature").set_value(3.0)
    at.run()
    assert any("emperature" in e.value and "2" in e.value for e in at.error), [e.value for e in at.error]
    assert at.chat_input[0].disabled


def test_reasoning_effort_and_thinking_budget_together_are_refused_with_a_reason(app_env, new_app):
    at = new_app(all_parameters=True).run()
    at.selectbox(key=P + "reasoning_effort").set_value("low")
    at.number_input(key=P + "thinking_budget").set_value(512)
    at.run()
    assert any("budget" in e.value.lower() and "effort" in e.value.lower() for e in at.error)
    assert at.chat_input[0].disabled


def test_regenerated_versions_can_be_browsed_and_the_chat_follows_the_choice(app_env, new_app):
    at = new_app(settings_open=True).run()
    at.number_input(key=P + "temperature").set_value(1.5)
    send(at, "tell me about top_p")
    first = chat(at)[1][1]
    button(at, "Regenerate").click().run()
    second = chat(at)[1][1]
    prev = [b for b in at.button if b.key and b.key.startswith("chat.prev.")]
    prev[-1].click().run()
    assert chat(at)[1][1] == first
    assert any(c.value == "1/2" for c in at.caption)
    assert second != first, "temperature 1.5 gave two different replies"
    send(at, "and then?")
    assert sent(app_env)["messages"][1]["content"] == first


def test_edit_and_resend_makes_a_new_branch_and_keeps_the_original(app_env, new_app):
    at = new_app().run()
    send(at, "original question")
    button(at, "Edit").click().run()
    at.text_area(key=next(t.key for t in at.text_area if t.key.startswith("chat.edit."))).set_value(
        "edited question"
    )
    button(at, "Send edited").click().run()
    assert not at.exception
    assert chat(at)[0][1] == "edited question"
    assert sent(app_env)["messages"][-1]["content"] == "edited question"
    prev = [b for b in at.button if b.key and b.key.startswith("chat.prev.")]
    prev[0].click().run()
    assert chat(at)[0][1] == "original question"


def test_n_candidates_are_shown_side_by_side_and_the_kept_one_continues(app_env, new_app):
    import os

    from storage import open_database, repository, session_factory

    at = new_app(all_parameters=True).run()
    at.number_input(key=P + "n").set_value(3)
    at.number_input(key=P + "temperature").set_value(1.8)
    send(at, "describe sampling")
    assert sent(app_env)["n"] == 3
    assert sum("Candidate" in c.value for c in at.caption) == 3
    keep = [b for b in at.button if b.label == "Keep this one"]
    assert len(keep) == 2
    keep[-1].click().run()
    open_settings(at, at.query_params["c"])
    at.number_input(key=next(n.key for n in at.number_input if n.key.endswith(".n"))).set_value(None)
    send(at, "go on")
    make_session = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        conversation_id = int(at.query_params["c"])
        third = next(
            m
            for m in repository.conversation_messages(session, user, conversation_id)
            if m.candidate_index == 2
        )
    history = sent(app_env)["messages"]
    assert history[1] == {"role": "assistant", "content": third.content}


def test_a_tool_call_shows_a_form_and_the_typed_result_continues_the_loop(app_env, new_app):
    at = new_app(all_parameters=True).run()
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    at.text_area(key=P + "tools_text").set_value(json.dumps(tools))
    at.selectbox(key=P + "tool_choice").set_value("required")
    send(at, "What is the weather in Paris?")
    assert any("get_weather" in c.value for c in at.caption)
    open_settings(at, at.query_params["c"])
    result_box = [t for t in at.text_area if t.key and t.key.startswith("chat.tool.")]
    assert len(result_box) == 1
    result_box[0].set_value('{"temperature_c": 21, "sky": "clear"}')
    at.selectbox(key=next(s.key for s in at.selectbox if s.key.endswith("tool_choice"))).set_value("auto")
    button(at, "Send results").click().run()
    assert not at.exception
    body = sent(app_env)
    roles = [m["role"] for m in body["messages"]]
    assert roles[-2:] == ["assistant", "tool"]
    assert body["messages"][-1]["content"] == '{"temperature_c": 21, "sky": "clear"}'
    assert "21" in chat(at)[-1][1]


def test_a_json_schema_reply_is_pretty_printed_and_checked(app_env, new_app):
    at = new_app(all_parameters=True).run()
    at.radio(key=P + "format").set_value("json_schema").run()
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "score": {"type": "integer"}},
        "required": ["answer", "score"],
    }
    at.text_area(key=P + "schema_text").set_value(json.dumps(schema))
    send(at, "rate this")
    assert sent(app_env)["response_format"]["json_schema"]["schema"] == schema
    codes = [c for c in at.code if c.language == "json" and '"answer"' in c.value]
    assert codes, "the JSON reply is pretty-printed"
    assert isinstance(json.loads(codes[0].value)["score"], int)
    assert any("matches the schema" in c.value for c in at.caption)


def test_an_invalid_json_schema_is_explained_before_sending(app_env, new_app):
    at = new_app(all_parameters=True).run()
    at.radio(key=P + "format").set_value("json_schema").run()
    at.text_area(key=P + "schema_text").set_value('{"type": "object", "properties": {"a": {"type": 12}}}')
    at.run()
    assert any("not a valid JSON Schema" in e.value for e in at.error)
    assert at.chat_input[0].disabled


def test_logprobs_show_as_coloured_tokens_with_alternatives(app_env, new_app):
    at = new_app(all_parameters=True).run()
    at.toggle(key=P + "logprobs").set_value(True)
    at.number_input(key=P + "top_logprobs").set_value(3)
    send(at, "explain presence penalty")
    assert sent(app_env)["logprobs"] is True and sent(app_env)["top_logprobs"] == 3
    toggles = [t for t in at.toggle if t.key and t.key.startswith("chat.lp.")]
    toggles[0].set_value(True).run()
    assert any("-background[" in m.value for m in at.markdown)
    alternatives = at.table[0].value  # the first token (marked), then the other alternatives asked for
    assert list(alternatives.columns) == ["token", "probability"]
    tokens = list(alternatives["token"])
    assert tokens[0].endswith(" (chosen)") and len(tokens) == 3  # the chosen token is one of the 3
    assert tokens[0].removesuffix(" (chosen)") not in tokens[1:], "the chosen token is listed once"


def test_thought_summary_appears_in_a_collapsed_section(app_env, new_app):
    at = new_app(all_parameters=True).run()
    at.toggle(key=P + "include_thoughts").set_value(True)
    send(at, "think about temperature")
    assert sent(app_env)["extra_body"]["google"]["thinking_config"]["include_thoughts"] is True
    expanders = [e for e in at.expander if e.label == "Thought summary"]
    assert expanders and expanders[0].markdown[0].value.strip()
    assert "<thought>" not in chat(at)[1][1]


def test_the_request_view_shows_the_exact_body_and_copyable_snippets_without_the_key(
    monkeypatch, tmp_path, new_app
):
    from offline_model.runner import OfflineServer

    secret = "sk-test-1234567890-DO-NOT-LEAK"
    with OfflineServer.start(host="127.0.0.1", port=0, api_key=secret) as server:
        monkeypatch.setenv("PRISM_DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
        monkeypatch.setenv("PRISM_API_BASE_URL", server.base_url)
        monkeypatch.setenv("PRISM_API_KEY", secret)
        at = new_app().run()
        send(at, "hello with a key")
        assert chat(at)[1][1].strip(), "the key was sent and accepted"
        assert not [c for c in at.code if "curl" in c.value], "the request waits behind its button"
        button(at, "Request").click().run()
        snippets = [c.value for c in at.code]
        assert any("curl" in s and "$PRISM_API_KEY" in s for s in snippets)
        assert any("httpx" in s for s in snippets)
        assert secret not in str(at._tree), "the key reached the page"


def test_two_images_reach_the_model_and_show_as_thumbnails(app_env, new_app):
    at = new_app().run()
    at.chat_input[0].set_value("what are these?").upload("red.png", png(), "image/png").upload(
        "blue.png", png((20, 40), (20, 40, 220)), "image/png"
    ).run()
    assert not at.exception
    parts = sent(app_env)["messages"][-1]["content"]
    assert [p["type"] for p in parts].count("image_url") == 2
    assert len(at.image) == 1 and len(at.image[0].value) == 2, "two thumbnails in the history"
    reply = chat(at)[1][1].lower()
    assert "red" in reply and "blue" in reply


def test_a_file_that_is_not_an_image_is_refused_plainly_and_the_text_is_kept(app_env, new_app):
    at = new_app().run()
    at.chat_input[0].set_value("look at this").upload(
        "notes.png", b"this is not a picture", "image/png"
    ).run()
    assert not at.exception
    assert any("notes.png" in w.value for w in at.warning)
    assert chat(at)[0][1] == "look at this"
    assert sent(app_env)["messages"][-1]["content"] in (
        "look at this",
        [{"type": "text", "text": "look at this"}],
    )


def test_an_error_is_shown_in_plain_words_with_retry_and_the_message_is_kept(app_env, new_app):
    at = new_app().run()
    send(at, "break please [[fault:status:400]]")
    assert any("refused" in e.value.lower() for e in at.error)
    assert chat(at)[0][1].startswith("break please")
    assert button(at, "Retry")


def test_a_daily_quota_says_so_and_is_not_retried(app_env, new_app):
    at = new_app().run()
    before = len(app_env.received)
    send(at, "quota [[fault:status:429,per=day]]")
    assert any("daily" in e.value.lower() or "day" in e.value.lower() for e in at.error)
    assert len(app_env.received) - before == 1, "a per-day quota must not be retried"


def test_long_conversations_draw_only_the_latest_messages_first(app_env, new_app):
    import os

    from storage import open_database, repository, session_factory

    at = new_app().run()
    send(at, "start")
    conversation_id = int(at.query_params["c"])
    make_session = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        parent = repository.active_path(session, user, conversation_id)[-1].id
        for i in range(60):
            parent = repository.add_message(
                session,
                user,
                conversation_id,
                role="user" if i % 2 == 0 else "assistant",
                content=f"m{i}",
                parent_id=parent,
            ).id
        session.commit()
    at.run()
    assert len(at.chat_message) == 40
    button(at, "Show earlier messages (22 more)").click().run()
    assert len(at.chat_message) == 62


def test_sidebar_search_rename_pin_and_delete(app_env, new_app):
    at = new_app().run()
    send(at, "alpha conversation about zebras")
    button(at, "New chat").click().run()
    send(at, "beta conversation about lions")
    at.sidebar.text_input(key="chat.search").set_value("zebras").run()
    labels = [b.label for b in at.sidebar.button if b.key and b.key.startswith("chat.open.")]
    assert labels == ["Alpha conversation about zebras"]
    assert any("**zebras**" in c.value for c in at.sidebar.caption), "the matching words are shown"
    at.sidebar.text_input(key="chat.search").set_value("").run()

    rename_key = next(t.key for t in at.sidebar.text_input if t.key.startswith("chat.rename."))
    at.sidebar.text_input(key=rename_key).set_value("Lions, renamed")
    button(at, "Rename").click().run()
    assert at.title[0].value == "Lions, renamed"

    button(at, "Pin to top").click().run()
    rows = [b for b in at.sidebar.button if b.key and b.key.startswith("chat.open.")]
    assert rows[0].label == "Lions, renamed" and rows[0].proto.icon == ":material/keep:"
    assert rows[1].proto.icon == "", "only the pinned one carries the pin"

    button(at, "Delete…").click().run()
    button(at, "Delete").click().run()
    labels = [b.label for b in at.sidebar.button if b.key and b.key.startswith("chat.open.")]
    assert labels == ["Alpha conversation about zebras"]


def test_the_settings_are_drawn_and_presets_read_only_once_the_box_is_opened(app_env, new_app):
    """A closed box sends nothing of what is inside it to the browser (it was most of a new chat's
    page): no preset menu (nor its read), no system prompt, no form."""
    at = new_app().run()
    assert not [s for s in at.selectbox if s.key == "chat.preset.new"]
    assert not at.text_area and not at.number_input and not at.toggle
    open_settings(at)
    options = at.selectbox(key="chat.preset.new").options
    assert any(o.startswith("System prompt: ") for o in options)
    assert any(o.startswith("Parameters: Deterministic") for o in options)
    assert at.number_input(key=P + "temperature").value is None
    assert at.text_area(key="chat.system.new").value == ""


def test_what_was_set_in_the_box_is_kept_and_sent_after_it_is_closed(app_env, new_app):
    at = new_app(all_parameters=True).run()
    at.text_area(key="chat.system.new").set_value("Answer like a pirate.")
    at.number_input(key=P + "temperature").set_value(0.4)
    at.number_input(key=P + "seed").set_value(9)
    at.toggle(key="chat.all_params").set_value(True).run()
    at.session_state["chat.settings_open.new"] = False  # closed, as a click on it does
    at.run()
    assert not at.number_input, "a closed box draws none of its fields"
    at.run()  # and another run with it closed forgets nothing
    send(at, "hello")
    body = sent(app_env)
    assert body["temperature"] == 0.4 and body["seed"] == 9
    assert body["messages"][0] == {"role": "system", "content": "Answer like a pirate."}
    conversation_id = at.query_params["c"]
    open_settings(at, conversation_id)
    assert at.number_input(key=f"chat.p.{conversation_id}.temperature").value == 0.4
    assert at.text_area(key=f"chat.system.{conversation_id}").value == "Answer like a pirate."
    assert at.toggle(key="chat.all_params").value is True, "All parameters stays as it was left"


def test_presets_fill_the_system_prompt_and_the_parameters(app_env, new_app):
    at = open_settings(new_app())
    picker = at.selectbox(key="chat.preset.new")
    assert picker.value is None, "the menu starts empty"
    first = next(o for o in picker.options if o.startswith("System prompt: "))
    picker.select(first).run()
    assert at.text_area(key="chat.system.new").value.strip()
    picker = at.selectbox(key="chat.preset.new")
    assert picker.value is None, "the menu is empty again once a preset is applied"
    deterministic = next(o for o in picker.options if o.startswith("Parameters: Deterministic"))
    picker.select(deterministic).run()
    assert at.number_input(key=P + "temperature").value == 0.0
    send(at, "hi")
    body = sent(app_env)
    assert body["temperature"] == 0.0
    assert body["messages"][0]["role"] == "system"


def test_a_parameter_preset_kept_in_the_flat_shape_still_fills_the_thinking_fields(app_env, new_app):
    import os

    from storage import open_database, presets, repository, session_factory

    make_session = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        # Params.to_dict() keeps Gemini's extras flat rather than under extra_body.google.
        presets.create_preset(
            session,
            user,
            kind="params",
            name="Flat thinker",
            params={"temperature": 0.2, "thinking_budget": 1024, "include_thoughts": True},
        )
        session.commit()
    at = open_settings(new_app(all_parameters=True))
    picker = at.selectbox(key="chat.preset.new")
    picker.select(next(o for o in picker.options if o.startswith("Parameters: Flat thinker"))).run()
    assert at.number_input(key=P + "thinking_budget").value == 1024
    assert at.toggle(key=P + "include_thoughts").value is True
    send(at, "think")
    thinking = sent(app_env)["extra_body"]["google"]["thinking_config"]
    assert thinking == {"thinking_budget": 1024, "include_thoughts": True}


def test_the_same_seed_gives_the_same_sample_and_another_seed_another(app_env, new_app):
    at = new_app(all_parameters=True).run()
    at.number_input(key=P + "temperature").set_value(1.0)
    at.number_input(key=P + "seed").set_value(42)
    send(at, "Tell me about the seed parameter and sampling")
    first = chat(at)[1][1]
    button(at, "Regenerate").click().run()
    assert chat(at)[1][1] == first, "same seed and parameters, same reply"
    conversation_id = at.query_params["c"]
    open_settings(at, conversation_id)
    at.number_input(key=f"chat.p.{conversation_id}.seed").set_value(43)
    button(at, "Regenerate").click().run()
    assert chat(at)[1][1] != first, "another seed, another sample"
    assert [sent(app_env, i)["seed"] for i in (-3, -2, -1)] == [42, 42, 43]


def test_the_cost_line_uses_the_price_of_the_model_chosen_in_the_form(app_env, new_app):
    import re

    at = new_app(settings_open=True)
    # A made-up price of $1 per token for the lite model, so its cost cannot pass for the default's.
    at.secrets["prices"] = {"gemini-2.5-flash-lite": {"input": 1_000_000, "output": 1_000_000, "cached": 0}}
    at.run()
    at.text_input(key=P + "model").set_value("gemini-2.5-flash-lite")
    send(at, "hello lite")
    assert sent(app_env)["model"] == "gemini-2.5-flash-lite"
    costs = [float(m) for c in at.caption for m in re.findall(r"\$(\d+\.\d+)", c.value)]
    assert costs and costs[-1] >= 1.0, costs


def test_a_preset_another_app_server_saves_is_offered_at_the_next_run(app_env, new_app):
    """The preset menu is a cached read: a preset written straight to the database (as another app
    server sharing it would) still shows at the next run, and one deleted there is gone."""
    import os

    from storage import open_database, presets, repository, session_factory

    at = open_settings(new_app())
    assert not any("Elsewhere" in o for o in at.selectbox(key="chat.preset.new").options)
    make_session = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    with make_session() as session:
        user = repository.ensure_user(session, "local")
        made = presets.create_preset(session, user, kind="params", name="Elsewhere", params={"seed": 4})
        session.commit()
        made_id = made.id
    at.run()
    assert any(o.startswith("Parameters: Elsewhere") for o in at.selectbox(key="chat.preset.new").options)
    with make_session() as session:
        presets.delete_preset(session, repository.ensure_user(session, "local"), made_id)
        session.commit()
    at.run()
    assert not any(o.startswith("Parameters: Elsewhere") for o in at.selectbox(key="chat.preset.new").options)
