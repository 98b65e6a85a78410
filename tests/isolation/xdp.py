"""A minimal XDP program (`return XDP_PASS`) attached in generic mode through a BPF link, with the bpf()
syscall only (no compiler, no object file): the XDP fault of the integrity tests and the benchmark.

    ip netns exec HOST python -m tests.isolation.xdp DEVICE [SECONDS]

attaches it to DEVICE and returns once attached; a child keeps the link (and so the program) for
SECONDS (default 10). In-process, `attach_xdp` returns the link's fd: closing it detaches the program.
"""

from __future__ import annotations

import ctypes
import os
import socket
import struct
import sys
import time

_NR_BPF = {"x86_64": 321, "aarch64": 280}
_BPF_PROG_LOAD, _BPF_LINK_CREATE = 5, 28
_PROG_TYPE_XDP, _BPF_XDP, _XDP_FLAGS_SKB_MODE = 6, 37, 2
_libc = ctypes.CDLL(None, use_errno=True)


def _bpf(cmd: int, attr: bytes) -> int:
    buf = ctypes.create_string_buffer(attr, 128)
    fd = int(_libc.syscall(_NR_BPF[os.uname().machine], cmd, buf, 128))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"bpf() command {cmd}: {os.strerror(err)}")
    return fd


def attach_xdp(netns: str | None, device: str) -> int:
    """Load `r0 = XDP_PASS; exit` and attach it to `device` in `netns`; returns the BPF link's fd."""
    insns = struct.pack("<BBhi", 0xB7, 0, 0, 2) + struct.pack("<BBhi", 0x95, 0, 0, 0)
    code, license_ = ctypes.create_string_buffer(insns, len(insns)), ctypes.create_string_buffer(b"GPL")
    # bpf_attr of BPF_PROG_LOAD: type, insn count, insns, license, no log, name, expected attach type
    load = struct.pack(
        "<IIQQIIQII16sII", _PROG_TYPE_XDP, 2, ctypes.addressof(code), ctypes.addressof(license_),
        0, 0, 0, 0, 0, b"mv_test_xdp", 0, _BPF_XDP,
    )  # fmt: skip
    prog = _bpf(_BPF_PROG_LOAD, load)

    def attach() -> int:  # the ifindex is looked up in the namespace the link is created in
        index = socket.if_nametoindex(device)
        return _bpf(_BPF_LINK_CREATE, struct.pack("<IIII", prog, index, _BPF_XDP, _XDP_FLAGS_SKB_MODE))

    try:
        if netns is None:
            return attach()
        # Imported here: the command line (a benchmark fault, whose start-up counts in the measured
        # containment time) starts faster without MedVault's imports.
        from medvault.isolation import _sys

        return _sys.call_in(netns, attach)
    finally:
        os.close(prog)


if __name__ == "__main__":
    link = attach_xdp(None, sys.argv[1])
    if os.fork() == 0:  # the child holds the link; the parent returns at once, like `ip link set`
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # let go of the caller's pipes, or it would wait for the child
            os.dup2(devnull, fd)
        time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 10)
        os._exit(0)
    os._exit(0)
