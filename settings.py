"""Prism's configuration, read from the environment and then from `.streamlit/secrets.toml`.

Environment wins over secrets, so a deployment can override a checked-in secrets file without editing
it; the README's configuration table lists every variable, its secrets key and its default. Nothing
else in the app reads the environment for configuration (tests/test_settings.py checks). This module
never imports streamlit: components/resources.py hands it the secrets as a plain mapping, and tests
build a Settings directly. The API key is kept out of every repr, so that a
settings object printed in a log or an error page cannot leak it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chat_client.endpoint import LENGTH_FIELDS

DEFAULT_MODEL = "gemini-2.5-flash"
DEFAULT_DATABASE_URL = "sqlite:///data/prism.db"
AUTH_MODES = ("none", "password", "oidc")
# Tokens held per candidate at admission for a request that sets no max tokens (turns/quota.py).
DEFAULT_RESERVE_TOKENS = 8192


@dataclass(frozen=True)
class EndpointConfig:
    """One OpenAI-compatible endpoint the pages may talk to."""

    name: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    models: tuple[str, ...] = ()
    # The field the reply-length limit is sent as: max_completion_tokens, max_tokens (llama.cpp and
    # other servers that ignore the newer name), or both; None sends it as set (Gemini reads both).
    length_field: str | None = None
    public_url: str | None = None  # the address the request view shows people who are not admins


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know about where it runs."""

    api_base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_public_url: str | None = None  # the default endpoint's address as non-admins may see it
    model: str = DEFAULT_MODEL
    database_url: str = DEFAULT_DATABASE_URL
    auth_mode: str = "none"
    extra_endpoints: tuple[EndpointConfig, ...] = ()
    # Price per million tokens, USD (compat notes, standard paid tier); configuration, not code.
    prices: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: {DEFAULT_MODEL: {"input": 0.30, "output": 2.50, "cached": 0.03}}
    )
    # Hosting a shared demo (sign-in, quotas, share links). Identities listed here get the admin role.
    admins: tuple[str, ...] = ()
    # Password mode: user name -> password hash (`python -m passwords hash`); never plain text.
    password_users: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Share links open without sign-in only when the operator says so.
    public_links: bool = False
    # Quotas, counted in the database; None means no limit.
    requests_per_minute: int | None = None
    tokens_per_day: int | None = None
    global_tokens_per_day: int | None = None
    reserve_tokens: int = DEFAULT_RESERVE_TOKENS
    # Guest access (off by default): a private session capped per browser and per client address,
    # in messages and tokens per UTC day.
    guest_access: bool = False
    guest_messages: int = 10
    guest_tokens: int = 20_000
    guest_address_messages: int = 30
    guest_address_tokens: int = 60_000
    # Password sign-in: how long a session cookie lasts, and the longest the throttle makes an address
    # wait between wrong passwords for one name (seconds).
    session_hours: int = 168
    sign_in_max_delay: int = 300
    # Proxies whose X-Forwarded-For / -Proto / -Host are believed (addresses or networks, e.g.
    # 10.0.0.5 or 172.16.0.0/12). Empty: the socket peer is the client.
    trusted_proxies: tuple[str, ...] = ()
    # Files per message; the size per file is server.maxUploadSize in .streamlit/config.toml.
    max_files_per_message: int = 8
    # Import bounds (None: no limit). The upload itself is also capped by server.maxUploadSize.
    import_max_mb: int | None = 20
    import_max_messages: int | None = 20_000
    # Hosts whose images replies may show (exact host names). Empty: no remote image is ever fetched.
    image_hosts: tuple[str, ...] = ()
    # The built-in offline model's pace: a realistic one by default, so a person sees a reply stream
    # (tests set 0: as fast as it can go).
    offline_tokens_per_second: float = 40.0
    offline_ttft_ms: int = 250

    @property
    def uses_offline_model(self) -> bool:
        """True when no base URL is configured, so the app serves its own offline model."""
        return not self.api_base_url


def _section(secrets: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = secrets.get(name, {})
    return value if isinstance(value, Mapping) else {}


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _limit(name: str, value: Any) -> int | None:
    """A quota: a positive whole number, or None (no limit) for 0, empty or "none"."""
    if value is None or str(value).strip().lower() in ("", "none", "0"):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, not {value!r}.") from None
    if number < 0:
        raise ValueError(f"{name} must not be negative.")
    return number


def _pace(name: str, value: Any, kind: type[int] | type[float]) -> Any:
    """A pace of the offline model: a number, 0 or more."""
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number (0 or more), not {value!r}.") from None
    if number < 0:
        raise ValueError(f"{name} must not be negative.")
    return number


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    return tuple(str(v).strip() for v in value or () if str(v).strip())


def _proxies(value: Any) -> tuple[str, ...]:
    """Trusted proxies: IP addresses or networks, each checked so a typo is named, not ignored."""
    import ipaddress

    found = _names(value)
    for entry in found:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"PRISM_TRUSTED_PROXIES must list IP addresses or networks (like 10.0.0.5 or "
                f"172.16.0.0/12), not {entry!r}."
            ) from None
    return found


