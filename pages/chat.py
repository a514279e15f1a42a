"""The chat page: replay the conversation, take a message, stream the reply, keep everything.

A straight script, top to bottom (house style): set up, replay history, `if prompt := st.chat_input()`,
run the turn. The turn itself (saving and streaming) is `turns.Turn`; this page only shows it.
"""

from __future__ import annotations

import streamlit as st

import turns
from chat_client import Params
from components import conversation_list, message_view, resources
from storage import repository
from storage.models import User

make_session = resources.sessions()
user_id = resources.current_user_id()
config = resources.settings()
target = resources.default_target()
prices = config.prices.get(target.model)

conversation_id = conversation_list.selected_id()

with make_session() as session:
    user = session.get(User, user_id)
    conversation = repository.get_conversation(session, user, conversation_id) if conversation_id else None
    if conversation_id and conversation is None:
        st.warning("That conversation was not found. Start a new one below.", icon=":material/search_off:")
        conversation_id = None
    path = repository.active_path(session, user, conversation_id) if conversation else []
    system_prompt = conversation.system_prompt if conversation else ""
    title = conversation.title if conversation else "New chat"
    session.expunge_all()

title_slot = st.empty()
title_slot.title(title, anchor=False)
st.caption(f"Talking to {target.label}.")

with st.expander("System prompt", icon=":material/tune:", expanded=False):
    new_system_prompt = st.text_area(
        "System prompt",
        value=system_prompt,
        key=f"chat.system.{conversation_id}",
        placeholder="How the model should behave in this conversation (optional).",
        label_visibility="collapsed",
    )
if conversation and new_system_prompt != system_prompt:
    with make_session() as session:
        repository.update_conversation(
            session, session.get(User, user_id), conversation.id, system_prompt=new_system_prompt
        )
        session.commit()
    system_prompt = new_system_prompt

for message in path:
    message_view.show_stored(message, prices)

prompt = st.chat_input("Message Prism", key="chat.input", submit_mode="stop")

if prompt:
    text = prompt if isinstance(prompt, str) else (prompt.text or "")
    if conversation is None:
        with make_session() as session:
            created = repository.create_conversation(
                session,
                session.get(User, user_id),
                title=(text.strip().splitlines() or ["New chat"])[0][:60],
                system_prompt=new_system_prompt,
                endpoint=target.endpoint.name,
                model=target.model,
            )
            session.commit()
            conversation_id = created.id
            title_slot.title(created.title, anchor=False)
        conversation_list.select(conversation_id)
        system_prompt = new_system_prompt

    parent_id = path[-1].id if path else None
    user_message_id = turns.save_user_message(
        make_session, user_id, conversation_id, text=text, parent_id=parent_id
    )
    with st.chat_message("user"):
        st.markdown(text)

    with make_session() as session:
        history = repository.active_path(session, session.get(User, user_id), conversation_id)
        wire = turns.to_wire_messages(system_prompt, history)

    params = Params(model=target.model, stream=True, stream_options={"include_usage": True})
    turn = turns.Turn(
        make_session=make_session,
        user_id=user_id,
        conversation_id=conversation_id,
        parent_id=user_message_id,
        endpoint=target.endpoint,
        params=params,
        messages=wire,
        http=resources.http_client(),
    )
    with st.chat_message("assistant"):
        try:
            message_view.stream_reply(turn, prices)
        finally:
            # Runs even when Stop raises out of the stream: keeps the partial reply, marked stopped.
            turn.close()

# Drawn last so a conversation created by this run is already in the list.
conversation_list.sidebar(make_session, user_id)
