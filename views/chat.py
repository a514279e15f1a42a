"""The chat page: replay the conversation, take a message or an action, stream the reply, keep it all.

A straight script, top to bottom: load the conversation, draw its settings, take the chat input or a
button's request, hand it to `turns.conversation.save` (which writes it before anything is sent),
replay the branch, stream the reply. Every write a turn makes is done in `turns`: the message, the
edit, the tool results (`turns.conversation`) and the reply (`turns.Turn`); this page decides what to
ask for and shows what comes back. The writes left here are not turns: which version a person
follows at a branching point, and the conversation's system prompt and parameters.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

import turns
from chat_client import Params
from components import (
    cached_reads,
    conversation_list,
    incidents,
    message_view,
    param_form,
    presets_picker,
    rendering,
    resources,
    share,
    starters,
    styles,
)
from storage import branches, database, images, repository
from storage.models import Message, User
from turns import conversation as conversation_turns
from turns import quota

WINDOW = 40  # messages drawn at first; "Show earlier" adds more (long chats open fast)

styles.chat_page()
make_session = resources.sessions()
user_id = resources.current_user_id()
config = resources.settings()
available = resources.targets(config)

# -- the conversation, from the URL ------------------------------------------------------------------
conversation_id = conversation_list.selected_id()
with make_session() as session:
    user = session.get(User, user_id)
    conversation = repository.get_conversation(session, user, conversation_id) if conversation_id else None
    # Where each message sits (every branch), not the messages: the branch shown is found on it, and
    # only the messages drawn are read whole (below), so a long history opens as fast as a short one.
    outline = repository.conversation_outline(session, user, conversation.id) if conversation else []
    session.commit()  # get_conversation may have marked a dead stream as interrupted
# Only an admin sees an endpoint's base URL in the request view: it may be an internal address.
sees_base_url = user is not None and user.role == "admin"
if conversation_id and conversation is None:
    st.warning("That conversation was not found. Start a new one below.", icon=":material/search_off:")
conversation_id = conversation.id if conversation else None
key = str(conversation_id or "new")
# The version shown at each branching point is stored with the conversation (every tab and server agrees).
choose = branches.choices(conversation.branch_choices) if conversation else {}
action = st.session_state.pop(message_view.ACTION_KEY, None)
picked = st.session_state.pop(message_view.CHOICE_KEY, None)
if conversation is not None and picked is not None:
    try:
        with make_session() as session:
            stored = repository.choose_branch(session, session.get(User, user_id), conversation.id, *picked)
            session.commit()
        choose = stored if stored is not None else choose
    except SQLAlchemyError as problem:
        choose[picked[0] or 0] = picked[1]  # shown now; said plainly that a reload will not keep it
        st.warning(  # describe_write_failure gives fixed words, never the driver's text
            rendering.trusted(
                f"Prism could not save which version you chose: {database.describe_write_failure(problem)}. "
                "It is shown now, but a reload will show the newest one."
            ),
            icon=":material/warning:",
        )
for note in st.session_state.pop("chat.notices", []):  # kept across the rerun that follows a reply
    st.warning(rendering.outside(note), icon=":material/hide_image:")
# A message the database refused last time: its words go back in the box, its images wait for the next send.
unsent = st.session_state.pop("chat.unsent", None)
if unsent is not None:
    st.error(  # unsent["why"] is describe_write_failure's fixed words
        rendering.trusted(
            f"Prism could not save your message: {unsent['why']}. Nothing was sent; your text is still in "
            "the box" + (" and your images will go with it." if unsent["images"] else ".")
        ),
        icon=":material/database:",
    )
    if unsent["text"]:
        st.session_state["chat.input"] = unsent["text"]
    if unsent["images"]:
        st.session_state["chat.carried_images"] = unsent["images"]
carried = st.session_state.get("chat.carried_images", [])

# -- where it talks to, and with what settings -------------------------------------------------------
target = next(
    (t for t in available if conversation and t.endpoint.name == conversation.endpoint), available[0]
)
if len(available) > 1:
    names = [t.endpoint.name for t in available]
    picked = st.selectbox(
        "Endpoint",
        names,
        index=names.index(target.endpoint.name),
        key=f"chat.endpoint.{key}",
        format_func=rendering.plain,
    )
    target = available[names.index(picked)]

title_slot = st.empty()
title_slot.title(rendering.label(conversation.title) if conversation else "New chat", anchor=False)
st.caption(f"Talking to {rendering.trusted(target.label)}.")

system_key = f"chat.system.{key}"
if system_key not in st.session_state:
    st.session_state[system_key] = conversation.system_prompt if conversation else ""
prefix = f"chat.p.{key}."
stored_params = Params.from_stored(conversation.params if conversation else None)
saved = {"system_prompt": conversation.system_prompt if conversation else "", "params": stored_params}
in_full_run = True  # False once this run has drawn the box: any later run of it is the fragment's own


@incidents.fragment
def settings() -> tuple[str, param_form.FormResult]:
    """The system prompt and the parameter form, saved with the conversation as they change.

    A fragment: typing in a field, applying a preset, opening the box or All parameters reruns only
    this box. When what the rest of the page shows from it changes (whether the message can be sent,
    the model the cost is priced by), it reruns the whole page. The one preset menu (both kinds) is
    read and drawn only while the box is open (opening it reruns the box); the form is always drawn,
    as its widgets hold what will be sent."""
    box = st.expander(
        "System prompt and parameters",
        icon=":material/tune:",
        expanded=False,
        key=f"chat.settings_open.{key}",
        on_change="rerun",
    )
    with box:
        # The preset menu is drawn first but applies the form's values, so it is filled in once the
        # form has been read.
        picker_slot = st.container()
        system_prompt = st.text_area(
            "System prompt",
            key=system_key,
            height=80,
            placeholder="How the model should behave in this conversation (optional).",
        )
        form = param_form.parameter_form(
            prefix, stored_params, default_model=target.model, common_columns=4, all_key="chat.all_params"
        )
        if box.open:
            with picker_slot:
                presets_picker.picker(
                    make_session,
                    user_id,
                    f"chat.preset.{key}",
                    system_key=system_key,
                    current=form.params,
                    apply=lambda merged: param_form.reseed(prefix, merged),
                )
    if conversation and (system_prompt != saved["system_prompt"] or form.params != saved["params"]):
        with make_session() as session:
            repository.update_conversation(
                session,
                session.get(User, user_id),
                conversation.id,
                system_prompt=system_prompt,
                params=form.params.to_dict(),
            )
            session.commit()
        saved.update(system_prompt=system_prompt, params=form.params)
    if not in_full_run and (form.ok, form.params.model) != page_shows:
        st.rerun()  # the send box, its note and the cost lines follow the form
    return system_prompt, form


drawn = settings()
if drawn is None:  # the box failed, and says so: nothing can be sent without it
    st.stop()
system_prompt, form = drawn
in_full_run, page_shows = False, (form.ok, form.params.model)
# Cost follows the model the request will name (the form's), not only the endpoint's default.
prices = resources.prices_for(target, form.params.model, config)

prompt = st.chat_input(
    "Message Prism" if form.ok else "Fix the parameters above to send",
    key="chat.input",
    accept_file="multiple",
    # Any file reaches the server, so one Prism cannot send (SVG, HEIC, PDF...) is named in a notice at
    # sending instead of being dropped by the browser without a word; storage.images says what it is.
    file_type=None,
    submit_mode="stop",
    disabled=not form.ok,
)
if prompt is None:
    prompt = starters.picked()  # a starter button of the empty chat, sent as if typed
if not form.ok:
    st.error(
        "Some parameters need fixing before you can send; see the notes under **System prompt and "
        "parameters**.",
        icon=":material/tune:",
    )

if carried:
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.caption(f"{len(carried)} image(s) from your unsent message will go with the next one.")
    right.button(
        "Drop them",
        key="chat.drop_carried",
        type="tertiary",
        icon=":material/delete:",
        on_click=st.session_state.pop,
        args=("chat.carried_images", None),
    )

# -- save what the user gave, before anything is sent -------------------------------------------------
reply_parent: int | None = None
if prompt is not None or action is not None:
    text = (prompt if isinstance(prompt, str) else getattr(prompt, "text", "")) or ""
    files = list(getattr(prompt, "files", None) or [])
    accepted, refused = (list(carried) if prompt is not None else []), []
    for upload in files[: config.max_files_per_message]:
        try:
            accepted.append(images.normalise(upload.getvalue(), upload.name))
        except images.ImageRejected as problem:
            refused.append(f"**{rendering.label(upload.name)}**: {problem}")
    if len(files) > config.max_files_per_message:
        refused.append(
            f"Only {config.max_files_per_message} images fit in one message; the rest were left out."
        )
    for note in refused:
        st.warning(rendering.outside(note), icon=":material/hide_image:")

    if prompt is not None:
        leaf = branches.follow(outline, choose)
        request = conversation_turns.Send(
            text=text, images=tuple(accepted), parent_id=leaf[-1].id if leaf else None
        )
    else:
        request = action
    written = conversation_turns.save(
        make_session,
        user_id,
        conversation_id,
        request,
        new=conversation_turns.NewConversation(
            system_prompt=system_prompt,
            params=form.params.to_dict(),
            endpoint=target.endpoint.name,
            model=target.model,
        ),
        choices=choose,
    )
    if isinstance(written, conversation_turns.NotSaved):
        # Nothing is sent; the words and images go back to the person (shown at the top of the next run).
        if isinstance(request, conversation_turns.Edit):
            st.session_state["chat.editing"] = request.message_id
            st.session_state[f"chat.edit.{request.message_id}"] = request.text
        st.session_state["chat.unsent"] = {"text": text, "images": accepted, "why": written.why}
        st.session_state["chat.notices"] = refused
        st.rerun()
    st.session_state.pop("chat.carried_images", None)  # they went with this message
    cached_reads.forget_conversations()  # a new or newly active conversation moves up the list
    if written.conversation_id is not None:
        conversation_id, reply_parent = written.conversation_id, written.reply_parent
        outline, choose = list(written.outline), dict(written.choices)
    if written.created:
        conversation_list.select(conversation_id)
        title_slot.title(rendering.label(written.title), anchor=False)

# -- the branch on screen ----------------------------------------------------------------------------
children = branches.children_by_parent(outline)
if reply_parent:
    path = branches.lineage(outline, reply_parent)
else:
    path = branches.follow(outline, choose, children=children)
window = st.session_state.get(f"chat.window.{key}", WINDOW)
shown = path[-window:]
places = {row.id: branches.position(children, row) for row in shown}
# Read whole: the messages drawn, and the other candidates of an n > 1 reply drawn beside it.
wanted = {row.id for row in shown}
wanted.update(c.id for _, _, group in places.values() if len(group) > 1 for c in group)
whole: dict[int, Message] = {}
if wanted:
    with make_session() as session:
        whole = repository.messages_by_id(session, session.get(User, user_id), conversation_id, wanted)
if len(path) > window:
    st.button(
        rendering.trusted(f"Show earlier messages ({len(path) - window} more)"),
        icon=":material/expand_less:",
        on_click=st.session_state.__setitem__,
        args=(f"chat.window.{key}", window + WINDOW),
    )
for row in shown:
    message = whole.get(row.id)
    if message is None:
        continue  # deleted from another tab since the outline was read
    number, count, group = places[row.id]
    kids = children.get(row.parent_id or 0, [row])
    message_view.show_stored(
        message,
        prices=prices,
        position=(number, count, [whole[c.id] for c in group if c.id in whole]),
        group_leaders=[attempt[0].id for attempt in branches.attempts(kids)],
        is_last=row is path[-1] and reply_parent is None,
        render_request=message_view.request_renderer(target.endpoint, show_url=sees_base_url),
    )

if not path and reply_parent is None:
    starters.show(prefix, form.params)

# The sidebar comes before the reply, so Stop (which ends this run mid-stream) cannot leave it undrawn;
# after the save above, so a conversation created by this run is already in the list.
if conversation_id is not None:
    share.share_button(make_session, user_id, conversation_id=conversation_id)
conversation_list.sidebar(make_session, user_id)


@st.fragment(run_every=0.5)
def redraw_after_stop() -> None:
    """Drawn only in a run that streams a reply. Stop ends that run before it can draw the stopped
    reply's note and buttons, and no Streamlit call works after it; this fragment's timer outlives the
    run and redraws the whole page once the stopped reply is saved. (The stopped run may still be
    saving on its own thread when the timer fires, so it waits for the turn to be finished.)"""
    streaming = st.session_state.get("chat.streaming")
    if streaming is not None and streaming.finished:
        st.session_state.pop("chat.streaming", None)
        st.rerun(scope="app")


# -- the reply ---------------------------------------------------------------------------------------
if reply_parent is not None and form.ok:
    turn = turns.Turn(
        make_session=make_session,
        user_id=user_id,
        conversation_id=conversation_id,
        parent_id=reply_parent,
        endpoint=target.endpoint,
        params=form.params,
        messages=written.wire_messages(system_prompt),
        engine=resources.engine(),
        limits=quota.Limits.from_settings(config),
    )
    redraw_after_stop()
    st.session_state["chat.streaming"] = turn  # set after the fragment's first, inline run
    with st.chat_message("assistant"):
        try:
            message_view.stream_reply(turn, prices)
        finally:
            # Runs even when Stop raises out of the stream: keeps the partial reply, marked stopped.
            turn.close()
            cached_reads.forget_conversations()  # plain Python: safe after Stop
    st.session_state.pop("chat.streaming", None)
    st.session_state["chat.notices"] = refused
    st.rerun()  # show the saved reply with its controls (regenerate, versions, request, tokens)
