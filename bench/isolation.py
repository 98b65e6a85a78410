"""Isolation benchmark: breach-to-containment latency per fault kind, and the monitor's CPU cost.

Run as root (it builds its own host-role namespace; nothing touches the machine's network):

    .venv/bin/python bench/isolation.py --runs 20 --cpu-seconds 30 --write bench/results-isolation.md

Latency is measured from just before the fault command starts to the moment `on_breach` is called,
which the monitor does only after the kill switch has applied the panic ruleset, set the links down,
SIGKILLed every zone process and persisted the `breached` state; the workloads' exit is then confirmed.
Targets: p99 <= 1 s, CPU <= 2 % of one core at the default interval (1 s). Fault kinds the kernel refuses
(an `nft` expression or tc classifier that is not built) are reported as such, not measured.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from medvault.isolation import Isolation, IsolationPolicy, build_isolation

_PRE = (
    "nft add table ip x && nft add chain ip x pre '{{ type filter hook prerouting priority -300; }}' && "
    'nft add rule ip x pre iifname "mv-dmz" udp dport 5353 '
)
FAULTS = {
    "flush": "nft flush table inet medvault",
    "delete": "nft delete table inet medvault",
    "dormant": "nft add table inet medvault '{{ flags dormant; }}'",
    "accept-ahead": "nft insert rule inet medvault forward accept",
    "route+rule": "ip -n {vault} route add default via {gw} && "
    'nft insert rule inet medvault forward iifname "mv-vault" accept',
    "route-only": "ip -n {vault} route add 203.0.113.0/24 via {gw}",
    # Foreign hooks beside MedVault's table (the whole-firewall integrity audit, issue 8).
    "foreign dup": _PRE + "dup to 192.0.2.254",
    "foreign queue": _PRE + "queue num 3 bypass",
    "foreign fwd": "nft add table netdev x && nft add chain netdev x a "
    '\'{{ type filter hook ingress device "lo" priority 0; }}\' && nft add rule netdev x a fwd to "mv-dmz"',
    "tc filter": "tc qdisc add dev mv-dmz clsact && "
    "tc filter add dev mv-dmz ingress u32 match u32 0 0 action mirred egress mirror dev mv-vault",
    "xdp": f"cd {Path(__file__).resolve().parents[1]} && {sys.executable} -m tests.isolation.xdp mv-dmz",
}
# What a fault leaves in the host role beyond the zones and their links (which `reset` removes).
CLEANUP = "nft delete table ip x; nft delete table netdev x; true"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _one_breach(iso: Isolation, host: str, fault: str) -> float:
    iso.up()
    workloads = [
        subprocess.Popen([*iso.exec_prefix(zone), "sleep", "600"], stdout=subprocess.DEVNULL)
        for zone in iso.links
    ]
    breached = threading.Event()
    at: list[float] = []

    def on_breach(_reason: str) -> None:
        at.append(time.monotonic())
        breached.set()

    monitor = iso.start_monitor(on_breach, lambda reason: print("monitor failed:", reason))
    try:
        vault = iso.links["vault"]
        command = FAULTS[fault].format(vault=vault.netns, gw=vault.host_addr)
        started = time.monotonic()
        done = subprocess.run(
            ["ip", "netns", "exec", host, "sh", "-c", command], capture_output=True, text=True
        )
        if done.returncode != 0:
            errors = [line for line in done.stderr.splitlines() if "Error" in line] or ["refused"]
            raise Refused(errors[0].strip())
        if not breached.wait(10):
            raise RuntimeError(f"fault {fault} was not detected within 10 s")
        for workload in workloads:
            workload.wait(timeout=5)
        return max(0.0, at[0] - started)
    finally:
        monitor.stop()
        for workload in workloads:
            if workload.poll() is None:
                workload.kill()
                workload.wait()
        iso.reset()
        subprocess.run(["ip", "netns", "exec", host, "sh", "-c", CLEANUP], capture_output=True)


class Refused(Exception):
    """The kernel refused to set up a fault (an expression or classifier it was built without)."""


def measure_latency(iso: Isolation, host: str, runs: int) -> tuple[dict[str, list[float]], dict[str, str]]:
    """Seconds from each injected fault to completed containment, per fault kind; and the kinds the
    kernel refused, with its reason."""
    latency: dict[str, list[float]] = {}
    refused: dict[str, str] = {}
    for fault in FAULTS:
        try:
            latency[fault] = [_one_breach(iso, host, fault) for _ in range(runs)]
        except Refused as exc:
            refused[fault] = str(exc)
    return latency, refused


def measure_cpu(iso: Isolation, seconds: float) -> float:
    """CPU of the monitor (its threads and the tools it runs) as a percentage of one core."""
    iso.up()
    monitor = iso.start_monitor(lambda r: print("breach:", r), lambda r: print("failure:", r))
    try:
        time.sleep(2)  # past start-up
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.monotonic()
        time.sleep(seconds)
        me2, kids2 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        elapsed = time.monotonic() - wall
    finally:
        monitor.stop()
        iso.down()
    used = (me2.ru_utime + me2.ru_stime - me.ru_utime - me.ru_stime) + (
        kids2.ru_utime + kids2.ru_stime - kids.ru_utime - kids.ru_stime
    )
    return 100 * used / elapsed


def report(
    latency: dict[str, list[float]], refused: dict[str, str], cpu: float, runs: int, seconds: float
) -> str:
    rows = [
        f"| {fault} | {len(v)} | {1000 * statistics.median(v):.0f} | {1000 * _percentile(v, 0.99):.0f} | "
        f"{1000 * max(v):.0f} |"
        for fault, v in latency.items()
    ]
    rows += [f"| {fault} | refused by this kernel: {why} | | | |" for fault, why in refused.items()]
    every = [x for v in latency.values() for x in v]
    return "\n".join(
        [
            "# Isolation benchmark",
            "",
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} CPUs, "
            f"kernel {platform.release()}), `bench/isolation.py --runs {runs} --cpu-seconds {seconds:g}`.",
            "",
            "## Breach to containment",
            "",
            "From just before the fault command starts (its own start-up counts against us) to `on_breach`,",
            "which comes after the panic rules, links down, SIGKILL of every zone process, persisted state.",
            "",
            "| fault | runs | p50 ms | p99 ms | max ms |",
            "| --- | --- | --- | --- | --- |",
            *rows,
            f"| **all** | {len(every)} | {1000 * statistics.median(every):.0f} | "
            f"{1000 * _percentile(every, 0.99):.0f} | {1000 * max(every):.0f} |",
            "",
            "Target p99 <= 1000 ms: " + ("met" if _percentile(every, 0.99) <= 1.0 else "NOT met"),
            "",
            "## Monitor CPU at the default interval (1 s)",
            "",
            f"{cpu:.2f} % of one core over {seconds:g} s (probe threads, netlink watch, periodic audits "
            f"including the `nft`/`ip` processes they run). Target <= 2 %: "
            + ("met" if cpu <= 2 else "NOT met"),
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="injected breaches per fault kind")
    parser.add_argument("--cpu-seconds", type=float, default=30.0)
    parser.add_argument("--write", type=Path, help="also write the markdown report here")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the benchmark builds network namespaces")
    tag = os.urandom(3).hex()
    host = f"mvb-{tag}-host"
    policy = IsolationPolicy.model_validate(
        {"netns_prefix": f"mvb-{tag}", "monitor": {"targets": ["203.0.113.10"]}}
    )
    with tempfile.TemporaryDirectory() as data:
        iso = build_isolation(policy, data_dir=Path(data), host_netns=host)
        iso.preflight()
        try:
            latency, refused = measure_latency(iso, host, args.runs)
            cpu = measure_cpu(iso, args.cpu_seconds)
        finally:
            iso.down()
            subprocess.run(["ip", "netns", "del", host], check=False, capture_output=True)
    text = report(latency, refused, cpu, args.runs, args.cpu_seconds)
    print(text)
    if args.write:
        args.write.write_text(text)


if __name__ == "__main__":
    main()
