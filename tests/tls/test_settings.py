"""The `[tls]` settings: mistakes name the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from medvault.cli import app
from medvault.config import load_settings
from medvault.errors import ConfigError


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "medvault.toml"
    path.write_text(body)
    return path


def test_no_tls_table_means_self_signed(tmp_path: Path) -> None:
    """Without `[tls]`, no files are configured (a self-signed certificate will be made)."""
    settings = load_settings(_config(tmp_path, ""))
    assert settings.tls.cert_file is None and settings.tls.key_file is None and settings.tls.names == []


@pytest.mark.parametrize(
    ("body", "key", "words"),
    [
        ('[tls]\ncert_file = "{pem}"\n', "`tls`", "set both `tls.cert_file` and `tls.key_file`"),
        ('[tls]\nnames = ["klinik_intern"]\n', "`tls.names`", "neither a DNS name nor an IP address"),
        ('[tls]\ncert_file = "{pem}"\nkey_file = "{pem}"\nnames = ["a.example"]\n', "`tls`", "drop it"),
        ('[tls]\ncertfile = "{pem}"\n', "`tls.certfile`", "check its spelling"),
    ],
)
def test_tls_mistakes_name_the_key(tmp_path: Path, body: str, key: str, words: str) -> None:
    """Half a pair, a bad name, names beside the hospital's files, a typo: each is named with its fix."""
    pem = tmp_path / "server.pem"
    pem.write_text("placeholder")
    with pytest.raises(ConfigError) as raised:
        load_settings(_config(tmp_path, body.format(pem=pem)))
    message = str(raised.value)
    assert f"key {key}" in message and words in message and "fix:" in message


def test_names_take_dns_names_and_addresses(tmp_path: Path) -> None:
    """`tls.names` accepts host names and IPv4/IPv6 addresses."""
    names = ["medvault.klinik.example", "10.1.2.3", "2001:db8::7"]
    settings = load_settings(_config(tmp_path, f"[tls]\nnames = {names}\n"))
    assert settings.tls.names == names


def test_serve_wants_certificate_and_key_together(tmp_path: Path) -> None:
    """`medvault serve --tls-cert` without `--tls-key` stops at once with status 2."""
    result = CliRunner().invoke(
        app, ["serve", "--runtime", str(tmp_path / "runtime.json"), "--tls-cert", str(tmp_path / "c.pem")]
    )
    assert result.exit_code == 2 and "--tls-key" in result.output
