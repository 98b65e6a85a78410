"""A `command` replica (llama-cpp-python's server on the bundled model) started by `medvault up` in the lab:
in the vault zone, as the vault user, in the sandbox; reached from the gateway through the official
`openai` SDK, unreachable from anywhere else, restarted after a crash, killed by the kill switch."""

from __future__ import annotations

import json
import os
import signal
import ssl
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from medvault.config import bundled_model_path
from medvault.isolation import Verdict
from medvault.isolation._probes import Probe
from medvault.supervisor._process import workload_pids
from tests.isolation.conftest import ENGINE_PORT, LAN_HOST, VAULT_USER, Lab, Up, launch, sh

pytestmark = [pytest.mark.root, pytest.mark.slow, pytest.mark.model]

ENGINE = f"""
[limits]
health_interval_s = 0.5

[[models]]
id = "cmd-model"

  [[models.replicas]]
  kind = "command"
  argv = ["{sys.executable}", "-m", "llama_cpp.server", "--model", "{{model}}", "--model_alias", "cmd-model",
          "--host", "{{host}}", "--port", "{{port}}", "--n_ctx", "512", "--n_threads", "2",
          "--interrupt_requests", "false"]
  model = "{bundled_model_path()}"
  startup_timeout_s = 120
"""


@pytest.fixture(scope="module")
def up(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """`medvault up --host-netns` with the command replica, ready through the loopback bridge."""
    tmp = tmp_path_factory.mktemp("command-engine")
    config = tmp / "medvault.toml"
    config.write_text(lab.toml() + ENGINE)
    run = launch(lab, config, tmp / "up.log")
    try:
        run.wait_ready(f"https://127.0.0.1:{lab.policy.ingress.port}/readyz", timeout_s=150)
        yield run
    finally:
        if run.process.poll() is None:
            run.process.terminate()
            run.process.wait(timeout=60)
        run.cli("isolation", "reset", "--yes")


def _client(lab: Lab, up: Up) -> openai.OpenAI:
    """The official SDK against the gateway's HTTPS ingress (the loopback bridge), trusting its cert."""
    trust = ssl.create_default_context(cafile=str(up.certificate()))
    return openai.OpenAI(
        base_url=f"https://127.0.0.1:{lab.policy.ingress.port}/v1",
        api_key=up.env["MEDVAULT_ADMIN_KEY"],
        http_client=httpx.Client(verify=trust, trust_env=False, timeout=60),
        max_retries=0,
    )


def _ask(lab: Lab, up: Up) -> str:
    with _client(lab, up) as client:
        answer = client.chat.completions.create(
            model="cmd-model", messages=[{"role": "user", "content": "Say hello."}], max_tokens=8
        )
    return answer.choices[0].message.content or ""


def _engine_pid(lab: Lab) -> int:
    """The pid `up` records for the engine (bubblewrap, the sandbox's outer process)."""
    state = json.loads((lab.data_dir / "run" / "supervisor.json").read_text())
    return next(p["pid"] for p in state["processes"] if p["name"].startswith("engine "))


def _ns(pid: int | str, kind: str) -> str:
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def test_served_through_the_gateway_by_the_openai_sdk(lab: Lab, up: Up) -> None:
    """The SDK lists the model and gets a completion from the command engine through the gateway."""
    with _client(lab, up) as client:
        assert [m.id for m in client.models.list().data] == ["cmd-model"]
    assert _ask(lab, up).strip()


def test_runs_in_the_vault_zone_as_the_vault_user_in_the_sandbox(lab: Lab, up: Up) -> None:
    """The server process sits in the vault's network namespace, as the vault user with no capabilities,
    in a PID and mount namespace of its own (the sandbox), with the offline switches set."""
    inner = workload_pids(_engine_pid(lab))
    assert inner, "the engine does not run under bubblewrap"
    server = next(p for p in inner if b"llama_cpp.server" in Path(f"/proc/{p}/cmdline").read_bytes())
    status = Path(f"/proc/{server}/status").read_text()
    uid = VAULT_USER.split(":")[0]
    assert f"Uid:\t{uid}\t{uid}\t{uid}\t{uid}" in status and "CapEff:\t0000000000000000" in status
    vault = lab.policy.zone_netns("vault")
    vault_ns = sh("ip", "netns", "exec", vault, "readlink", "/proc/self/ns/net").stdout.strip()
    assert _ns(server, "net") == vault_ns != _ns("self", "net")
    assert _ns(server, "pid") != _ns("self", "pid") and _ns(server, "mnt") != _ns("self", "mnt")
    environ = Path(f"/proc/{server}/environ").read_bytes().split(b"\0")
    assert b"HF_HUB_OFFLINE=1" in environ and not any(v.startswith(b"MEDVAULT_") for v in environ)


def test_engine_port_is_reachable_from_the_dmz_only(lab: Lab, up: Up) -> None:
    """The engine's port answers from the gateway's zone (positive control) and from nowhere else: not
    from the LAN, not from the host role."""
    engine = Probe("tcp", _vault_address(up), ENGINE_PORT)
    dmz = lab.probe(lab.policy.zone_netns("dmz"), [engine])[0]
    assert dmz.verdict is Verdict.REACHABLE
    for netns in (lab.lan, lab.host):
        assert lab.probe(netns, [engine])[0].verdict is Verdict.BLOCKED, netns
    ingress = lab.probe(lab.lan, [Probe("tcp", LAN_HOST, lab.policy.ingress.port)])[0]
    assert ingress.verdict is Verdict.REACHABLE  # the LAN's way in is the gateway


def _vault_address(up: Up) -> str:
    status = json.loads(up.cli("status", "--json").stdout)
    vault = next(z for z in status["isolation"]["zones"] if z["name"] == "vault")
    return str(vault["addresses"][0])


def test_restarted_after_a_crash(lab: Lab, up: Up) -> None:
    """SIGKILL of the server: the supervisor starts it again (a new recorded pid) and it serves again."""
    before = _engine_pid(lab)
    for pid in workload_pids(before):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 90
    while _engine_pid(lab) == before:
        assert time.monotonic() < deadline and up.process.poll() is None, up.tail()
        time.sleep(0.2)
    up.wait_ready(f"https://127.0.0.1:{lab.policy.ingress.port}/readyz", timeout_s=60)
    assert _ask(lab, up).strip()


def test_killed_by_the_kill_switch(lab: Lab, up: Up) -> None:
    """A breach (the firewall flushed) stops the service with status 3 and kills the engine with its zone."""
    engine = [_engine_pid(lab), *workload_pids(_engine_pid(lab))]
    sh("ip", "netns", "exec", lab.host, "nft", "flush", "table", "inet", "medvault")
    assert up.process.wait(timeout=20) == 3, up.tail()
    assert sh("ip", "netns", "pids", lab.policy.zone_netns("vault"), check=False).stdout.split() == []
    assert not any(Path(f"/proc/{pid}").exists() for pid in engine)
