"""The engine log filter, the output pump, rotation by size and purge by age."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from medvault.supervisor._output import (
    MAX_LINE,
    OutputPump,
    RotatingLog,
    engine_line,
    purge_logs,
    withheld,
)

CANARY = "CANARY-7f3a Frau Muster, Mamma links"

KEPT = [
    ("llama_model_loader: - kv   0: general.architecture str = llama", None),
    ("print_info: n_ctx_train      = 8192", None),
    ("load_tensors:   CPU_Mapped model buffer size =   138.03 MiB", None),
    ("llama_context: n_ctx         = 4096", None),
    ("AVX = 1 | AVX_VNNI = 0 | AVX2 = 1 | FMA = 1 |", None),
    ("INFO:     Started server process [4242]", None),
    ("INFO:     Application startup complete.", None),
    ("INFO:     Uvicorn running on http://127.0.0.1:8100 (Press CTRL+C to quit)", None),
    ("ERROR:    Exception in ASGI application", None),
    ('INFO:     127.0.0.1:50514 - "GET /v1/models HTTP/1.1" 200 OK',
     'INFO: 127.0.0.1:50514 - "GET /v1/models HTTP/1.1" 200'),
    (f'INFO:     10.0.0.2:1 - "POST /v1/chat/completions?q={CANARY.replace(" ", "+")} HTTP/1.1" 400 Bad',
     'INFO: 10.0.0.2:1 - "POST /v1/chat/completions HTTP/1.1" 400'),
    (f"llama_model_loader: - kv  3: general.name str = '{CANARY}'",
     'llama_model_loader: - kv  3: general.name str = "…"'),
    (f'Using chat eos_token: "{CANARY}', 'Using chat eos_token: "…"'),
]  # fmt: skip

WITHHELD = [
    f"Exception: Tool message requires tool_call_id: {{'role': 'tool', 'content': '{CANARY}'}}",
    "Traceback (most recent call last):",
    f'  File "/venv/llama_cpp/server/app.py", line 1, in create_chat_completion: {CANARY}',
    f"pydantic_core._pydantic_core.ValidationError: 1 validation error for {CANARY}",
    f"    input_value={{'stop': 1, 'messages': [{{'content': '{CANARY}'}}]}}",
    f"messages.1: {CANARY}",
    f"{CANARY}",
    "",
    f'INFO:     127.0.0.1:1 - "POST /v1/chat/completions HTTP/1.1" 200 {CANARY}\x1b[31m',
]


@pytest.mark.parametrize(("line", "expected"), KEPT)
def test_engine_line_keeps_known_shapes_without_strings(line: str, expected: str | None) -> None:
    """A loader, start-up or access line is kept, stripped of quoted strings and query strings."""
    kept = engine_line(line)
    assert kept == (expected or line)
    assert "CANARY" not in (kept or "")


@pytest.mark.parametrize("line", WITHHELD)
def test_engine_line_withholds_everything_else(line: str) -> None:
    """Error text, tracebacks, request bodies and unknown lines are withheld."""
    if line.startswith("INFO:"):  # an access line: kept, but rebuilt without what follows the status
        assert "CANARY" not in (engine_line(line) or "")
    else:
        assert engine_line(line) is None


def test_engine_line_cuts_long_lines() -> None:
    """An allowed line longer than the limit is cut."""
    kept = engine_line("print_info: " + "x" * 1000)
    assert kept is not None and len(kept) == MAX_LINE


async def _pump(chunks: list[bytes], tmp_path: Path, line_filter: object = engine_line) -> str:
    reader = asyncio.StreamReader()
    for chunk in chunks:
        reader.feed_data(chunk)
    reader.feed_eof()
    sink = RotatingLog(tmp_path / "engine.log", max_bytes=1 << 20, keep=2)
    await OutputPump(sink, line_filter).copy(reader)  # type: ignore[arg-type]
    return sink.path.read_text()


async def test_pump_merges_withheld_lines_into_one_marker(tmp_path: Path) -> None:
    """Consecutive withheld lines become one marker with their byte count; allowed lines pass in order."""
    text = "\n".join(["print_info: a = 1", *WITHHELD[:4], "print_info: b = 2", ""]).encode()
    logged = await _pump([text[:50], text[50:]], tmp_path)
    size = sum(len(line.encode()) + 1 for line in WITHHELD[:4])
    assert logged == f"print_info: a = 1\n{withheld(size)}\nprint_info: b = 2\n"


async def test_pump_withholds_a_runaway_line_whole(tmp_path: Path) -> None:
    """A line of several hundred KiB without a newline is withheld, its tail included, even unfiltered."""
    runaway = b"print_info: " + CANARY.encode() * 20000
    logged = await _pump(
        [runaway[i : i + 4096] for i in range(0, len(runaway), 4096)] + [b"\nok\n"], tmp_path, None
    )
    assert "CANARY" not in logged and logged.endswith("ok\n")
    assert logged.count("withheld") >= 1


async def test_pump_passes_unfiltered_output_as_is(tmp_path: Path) -> None:
    """Without a filter (the gateway's JSON lines) every line is written unchanged."""
    assert (
        await _pump([b'{"event": "a"}\n{"event"', b': "b"}\n'], tmp_path, None)
        == '{"event": "a"}\n{"event": "b"}\n'
    )


def test_rotation_keeps_n_files(tmp_path: Path) -> None:
    """Writes past the size limit rotate into .1 … .N, and the oldest beyond N are dropped."""
    log = RotatingLog(tmp_path / "engine.log", max_bytes=100, keep=2)
    for index in range(5):
        log.write(f"{index}".encode() * 80)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["engine.log", "engine.log.1", "engine.log.2"]
    assert log.path.read_bytes() == b"4" * 80 and log.rotated(2).read_bytes() == b"2" * 80


def test_rotate_on_empty_log_does_nothing(tmp_path: Path) -> None:
    """Starting afresh with no previous log creates no rotated file."""
    log = RotatingLog(tmp_path / "engine.log", max_bytes=100, keep=2)
    log.rotate()
    log.path.write_bytes(b"")
    log.rotate()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["engine.log"]


def test_purge_deletes_only_old_rotated_logs(tmp_path: Path) -> None:
    """Rotated logs older than the retention go; current logs and recent rotated ones stay."""
    old = time.time() - 10 * 86400
    for name in ("engine.log", "engine.log.1", "engine.log.2", "gateway.log.1", "notes.log.txt"):
        (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, (old, old))
    (tmp_path / "engine.log.1").touch()  # recent
    removed = purge_logs(tmp_path, max_age_days=7)
    assert sorted(p.name for p in removed) == ["engine.log.2", "gateway.log.1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["engine.log", "engine.log.1", "notes.log.txt"]


def test_a_quiet_log_is_rotated_daily_so_retention_reaches_it(tmp_path: Path) -> None:
    """A log that never fills up is still rotated after a day, and the rotated file ages out."""
    now = [1_000_000.0]
    log = RotatingLog(tmp_path / "engine.log", max_bytes=1 << 20, keep=3, clock=lambda: now[0])
    log.write(b"first day\n")
    now[0] += 3600
    log.write(b"same day\n")
    assert not log.rotated(1).exists()
    now[0] += 86400
    log.write(b"next day\n")
    assert log.rotated(1).read_bytes() == b"first day\nsame day\n"
    assert log.path.read_bytes() == b"next day\n"
    old = time.time() - 40 * 86400
    os.utime(log.rotated(1), (old, old))
    assert purge_logs(tmp_path, 30) == [log.rotated(1)]
