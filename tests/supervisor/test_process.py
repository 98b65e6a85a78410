"""Which processes a stopping child's SIGTERM goes to."""

from __future__ import annotations

from pathlib import Path

from medvault.supervisor._process import workload_pids


def _proc(root: Path, table: list[tuple[int, str, int]]) -> Path:
    for pid, name, ppid in table:
        (root / str(pid)).mkdir()
        (root / str(pid) / "stat").write_text(f"{pid} ({name}) S {ppid} {pid} {pid} 0 -1\n")
    return root


def test_a_sandbox_gets_its_workload_signalled_not_bwrap(tmp_path: Path) -> None:
    """Under bwrap, the workload and its children get the SIGTERM, never bwrap's own processes."""
    proc = _proc(
        tmp_path,
        [(1, "systemd", 0), (10, "bwrap", 1), (11, "bwrap", 10), (12, "python3 (gw)", 11), (13, "llama", 12)],
    )
    assert workload_pids(10, proc) == [12, 13]


def test_an_unsandboxed_child_is_signalled_itself(tmp_path: Path) -> None:
    """Without a sandbox the child is the workload: nothing else is chosen for it."""
    proc = _proc(tmp_path, [(1, "systemd", 0), (20, "python3", 1), (21, "worker", 20)])
    assert workload_pids(20, proc) == []
    assert workload_pids(99, proc) == []
