"""Password hashes and the sign-in throttle (passwords.py): no plain text, constant-time checks, limits."""

from __future__ import annotations

import subprocess
import sys

import pytest

import passwords


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_hash_verifies_its_password_and_nothing_else():
    stored = passwords.hash_password("hunter2")
    assert passwords.verify_password("hunter2", stored)
    assert not passwords.verify_password("hunter3", stored)
    assert not passwords.verify_password("", stored)


def test_a_hash_holds_no_plain_text_and_is_salted():
    first, second = passwords.hash_password("hunter2"), passwords.hash_password("hunter2")
    assert "hunter2" not in first
    assert first != second, "two hashes of one password must differ (salt)"
    assert first.startswith("scrypt$")


@pytest.mark.parametrize(
    "stored", [None, "", "plain-text", "md5$abc", "scrypt$1$2$3$!!$??", "scrypt$x$8$1$a$b"]
)
def test_a_missing_or_malformed_hash_never_matches(stored):
    assert not passwords.verify_password("anything", stored)


def test_an_empty_password_cannot_be_hashed():
    with pytest.raises(ValueError):
        passwords.hash_password("")


def test_sign_in_accepts_the_right_password_case_insensitively_on_the_name():
    users = {"Ann": passwords.hash_password("pw")}
    assert passwords.sign_in(users, " ann ", "pw", passwords.Throttle()).ok


def test_the_throttle_refuses_after_the_limit_and_lets_go_after_the_window():
    clock = FakeClock()
    throttle = passwords.Throttle(limit=3, window=60, clock=clock)
    users = {"ann": passwords.hash_password("pw")}
    for _ in range(3):
        assert not passwords.sign_in(users, "ann", "wrong", throttle).ok
    refused = passwords.sign_in(users, "ann", "pw", throttle)
    assert not refused.ok and "Too many failed attempts" in refused.message
    assert 0 < refused.retry_after <= 60
    clock.now += 61
    assert passwords.sign_in(users, "ann", "pw", throttle).ok


def test_the_throttle_counts_per_name_and_forgets_on_success():
    throttle = passwords.Throttle(limit=2, window=60, clock=FakeClock())
    users = {"ann": passwords.hash_password("pw"), "bob": passwords.hash_password("pw")}
    passwords.sign_in(users, "ann", "wrong", throttle)
    assert passwords.sign_in(users, "ann", "pw", throttle).ok  # success clears ann's one failure
    passwords.sign_in(users, "ann", "wrong", throttle)
    passwords.sign_in(users, "ann", "wrong", throttle)
    assert not passwords.sign_in(users, "ann", "pw", throttle).ok
    assert passwords.sign_in(users, "bob", "pw", throttle).ok


def test_unknown_names_are_throttled_too():
    throttle = passwords.Throttle(limit=2, window=60, clock=FakeClock())
    for _ in range(2):
        passwords.sign_in({}, "mallory", "x", throttle)
    assert "Too many" in passwords.sign_in({}, "mallory", "x", throttle).message


def test_the_command_prints_a_hash_that_verifies():
    done = subprocess.run(
        [sys.executable, "-m", "passwords", "hash"],
        input="s3cret\n",
        capture_output=True,
        text=True,
        check=True,
    )
    printed = done.stdout.strip()
    assert "s3cret" not in done.stdout
    assert passwords.verify_password("s3cret", printed)
