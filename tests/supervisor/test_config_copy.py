"""The gateway's copy of the operator's config file (run/medvault.toml under isolation) has the operator's
settings without the admin key (docs/security-model.md C26): a canary admin key is nowhere in the copy,
while every other setting, secrets the gateway itself uses included, reads back the same."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from medvault.config import load_settings
from medvault.supervisor._layout import write_gateway_config

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.toml"))
CANARY = "ADMINKEY" + uuid.uuid4().hex
CONFIG = f"""
# the operator's comments are not carried over
admin_key = "{CANARY}"
port = 8443
database_url = "postgresql+psycopg://medvault:db-secret@192.0.2.20/medvault"
log_level = "warning"

[limits]
request_timeout_s = 90.5
max_body_bytes = 2_000_000

[[isolation.airlocks]]
name = "directory"
address = "192.0.2.15"
port = 636

[directory]
enabled = true
address = "192.0.2.15"
port = 636
transport = "ldaps"
server_name = "dc01.hospital.example"
ca_file = "/etc/medvault/hospital-ca.pem"
bind_dn = "CN=svc-medvault,OU=Service,DC=hospital,DC=example"
bind_password = "ldap-secret"
user_base = "OU=Staff,DC=hospital,DC=example"
user_filter = '(&(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))'

[directory.roles]
clinician = ['cn=Ärzte \\"Radiologie\\",ou=groups,dc=hospital,dc=example']

[[models]]
id = "r1-distill-7b"

  [[models.replicas]]
  kind = "openai"
  url = "http://198.51.100.7:8000/v1"
  api_key = "engine-secret"
"""


def _copy(tmp_path: Path, text: str = CONFIG) -> tuple[Path, Path]:
    source, copy = tmp_path / "operator.toml", tmp_path / "run" / "medvault.toml"
    source.write_text(text, encoding="utf-8")
    copy.parent.mkdir()
    write_gateway_config(source, copy)
    return source, copy


def test_the_copy_lacks_the_admin_key(tmp_path: Path) -> None:
    """The canary admin key is not in the copy's bytes; the gateway's settings have no admin key."""
    source, copy = _copy(tmp_path)
    assert CANARY in source.read_text() and CANARY not in copy.read_text()
    assert "admin_key" not in copy.read_text()
    assert load_settings(copy).admin_key is None
    assert copy.stat().st_mode & 0o777 == 0o600  # `_share` opens it to the gateway's group only


def test_control_every_other_setting_survives(tmp_path: Path) -> None:
    """Control: apart from the admin key the copy gives the same settings, the database URL, directory
    bind password and engine API key (which the gateway uses) included."""
    source, copy = _copy(tmp_path)
    original, copied = load_settings(source), load_settings(copy)
    assert original.admin_key is not None and original.admin_key.get_secret_value() == CANARY
    assert copied == original.model_copy(update={"admin_key": None})
    assert copied.limits.request_timeout_s == 90.5 and copied.port == 8443
    assert copied.directory.roles == original.directory.roles
    assert copied.directory.bind_password is not None
    assert copied.directory.bind_password.get_secret_value() == "ldap-secret"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_control_the_shipped_examples_read_back_the_same(tmp_path: Path, example: Path) -> None:
    """Control on real operator files: each example config's copy gives the same settings."""
    source, copy = _copy(tmp_path, example.read_text(encoding="utf-8"))
    assert load_settings(copy) == load_settings(source)


def test_the_copy_replaces_a_link_instead_of_writing_through_it(tmp_path: Path) -> None:
    """A link left at run/medvault.toml is replaced by a new file; its target keeps its content."""
    target = tmp_path / "elsewhere.txt"
    target.write_text("untouched")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "medvault.toml").symlink_to(target)
    source = tmp_path / "operator.toml"
    source.write_text(CONFIG, encoding="utf-8")
    write_gateway_config(source, tmp_path / "run" / "medvault.toml")
    assert target.read_text() == "untouched"
    assert not (tmp_path / "run" / "medvault.toml").is_symlink()
