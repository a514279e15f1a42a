"""The chat page end to end under AppTest: send, see the reply, carry context, find it again."""

from __future__ import annotations


def chat_texts(at):
    return [
        (m.name, " ".join([t.value for t in m.text] + [md.value for md in m.markdown]))
        for m in at.chat_message
    ]


def test_sending_a_message_shows_it_and_the_streamed_reply(app_env, new_app):
    at = new_app().run()
    assert not at.exception
    at.chat_input[0].set_value("Tell me about temperature").run()
    assert not at.exception
    messages = chat_texts(at)
    assert [name for name, _ in messages] == ["user", "assistant"]
    assert messages[0][1] == "Tell me about temperature"
    assert messages[1][1].strip(), "the assistant's reply is empty"


def test_second_message_sends_the_first_turn_as_context(app_env, new_app):
    at = new_app().run()
    at.chat_input[0].set_value("first question about seeds").run()
    first_reply = chat_texts(at)[1][1]
    at.chat_input[0].set_value("and a second one").run()
    assert not at.exception
    sent = app_env.received[-1]["body"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"] in (
        "first question about seeds",
        [{"type": "text", "text": "first question about seeds"}],
    )
    assert sent[1]["content"].strip() == first_reply.strip()
    assert [name for name, _ in chat_texts(at)] == ["user", "assistant", "user", "assistant"]


def test_system_prompt_reaches_the_request(app_env, new_app):
    at = new_app(settings_open=True).run()
    at.text_area(key="chat.system.new").set_value("You answer like a pirate.")
    at.chat_input[0].set_value("hello").run()
    assert not at.exception
    sent = app_env.received[-1]["body"]["messages"]
    assert sent[0] == {"role": "system", "content": "You answer like a pirate."}


def test_a_new_session_finds_the_conversation_in_the_sidebar_and_reopens_it(app_env, new_app):
    first = new_app().run()
    first.chat_input[0].set_value("Remember this conversation").run()
    reply = chat_texts(first)[1][1]

    again = new_app().run()  # a new browser session on the same database
    assert chat_texts(again) == []
    buttons = [b for b in again.sidebar.button if b.label == "Remember this conversation"]
    assert buttons, [b.label for b in again.sidebar.button]
    buttons[0].click().run()
    assert not again.exception
    assert chat_texts(again) == [("user", "Remember this conversation"), ("assistant", reply)]


def test_a_reload_with_the_conversation_in_the_url_shows_it(app_env, new_app):
    first = new_app().run()
    first.chat_input[0].set_value("Keep me after a reload").run()
    conversation_id = first.query_params["c"]

    reloaded = new_app()
    reloaded.query_params["c"] = conversation_id
    reloaded.run()
    assert [name for name, _ in chat_texts(reloaded)] == ["user", "assistant"]


def test_an_unknown_conversation_in_the_url_says_not_found(app_env, new_app):
    at = new_app()
    at.query_params["c"] = "987654"
    at.run()
    assert not at.exception
    assert any("not found" in w.value for w in at.warning)


def test_the_page_says_which_endpoint_it_talks_to(app_env, new_app):
    at = new_app().run()
    captions = " ".join(c.value for c in at.caption)
    assert "gemini-2.5-flash" in captions


def test_with_no_base_url_the_app_starts_its_offline_model_and_says_so(monkeypatch, tmp_path, new_app):
    monkeypatch.setenv("PRISM_DATABASE_URL", f"sqlite:///{tmp_path / 'prism.db'}")
    monkeypatch.delenv("PRISM_API_BASE_URL", raising=False)
    monkeypatch.setenv("PRISM_OFFLINE_TOKENS_PER_SECOND", "0")
    monkeypatch.setenv("PRISM_OFFLINE_TTFT_MS", "0")
    at = new_app().run()
    assert "offline model" in " ".join(c.value for c in at.caption)
    at.chat_input[0].set_value("hello offline").run()
    assert not at.exception
    assert chat_texts(at)[1][1].strip()


def test_html_in_a_reply_title_or_system_prompt_is_shown_as_text(app_env, new_app):
    at = new_app(settings_open=True).run()
    evil = "<script>alert(1)</script><b>bold</b>"
    at.text_area(key="chat.system.new").set_value(evil)
    at.chat_input[0].set_value(evil).run()
    assert not at.exception
    shown = [m for m in [*at.markdown, *at.text] if evil in m.value]
    assert shown, "the user's text is not on the page"
    everything = list(at.markdown) + list(at.caption)
    assert all(not element.proto.allow_html for element in everything)


def test_on_the_offline_model_the_cost_line_says_free_and_thinking_is_simulated(
    monkeypatch, tmp_path, new_app
):
    monkeypatch.setenv("PRISM_DATABASE_URL", f"sqlite:///{tmp_path / 'prism.db'}")
    monkeypatch.delenv("PRISM_API_BASE_URL", raising=False)
    monkeypatch.setenv("PRISM_OFFLINE_TOKENS_PER_SECOND", "0")
    monkeypatch.setenv("PRISM_OFFLINE_TTFT_MS", "0")
    at = new_app().run()
    at.chat_input[0].set_value("What does the seed do?").run()
    assert not at.exception
    line = next(c.value for c in at.caption if " out" in c.value and "finish" in c.value)
    assert "free (offline model)" in line and "$" not in line
    assert "thinking (simulated)" in line
