"""`medvault up`, `status` and `down` as an operator runs them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from medvault.cli.server import _running_state
from medvault.config import Settings
from medvault.supervisor import data_dir_lock, state_file
from tests.conftest import Service
from tests.gateway.conftest import Engine, free_port, start_engine, wait_http


def medvault(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medvault", *args], text=True, capture_output=True, env=env, timeout=timeout
    )


def _up_against_a_fake_engine(
    tmp_path: Path,
) -> tuple[Engine, dict[str, str], int, subprocess.Popen[bytes]]:
    """A fake engine and `medvault up --no-isolation` in front of it: (engine, env, port, supervisor)."""
    engine = start_engine()
    config = tmp_path / "medvault.toml"
    config.write_text(
        f'[[models]]\nid = "fake"\n[[models.replicas]]\nkind = "openai"\nurl = "{engine.url}"\n'
    )
    env = {**os.environ, "MEDVAULT_DATA_DIR": str(tmp_path / "data"), "MEDVAULT_CONFIG": str(config)}
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "medvault", "up", "--no-isolation", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return engine, env, port, process


def test_broken_config_stops_start_up(tmp_path: Path) -> None:
    """A broken medvault.toml stops `up` with status 2, naming the key, the problem and the fix."""
    config = tmp_path / "medvault.toml"
    config.write_text('port = "eighty"\n')
    result = medvault("up", "--no-isolation", "--config", str(config))
    assert result.returncode == 2
    assert "key `port`" in result.stderr and "fix:" in result.stderr


def test_status_json_of_running_service(service: Service) -> None:
    """`status --json` reports the running service, its readiness and that isolation is off."""
    report = json.loads(service.cli("status", "--json").stdout)
    assert report["running"] is True and report["ready"] is True
    assert report["url"] == service.url
    assert report["isolation"]["state"] == "off"


def test_second_up_is_refused(service: Service) -> None:
    """Starting MedVault twice on one data directory is refused."""
    result = service.cli("up", "--no-isolation", check=False)
    assert result.returncode == 2
    assert "already runs" in result.stderr


@pytest.mark.model
def test_dead_engine_is_restarted(service: Service) -> None:
    """The supervisor restarts an embedded engine that dies, and the model becomes ready again."""

    def engine_pid() -> int:
        state = json.loads((service.data_dir / "run" / "supervisor.json").read_text())
        return int(next(p["pid"] for p in state["processes"] if p["name"].startswith("engine")))

    dead = engine_pid()
    os.kill(dead, signal.SIGKILL)
    deadline = time.monotonic() + 60
    restarted = False
    ready_in_a_row = 0  # each gateway worker checks the engine on its own: wait until all of them agree
    while time.monotonic() < deadline and ready_in_a_row < 8:
        # The readiness probe may miss the gap when the restart is quicker than its check interval,
        # so the restart itself is read from the supervisor's state: a new engine process.
        restarted = restarted or engine_pid() != dead
        ready = httpx.get(service.url + "/readyz", timeout=2).status_code == 200
        ready_in_a_row = ready_in_a_row + 1 if restarted and ready else 0
        time.sleep(0.2)
    assert restarted, "the supervisor never started a new engine"
    assert ready_in_a_row >= 8, "the restarted engine never became ready on every worker"


def test_down_stops_and_is_safe_to_repeat(tmp_path: Path) -> None:
    """`down` stops a running MedVault, removes its run state, and a second `down` is harmless. The
    supervisor stops on the SIGTERM: `down` sees it gone although this test, its parent, has not reaped
    it yet, and neither waits out its timeout nor kills it."""
    engine, env, port, process = _up_against_a_fake_engine(tmp_path)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout_s=60)
        assert (tmp_path / "data" / "run" / "supervisor.json").is_file()
        first = medvault("down", env=env)
        assert first.returncode == 0 and "stopped" in first.stdout
        assert "killed" not in first.stdout, first.stdout
        assert process.wait(timeout=30) == 0
        assert not (tmp_path / "data" / "run" / "supervisor.json").exists()
        second = medvault("down", env=env)
        assert second.returncode == 0 and "not running" in second.stdout
    finally:
        if process.poll() is None:
            process.kill()
        engine.kill()


def test_a_supervisor_that_exited_unreaped_is_not_running(tmp_path: Path) -> None:
    """A supervisor that has exited counts as stopped even while its parent has not reaped it (a zombie,
    which `kill(pid, 0)` still finds): its data-directory lock is gone, so `down` and `status` neither
    wait out their timeout for it nor kill it."""
    settings = Settings(data_dir=tmp_path)
    lock = data_dir_lock(tmp_path)
    lock.parent.mkdir(parents=True)
    holder = (
        "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
        "print('locked', flush=True); time.sleep(float(sys.argv[2]))"
    )

    def supervisor(seconds: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", holder, str(lock), seconds], stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None and process.stdout.readline() == "locked\n"
        state_file(settings).write_text(json.dumps({"pid": process.pid}))
        return process

    running = supervisor("60")
    try:
        assert _running_state(settings) == {"pid": running.pid}  # control: a live holder runs
    finally:
        running.kill()
        running.wait()
    exited = supervisor("0")
    try:
        os.waitid(os.P_PID, exited.pid, os.WEXITED | os.WNOWAIT)  # exited, left unreaped
        os.kill(exited.pid, 0)  # the zombie is still there for kill()
        assert _running_state(settings) is None
    finally:
        exited.wait()


def test_status_after_the_supervisor_is_killed(tmp_path: Path) -> None:
    """After SIGKILL of a `--no-isolation` supervisor, `status` says it is down (exit 1), and `down` clears
    the dead run's record."""
    engine, env, port, process = _up_against_a_fake_engine(tmp_path)
    record = tmp_path / "data" / "run" / "supervisor.json"
    children: list[int] = []  # the dead supervisor's gateway, stopped by the test itself
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout_s=60)
        alive = json.loads(medvault("status", "--json", env=env).stdout)
        assert alive["running"] is True  # positive control
        children = [p["pid"] for p in json.loads(record.read_text())["processes"]]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        dead = medvault("status", "--json", env=env)
        report = json.loads(dead.stdout)
        assert dead.returncode == 1 and report["running"] is False
        assert f"pid {process.pid}" in report["down"] and report["isolation"]["state"] != "ok"
        cleaned = medvault("down", env=env)
        assert cleaned.returncode == 0 and "not running" in cleaned.stdout
        assert not record.exists()
        assert medvault("status", env=env).returncode == 1
    finally:
        if process.poll() is None:
            process.kill()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        engine.kill()


