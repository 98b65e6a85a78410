"""Change control end to end on the real embedded model: swapped weights wait for an approval."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from medvault.config import bundled_model_path, file_digest
from medvault.governance import APPROVAL_TTL_S, ApprovalGate
from medvault.store import ApprovalStatus, ModelApproval, Store
from tests.conftest import Service, start_service
from tests.gateway.conftest import free_port, wait_http

MODEL = "smollm2-135m-instruct"
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "Hallo"}], "max_tokens": 4}


def _start_held(data_dir: Path, config: Path, admin_key: str) -> Service:
    """`medvault up --no-isolation` whose model is held: its gateway answers, its /readyz says 503."""
    port = free_port()
    output = data_dir / "supervisor-held.out"
    env = {**os.environ, "MEDVAULT_DATA_DIR": str(data_dir), "MEDVAULT_ADMIN_KEY": admin_key}
    argv = [
        sys.executable,
        "-m",
        "medvault",
        "up",
        "--no-isolation",
        "--port",
        str(port),
        "--config",
        str(config),
    ]
    with output.open("wb") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/healthz", timeout_s=180)  # the gateway starts once the engine answers
    except BaseException:
        process.kill()
        raise
    return Service(url, admin_key, data_dir, config, process, output)


def _stop(service: Service) -> None:
    service.process.send_signal(signal.SIGTERM)
    assert service.process.wait(timeout=60) == 0


def _decide(service: Service, *args: str) -> None:
    """Run a `medvault models` decision, then wait until every gateway worker follows it: each keeps its
    own approval cache, re-read at most APPROVAL_TTL_S after the decision was committed."""
    decision = service.cli("models", *args, check=False)
    assert decision.returncode == 0, decision.stderr
    time.sleep(APPROVAL_TTL_S)


def _offered(service: Service) -> list[str]:
    headers = {"authorization": f"Bearer {service.admin_key}"}
    answer = httpx.get(service.url + "/v1/models", headers=headers, timeout=10)
    return [m["id"] for m in answer.json()["data"]]


def _chat(service: Service) -> httpx.Response:
    headers = {"authorization": f"Bearer {service.admin_key}"}
    return httpx.post(service.url + "/v1/chat/completions", json=CHAT, headers=headers, timeout=60)


def _model_events(data_dir: Path) -> list[tuple[str, str | None, str | None]]:
    """(action, who, digest) of every change-control event in the audit trail, oldest first."""
    store = Store.open(f"sqlite:///{data_dir / 'medvault.db'}")
    try:
        events = [stored.event for stored in store.audit_events()]
    finally:
        store.close()
    return [(e.action, e.user, e.model_digest) for e in events if e.action.startswith("model.")]


@pytest.fixture
def copied_model(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A copy of the bundled GGUF configured as the embedded replica: (gguf, medvault.toml)."""
    gguf = tmp_path / "weights" / "model.gguf"
    gguf.parent.mkdir()
    shutil.copyfile(bundled_model_path(), gguf)
    config = tmp_path / "medvault.toml"
    # One template and a smoke policy, so the held weights can be evaluated within seconds on a CPU; two
    # gateway workers (the default wherever there are two cores), each with its own approval cache.
    config.write_text(
        "[gateway]\nworkers = 2\n"
        f'[[models]]\nid = "{MODEL}"\n[[models.replicas]]\nkind = "embedded"\ngguf = "{gguf}"\n'
        '[governance]\nenabled_templates = ["report-correction"]\n'
        "[governance.evaluation]\nmin_cases = 1\nallow_capped = true\nmax_review_per_100 = 100\n"
        "max_unchecked_per_100 = 100\n"
    )
    yield gguf, config


