"""Password hashes for `password` sign-in mode.

Why it exists: a hosted demo keeps its users and their password hashes in secrets, so an operator needs
a way to make a hash (`python -m passwords hash`) and the app a way to check one.
Standard-library scrypt only: no new dependency, memory-hard, and the parameters travel in the hash.

What must stay true:
- No plain text password is ever stored or printed: a hash is `scrypt$n$r$p$salt$digest` (base64).
- Checking compares digests in constant time, and an unknown user costs the same work as a known one,
  so timing tells nothing about which names exist.

The throttle on wrong passwords lives in the database (sign_in.py, storage/accounts.py), shared by
every app server. No streamlit here.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import secrets
import sys

SCHEME = "scrypt"
# OWASP's scrypt minimum (N=2^17, r=8, p=1) costs 128 MiB per check; 2^14 keeps a check near 50 ms and
# 16 MiB, which a small app server can afford while still costing an attacker with a stolen hash dearly.
N, R, P = 2**14, 8, 1
SALT_BYTES = 16
DIGEST_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r + 2**20, dklen=DIGEST_BYTES
    )


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    """A new salted scrypt hash of `password`, safe to put in secrets.toml."""
    if not password:
        raise ValueError("A password must not be empty.")
    salt = secrets.token_bytes(SALT_BYTES)
    return f"{SCHEME}${n}${r}${p}${_b64(salt)}${_b64(_scrypt(password, salt, n, r, p))}"


# Checked against when the user name is unknown, so an unknown name costs one scrypt like a known one.
_DECOY = f"{SCHEME}${N}${R}${P}${_b64(b'prism-decoy-salt')}${_b64(bytes(DIGEST_BYTES))}"


def verify_password(password: str, stored: str | None) -> bool:
    """True if `password` matches the stored hash; False for a wrong password or a malformed hash."""
    try:
        scheme, n, r, p, salt, digest = (stored or _DECOY).split("$")
        if scheme != SCHEME:
            return False
        computed = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
        matched = hmac.compare_digest(computed, _unb64(digest))
    except (ValueError, TypeError):
        return False
    return matched and stored is not None


def main(argv: list[str]) -> int:
    """`python -m passwords hash`: read a password without echo and print its hash."""
    if argv[:1] != ["hash"]:
        print("usage: python -m passwords hash   (reads the password from the terminal or stdin)")
        return 2
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("The two passwords differ.", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("A password must not be empty.", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