def test_status_shows_the_engines_still_loading(tmp_path: Path) -> None:
    """While an engine loads (here: one that never becomes ready), `status` names it and for how long it
    has been loading, and is not ready; SIGTERM then stops `up` at once, loading engine included."""
    slow = [sys.executable, "-c", "import sys, time; time.sleep(120)", "{host}", "{port}"]
    config = tmp_path / "medvault.toml"
    config.write_text(
        '[[models]]\nid = "slow"\n[[models.replicas]]\nkind = "command"\n'
        f"argv = {json.dumps(slow)}\nstartup_timeout_s = 120\n"
    )
    env = {**os.environ, "MEDVAULT_DATA_DIR": str(tmp_path / "data"), "MEDVAULT_CONFIG": str(config)}
    process = subprocess.Popen(
        [sys.executable, "-m", "medvault", "up", "--no-isolation", "--port", str(free_port())],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline, starting = time.monotonic() + 60, []
        while not starting:
            assert process.poll() is None and time.monotonic() < deadline, "up exited or never spawned"
            time.sleep(0.5)
            result = medvault("status", "--json", env=env)
            starting = json.loads(result.stdout).get("starting", []) if result.stdout else []
        assert [child["name"] for child in starting] == ["engine slow#0"]
        assert starting[0]["loading_s"] >= 0 and result.returncode == 1
        assert "starting: engine slow#0 (loading for" in medvault("status", env=env).stdout
        process.terminate()
        assert process.wait(timeout=30) == 0
        assert not json.loads(medvault("status", "--json", env=env).stdout)["running"]
    finally:
        if process.poll() is None:
            process.kill()
