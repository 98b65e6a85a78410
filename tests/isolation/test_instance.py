"""One instance per prefix and no `ok` without a supervisor: `up` twice, then SIGKILL, in the lab."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from medvault.isolation import read_state
from tests.isolation.conftest import MEDVAULT, Lab, Up, launch, sh
from tests.isolation.test_service import REMOTE_ENGINE

pytestmark = [pytest.mark.root, pytest.mark.slow]


def _serving(lab: Lab, within_s: float = 10.0) -> bool:
    """Whether the gateway answers /healthz at the published URL (http or https) within `within_s`
    (a busy CI machine may miss one 2 s request).

    The certificate is not checked here: what this module tests is which instance answers, not TLS.
    """
    deadline = time.monotonic() + within_s
    while not _answers(lab):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


def _lab_namespaces(lab: Lab) -> list[str]:
    """This lab's namespaces, with their ids (other tests may add and remove theirs meanwhile)."""
    listed = sh("ip", "netns", "list").stdout.splitlines()
    return sorted(line for line in listed if line.startswith(f"mvt-{lab.tag}-"))


def _answers(lab: Lab) -> bool:
    try:
        url = json.loads((lab.data_dir / "run" / "supervisor.json").read_text())["url"]
    except (OSError, ValueError):
        return False
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    try:
        with opener.open(url + "/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def first(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """A running `medvault up --host-netns` in the lab (no model: a remote engine that is never reached)."""
    tmp = tmp_path_factory.mktemp("instance")
    config = tmp / "medvault.toml"
    config.write_text(lab.toml() + REMOTE_ENGINE)
    run = launch(lab, config, tmp / "up.log")
    try:
        deadline = time.monotonic() + 90
        while not _answers(lab):
            assert run.process.poll() is None and time.monotonic() < deadline, run.tail()
            time.sleep(0.3)
        yield run
    finally:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait(timeout=30)
        run.cli("down")
        run.cli("isolation", "reset", "--yes")


def test_second_up_with_the_same_prefix_is_refused(lab: Lab, first: Up, tmp_path: Path) -> None:
    """A second `up` with the same netns prefix (another data dir) refuses at once, naming the first, and
    the first keeps serving and verifying ok."""
    assert _serving(lab)  # positive control: the first answers before the attempt
    zones_before = _lab_namespaces(lab)
    env = {**first.env, "MEDVAULT_DATA_DIR": str(tmp_path / "second")}
    started = time.monotonic()
    second = subprocess.run(
        [*MEDVAULT, "up", "--host-netns", lab.host, "--config", str(first.config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.monotonic() - started < 15
    assert second.returncode == 2, second.stdout + second.stderr
    assert f"pid {first.process.pid}" in second.stderr and str(lab.data_dir) in second.stderr
    assert first.process.poll() is None and _serving(lab)
    assert _lab_namespaces(lab) == zones_before
    verified = first.cli("verify", "--json")
    assert verified.returncode == 0, verified.stdout[-3000:]


def test_another_prefix_in_the_same_host_role_and_a_reset_are_refused(
    lab: Lab, first: Up, tmp_path: Path
) -> None:
    """The zone links and firewall tables are fixed names in a host role: a second `up` with another
    prefix there is refused naming the host role, and `isolation reset` refuses while the first runs;
    the first keeps serving and verifying ok."""
    assert _serving(lab)  # positive control
    config = tmp_path / "other-prefix.toml"
    prefix = lab.policy.netns_prefix
    config.write_text(first.config.read_text().replace(f'"{prefix}"', f'"{prefix}x"'))
    assert f'"{prefix}x"' in config.read_text()
    env = {**first.env, "MEDVAULT_DATA_DIR": str(tmp_path / "other")}
    other = subprocess.run(
        [*MEDVAULT, "up", "--host-netns", lab.host, "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode == 2, other.stdout + other.stderr
    assert f"host role namespace {lab.host}" in other.stderr and f"pid {first.process.pid}" in other.stderr
    reset = first.cli("isolation", "reset", "--yes", "--host-netns", lab.host)
    assert reset.returncode != 0 and f"pid {first.process.pid}" in reset.stderr + reset.stdout
    assert first.process.poll() is None and _serving(lab)
    assert first.cli("verify", "--json").returncode == 0


def test_status_is_not_ok_once_the_supervisor_is_killed(lab: Lab, first: Up) -> None:
    """After SIGKILL of the supervisor, `status` says it is not running and the state reads not-ok;
    `down` then cleans up, since the prefix lock is free."""
    before = json.loads(first.cli("status", "--json").stdout)
    assert before["running"] is True and before["isolation"]["state"] == "ok"  # positive control
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait(timeout=10)
    killed = time.monotonic()
    while read_state(lab.data_dir)["state"] == "ok":
        assert time.monotonic() - killed < 5, "the state still reads ok 5 s after the supervisor died"
        time.sleep(0.2)
    reported = first.cli("status", "--json")
    status = json.loads(reported.stdout)
    assert reported.returncode == 1 and status["running"] is False
    assert status["isolation"]["state"] != "ok" and "gone" in status["down"]
    cleaned = first.cli("down")
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert lab.policy.zone_netns("dmz") not in sh("ip", "netns", "list").stdout
    after = first.cli("status", "--json")
    assert after.returncode == 1 and json.loads(after.stdout)["running"] is False
