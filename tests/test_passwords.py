"""Password hashes (passwords.py): no plain text, salted, malformed hashes never match, the command."""

from __future__ import annotations

import subprocess
import sys

import pytest

import passwords


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
