"""The whole topology in test-made namespaces: zones, firewall, egress battery, airlocks, ingress."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request

import pytest

from medvault.isolation import Isolation, Verdict, _sys
from medvault.isolation._probes import Probe, egress_probes
from tests.isolation.conftest import (
    AIRLOCK,
    ENGINE_PORT,
    GATEWAY_PORT,
    HIGH_PORT,
    HOST_SERVICE_PORT,
    LAN_HOST,
    NEIGHBOUR,
    RESOLVER,
    TARGET4,
    TARGET6,
    Lab,
    sh,
)

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_zones_are_namespaces_with_their_own_links(lab: Lab, iso: Isolation) -> None:
    """Each zone is its own namespace with its addresses, and routes and sysctls are as created."""
    status = iso.status()
    assert status["state"] == "ok"
    assert status["host_netns"] == lab.host
    zones = {zone["name"]: zone for zone in status["zones"]}
    assert set(zones) == {"dmz", "vault"}
    assert zones["dmz"]["netns"] != zones["vault"]["netns"]
    assert iso.zone_address("dmz") in zones["dmz"]["addresses"]
    assert any(p["name"].startswith("python") for p in zones["vault"]["processes"])
    assert iso.zone_problems() == []


def test_live_ruleset_equals_rendered(iso: Isolation) -> None:
    """The drift audit finds the live table identical to the rendered one, not dormant."""
    assert iso.drift() == []


def test_vault_has_no_route_but_to_the_gateway(iso: Isolation) -> None:
    """The vault's only route off its link leads to the gateway's address."""
    routes = sh("ip", "-n", iso.links["vault"].netns, "route", "show").stdout
    assert "default" not in routes
    assert f"{iso.zone_address('dmz')} via" in routes
    assert sh("ip", "-n", iso.links["vault"].netns, "-6", "route", "show").stdout.count("default") == 0


def test_egress_battery_is_blocked_from_every_zone(lab: Lab, iso: Isolation) -> None:
    """Every egress probe from every zone is blocked, reject counters move, and the internet sees nothing."""
    before_hits, before = len(lab.settled_hits()), lab.counters()
    results = iso.probe_zones(iso.full_battery, timeout=1.0)
    not_blocked = [(r.zone, r.probe.label(), r.detail) for r in results if r.verdict is not Verdict.BLOCKED]
    assert not_blocked == []
    kinds = {(r.zone, r.probe.kind, ":" in r.probe.target) for r in results}
    for zone in ("dmz", "vault"):
        for kind in ("icmp", "tcp", "udp", "dns"):
            assert (zone, kind, False) in kinds and (zone, kind, True) in kinds
    assert any(r.probe.target == RESOLVER and r.probe.kind == "dns" for r in results)
    assert any(r.probe.scope for r in results), "IPv6 link-local escapes must be part of the battery"
    # Each blocked probe was either rejected by the host (its zone's reject counters moved at least as
    # often) or never left the zone because the zone has no route for it (IPv6, and the vault).
    rejected = {
        zone: [r for r in results if r.zone == zone and _rejected_by_host(r.detail)] for zone in iso.links
    }
    no_route = [r for r in results if not _rejected_by_host(r.detail)]
    assert {r.detail for r in no_route} <= {"Network is unreachable", "Cannot assign requested address"}
    assert all(":" in r.probe.target or r.zone == "vault" for r in no_route)
    after = lab.counters()
    for zone in iso.links:
        moved = sum(
            after[f"{zone}_{hook}_reject"] - before[f"{zone}_{hook}_reject"]
            for hook in ("link", "input", "forward", "noroute")
        )
        assert moved >= len(rejected[zone]) > 0, (zone, moved)
    assert after["dmz_link_reject"] > before["dmz_link_reject"]
    assert len(lab.settled_hits()) == before_hits


def test_positive_controls_from_the_host_role(lab: Lab, iso: Isolation) -> None:
    """The same targets are reachable from the host role, so the blocked verdicts are not a broken path."""
    monitor = iso.policy.monitor
    probes = egress_probes([TARGET4, TARGET6], monitor.tcp_ports, monitor.udp_ports, [RESOLVER])
    before = len(lab.hit_lines())
    results = lab.probe(lab.host, probes)
    assert [r.as_dict() for r in results if r.verdict is not Verdict.REACHABLE] == []
    assert len(lab.settled_hits()) > before


def _zone_counters(moved: dict[str, int], zone: str) -> int:
    return sum(packets for name, packets in moved.items() if name.startswith(f"{zone}_"))


def test_each_blocked_probe_has_a_counter_and_a_control(lab: Lab, iso: Isolation) -> None:
    """Assume breach (the vault gets a default route, as a workload with NET_ADMIN would add): every IPv4
    probe from every zone is blocked by a host rule whose counter moves for that very probe, and the same
    probe (same target, same port, the high port included) succeeds from outside the zones: internet
    targets from the host role, with a hit recorded; host addresses from the lan."""
    vault = iso.links["vault"]
    listener = _sys.call_in(lab.host, lambda: socket.create_server(("0.0.0.0", HOST_SERVICE_PORT)))
    sh("ip", "-n", vault.netns, "route", "add", "default", "via", str(vault.host_addr))
    try:
        for zone, link in iso.links.items():
            battery = [p for p in iso.full_battery(zone, HIGH_PORT) if ":" not in p.target]
            host_addrs = {p.target for p in iso.host_probes()}
            assert any(p.port == HIGH_PORT for p in battery)
            assert any(p.port == HOST_SERVICE_PORT for p in battery)
            hits = len(lab.settled_hits())
            for result, moved in lab.probe_each(link.netns, battery, gateway=str(link.host_addr)):
                assert result.verdict is Verdict.BLOCKED, result.as_dict()
                assert _zone_counters(moved, zone) >= 1, (result.probe.label(), moved)
            assert len(lab.settled_hits()) == hits
            outward = [p for p in battery if p.target not in host_addrs]
            for probe, control in zip(outward, lab.probe(lab.host, outward), strict=True):
                assert control.verdict is Verdict.REACHABLE, control.as_dict()
                if probe.kind != "icmp":
                    seen = lab.settled_hits()[hits:]
                    assert any(h["dst"] == probe.target and h["port"] == probe.port for h in seen), probe
            inward = [p for p in battery if p.target in host_addrs]
            controls = lab.probe(lab.lan, inward)
            assert [r.as_dict() for r in controls if r.verdict is not Verdict.REACHABLE] == []
            service = Probe("tcp", str(link.host_addr), HOST_SERVICE_PORT)
            assert lab.probe(lab.lan, [service])[0].detail == "connected"
    finally:
        sh("ip", "-n", vault.netns, "route", "del", "default")
        listener.close()
    assert iso.zone_problems() == []


def test_ingress_refuses_clients_outside_the_allowed_networks(lab: Lab, iso: Isolation) -> None:
    """A client in the internet namespace (not in ingress.clients) is rejected at the ingress with a
    counter, while the lan client gets through on the same address and port."""
    probe = Probe("tcp", LAN_HOST, iso.policy.ingress.port)
    [(outsider, moved)] = lab.probe_each(lab.internet, [probe])
    assert outsider.verdict is Verdict.BLOCKED, outsider.as_dict()
    assert moved.get("inbound_forward_reject", 0) >= 1, moved
    assert lab.probe(lab.lan, [probe])[0].detail == "connected"


def test_airlock_is_exactly_one_address_and_port(lab: Lab, iso: Isolation) -> None:
    """The pinned IP:port works from the dmz; another port, a neighbour IP, and the vault all fail."""
    dmz, vault = iso.links["dmz"].netns, iso.links["vault"].netns
    assert lab.probe(dmz, [Probe("tcp", AIRLOCK, 636)])[0].verdict is Verdict.REACHABLE
    assert lab.settled_hits()[-1] == {"proto": "tcp", "src": "192.0.2.1", "dst": AIRLOCK, "port": 636}
    before = len(lab.hit_lines())
    others = lab.probe(
        dmz, [Probe("tcp", AIRLOCK, 637), Probe("tcp", NEIGHBOUR, 636), Probe("udp", AIRLOCK, 636)]
    )
    others += lab.probe(vault, [Probe("tcp", AIRLOCK, 636)])
    assert [r.verdict for r in others] == [Verdict.BLOCKED] * 4
    assert len(lab.settled_hits()) == before


def test_gateway_reaches_the_engine_port_only(lab: Lab, iso: Isolation) -> None:
    """The dmz reaches the vault's engine port and no other; the vault cannot open connections to the dmz."""
    dmz, vault = iso.links["dmz"].netns, iso.links["vault"].netns
    engine = iso.zone_address("vault")
    assert lab.probe(dmz, [Probe("tcp", engine, ENGINE_PORT)])[0].verdict is Verdict.REACHABLE
    assert lab.probe(dmz, [Probe("tcp", engine, ENGINE_PORT + 1)])[0].verdict is Verdict.BLOCKED
    assert (
        lab.probe(vault, [Probe("tcp", iso.zone_address("dmz"), GATEWAY_PORT)])[0].verdict is Verdict.BLOCKED
    )