@pytest.mark.model
@pytest.mark.slow
def test_swapped_weights_wait_for_approval_and_retired_ones_stop(
    tmp_path: Path, copied_model: tuple[Path, Path]
) -> None:
    """Bundled weights serve at once; one changed byte makes the model pending (not offered, 503 naming the
    approval command, not ready); its approval is refused until an evaluation of the held weights (their
    engine still runs) passed; approving then lets it serve without a restart; retiring takes it away."""
    gguf, config = copied_model
    data_dir, key = tmp_path / "data", "mv-test-admin-" + os.urandom(8).hex()
    bundled = file_digest(gguf)

    first = start_service(data_dir, config, key)  # ready: the bundled weights are approved on first sight
    try:
        assert _offered(first) == [MODEL]
    finally:
        _stop(first)
    assert _model_events(data_dir) == [("model.approved", "medvault", bundled)]

    with gguf.open("r+b") as fh:  # the last byte of the last tensor: still a loadable GGUF, other weights
        fh.seek(-1, os.SEEK_END)
        last = fh.read(1)
        fh.seek(-1, os.SEEK_END)
        fh.write(bytes([last[0] ^ 0x01]))
    changed = file_digest(gguf)
    assert changed != bundled

    service = _start_held(data_dir, config, key)
    try:
        assert _offered(service) == []
        refused = _chat(service)
        assert refused.status_code == 503
        error = refused.json()["error"]
        assert error["code"] == "model_not_approved"
        assert f"medvault models approve {MODEL} --digest {changed}" in error["message"]
        ready = httpx.get(service.url + "/readyz", timeout=10)
        assert ready.status_code == 503 and "awaiting approval" in ready.json()["held"][MODEL]
        approve = ("models", "approve", MODEL, "--digest", changed, "--reason", "CAB-7 validated")
        # Three commands at once (each spends seconds starting Python): a refused approval changes nothing
        # that the other two read, and is itself checked right after.
        with ThreadPoolExecutor() as pool:
            status_run = pool.submit(service.cli, "status", "--json", check=False)
            listed_run = pool.submit(service.cli, "models", "list", "--json")
            refused_run = pool.submit(service.cli, *approve, check=False)
        status = json.loads(status_run.result().stdout)
        assert status["ready"] is False and changed in status["held"][MODEL]
        listed = json.loads(listed_run.result().stdout)
        assert [(r["digest"], r["status"]) for r in listed] == [(changed, "pending")]

        refused_approval = refused_run.result()
        assert refused_approval.returncode == 1
        assert "these weights were never evaluated" in " ".join(refused_approval.stderr.split())
        assert _offered(service) == []
        evaluated = service.cli(
            "evaluate", MODEL, "--cases", "1", "--max-tokens", "8", "--out", str(tmp_path / "ev")
        )
        assert "PASSED" in evaluated.stdout
        _decide(service, *approve[1:])
        # Every request (each on a new connection, which the kernel gives to either worker) follows it;
        # one chat only, as each occupies the CPU engine (and its health answers) for a while.
        for _ in range(4):
            assert _offered(service) == [MODEL]
        answer = _chat(service)
        assert answer.status_code == 200 and answer.json()["model"] == MODEL, answer.text
        assert httpx.get(service.url + "/readyz", timeout=10).status_code == 200

        _decide(service, "retire", MODEL, "--digest", changed, "--reason", "superseded")
        for _ in range(4):
            assert _offered(service) == []
            gone = _chat(service)
            assert gone.status_code == 503 and "retired" in gone.json()["error"]["message"], gone.text
        assert service.cli("models", "verify", check=False).returncode == 1  # retired weights are a problem
    finally:
        _stop(service)

    operator = [user for action, user, digest in _model_events(data_dir)[2:]]
    assert [(a, d) for a, _, d in _model_events(data_dir)] == [
        ("model.approved", bundled),
        ("model.pending", changed),
        ("model.evaluated", changed),
        ("model.approved", changed),
        ("model.retired", changed),
    ]
    assert operator[0] != "medvault" and operator[0] == operator[1]  # the operator's login, not the system


def test_a_decision_taken_during_a_read_lands_within_the_ttl() -> None:
    """The cache's age counts from the start of its read: a decision committed while a slow read ran is
    followed by every call `ttl_s` after the decision (the bound `_decide` waits for)."""
    digest = "sha256:" + "cc" * 32
    decisions: list[ModelApproval] = []
    decided = threading.Event()
    decided_at = 0.0

    def lookup() -> list[ModelApproval]:
        nonlocal decided_at
        snapshot = list(decisions)  # what the registry held when the read began
        if not decided.is_set():
            decisions.append(
                ModelApproval("a", digest, ApprovalStatus.APPROVED, "root", datetime.now(UTC), "ok")
            )
            decided_at = time.monotonic()
            decided.set()
            time.sleep(0.4)  # the read goes on after the decision
        return snapshot

    async def scenario() -> None:
        gate = ApprovalGate(lookup, {"a": [digest]}, ttl_s=0.5)
        assert list(await gate.held()) == ["a"]  # read before the decision
        await asyncio.sleep(max(0.0, decided_at + 0.5 - time.monotonic()))
        assert await gate.held() == {}

    asyncio.run(scenario())
