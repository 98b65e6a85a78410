"""The persisted isolation state and the drift-audit text helpers (no root needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from medvault.isolation import read_state
from medvault.isolation._nft import is_dormant, normalise
from medvault.isolation._state import record_verify, state_path, verify_path, write_state


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


def test_last_verify_is_read_with_the_state_it_verified_and_only_with_it(tmp_path: Path) -> None:
    """A recorded verify shows with its state; a newer state (a breach) hides it; no state: nothing."""
    assert not record_verify(tmp_path, read_state(tmp_path).get("since"), True, [])  # off: no state
    assert not verify_path(tmp_path).exists()
    ok = write_state(tmp_path, state="ok", host_netns="demo")
    assert "verified_at" not in read_state(tmp_path)  # never verified
    assert record_verify(tmp_path, ok["since"], True, [])
    state = read_state(tmp_path)
    verified_at = datetime.fromisoformat(state["verified_at"])
    assert verified_at.tzinfo == UTC and abs((datetime.now(UTC) - verified_at).total_seconds()) < 60
    assert (state["verify_ok"], state["verify_failed"]) == (True, [])
    write_state(tmp_path, state="breached", reason="probe got out", host_netns="demo")
    breached = read_state(tmp_path)
    assert breached["state"] == "breached" and "verified_at" not in breached and "verify_ok" not in breached
    assert record_verify(tmp_path, breached["since"], False, ["state"])
    assert read_state(tmp_path)["verify_failed"] == ["state"]


def test_a_damaged_verify_record_never_reads_as_a_pass(tmp_path: Path) -> None:
    """An unreadable record of the current state reads as a failed verify, not as none or a pass."""
    ok = write_state(tmp_path, state="ok")
    record_verify(tmp_path, ok["since"], True, [])
    verify_path(tmp_path).write_text('{"since": "' + ok["since"] + '", "ok": true}')  # no verified_at
    state = read_state(tmp_path)
    assert state["verify_ok"] is False and "unreadable" in state["verify_failed"][0]
