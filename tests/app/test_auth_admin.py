"""The admin page: only the configured admins reach it; it shows usage per person and day, the quotas
and every share link, and an admin can revoke anyone's link."""

from __future__ import annotations

import re

import pytest

from tests.app.hosting_support import ANN, BOB, password_secrets, sign_in, signed_in


@pytest.fixture
def hosted(app_env, new_app, monkeypatch):
    monkeypatch.setenv("PRISM_AUTH_MODE", "password")
    monkeypatch.setenv("PRISM_TOKENS_PER_DAY", "50000")

    def make():
        at = new_app()
        at.secrets.update(password_secrets())
        return at

    return make


def test_an_admin_sees_usage_per_person_quotas_and_every_link(hosted):
    bob = sign_in(hosted().run(), "bob", BOB)
    bob.chat_input[0].set_value("Bob asks something").run()
    bob.sidebar.button(
        key=next(b.key for b in bob.sidebar.button if b.key.startswith("share.button."))
    ).click().run()
    bob.button(key="share.create").click().run()
    token = re.search(r"token=([A-Za-z0-9_-]+)", " ".join(c.value for c in bob.code)).group(1)

    ann = sign_in(hosted().run(), "ann", ANN)
    ann.switch_page("views/admin.py").run()
    assert not ann.exception
    assert [t.value for t in ann.title] == ["Admin"]
    usage = ann.dataframe[0].value
    assert list(usage["person"]) == ["bob"]
    assert usage["requests"].sum() == 1 and usage["tokens"].sum() > 0
    quotas = ann.table[0].value
    assert quotas.loc["Tokens per day (UTC), per person", "Value"] == "50,000"
    assert any("by bob" in m.value for m in ann.markdown)
    assert token not in " ".join(c.value for c in ann.code), "the admin list does not hand out the tokens"

    ann.button(key=next(b.key for b in ann.button if b.key.startswith("share.revoke."))).click().run()
    assert any("State: revoked" in c.value for c in ann.caption)


def test_someone_who_is_not_an_admin_gets_nothing_from_the_admin_page(hosted):
    bob = sign_in(hosted().run(), "bob", BOB)
    try:
        bob.switch_page("views/admin.py").run()
    except Exception:
        return  # not even in bob's navigation
    assert [t.value for t in bob.title] != ["Admin"]
    assert any("for admins" in e.value for e in bob.error)


def test_an_admin_signs_a_person_out_everywhere(hosted):
    bob_laptop = sign_in(hosted().run(), "bob", BOB)
    bob_phone = sign_in(hosted().run(), "bob", BOB, address="198.51.100.4")
    ann = sign_in(hosted().run(), "ann", ANN)
    ann.switch_page("views/admin.py").run()
    assert not ann.exception
    [line] = [m.value.replace("\\", "") for m in ann.markdown if m.value.startswith("**bob**")]
    assert "2 sessions" in line and "198.51.100.4" in line
    people = [m.value for m in ann.markdown if m.value.startswith("**") and " session" in m.value]
    buttons = [b for b in ann.button if b.label == "Sign out everywhere"]
    assert len(people) == len(buttons) == 2  # ann and bob, one button each, in the same order
    buttons[next(i for i, p in enumerate(people) if p.startswith("**bob**"))].click().run()
    assert not any(m.value.startswith("**bob**") for m in ann.markdown)
    assert not signed_in(bob_laptop.run()) and not signed_in(bob_phone.run())
    assert signed_in(ann.run()), "ann's own session is untouched"


def test_the_admin_page_shows_the_throttle_ceiling_and_who_it_slows(hosted, monkeypatch):
    monkeypatch.setenv("PRISM_SIGN_IN_MAX_DELAY", "90")
    at = hosted().run()
    for _ in range(4):
        at = sign_in(at, "bob", "guess", address="203.0.113.50")
    ann = sign_in(hosted().run(), "ann", ANN)
    ann.switch_page("views/admin.py").run()
    assert any("never more than 90 seconds" in c.value for c in ann.caption)
    slowed = ann.dataframe[-1].value  # the throttle table comes after the usage table
    assert list(slowed["address"]) == ["203.0.113.50"] and list(slowed["wrong passwords (24 h)"]) == [3]


def test_the_admins_period_is_always_one_of_three(hosted):
    """A radio, never nothing chosen (its choice kept in the address is a browser test:
    tests/browser/test_pages_polish.py)."""
    ann = sign_in(hosted().run(), "ann", ANN)
    ann.switch_page("views/admin.py").run()
    period = ann.radio(key="period")
    assert period.options == ["7 days", "30 days", "90 days"] and period.value == 7
    period.set_value(90).run()
    assert not ann.exception
    assert ann.radio(key="period").value == 90
