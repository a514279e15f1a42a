"""Password hashes for `password` sign-in mode, and the throttle on failed attempts.

Why it exists: a hosted demo keeps its users and their password hashes in secrets, so an operator needs
a way to make a hash (`python -m passwords hash`) and the app a way to check one.
Standard-library scrypt only: no new dependency, memory-hard, and the parameters travel in the hash.

What must stay true:
- No plain text password is ever stored or printed: a hash is `scrypt$n$r$p$salt$digest` (base64).
- Checking compares digests in constant time, and an unknown user costs the same work as a known one,
  so timing tells nothing about which names exist.
- After `limit` failures within `window` seconds, a name is refused without checking until the window
  has passed (the throttle), whatever password is given.

No streamlit here: the sign-in component hands in what the person typed.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import secrets
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Verdict:
    """The outcome of a sign-in attempt."""

    ok: bool
    message: str = ""
    retry_after: float = 0.0  # seconds until the throttle lets this name try again


class Throttle:
    """Counts failed sign-ins per name; after `limit` failures within `window` seconds, refuses them.

    One per process (the sign-in component keeps it in st.cache_resource). With sticky sessions a person
    stays on one app server; an attacker spreading guesses over n servers gets at most n times `limit`.
    """

    def __init__(self, *, limit: int = 5, window: float = 300.0, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        recent = [t for t in self._failures.get(key, []) if now - t < self.window]
        self._failures[key] = recent
        return recent

    def wait(self, key: str) -> float:
        """Seconds until `key` may try again (0 when it may try now)."""
        with self._lock:
            now = self.clock()
            recent = self._recent(key, now)
            if len(recent) < self.limit:
                return 0.0
            return max(0.0, recent[-self.limit] + self.window - now)

    def fail(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            self._recent(key, now).append(now)

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


def sign_in(users: Mapping[str, str], name: str, password: str, throttle: Throttle) -> Verdict:
    """Check a name and password against the configured users, throttling repeated failures."""
    key = name.strip().lower()
    wait = throttle.wait(key)
    if wait > 0:
        minutes = max(1, round(wait / 60))
        return Verdict(
            False,
            f"Too many failed attempts for this name. Try again in about {minutes} minute"
            f"{'s' if minutes != 1 else ''}.",
            wait,
        )
    stored = next((h for n, h in users.items() if n.strip().lower() == key), None)
    if verify_password(password, stored):
        throttle.clear(key)
        return Verdict(True)
    throttle.fail(key)
    return Verdict(False, "That name and password do not match.")


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
