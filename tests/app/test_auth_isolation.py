"""Every page acts as the signed-in person: another person's conversation or comparison, named in the
URL, is "not found" and shows nothing of it."""

from __future__ import annotations

import os

import pytest

from chat_client import Endpoint, Params
from storage import open_database, repository, session_factory
from tests.app.hosting_support import BOB, password_secrets, sign_in
from turns import compare


@pytest.fixture
def bob(app_env, new_app, monkeypatch):
    monkeypatch.setenv("PRISM_AUTH_MODE", "password")
    at = new_app()
    at.secrets.update(password_secrets())
    return sign_in(at.run(), "bob", BOB)


@pytest.fixture
def anns():
    """Ann's conversation and comparison, made straight in the database."""
    make_session = session_factory(open_database(os.environ["PRISM_DATABASE_URL"]))
    with make_session() as session:
        ann = repository.ensure_user(session, "ann", role="admin", method="password")
        conversation = repository.create_conversation(session, ann, title="Ann's merger plans")
        repository.add_message(session, ann, conversation.id, role="user", content="Ann's merger plans")
        session.commit()
        ann_id, conversation_id = ann.id, conversation.id
    column = compare.Column(
        label="Ann's column", endpoint=Endpoint(base_url="http://127.0.0.1:9/v1/"), params=Params()
    )
    run_id = compare.create_run(
        make_session, ann_id, prompt="Ann's secret prompt", columns=[column], repeats=1
    )
    return conversation_id, run_id


def everything_shown(at) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.title] + [b.label for b in at.button]
    parts += [a.value for a in at.text_area] + [i.value for i in at.text_input]
    return " ".join(str(p) for p in parts)


def test_another_persons_conversation_is_not_found(bob, anns):
    conversation_id, _ = anns
    bob.query_params["c"] = str(conversation_id)
    bob.run()
    assert not bob.exception
    assert any("not found" in w.value for w in bob.warning)
    assert "merger" not in everything_shown(bob)


def test_another_persons_comparison_is_not_found(bob, anns):
    _, run_id = anns
    bob.switch_page("views/compare.py")
    bob.query_params["run"] = str(run_id)
    bob.run()
    assert not bob.exception
    assert any("not found" in w.value for w in bob.warning)
    assert "Ann's secret prompt" not in everything_shown(bob)
    assert "Ann's column" not in everything_shown(bob)