def test_ingress_lan_reaches_the_gateway_and_nothing_else(lab: Lab, iso: Isolation) -> None:
    """The lan client reaches the gateway through DNAT, but not the zones' addresses or the engine."""
    port = iso.policy.ingress.port
    results = lab.probe(
        lab.lan,
        [
            Probe("tcp", LAN_HOST, port),
            Probe("tcp", iso.zone_address("dmz"), GATEWAY_PORT),
            Probe("tcp", iso.zone_address("vault"), ENGINE_PORT),
            Probe("icmp", iso.zone_address("dmz")),
        ],
    )
    assert [r.verdict for r in results] == [Verdict.REACHABLE, *[Verdict.BLOCKED] * 3]
    fetch = f"import urllib.request; print(urllib.request.urlopen('http://{LAN_HOST}:{port}/').status)"
    page = sh("ip", "netns", "exec", lab.lan, sys.executable, "-c", fetch)
    assert page.stdout.strip() == "200"


def test_loopback_bridge_reaches_the_gateway(iso: Isolation) -> None:
    """The machine's 127.0.0.1:<ingress port> reaches the gateway without touching root-namespace routes."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{iso.policy.ingress.port}/", timeout=5) as response:
        assert response.status == 200


def test_workloads_run_without_network_capabilities(iso: Isolation) -> None:
    """A zone workload has no capabilities at all, so no raw sockets and no netlink administration."""
    status = sh(*iso.exec_prefix("vault"), "grep", "^Cap\\|^Uid\\|^NoNewPrivs", "/proc/self/status").stdout
    fields = dict(line.split(":\t") for line in status.splitlines())
    for name in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh"):
        assert int(fields[name], 16) == 0, status
    assert fields["Uid"].split() == [str(iso.zone_user("vault").uid)] * 4 and fields["NoNewPrivs"] == "1"
    open_raw = "import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)"
    raw = sh(*iso.exec_prefix("dmz"), sys.executable, "-c", open_raw, check=False)
    assert raw.returncode != 0 and "PermissionError" in raw.stderr
    route = sh(*iso.exec_prefix("vault"), "ip", "route", "add", "default", "dev", "eth0", check=False)
    assert route.returncode != 0


_ESCAPE_ATTEMPTS = """
import errno, json, os, signal, sys
data, supervisor, peer = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def attempt(work):
    try:
        work()
        return "done"
    except OSError as exc:
        return errno.errorcode[exc.errno]
