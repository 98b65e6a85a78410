"""Settings load from TOML and the environment, and a broken file names the key, the problem and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from medvault.config import DEFAULT_MODEL_ID, file_digest, load_settings
from medvault.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "medvault.toml"
    path.write_text(text)
    return path


def test_defaults_use_the_embedded_model(tmp_path: Path) -> None:
    """With no file, one embedded model is configured on port 8080."""
    settings = load_settings(None, data_dir=tmp_path)
    assert settings.port == 8080
    assert settings.models[0].id == DEFAULT_MODEL_ID
    assert settings.models[0].replicas[0].kind == "embedded"
    assert settings.resolved_database_url.startswith("sqlite:///")


def test_toml_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment overrides the file, nested keys use a double underscore."""
    path = write(tmp_path, "port = 9000\n[retention]\ncontent_days = 7\n")
    monkeypatch.setenv("MEDVAULT_PORT", "9100")
    monkeypatch.setenv("MEDVAULT_LIMITS__MAX_BODY_BYTES", "2048")
    settings = load_settings(path)
    assert (settings.port, settings.retention.content_days, settings.limits.max_body_bytes) == (9100, 7, 2048)


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("port = 80\nhost = \nx = 1\n", ["not valid TOML", "line 2"]),
        ('port = "eighty"', ["key `port`", "fix:"]),
        ("prot = 8080", ["key `prot`", "spelling"]),
        (
            '[[models]]\nid = "m"\n[[models.replicas]]\nkind = "openai"\n',
            ["models.0.replicas.0", "needs `url`"],
        ),
        (
            '[[models]]\nid = "m"\n[[models.replicas]]\nkind = "gpu"\n',
            ["models.0.replicas.0.kind", "embedded"],
        ),
        ("[retention]\ncontent_days = -1\n", ["retention.content_days", "greater than or equal to 0"]),
        (
            '[[models]]\nid = "m"\n[[models.replicas]]\nkind = "embedded"\n'
            '[[models]]\nid = "m"\n[[models.replicas]]\nkind = "embedded"\n',
            ["unique", "used more than once: m"],
        ),
    ],
)
def test_broken_file_names_key_problem_and_fix(tmp_path: Path, text: str, needles: list[str]) -> None:
    """Each kind of mistake is reported with the key, what is wrong, and how to fix it."""
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    message = str(caught.value)
    for needle in needles:
        assert needle in message


def test_missing_config_file(tmp_path: Path) -> None:
    """A --config path that does not exist is a clear error."""
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "nope.toml")


def test_file_digest_is_cached(tmp_path: Path) -> None:
    """The model digest is SHA-256 and cached by path, size and mtime."""
    model = tmp_path / "m.gguf"
    model.write_bytes(b"gguf" * 1000)
    first = file_digest(model, tmp_path)
    assert first == "sha256:" + __import__("hashlib").sha256(b"gguf" * 1000).hexdigest()
    assert list((tmp_path / "digests").iterdir())
    assert file_digest(model, tmp_path) == first


@pytest.mark.parametrize(
    ("toml", "env_port", "expected", "conflict"),
    [
        ("", None, 8080, False),
        ("port = 9000\n", None, 9000, False),  # `port` alone moves the ingress too
        ("[isolation.ingress]\nport = 8443\n", None, 8443, False),  # the older key alone still works
        ("port = 8443\n[isolation.ingress]\nport = 8443\n", None, 8443, False),
        ("[isolation.ingress]\nport = 8443\n", "9000", 9000, True),  # `MEDVAULT_PORT=9000 make run`
        ("port = 9000\n[isolation.ingress]\nport = 8443\n", None, 9000, True),
    ],
)
def test_port_is_the_port_users_reach(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    toml: str,
    env_port: str | None,
    expected: int,
    conflict: bool,
) -> None:
    """`port` and the isolation ingress's port are one value; set both differently, `port` wins, said."""
    if env_port is not None:
        monkeypatch.setenv("MEDVAULT_PORT", env_port)
    settings = load_settings(write(tmp_path, toml))
    assert (settings.port, settings.isolation.ingress.port) == (expected, expected)
    assert (settings.port_conflict is not None) == conflict
    if conflict:
        assert f"users reach port {expected}" in str(settings.port_conflict)
        assert "remove `isolation.ingress.port`" in str(settings.port_conflict)
