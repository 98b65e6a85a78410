"""The persisted isolation state and the drift-audit text helpers (no root needed)."""

from __future__ import annotations

from pathlib import Path

from medvault.isolation import read_state
from medvault.isolation._nft import is_dormant, normalise
from medvault.isolation._state import state_path, write_state


def test_missing_state_reads_as_off(tmp_path: Path) -> None:
    """Without a state file, isolation is off with no zones."""
    assert read_state(tmp_path) == {"state": "off", "host_netns": None, "zones": []}


def test_breached_state_round_trips(tmp_path: Path) -> None:
    """A written breach is read back with its reason and time."""
    write_state(tmp_path, state="breached", reason="table deleted", host_netns="demo")
    state = read_state(tmp_path)
    assert (state["state"], state["reason"], state["host_netns"]) == ("breached", "table deleted", "demo")
    assert state["since"]


def test_unreadable_state_is_never_off(tmp_path: Path) -> None:
    """A corrupt state file reads as breached, so nothing starts on top of it."""
    path = state_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert read_state(tmp_path)["state"] == "breached"


def test_normalise_strips_counter_values_and_blank_lines() -> None:
    """Counter values and blank lines do not count as drift."""
    live = "table inet medvault {\n\tcounter x {\n\t\tpackets 12 bytes 900\n\t}\n\n\tchain input {\n\t}\n}"
    rendered = "table inet medvault {\n\tcounter x {\n\t\tpackets 0 bytes 0\n\t}\n\tchain input {\n\t}\n}"
    assert normalise(live) == normalise(rendered)


def test_dormant_flag_is_seen_in_the_text_listing() -> None:
    """`flags dormant` in the table header is detected; a comment mentioning it in a chain is not."""
    assert is_dormant("table inet medvault {\n\tflags dormant\n\tchain input {\n\t}\n}")
    assert not is_dormant('table inet medvault {\n\tchain input {\n\t\tcomment "flags dormant"\n\t}\n}')