def load_settings(
    environ: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None
) -> Settings:
    """Read the settings: environment first, then secrets, then the defaults above."""
    env = os.environ if environ is None else environ
    secrets = secrets or {}
    api = _section(secrets, "api")
    database = _section(secrets, "database")
    auth = _section(secrets, "auth")
    quotas = _section(secrets, "quotas")
    sharing = _section(secrets, "sharing")
    guest = _section(secrets, "guest")
    uploads = _section(secrets, "uploads")
    importing = _section(secrets, "import")
    rendering = _section(secrets, "rendering")

    def pick(env_name: str, section: Mapping[str, Any], key: str, default: Any = None) -> Any:
        value = env.get(env_name)
        if value not in (None, ""):
            return value
        value = section.get(key)
        return default if value in (None, "") else value

    auth_mode = str(pick("PRISM_AUTH_MODE", auth, "mode", "none")).lower()
    if auth_mode not in AUTH_MODES:
        raise ValueError(f"PRISM_AUTH_MODE must be one of {', '.join(AUTH_MODES)}, not {auth_mode!r}.")

    endpoints = []
    for raw in secrets.get("endpoints", []) or []:
        if isinstance(raw, Mapping) and raw.get("base_url"):
            name = str(raw.get("name") or raw["base_url"])
            length_field = str(raw["length_field"]) if raw.get("length_field") else None
            if length_field is not None and length_field not in LENGTH_FIELDS:
                raise ValueError(
                    f"[[endpoints]] {name!r}: length_field must be one of {', '.join(LENGTH_FIELDS)}, "
                    f"not {length_field!r}."
                )
            endpoints.append(
                EndpointConfig(
                    name=name,
                    base_url=str(raw["base_url"]),
                    api_key=raw.get("api_key") or None,
                    models=tuple(raw.get("models") or ()),
                    length_field=length_field,
                    public_url=str(raw["public_url"]) if raw.get("public_url") else None,
                )
            )

    prices = dict(Settings().prices)
    for model, table in _section(secrets, "prices").items():
        if isinstance(table, Mapping):
            prices[model] = {k: float(v) for k, v in table.items()}

    return Settings(
        api_base_url=pick("PRISM_API_BASE_URL", api, "base_url"),
        api_key=pick("PRISM_API_KEY", api, "api_key"),
        api_public_url=pick("PRISM_API_PUBLIC_URL", api, "public_url"),
        model=pick("PRISM_MODEL", api, "model", DEFAULT_MODEL),
        database_url=pick("PRISM_DATABASE_URL", database, "url", DEFAULT_DATABASE_URL),
        auth_mode=auth_mode,
        extra_endpoints=tuple(endpoints),
        prices=prices,
        admins=_names(pick("PRISM_ADMINS", auth, "admins", ())),
        password_users={str(k): str(v) for k, v in _section(auth, "users").items()},
        public_links=_flag(pick("PRISM_PUBLIC_LINKS", sharing, "public", False)),
        requests_per_minute=_limit(
            "PRISM_REQUESTS_PER_MINUTE", pick("PRISM_REQUESTS_PER_MINUTE", quotas, "requests_per_minute")
        ),
        tokens_per_day=_limit("PRISM_TOKENS_PER_DAY", pick("PRISM_TOKENS_PER_DAY", quotas, "tokens_per_day")),
        global_tokens_per_day=_limit(
            "PRISM_GLOBAL_TOKENS_PER_DAY",
            pick("PRISM_GLOBAL_TOKENS_PER_DAY", quotas, "global_tokens_per_day"),
        ),
        reserve_tokens=_limit(
            "PRISM_RESERVE_TOKENS",
            pick("PRISM_RESERVE_TOKENS", quotas, "reserve_tokens", DEFAULT_RESERVE_TOKENS),
        )
        or DEFAULT_RESERVE_TOKENS,
        guest_access=_flag(pick("PRISM_GUEST_ACCESS", guest, "enabled", False)),
        guest_messages=_limit("PRISM_GUEST_MESSAGES", pick("PRISM_GUEST_MESSAGES", guest, "messages", 10))
        or 0,
        guest_tokens=_limit("PRISM_GUEST_TOKENS", pick("PRISM_GUEST_TOKENS", guest, "tokens", 20_000)) or 0,
        guest_address_messages=_limit(
            "PRISM_GUEST_ADDRESS_MESSAGES",
            pick("PRISM_GUEST_ADDRESS_MESSAGES", guest, "address_messages", 30),
        )
        or 0,
        guest_address_tokens=_limit(
            "PRISM_GUEST_ADDRESS_TOKENS", pick("PRISM_GUEST_ADDRESS_TOKENS", guest, "address_tokens", 60_000)
        )
        or 0,
        session_hours=_limit("PRISM_SESSION_HOURS", pick("PRISM_SESSION_HOURS", auth, "session_hours", 168))
        or 168,
        sign_in_max_delay=_limit(
            "PRISM_SIGN_IN_MAX_DELAY", pick("PRISM_SIGN_IN_MAX_DELAY", auth, "max_delay_seconds", 300)
        )
        or 0,
        trusted_proxies=_proxies(pick("PRISM_TRUSTED_PROXIES", auth, "trusted_proxies", ())),
        max_files_per_message=_limit(
            "PRISM_MAX_FILES_PER_MESSAGE", pick("PRISM_MAX_FILES_PER_MESSAGE", uploads, "max_files", 8)
        )
        or 0,
        import_max_mb=_limit("PRISM_IMPORT_MAX_MB", pick("PRISM_IMPORT_MAX_MB", importing, "max_mb", 20)),
        import_max_messages=_limit(
            "PRISM_IMPORT_MAX_MESSAGES", pick("PRISM_IMPORT_MAX_MESSAGES", importing, "max_messages", 20_000)
        ),
        image_hosts=tuple(h.lower() for h in _names(pick("PRISM_IMAGE_HOSTS", rendering, "image_hosts", ()))),
        offline_tokens_per_second=_pace(
            "PRISM_OFFLINE_TOKENS_PER_SECOND", env.get("PRISM_OFFLINE_TOKENS_PER_SECOND") or 40, float
        ),
        offline_ttft_ms=_pace("PRISM_OFFLINE_TTFT_MS", env.get("PRISM_OFFLINE_TTFT_MS") or 250, int),
    )
