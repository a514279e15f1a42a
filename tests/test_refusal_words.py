"""The sign-in throttle and the guest caps say what happened in plain words: whole words for time
("in 40 seconds", "in 5 hours 3 minutes", never "40 s" or "12 h 0 min"), a browser's tokens are "its",
and no refusal names an address, a host or anything of the server (sign_in.message, turns/quota.py).
The failures on the way (a database that does not answer) are in tests/hosting/test_sign_in_routes.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

import sign_in
from storage import repository, usage
from storage.models import User
from turns import quota

NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("retry", "wait"),
    [
        ("1", "1 second"),
        ("2", "2 seconds"),
        ("90", "90 seconds"),
        ("120", "2 minutes"),
        ("300", "5 minutes"),
        ("", "1 second"),  # a code without its figure (an edited address)
        ("soon", "1 second"),
    ],
)
def test_the_throttle_says_how_long_in_words(retry, wait):
    words = sign_in.message("wait", retry)
    assert words == (
        f"Too many wrong passwords for this name from your address. Try again in {wait} "
        "(other addresses are not affected)."
    )


@pytest.mark.parametrize(
    ("after", "wait"),
    [
        (timedelta(hours=11, minutes=59, seconds=59), "in 1 second"),
        (timedelta(hours=11, minutes=59, seconds=30), "in 30 seconds"),
        (timedelta(hours=11, minutes=59), "in 1 minute"),
        (timedelta(hours=11, minutes=30), "in 30 minutes"),
        (timedelta(hours=6, minutes=57), "in 5 hours 3 minutes"),
        (timedelta(0), "in 12 hours"),
        (timedelta(hours=-11), "in 23 hours"),
    ],
)
def test_a_guest_cap_says_when_it_resets_in_words(session_maker, after, wait):
    with session_maker() as session:
        guest = repository.ensure_user(session, "guest:words", role="guest")
        session.commit()
        refused = quota.refusal(session, guest, quota.Limits(guest_messages=0), now=NOON + after)
    assert refused is not None
    assert refused.message == (
        "This browser has used 0 of 0 guest messages today. Sign in with an account to go on. "
        f"It resets at 00:00 UTC ({wait})."
    )


def test_a_guest_short_of_tokens_is_told_what_is_left_in_plain_words(session_maker):
    with session_maker() as session:
        guest = repository.ensure_user(session, "guest:tokens", role="guest")
        usage.record_usage(session, session.get(User, guest.id), total_tokens=19_000, at=NOON)
        session.commit()
        limits = quota.Limits(guest_tokens=20_000, guest_address_tokens=60_000)
        browser = quota.refusal(session, guest, limits, reserve=8_192, now=NOON)
        address = quota.refusal(
            session, guest, quota.Limits(guest_address_tokens=19_500), reserve=8_192, now=NOON
        )
    assert browser.message == (
        "This request may use up to 8,192 tokens (the prompt plus its max tokens), and this browser has "
        "1,000 of its 20,000 guest tokens left today (counting replies still running). Set a smaller Max "
        "tokens, or wait for the reset."
    )
    assert "guests at your address have 500 of their 19,500 guest tokens left today" in address.message
    for words in (browser.message, address.message):
        assert not re.search(r"\d+\.\d+\.\d+\.\d+|127\.|localhost|::1", words)
