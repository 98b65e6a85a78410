"""The isolation commands that need no root: rendering the policy's ruleset."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from medvault.cli import app


def test_render_prints_the_ruleset_of_the_configured_policy(tmp_path: Path) -> None:
    """`medvault isolation render` prints the table rendered from medvault.toml, ingress included."""
    config = tmp_path / "medvault.toml"
    config.write_text('[isolation]\nnetns_prefix = "clitest"\n[isolation.ingress]\nport = 8443\n')
    result = CliRunner().invoke(
        app, ["isolation", "render", "--gateway-port", "8080", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert "table inet medvault {" in result.output
    assert "tcp dport 8443 dnat ip to 100.72.0.2:8080" in result.output


def test_render_refuses_an_invalid_policy(tmp_path: Path) -> None:
    """An airlock from the vault is refused with exit status 2 and the reason."""
    config = tmp_path / "medvault.toml"
    config.write_text('[[isolation.airlocks]]\nname = "x"\naddress = "192.0.2.1"\nport = 1\nzone = "vault"\n')
    result = CliRunner().invoke(app, ["isolation", "render", "--config", str(config)])
    assert result.exit_code == 2
    assert "dmz only" in result.output