def append(path):
    with open(path, "a") as fh:
        fh.write("x")
print(json.dumps({
    "uid": os.getuid(), "euid": os.geteuid(), "groups": os.getgroups(),
    "read_db": attempt(lambda: open(f"{data}/medvault.db").read()),
    "write_db": attempt(lambda: append(f"{data}/medvault.db")),
    "create_wal": attempt(lambda: append(f"{data}/medvault.db-wal")),
    "write_state": attempt(lambda: append(f"{data}/isolation/state.json")),
    "replace_state": attempt(lambda: os.rename(f"{data}/medvault.db-wal", f"{data}/isolation/state.json")),
    "move_isolation_dir": attempt(lambda: os.rename(f"{data}/isolation", f"{data}/old")),
    "read_admin_key": attempt(lambda: open(f"{data}/admin.key").read()),
    "replace_admin_key": attempt(lambda: os.rename(f"{data}/medvault.db-wal", f"{data}/admin.key")),
    "write_run": attempt(lambda: append(f"{data}/run/supervisor.json")),
    "signal_supervisor": attempt(lambda: os.kill(supervisor, signal.SIGSTOP)),
    "signal_init": attempt(lambda: os.kill(1, 0)),
    "signal_other_zone": attempt(lambda: os.kill(peer, signal.SIGKILL)),
}))
"""
# Each zone runs in its own sandbox: the supervisor and the other zone's processes are not even visible
# (ESRCH), pid 1 is the sandbox's own root-owned init (EPERM).
_SIGNALS = {"signal_supervisor": "ESRCH", "signal_init": "EPERM", "signal_other_zone": "ESRCH"}
# The gateway sees the data directory as `up` mounts it: it owns the database files; root's files stay
# root's (the modes answer first: EACCES, and the sticky bit: EPERM), and run/ and isolation/ are
# read-only mounts besides (EXDEV for a rename across one). The engine does not see the data directory.
_DATA_DIR = {
    "dmz": {
        "read_db": "done",
        "write_db": "done",
        "create_wal": "done",
        "write_state": "EACCES",
        "replace_state": "EXDEV",
        "move_isolation_dir": "EPERM",
        "read_admin_key": "EACCES",
        "replace_admin_key": "EPERM",
        "write_run": "EACCES",
    },
    "vault": dict.fromkeys(
        [
            *("read_db", "write_db", "create_wal", "write_state", "replace_state", "move_isolation_dir"),
            *("read_admin_key", "replace_admin_key", "write_run"),
        ],
        "ENOENT",
    ),
}


def test_workloads_cannot_touch_root_files_or_signal_the_supervisor(lab: Lab, iso: Isolation) -> None:
    """Each zone runs as its own unprivileged user: only the gateway's may read and write the database;
    neither may touch the isolation state or admin.key, signal the supervisor or the other zone."""
    data = lab.data_dir
    db = data / "medvault.db"
    db.write_text("")
    (data / "admin.key").write_text("secret")
    os.chmod(data / "admin.key", 0o600)
    (data / "run").mkdir(exist_ok=True)
    (data / "run" / "supervisor.json").write_text("{}")
    iso.share_data_dir([db, data / "medvault.db-wal"])
    state_before = (data / "isolation" / "state.json").read_bytes()
    prefixes = {"dmz": iso.gateway_prefix([db, data / "medvault.db-wal"]), "vault": iso.exec_prefix("vault")}
    sleepers = {zone: lab.spawn([*prefix, "sleep", "60"]) for zone, prefix in prefixes.items()}
    assert iso.zone_user("dmz").uid != iso.zone_user("vault").uid
    for zone, peer in (("dmz", "vault"), ("vault", "dmz")):
        argv = [sys.executable, "-c", _ESCAPE_ATTEMPTS, str(data), str(os.getpid()), str(sleepers[peer].pid)]
        result = json.loads(sh(*prefixes[zone], *argv).stdout)
        assert result.pop("uid") == iso.zone_user(zone).uid and result.pop("euid") != 0, result
        assert 0 not in result.pop("groups"), result
        assert result == _SIGNALS | _DATA_DIR[zone], (zone, result)
    assert all(sleeper.poll() is None for sleeper in sleepers.values())  # neither zone killed the other
    assert (data / "isolation" / "state.json").read_bytes() == state_before
    assert (data / "admin.key").read_text() == "secret"
    assert db.read_text() == "x"  # the gateway's one write, nothing from the vault
    for sleeper in sleepers.values():
        sleeper.kill()
        sleeper.wait(timeout=5)


def test_verify_command_passes_and_prints_json(lab: Lab, iso: Isolation, tmp_path: os.PathLike[str]) -> None:
    """`medvault verify --json` exits 0 and reports every check ok and every probe blocked."""
    config = os.path.join(tmp_path, "medvault.toml")
    with open(config, "w") as fh:
        fh.write(lab.toml())
    env = {**os.environ, "MEDVAULT_DATA_DIR": str(lab.data_dir)}
    argv = [sys.executable, "-m", "medvault", "verify", "--json", "--config", config]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert {c["name"] for c in report["checks"]} == {"state", "firewall", "zones", "workloads"}
    assert report["probes"] and {p["verdict"] for p in report["probes"]} == {"blocked"}


def _rejected_by_host(detail: str) -> bool:
    return detail in ("No route to host", "Permission denied") or detail.startswith("administratively")


def test_host_without_a_route_still_rejects_at_once(lab: Lab, iso: Isolation) -> None:
    """With no default route in the host role (an air-gapped host), zone packets are rejected at the
    zone's link, before routing, fast and without the kernel's rate limit, so repeated probes never meet
    silence."""
    before = lab.counters()["dmz_link_reject"]
    sh("ip", "-n", lab.host, "route", "del", "default")
    try:
        probes = [Probe("icmp", TARGET4), Probe("tcp", TARGET4, 443), Probe("udp", TARGET4, 53)] * 10
        results = iso.probe_zones(lambda zone: probes if zone == "dmz" else [], timeout=0.5)
    finally:
        sh("ip", "-n", lab.host, "route", "add", "default", "via", "192.0.2.254")
    assert [(r.probe.label(), r.detail) for r in results if r.verdict is not Verdict.BLOCKED] == []
    assert lab.counters()["dmz_link_reject"] - before >= len(probes)
