"""Configuration (settings.py): environment wins over secrets, defaults apply, bad values get plain words,
the key hides, and nothing else reads the environment."""

import pytest

from settings import DEFAULT_DATABASE_URL, Settings, load_settings


def test_defaults_mean_the_offline_model_and_a_local_sqlite_file():
    config = load_settings({}, {})
    assert config.uses_offline_model
    assert config.database_url == DEFAULT_DATABASE_URL
    assert config.model == "gemini-2.5-flash"
    assert config.auth_mode == "none"


def test_environment_wins_over_secrets():
    secrets = {"api": {"base_url": "http://from-secrets/v1/", "api_key": "secret-a", "model": "m-secrets"}}
    env = {"PRISM_API_BASE_URL": "http://from-env/v1/", "PRISM_MODEL": "m-env"}
    config = load_settings(env, secrets)
    assert config.api_base_url == "http://from-env/v1/"
    assert config.model == "m-env"
    assert config.api_key == "secret-a"
    assert not config.uses_offline_model


def test_the_key_never_appears_in_a_repr():
    config = load_settings(
        {"PRISM_API_KEY": "sk-very-secret-value"},
        {"endpoints": [{"name": "gw", "base_url": "http://gw/v1/", "api_key": "gw-secret-value"}]},
    )
    assert "sk-very-secret-value" not in repr(config)
    assert "gw-secret-value" not in repr(config)


def test_an_unknown_auth_mode_is_refused_in_plain_words():
    with pytest.raises(ValueError, match="PRISM_AUTH_MODE must be one of"):
        load_settings({"PRISM_AUTH_MODE": "magic"}, {})


def test_prices_from_secrets_override_the_defaults():
    config = load_settings({}, {"prices": {"gemini-2.5-flash": {"input": 1, "output": 2, "cached": 0.5}}})
    assert config.prices["gemini-2.5-flash"] == {"input": 1.0, "output": 2.0, "cached": 0.5}


def test_the_example_secrets_file_is_read_as_documented():
    import tomllib
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / ".streamlit" / "secrets.toml.example"
    config = load_settings({}, tomllib.loads(example.read_text()))
    assert config.api_base_url.startswith("https://")
    assert config.admins == ("ann",)
    assert config.requests_per_minute == 10 and config.tokens_per_day == 200_000
    assert config.password_users["ann"].startswith("scrypt$")
    assert config.max_files_per_message == 8
    assert (config.import_max_mb, config.import_max_messages) == (20, 20_000)


def test_import_limits_come_from_the_environment_or_secrets_and_zero_means_none():
    assert (Settings().import_max_mb, Settings().import_max_messages) == (20, 20_000)
    config = load_settings({"PRISM_IMPORT_MAX_MB": "5"}, {"import": {"max_mb": 7, "max_messages": 10}})
    assert (config.import_max_mb, config.import_max_messages) == (5, 10)
    assert load_settings({"PRISM_IMPORT_MAX_MESSAGES": "0"}, {}).import_max_messages is None
    with pytest.raises(ValueError, match="PRISM_IMPORT_MAX_MB must be a whole number"):
        load_settings({"PRISM_IMPORT_MAX_MB": "lots"}, {})


def test_trusted_image_hosts_are_empty_by_default_and_read_from_env_or_secrets():
    assert load_settings({}, {}).image_hosts == ()
    from_secrets = load_settings({}, {"rendering": {"image_hosts": ["img.example", " CDN.example "]}})
    assert from_secrets.image_hosts == ("img.example", "cdn.example")
    env = {"PRISM_IMAGE_HOSTS": "a.example, b.example"}
    from_env = load_settings(env, {"rendering": {"image_hosts": ["c"]}})
    assert from_env.image_hosts == ("a.example", "b.example")


def test_the_offline_models_pace_is_read_from_the_environment():
    assert (load_settings({}, {}).offline_tokens_per_second, load_settings({}, {}).offline_ttft_ms) == (
        40.0,
        250,
    )
    config = load_settings({"PRISM_OFFLINE_TOKENS_PER_SECOND": "0", "PRISM_OFFLINE_TTFT_MS": "0"}, {})
    assert (config.offline_tokens_per_second, config.offline_ttft_ms) == (0.0, 0)
    assert load_settings({"PRISM_OFFLINE_TOKENS_PER_SECOND": "12.5"}, {}).offline_tokens_per_second == 12.5


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("PRISM_OFFLINE_TOKENS_PER_SECOND", "fast", "PRISM_OFFLINE_TOKENS_PER_SECOND must be a number"),
        ("PRISM_OFFLINE_TTFT_MS", "0.5s", "PRISM_OFFLINE_TTFT_MS must be a number"),
        ("PRISM_OFFLINE_TTFT_MS", "-1", "PRISM_OFFLINE_TTFT_MS must not be negative"),
    ],
)
def test_a_bad_offline_pace_is_refused_in_plain_words(name, value, words):
    with pytest.raises(ValueError, match=words):
        load_settings({name: value}, {})


def test_only_settings_py_reads_the_environment():
    # Configuration has one home: a module that read os.environ itself would bypass the README's table,
    # the secrets fallback and the plain-words checks above.
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    parts = ["app.py", "passwords.py", "sign_in.py", "views", "components", "turns", "chat_client", "storage"]
    files = [
        p for part in parts for p in ([root / part] if part.endswith(".py") else (root / part).rglob("*.py"))
    ]
    readers = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = (
                node.value.id if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) else ""
            )
            if name == "os" and node.attr in ("environ", "getenv"):
                readers.append(f"{path.relative_to(root)}:{node.lineno}")
    assert readers == []


def test_trusted_proxies_are_addresses_or_networks_and_a_typo_is_named():
    config = load_settings({"PRISM_TRUSTED_PROXIES": "10.0.0.5, 172.28.0.0/24"}, {})
    assert config.trusted_proxies == ("10.0.0.5", "172.28.0.0/24")
    assert load_settings({}, {"auth": {"trusted_proxies": ["::1"]}}).trusted_proxies == ("::1",)
    assert load_settings({}, {}).trusted_proxies == ()
    with pytest.raises(ValueError, match="PRISM_TRUSTED_PROXIES must list IP addresses or networks"):
        load_settings({"PRISM_TRUSTED_PROXIES": "proxy.internal"}, {})
