"""Isolation benchmark: breach-to-containment latency per fault kind, and the monitor's CPU cost.

Run as root (it builds its own host-role namespace; nothing touches the machine's network):

    .venv/bin/python bench/isolation.py --runs 20 --cpu-seconds 30 --write bench/results-isolation.md

Latency is measured from just before the fault command starts to the moment `on_breach` is called,
which the monitor does only after the kill switch has applied the panic ruleset, set the links down,
SIGKILLed every zone process and persisted the `breached` state; the workloads' exit is then confirmed.
Targets: p99 <= 1 s, CPU <= 2 % of one core at the default interval (1 s).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from medvault.isolation import Isolation, IsolationPolicy, build_isolation

FAULTS = {
    "flush": "nft flush table inet medvault",
    "delete": "nft delete table inet medvault",
    "dormant": "nft add table inet medvault '{{ flags dormant; }}'",
    "accept-ahead": "nft insert rule inet medvault forward accept",
    "route+rule": "ip -n {vault} route add default via {gw} && "
    'nft insert rule inet medvault forward iifname "mv-vault" accept',
    "route-only": "ip -n {vault} route add 203.0.113.0/24 via {gw}",
}


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
        subprocess.run(["ip", "netns", "exec", host, "sh", "-c", command], check=True)
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


def measure_latency(iso: Isolation, host: str, runs: int) -> dict[str, list[float]]:
    """Seconds from each injected fault to completed containment, per fault kind."""
    return {fault: [_one_breach(iso, host, fault) for _ in range(runs)] for fault in FAULTS}


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


def report(latency: dict[str, list[float]], cpu: float, runs: int, seconds: float) -> str:
    rows = [
        f"| {fault} | {len(v)} | {1000 * statistics.median(v):.0f} | {1000 * _percentile(v, 0.99):.0f} | "
        f"{1000 * max(v):.0f} |"
        for fault, v in latency.items()
    ]
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
            latency = measure_latency(iso, host, args.runs)
            cpu = measure_cpu(iso, args.cpu_seconds)
        finally:
            iso.down()
            subprocess.run(["ip", "netns", "del", host], check=False, capture_output=True)
    text = report(latency, cpu, args.runs, args.cpu_seconds)
    print(text)
    if args.write:
        args.write.write_text(text)


if __name__ == "__main__":
    main()
