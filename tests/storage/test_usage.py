"""The usage ledger: per-user and global totals, quota verdicts with reset times, admin per-day view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import repository as r
from storage import usage

NOW = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)
TODAY = datetime(2026, 11, 27, tzinfo=UTC)


def test_totals_count_requests_and_tokens_since(session, alice, bob):
    usage.record_usage(session, alice, prompt_tokens=10, completion_tokens=5, at=NOW - timedelta(days=1))
    usage.record_usage(session, alice, prompt_tokens=100, completion_tokens=20, at=NOW)
    usage.record_usage(session, bob, prompt_tokens=7, at=NOW)
    assert usage.usage_totals(session, alice, since=TODAY) == usage.Totals(1, 120)
    assert usage.usage_totals(session, bob, since=TODAY) == usage.Totals(1, 7)
    assert usage.global_usage_totals(session, alice, since=TODAY) == usage.Totals(2, 127)


def test_tokens_are_added_to_the_request_when_the_reply_ends(session, alice, bob):
    event = usage.record_usage(session, alice, at=NOW)
    assert usage.add_tokens(session, alice, event.id, prompt_tokens=3, completion_tokens=4, message_id=9)
    assert not usage.add_tokens(session, bob, event.id, prompt_tokens=1000)
    assert usage.usage_totals(session, alice, since=TODAY) == usage.Totals(1, 7)


def test_requests_per_minute_quota_says_when_it_frees(session, alice):
    for seconds in (50, 20, 5):
        usage.record_usage(session, alice, at=NOW - timedelta(seconds=seconds))
    verdict = usage.check_quota(session, alice, requests_per_minute=3, now=NOW)
    assert not verdict.allowed and "minute" in verdict.reason
    assert verdict.resets_at == NOW + timedelta(seconds=10)
    assert usage.check_quota(session, alice, requests_per_minute=4, now=NOW).allowed


def test_daily_token_quotas_reset_at_utc_midnight(session, alice, bob):
    usage.record_usage(session, alice, prompt_tokens=900, at=NOW)
    usage.record_usage(session, bob, prompt_tokens=200, at=NOW)
    usage.record_usage(session, alice, prompt_tokens=5000, at=TODAY - timedelta(seconds=1))  # yesterday
    mine = usage.check_quota(session, alice, tokens_per_day=900, now=NOW)
    assert not mine.allowed and mine.resets_at == TODAY + timedelta(days=1)
    assert usage.check_quota(session, alice, tokens_per_day=901, now=NOW).allowed
    team = usage.check_quota(session, bob, global_tokens_per_day=1100, now=NOW)
    assert not team.allowed and "team" in team.reason
    assert usage.check_quota(session, bob, now=NOW).allowed  # no limits, no refusal


def test_usage_survives_deleting_the_conversation(session, alice):
    conv = r.create_conversation(session, alice)
    m = r.add_message(session, alice, conv.id, role="assistant", content="x")
    usage.record_usage(session, alice, prompt_tokens=50, message_id=m.id, at=NOW)
    r.delete_conversation(session, alice, conv.id)
    assert usage.usage_totals(session, alice, since=TODAY).tokens == 50


def test_admin_sees_usage_per_user_per_day(session, alice, bob):
    usage.record_usage(session, alice, prompt_tokens=1, at=NOW - timedelta(days=1))
    usage.record_usage(session, alice, prompt_tokens=2, at=NOW)
    usage.record_usage(session, alice, prompt_tokens=3, at=NOW)
    usage.record_usage(session, bob, prompt_tokens=4, at=NOW)
    with pytest.raises(PermissionError):
        usage.usage_per_user_day(session, alice, since=TODAY - timedelta(days=7))
    admin = r.ensure_user(session, "admin", role="admin")
    rows = usage.usage_per_user_day(session, admin, since=TODAY - timedelta(days=7))
    assert [(x.identity, x.day.isoformat(), x.requests, x.tokens) for x in rows] == [
        ("alice@example.com", "2026-11-26", 1, 1),
        ("alice@example.com", "2026-11-27", 2, 5),
        ("bob@example.com", "2026-11-27", 1, 4),
    ]
