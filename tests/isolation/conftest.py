"""The isolation lab: a host-role namespace, a `lan` client and a fake `internet`, all made by the tests.

Nothing touches the machine's real network: the host role is a namespace of its own, its default route
points into the fake internet (documentation addresses only), and the zones hang off it.

    lan (198.51.100.10) ── lan0 ─┐                     ┌─ up0 ── internet (192.0.2.254; 203.0.113.x and
                                 host role (test netns)                     2001:db8:1::x on lo; listeners)
                   zones: mv-dmz ┘ mv-vault
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from medvault.config import load_settings
from medvault.isolation import Isolation, IsolationPolicy, _nft, build_isolation
from medvault.isolation._probes import Probe, ProbeResult, ZoneProber
from medvault.tls import direct_opener, served_files
from tests.conftest import require, require_root

REPO = Path(__file__).resolve().parents[2]
TARGET4, TARGET6 = "203.0.113.10", "2001:db8:1::10"
AIRLOCK, NEIGHBOUR, RESOLVER = "203.0.113.20", "203.0.113.21", "203.0.113.53"
INTERNET_ADDRS = [TARGET4, AIRLOCK, NEIGHBOUR, RESOLVER, TARGET6]
TCP_PORTS = [22, 25, 53, 80, 443, 853, 3128, 5432, 8080, 636, 637]
UDP_PORTS = [53, 123, 443]
LAN_HOST, LAN_CLIENT = "198.51.100.1", "198.51.100.10"
GATEWAY_PORT, ENGINE_PORT = 8080, 8100
HIGH_PORT = random.randint(20000, 60999)  # the battery's "random" high port; the fake internet listens
HOST_SERVICE_PORT = 2222  # a service listening in the host role, which no zone may reach
# Numeric, so the tests never add a user to the machine; `medvault up` creates named ones if missing.
DMZ_USER, VAULT_USER = "64123:64123", "64124:64124"


def sh(
    *argv: str, check: bool = True, timeout: float = 30, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command and return its result (stdout and stderr as text)."""
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=timeout, env=env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Lab:
    """The test-made namespaces around the isolation under test."""

    tag: str
    host: str
    lan: str
    internet: str
    hits: Path
    data_dir: Path
    policy: IsolationPolicy
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def hit_lines(self) -> list[dict[str, object]]:
        """Every hit the fake internet recorded so far."""
        if not self.hits.exists():
            return []
        return [json.loads(line) for line in self.hits.read_text().splitlines() if line]

    def settled_hits(self, quiet_s: float = 0.3) -> list[dict[str, object]]:
        """The hits once the fake internet has recorded nothing new for `quiet_s` (it logs asynchronously)."""
        hits = self.hit_lines()
        while True:
            time.sleep(quiet_s)
            latest = self.hit_lines()
            if len(latest) == len(hits):
                return latest
            hits = latest

    def toml(self) -> str:
        """medvault.toml text with this lab's isolation policy."""
        policy = self.policy
        return f"""
[isolation]
netns_prefix = "{policy.netns_prefix}"
vault_ports = {policy.vault_ports}
dmz_user = "{policy.dmz_user}"
vault_user = "{policy.vault_user}"

[isolation.ingress]
address = "{policy.ingress.address}"
port = {policy.ingress.port}
clients = ["198.51.100.0/24"]

[[isolation.airlocks]]
name = "ldaps"
address = "{AIRLOCK}"
port = 636

[isolation.monitor]
targets = ["{TARGET4}", "{TARGET6}"]
"""

    def isolation(self) -> Isolation:
        return build_isolation(self.policy, data_dir=self.data_dir, host_netns=self.host)

    def spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        """Start a long-running process; it is killed when the lab goes."""
        process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.processes.append(process)
        return process

    def serve_http(self, iso: Isolation, zone: str, port: int) -> subprocess.Popen[bytes]:
        """A `python -m http.server` workload in `zone`, bound to the zone's address, once it listens."""
        address = iso.zone_address(zone)
        process = self.spawn(
            [*iso.exec_prefix(zone), sys.executable, "-m", "http.server", str(port), "--bind", address]
        )
        probe = Probe("tcp", address, port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.probe(iso.links[zone].netns, [probe])[0].verdict == "reachable":
                return process
            time.sleep(0.1)
        raise TimeoutError(f"http.server in {zone} did not come up")

    def probe(
        self, netns: str, probes: list[Probe], timeout: float = 1.0, zone: str = ""
    ) -> list[ProbeResult]:
        """Run probes from inside `netns` (a zone, the host role or the lan)."""
        prober = ZoneProber(zone or netns, netns)
        try:
            return prober.run(probes, timeout)
        finally:
            prober.close()

    def probe_each(
        self, netns: str, probes: list[Probe], timeout: float = 1.0, gateway: str | None = None
    ) -> list[tuple[ProbeResult, dict[str, int]]]:
        """Run probes one at a time from `netns`, each with the counters it moved (name: packets)."""
        prober = ZoneProber(netns, netns, workers=1, gateway=gateway)
        found = []
        try:
            for probe in probes:
                before = self.counters()
                result = prober.run([probe], timeout)[0]
                after = self.counters()
                found.append((result, {k: v - before[k] for k, v in after.items() if v != before[k]}))
        finally:
            prober.close()
        return found

    def counters(self) -> dict[str, int]:
        """Packets counted by each named reject counter of the host firewall."""
        return _nft.counters(self.host)


def _build(lab: Lab) -> None:
    for ns in (lab.host, lab.lan, lab.internet):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    h, i, la = lab.host, lab.internet, lab.lan
    sh("ip", "-n", h, "link", "add", "up0", "type", "veth", "peer", "name", "eth0", "netns", i)
    sh("ip", "-n", h, "link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", la)
    commands = [
        (h, "addr add 192.0.2.1/24 dev up0"),
        (h, "-6 addr add 2001:db8:ff::1/64 dev up0 nodad"),
        (h, f"addr add {LAN_HOST}/24 dev lan0"),
        (i, "addr add 192.0.2.254/24 dev eth0"),
        (i, "-6 addr add 2001:db8:ff::2/64 dev eth0 nodad"),
        (la, f"addr add {LAN_CLIENT}/24 dev eth0"),
        *((i, f"addr add {a}/32 dev lo") for a in INTERNET_ADDRS if ":" not in a),
        *((i, f"-6 addr add {a}/128 dev lo") for a in INTERNET_ADDRS if ":" in a),
        (h, "link set up0 up"),
        (h, "link set lan0 up"),
        (i, "link set eth0 up"),
        (la, "link set eth0 up"),
        (h, "route add default via 192.0.2.254"),
        (h, "-6 route add default via 2001:db8:ff::2"),
        (i, "route add default via 192.0.2.1"),
        (i, "-6 route add default via 2001:db8:ff::1"),
        (la, f"route add default via {LAN_HOST}"),
    ]
    for ns, command in commands:
        sh("ip", "-n", ns, *command.split())
    listen_tcp = [*TCP_PORTS, HIGH_PORT]
    lab.spawn(
        [
            "ip", "netns", "exec", i, sys.executable, "-m", "tests.isolation.fakenet", "--log", str(lab.hits),
            "--addr", *INTERNET_ADDRS, "--tcp", *map(str, listen_tcp), "--udp", *map(str, UDP_PORTS),
        ]
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while not Path(f"{lab.hits}.ready").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the fake internet did not start")
        time.sleep(0.05)


def _teardown(lab: Lab) -> None:
    for process in lab.processes:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    with contextlib.suppress(Exception):
        lab.isolation().down()
    for ns in (lab.host, lab.lan, lab.internet):
        sh("ip", "netns", "del", ns, check=False)
    for zone in ("dmz", "vault"):
        shutil.rmtree(Path("/etc/netns") / lab.policy.zone_netns(zone), ignore_errors=True)
    shutil.rmtree(lab.data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """A fresh lab per test module (the kill-switch tests leave theirs cut)."""
    require_root()
    require(all(shutil.which(t) for t in ("ip", "nft", "setpriv")), "needs iproute2, nftables, util-linux")
    tag = os.urandom(3).hex()
    # Not under pytest's private basetemp (mode 0700): the unprivileged workloads must reach it.
    data_dir = Path(tempfile.mkdtemp(prefix=f"mvt-{tag}-data-", dir="/tmp"))
    policy = IsolationPolicy.model_validate(
        {
            "netns_prefix": f"mvt-{tag}",
            "vault_ports": [ENGINE_PORT],
            "dmz_user": DMZ_USER,
            "vault_user": VAULT_USER,
            "ingress": {"address": LAN_HOST, "port": free_port(), "clients": ["198.51.100.0/24"]},
            "airlocks": [{"name": "ldaps", "address": AIRLOCK, "port": 636}],
            "monitor": {"targets": [TARGET4, TARGET6]},
        }
    )
    lab = Lab(
        tag=tag,
        host=f"mvt-{tag}-host",
        lan=f"mvt-{tag}-lan",
        internet=f"mvt-{tag}-inet",
        hits=data_dir / "hits.jsonl",
        data_dir=data_dir,
        policy=policy,
    )
    try:
        _build(lab)
        # The zones see the fake resolver, as `ip netns exec` would show them /etc/netns/<zone>/resolv.conf.
        for zone in ("dmz", "vault"):
            conf = Path("/etc/netns") / policy.zone_netns(zone)
            conf.mkdir(parents=True, exist_ok=True)
            (conf / "resolv.conf").write_text(f"nameserver {RESOLVER}\nnameserver 2001:db8:1::10\n")
        yield lab
    finally:
        _teardown(lab)


@pytest.fixture(scope="module")
def iso(lab: Lab) -> Iterator[Isolation]:
    """Isolation up in the lab, with a gateway in the dmz, an engine in the vault, and ingress open."""
    isolation = lab.isolation()
    isolation.preflight()
    isolation.up()
    lab.serve_http(isolation, "dmz", GATEWAY_PORT)
    lab.serve_http(isolation, "vault", ENGINE_PORT)
    handle = isolation.expose_ingress(GATEWAY_PORT)
    yield isolation
    handle.close()
    isolation.down()


def http_ok(url: str, pin: Path | None = None) -> bool:
    """Whether `url` answers 200 (no proxy, whatever the environment says; any failure is False); an https
    `url` must present the certificate in `pin`."""
    try:
        with direct_opener(pin).open(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


MEDVAULT = [sys.executable, "-m", "medvault"]


@dataclass
class Up:
    """One `medvault up` process and how to talk to it."""

    process: subprocess.Popen[bytes]
    env: dict[str, str]
    config: Path
    log: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [*MEDVAULT, *args, "--config", str(self.config)]
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=120)

    def tail(self) -> str:
        return self.log.read_text()[-3000:]

    def certificate(self) -> Path:
        """The certificate the gateway serves on the ingress (which the tests' clients pin or trust)."""
        return served_files(load_settings(self.config, data_dir=Path(self.env["MEDVAULT_DATA_DIR"])))[0]

    def wait_ready(self, url: str, timeout_s: float) -> None:
        """Wait until `url` answers 200 (https: with the served certificate); fail with the log's tail if
        `up` exits or time runs out."""
        deadline = time.monotonic() + timeout_s
        pin = self.certificate() if url.startswith("https://") else None
        while not http_ok(url, pin):
            assert self.process.poll() is None and time.monotonic() < deadline, self.tail()
            time.sleep(0.3)


def launch(lab: Lab, config: Path, log: Path) -> Up:
    """Start `medvault up --host-netns` in the lab (its output in `log`); see `Up.wait_ready`."""
    env = {
        **os.environ,
        "MEDVAULT_DATA_DIR": str(lab.data_dir),
        "MEDVAULT_ADMIN_KEY": "mv-test-" + os.urandom(8).hex(),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*MEDVAULT, "up", "--host-netns", lab.host, "--config", str(config)],
            env=env,
            stdout=out,
            stderr=out,
        )
    return Up(process, env, config, log)
