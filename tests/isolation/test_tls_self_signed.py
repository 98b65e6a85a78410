"""TLS on the ingress without a configured certificate: the self-signed one `up` makes, whose fingerprint
`up` and `status` print and a LAN client then sees."""

from __future__ import annotations

import hashlib
import json
import re
import ssl
import time
from pathlib import Path

import pytest

from tests.isolation.conftest import LAN_HOST, Lab, launch
from tests.isolation.test_service import REMOTE_ENGINE
from tests.isolation.tls_client import https

pytestmark = [pytest.mark.root, pytest.mark.slow]


def _colons(digest: bytes) -> str:
    return ":".join(f"{byte:02X}" for byte in digest)


def _printed_fingerprints(log: Path, timeout_s: float = 10) -> list[str]:
    """The fingerprints in `up`'s banner, which comes a moment after the gateway already answers."""
    deadline = time.monotonic() + timeout_s
    while not (found := re.findall(r"SHA-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})", log.read_text())):
        if time.monotonic() > deadline:
            return []
        time.sleep(0.1)
    return found


def test_self_signed_fingerprint_is_printed_and_served(lab: Lab, tmp_path: Path) -> None:
    """`up` prints the SHA-256 fingerprint of the certificate it made, `status` reports the same, and a
    LAN client trusting that file gets exactly that certificate for the ingress address."""
    config = tmp_path / "medvault.toml"
    config.write_text(lab.toml() + REMOTE_ENGINE)
    run = launch(lab, config, tmp_path / "up.log")
    try:
        run.wait_ready(f"https://127.0.0.1:{lab.policy.ingress.port}/healthz", timeout_s=90)
        printed = _printed_fingerprints(run.log)
        status = json.loads(run.cli("status", "--json").stdout)  # not ready: the remote engine is fictional
        reported = status["tls"]
        client = ssl.create_default_context(cafile=str(run.certificate()))
        answer = https(lab.lan, LAN_HOST, lab.policy.ingress.port, client, "/healthz")
    finally:
        run.process.terminate()
        run.process.wait(timeout=60)
        run.cli("isolation", "reset", "--yes")
    seen = _colons(hashlib.sha256(answer.peer_cert).digest())
    assert answer.status == 200 and printed == [seen], run.tail()
    assert reported == {"certificate": str(run.certificate()), "sha256": seen}
    assert status["models"] == {"remote": False}  # /readyz answered `status` through the pinned certificate
