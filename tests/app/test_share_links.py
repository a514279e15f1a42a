"""Share links end to end under AppTest: share from the chat, open read-only as another user, revoke,
expiry, public links, and tokens that cannot be guessed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from storage import open_database, repository, session_factory, sharing
from storage.models import ShareLink, User, utcnow
from tests.app.hosting_support import ANN, BOB, password_secrets, sign_in

GONE = "This link is no longer available."


@pytest.fixture
def hosted(app_env, new_app, monkeypatch):
    """AppTests in password mode (ann is admin, bob is not)."""
    monkeypatch.setenv("PRISM_AUTH_MODE", "password")

    def make():
        at = new_app()
        at.secrets.update(password_secrets())
        return at

    return make


def database():
    import os

    return session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))


def share_from_chat(at, expiry: str = "Never") -> str:
    """Press Share on the open conversation, create a link, return its token."""
    at.sidebar.button(
        key=next(b.key for b in at.sidebar.button if b.key.startswith("share.button."))
    ).click().run()
    at.selectbox(key="share.expiry").select(expiry).run()
    at.button(key="share.create").click().run()
    assert not at.exception
    shown = " ".join(c.value for c in at.code)
    found = re.search(r"shared\?token=([A-Za-z0-9_-]+)", shown)
    assert found, shown
    return found.group(1)


def open_link(at, token: str):
    at.switch_page("views/shared.py")
    at.query_params["token"] = token
    return at.run()


def chat_texts(at):
    return [
        (m.name, " ".join([t.value for t in m.text] + [md.value for md in m.markdown]))
        for m in at.chat_message
    ]


def test_a_shared_conversation_opens_read_only_for_another_user(hosted):
    ann = sign_in(hosted().run(), "ann", ANN)
    ann.chat_input[0].set_value("A question worth sharing").run()
    token = share_from_chat(ann)

    bob = open_link(sign_in(hosted().run(), "bob", BOB), token)
    assert not bob.exception
    texts = chat_texts(bob)
    assert [name for name, _ in texts] == ["user", "assistant"]
    assert texts[0][1] == "A question worth sharing"
    assert len(bob.chat_input) == 0
    assert not [b for b in bob.button if b.key and b.key.startswith("chat.")], (
        "the shared view must be read-only"
    )


def test_the_link_is_a_snapshot_taken_when_shared(hosted):
    ann = sign_in(hosted().run(), "ann", ANN)
    ann.chat_input[0].set_value("Before sharing").run()
    token = share_from_chat(ann)
    ann.chat_input[0].set_value("After sharing").run()

    bob = open_link(sign_in(hosted().run(), "bob", BOB), token)
    said = " ".join(text for _, text in chat_texts(bob))
    assert "Before sharing" in said and "After sharing" not in said


def test_a_revoked_link_shows_nothing(hosted):
    ann = sign_in(hosted().run(), "ann", ANN)
    ann.chat_input[0].set_value("Soon revoked").run()
    token = share_from_chat(ann)

    ann.switch_page("views/shared.py")
    ann.query_params.clear()
    ann.run()
    assert [t.value for t in ann.title] == ["Shared links"]
    ann.button(key=next(b.key for b in ann.button if b.key.startswith("share.revoke."))).click().run()
    assert any("State: revoked" in c.value for c in ann.caption)

    bob = open_link(sign_in(hosted().run(), "bob", BOB), token)
    assert [e.value for e in bob.error] == [GONE]
    assert chat_texts(bob) == []


def test_an_expired_link_shows_nothing(hosted):
    ann = sign_in(hosted().run(), "ann", ANN)
    ann.chat_input[0].set_value("Short lived").run()
    token = share_from_chat(ann, expiry="1 day")
    with database()() as session:
        link = session.query(ShareLink).filter_by(token=token).one()
        assert link.expires_at is not None
        link.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    bob = open_link(sign_in(hosted().run(), "bob", BOB), token)
    assert [e.value for e in bob.error] == [GONE]


def test_an_unknown_token_gets_the_same_words(hosted):
    bob = open_link(sign_in(hosted().run(), "bob", BOB), "x" * 32)
    assert [e.value for e in bob.error] == [GONE]


def test_a_link_needs_sign_in_unless_public_links_are_allowed(hosted, monkeypatch):
    ann = sign_in(hosted().run(), "ann", ANN)
    ann.chat_input[0].set_value("Shown to the world?").run()
    token = share_from_chat(ann)

    stranger = open_link(hosted(), token)
    assert [t.value for t in stranger.title] == ["Sign in to Prism"]
    assert chat_texts(stranger) == []

    monkeypatch.setenv("PRISM_PUBLIC_LINKS", "true")
    stranger = open_link(hosted(), token)
    assert not stranger.exception
    assert "Shown to the world?" in " ".join(text for _, text in chat_texts(stranger))
    assert not any("Signed in as" in c.value for c in stranger.sidebar.caption)


def test_the_shared_links_list_shows_only_your_own(hosted):
    ann = sign_in(hosted().run(), "ann", ANN)
    ann.chat_input[0].set_value("Ann's shared chat").run()
    share_from_chat(ann)

    bob = sign_in(hosted().run(), "bob", BOB)
    bob.switch_page("views/shared.py").run()
    assert [t.value for t in bob.title] == ["Shared links"]
    assert "Ann's shared chat" not in " ".join(m.value for m in bob.markdown)
    assert not [b for b in bob.button if b.key and b.key.startswith("share.revoke.")]


def test_a_shared_compare_run_opens_read_only(hosted):
    from turns import compare

    bob = sign_in(hosted().run(), "bob", BOB)
    make_session = database()
    with make_session() as session:
        ann = repository.ensure_user(session, "ann", role="admin", method="password")
        session.commit()
        ann_id = ann.id
    from chat_client import Endpoint, Params

    cols = [
        compare.Column(
            label=f"T={t}", endpoint=Endpoint(base_url="http://127.0.0.1:9/v1/"), params=Params(temperature=t)
        )
        for t in (0.0, 1.0)
    ]
    run_id = compare.create_run(make_session, ann_id, prompt="Name a colour", columns=cols, repeats=1)
    with make_session() as session:
        link = sharing.create_share_link(session, session.get(User, ann_id), compare_run_id=run_id)
        session.commit()
        token = link.token
    bob = open_link(bob, token)
    assert not bob.exception
    assert "Name a colour" in " ".join(text for _, text in chat_texts(bob))
    # Column labels are escaped (components/rendering.py); the header names the column and its label.
    headers = [
        m.value.replace("\\", "")
        for m in bob.markdown
        if m.value.startswith("**1 ·") or m.value.startswith("**2 ·")
    ]
    assert len(headers) == 2 and "T=0.0" in headers[0] and "T=1.0" in headers[1]


def test_tokens_are_long_and_url_safe(tmp_path):
    make_session = session_factory(open_database(f"sqlite:///{tmp_path / 'tokens.db'}"))
    with make_session() as session:
        user = repository.ensure_user(session, "ann", method="password")
        conversation = repository.create_conversation(session, user)
        tokens = {
            sharing.create_share_link(session, user, conversation_id=conversation.id).token
            for _ in range(200)
        }
    assert len(tokens) == 200
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
        assert len(token) * 6 >= 128, "at least 128 bits of randomness"


def test_a_shared_conversation_shows_the_askers_line_breaks_as_typed(hosted):
    ann = sign_in(hosted().run(), "ann", ANN)
    ann.chat_input[0].set_value("first line\nsecond line\n# not a heading").run()
    token = share_from_chat(ann)
    bob = open_link(sign_in(hosted().run(), "bob", BOB), token)
    asked = bob.chat_message[0]
    assert [t.value for t in asked.text] == ["first line\nsecond line\n# not a heading"]
    assert not list(asked.markdown), "the asker's words were read as markdown on the shared page"
