"""nftables: validate, apply, read back, and compare the host firewall in canonical form.

The canonical form of a table is what this very `nft` prints for it with `--stateless` (no counter
values) and without `--handle`, after loading it into an empty scratch namespace: the comparison is then
independent of how the rendered text was spelled, and of counters that move. The text listing is used
rather than JSON because nft 1.0.6's JSON output garbles table flags, and a dormant table must be seen.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator

from medvault.errors import IsolationError
from medvault.isolation import _sys
from medvault.isolation._render import TABLE

_COUNTER_VALUES = re.compile(r"packets \d+ bytes \d+")


def check(text: str, netns: str | None) -> None:
    """`nft -c -f -`: validate `text` against the kernel of `netns` without changing anything."""
    _sys.run(_sys.in_role(netns, ["nft", "-c", "-f", "-"]), input_text=text)


def apply(text: str, netns: str | None) -> None:
    """`nft -f -`: apply `text` as one atomic transaction (all of it or nothing)."""
    _sys.run(_sys.in_role(netns, ["nft", "-f", "-"]), input_text=text)


def listing(netns: str | None, table: str = TABLE) -> str | None:
    """The stateless text listing of `inet <table>` in `netns`, or None when the table does not exist."""
    argv = _sys.in_role(netns, ["nft", "--stateless", "list", "table", "inet", table])
    try:
        return normalise(_sys.run(argv))
    except IsolationError as exc:
        if "No such file or directory" in str(exc):
            return None
        raise


def normalise(text: str) -> str:
    """Strip counter values and blank lines so that only the rules remain."""
    lines = (_COUNTER_VALUES.sub("", line).rstrip() for line in text.splitlines())
    return "\n".join(line for line in lines if line.strip())


def is_dormant(text: str) -> bool:
    """True when a table listing carries `flags dormant` (its chains do not filter anything)."""
    head = text.split("chain", 1)[0].split("counter", 1)[0]
    return bool(re.search(r"^\s*flags\b.*\bdormant\b", head, re.MULTILINE))


def counters(netns: str | None, table: str = TABLE) -> dict[str, int]:
    """Packet counts of every named counter of `inet <table>`."""
    out = _sys.run(_sys.in_role(netns, ["nft", "list", "counters", "table", "inet", table]))
    return {
        name: int(packets)
        for name, packets in re.findall(r"counter (\w+) \{\s*packets (\d+)", out, flags=re.MULTILINE)
    }


@contextlib.contextmanager
def scratch_netns() -> Iterator[str]:
    """An empty, private network namespace that exists only for the duration of the block."""
    name = f"mv-scratch-{os.getpid()}-{os.urandom(3).hex()}"
    _sys.run(["ip", "netns", "add", name])
    try:
        yield name
    finally:
        _sys.run(["ip", "netns", "del", name], check=False)


def canonical(text: str, devices: Iterable[str] = ()) -> str:
    """The listing this `nft` prints for rendered `text` once loaded into an empty namespace.

    `devices` are created there first (as veth pairs: the dummy driver is not always built): chains
    hooked on a device need it to exist on kernels before 6.16.
    """
    with scratch_netns() as name:
        for index, device in enumerate(devices):
            _sys.ip(name, "link", "add", device, "type", "veth", "peer", "name", f"mv-peer{index}")
        apply(text, name)
        result = listing(name)
    if result is None:
        raise IsolationError("the rendered ruleset did not create table inet medvault")
    return result
