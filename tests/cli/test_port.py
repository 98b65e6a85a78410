"""`port` (MEDVAULT_PORT, `--port`) is the port users reach in every mode; the gateway's port inside its
zone is the supervisor's internal detail."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from medvault.cli import app
from medvault.config import load_settings
from medvault.supervisor import Supervisor
from medvault.supervisor._run import GATEWAY_ZONE_PORT


def _supervisor(tmp_path: Path, toml: str, *, isolate: bool, host_netns: str | None = None) -> Supervisor:
    config = tmp_path / "medvault.toml"
    config.write_text(toml)
    settings = load_settings(config, data_dir=tmp_path / "data")
    return Supervisor(settings, config_file=config, isolate=isolate, host_netns=host_netns)


@pytest.mark.parametrize(
    ("isolate", "host_netns", "url"),
    [
        (True, None, "https://0.0.0.0:9000"),  # isolated: the ingress on the host's addresses
        (True, "medvault-demo", "https://127.0.0.1:9000"),  # `make run`: the loopback bridge
        (False, None, "http://127.0.0.1:9000"),  # --no-isolation development
    ],
)
def test_the_announced_url_carries_port_in_every_mode(
    tmp_path: Path, isolate: bool, host_netns: str | None, url: str
) -> None:
    """With `port = 9000` the URL users are told is on 9000 whether isolated, on a host netns, or not."""
    supervisor = _supervisor(tmp_path, "port = 9000\n", isolate=isolate, host_netns=host_netns)
    assert supervisor.public_url() == url
    assert supervisor.settings.isolation.ingress.port == 9000  # what the DNAT and the bridge listen on


def test_the_gateway_listens_on_an_internal_port_when_isolated(tmp_path: Path) -> None:
    """Isolated, the gateway's port is fixed inside the dmz; without isolation it is `port` itself."""
    isolated = _supervisor(tmp_path, "port = 9000\n", isolate=True)
    assert isolated.gateway_port == GATEWAY_ZONE_PORT != 9000
    assert _supervisor(tmp_path, "port = 9000\n", isolate=False).gateway_port == 9000


def test_up_warns_when_port_and_ingress_port_differ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`up --port 9000` over a file with `isolation.ingress.port = 8443` serves 9000 and says so."""
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "medvault.toml"
    config.write_text("[isolation.ingress]\nport = 8443\n")
    started: list[int] = []

    async def run(self: Supervisor) -> int:  # stands in for the whole start: only the settings matter
        started.append(self.settings.isolation.ingress.port)
        return 0

    monkeypatch.setattr(Supervisor, "run", run)
    # Logging bound to the runner's captured stderr would outlive it (closed) and break later tests.
    monkeypatch.setattr("medvault.cli.server.configure_logging", lambda level: None)
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "data"))
    args = ["up", "--no-isolation", "--port", "9000", "--config", str(config)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert started == [9000]
    assert "users reach port 9000" in result.stderr and "isolation.ingress.port" in result.stderr
    quiet = CliRunner().invoke(app, ["up", "--no-isolation", "--port", "8443", "--config", str(config)])
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr  # equal: nothing to say
