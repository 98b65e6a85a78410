"""`medvault models list` shows every replica and the digest of embedded weights."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medvault.cli import app


def test_models_list_hashes_embedded_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An embedded GGUF is listed with its SHA-256; an OpenAI replica with its configured digest."""
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF-test-weights")
    config = tmp_path / "medvault.toml"
    config.write_text(
        f'[[models]]\nid = "local"\n[[models.replicas]]\nkind = "embedded"\ngguf = "{gguf}"\n'
        '[[models]]\nid = "remote"\n[[models.replicas]]\nkind = "openai"\nurl = "http://127.0.0.1:9/v1"\n'
        'digest = "sha256:abc"\n'
    )
    monkeypatch.setenv("MEDVAULT_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["models", "list", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows[0]["digest"] == "sha256:" + hashlib.sha256(b"GGUF-test-weights").hexdigest()
    assert (rows[1]["kind"], rows[1]["digest"]) == ("openai", "sha256:abc")
