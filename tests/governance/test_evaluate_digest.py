"""`medvault evaluate` re-hashes the replicas' weights: weights changed on disk since MedVault started
(whose engines may already read the new bytes) are not evaluated under the digest the start recorded."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from medvault.backends import ModelSpec, ReplicaSpec, Runtime
from medvault.config import Settings, load_settings
from medvault.governance._evaluation import Answer, Engine
from medvault.governance.evaluation import EvaluationError, evaluate_model
from medvault.store import Store

WEIGHTS = b"GGUF-evaluate-digest-weights"
DIGEST = "sha256:" + hashlib.sha256(WEIGHTS).hexdigest()


class _Engine:
    """Answers every case with the same text, as the running engine with the recorded digest would."""

    def __init__(self) -> None:
        self.requests = 0

    async def complete(self, body: dict[str, Any]) -> Answer:
        self.requests += 1
        return Answer("Ein Befund.", 40, 4, DIGEST)


@pytest.fixture
def running(tmp_path: Path) -> tuple[Settings, Path]:
    """One embedded model on a tiny GGUF file, and run/runtime.json as `medvault up` leaves it."""
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(WEIGHTS)
    config = tmp_path / "medvault.toml"
    config.write_text(f'[[models]]\nid = "local"\n[[models.replicas]]\nkind = "embedded"\ngguf = "{gguf}"\n')
    settings = load_settings(config, data_dir=tmp_path / "data")
    spec = ReplicaSpec(name="local#0", url="http://127.0.0.1:9/v1", digest=DIGEST, upstream_model="local")
    Runtime(models=[ModelSpec(id="local", replicas=[spec])]).write(settings.data_dir / "run" / "runtime.json")
    return settings, gguf


def _evaluate(settings: Settings, engine: _Engine) -> Any:
    @asynccontextmanager
    async def open_engine(_spec: ModelSpec) -> AsyncIterator[Engine]:
        yield engine

    def reach(_runtime: Runtime, work: Callable[[], Any]) -> Any:
        return work()

    store = Store.open(f"sqlite:///{settings.data_dir / 'medvault.db'}")
    store.migrate()
    try:
        return evaluate_model(
            settings, store, "local", open_engine=open_engine, reach=reach, run_by="tester",
            selected=["translation.en"], limit=1, max_tokens=8,
        )  # fmt: skip
    finally:
        store.close()


def test_weights_changed_since_the_start_are_not_evaluated(running: tuple[Settings, Path]) -> None:
    """The file changed after runtime.json was written: refused before any case runs, naming both digests."""
    settings, gguf = running
    gguf.write_bytes(WEIGHTS + b" swapped")
    engine = _Engine()
    with pytest.raises(EvaluationError) as caught:
        _evaluate(settings, engine)
    message = str(caught.value)
    now = "sha256:" + hashlib.sha256(WEIGHTS + b" swapped").hexdigest()
    assert "changed since MedVault started" in message and f"local#0 {DIGEST} -> {now}" in message
    assert "`medvault up`" in message
    assert engine.requests == 0


def test_unchanged_weights_are_evaluated(running: tuple[Settings, Path]) -> None:
    """Control: the same evaluation with the file untouched runs and is stored under the digest."""
    settings, _gguf = running
    engine = _Engine()
    outcome = _evaluate(settings, engine)
    assert engine.requests == 1 and outcome.record.model_digest == DIGEST
