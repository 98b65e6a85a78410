"""What a child prints, on its way to `DATA_DIR/logs`: filtered (engines), rotated by size, purged by age.

No engine gets a log file of its own: the supervisor reads its stdout and stderr through a pipe and
writes only lines of a shape llama.cpp, llama-cpp-python and uvicorn print about themselves (loader and
context lines, start-up, access lines without their query string), with quoted strings removed and long
lines cut. Everything else, such as an engine's error text quoting a request (patient text included), is
replaced by a marker that says how many bytes were withheld, never what they were.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path

import structlog

log = structlog.get_logger("medvault.supervisor")

LineFilter = Callable[[str], str | None]  # the line to write, or None to withhold it

MAX_LINE = 240  # characters of an allowed line that are kept
_READ_CHUNK = 1 << 16
_MAX_PENDING = 1 << 16  # a "line" longer than this without a newline is withheld as it streams

# llama.cpp's own log lines start with the C function that wrote them: `llama_model_loader: - kv 3: …`.
_LLAMA = re.compile(
    r"^(llama_[a-z0-9_]+|llm_[a-z0-9_]+|ggml_[a-z0-9_]+|gguf_[a-z0-9_]+|print_info|load|load_tensors|"
    r"init_tokenizer|graph_[a-z0-9_]+|sched_[a-z0-9_]+|set_abort_callback|system_info|build_info): "
)
_CPU_FEATURES = re.compile(r"^[A-Z][A-Z0-9_]* = \d+ \|")  # "AVX = 1 | AVX2 = 1 | …"
_PY_SERVER = re.compile(
    r"^(Available chat formats from metadata|Using (gguf )?chat (template|eos_token|bos_token)|"
    r"Using fallback chat format|Guessed chat format)\b"
)
_UVICORN = re.compile(
    r"^(INFO|WARNING|ERROR|CRITICAL): +(Started server process \[\d+\]|Waiting for application "
    r"(startup|shutdown)\.|Application (startup|shutdown) complete\.|Uvicorn running on \S+ \(Press "
    r"CTRL\+C to quit\)|Shutting down|Finished server process \[\d+\]|Exception in ASGI application)$"
)
_ACCESS = re.compile(
    r'^(?P<level>INFO|WARNING): +(?P<client>[0-9a-fA-F.:\[\]]+:\d+) - "(?P<method>[A-Z]{3,7}) '
    r'(?P<path>/[^\s?"]*)(\?[^\s"]*)? (?P<proto>HTTP/[0-9.]+)" (?P<status>\d{3})\b'
)
_QUOTED = re.compile(r""""[^"]*("|$)|'[^']*('|$)""")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|\x1b\[[0-9;]*[A-Za-z]")


def engine_line(line: str) -> str | None:
    """An engine's output line as it may be logged, or None when it must be withheld."""
    line = _CONTROL.sub("", line).rstrip()
    access = _ACCESS.match(line)
    if access:  # rebuilt from its parts: no query string, nothing after the status
        parts = access.groupdict()
        return (
            f'{parts["level"]}: {parts["client"]} - "{parts["method"]} {parts["path"][:MAX_LINE]} '
            f'{parts["proto"]}" {parts["status"]}'
        )
    if _UVICORN.match(line):
        return line
    if _LLAMA.match(line) or _CPU_FEATURES.match(line) or _PY_SERVER.match(line):
        return _QUOTED.sub('"…"', line)[:MAX_LINE]
    return None


def withheld(size: int) -> str:
    """The marker written in place of withheld output: its size, never its content."""
    return f"[engine output withheld: {size} bytes]"


_DAY_S = 86400.0


class RotatingLog:
    """An append-only log file rotated at `max_bytes`, and at least daily, into `name.1` … `name.<keep>`
    (oldest dropped).

    The daily rotation is what lets retention work for a quiet log of a long run: `purge_logs` deletes
    rotated files only, so a current file that never filled up would otherwise be kept for ever.
    """

    def __init__(
        self, path: Path, *, max_bytes: int, keep: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = path
        self._max_bytes = max_bytes
        self._keep = keep
        self._clock = clock
        self._begun = clock()  # when the current file was begun (the supervisor rotates at start)

    def write(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size and (size + len(data) > self._max_bytes or self._clock() - self._begun > _DAY_S):
            self.rotate()
        with self.path.open("ab") as out:
            out.write(data)

    def rotate(self) -> None:
        """Shift `name.N` to `name.N+1` (dropping the last), then `name` to `name.1`; no-op when empty."""
        self._begun = self._clock()
        if not self.path.exists() or not self.path.stat().st_size:
            return
        self.rotated(self._keep).unlink(missing_ok=True)
        for index in range(self._keep - 1, 0, -1):
            older = self.rotated(index)
            if older.exists():
                older.replace(self.rotated(index + 1))
        if self.path.exists():
            self.path.replace(self.rotated(1))

    def rotated(self, index: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{index}")


class OutputPump:
    """Copies one child's output from a pipe into a `RotatingLog`, through a line filter if one is set.

    Consecutive withheld lines become one marker, written before the next allowed line or when the pipe
    has nothing more to give for the moment. A line longer than 64 KiB is withheld whole, filter or not.
    """

    def __init__(self, sink: RotatingLog, line_filter: LineFilter | None = None) -> None:
        self.sink = sink
        self._filter = line_filter

    async def copy(self, stream: asyncio.StreamReader) -> None:
        pending = b""
        held = 0  # bytes withheld and not yet reported
        runaway = False  # inside an over-long line: its remainder, up to the newline, is withheld too
        while chunk := await stream.read(_READ_CHUNK):
            *lines, pending = (pending + chunk).split(b"\n")
            if runaway and lines:
                held, runaway = held + len(lines.pop(0)) + 1, False
            if len(pending) > _MAX_PENDING:
                held, pending, runaway = held + len(pending), b"", True
            out, held = self._render(lines, held)
            if held and not pending:  # the child paused: report what was withheld so far
                out.append(withheld(held))
                held = 0
            self._write(out)
        if runaway:
            held, pending = held + len(pending), b""
        out, held = self._render([pending] if pending else [], held)
        self._write(out + ([withheld(held)] if held else []))

    def _render(self, lines: list[bytes], held: int) -> tuple[list[str], int]:
        out: list[str] = []
        for raw in lines:
            text = raw.decode("utf-8", "replace")
            kept = text if self._filter is None else self._filter(text)
            if kept is None:
                held += len(raw) + 1
                continue
            if held:
                out.append(withheld(held))
                held = 0
            if kept:
                out.append(kept)
        return out, held

    def _write(self, lines: list[str]) -> None:
        if not lines:
            return
        try:
            self.sink.write(("\n".join(lines) + "\n").encode())
        except OSError as exc:  # a full disk must not stop the child: its output is dropped, loudly
            log.error("log_write_failed", path=str(self.sink.path), error=str(exc))


def purge_logs(logs_dir: Path, max_age_days: int) -> list[Path]:
    """Delete rotated logs (`*.log.N`) last written more than `max_age_days` ago; returns what went."""
    cutoff = time.time() - max_age_days * 86400
    removed = []
    for path in sorted(logs_dir.glob("*.log.*")):
        if not path.suffix[1:].isdigit():
            continue
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # rotated away meanwhile
            continue
    return removed
