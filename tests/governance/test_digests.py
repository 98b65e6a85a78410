"""Model digests: a directory's manifest digest covers each file, and the cache spares a second hash."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from medvault.config import model_digest, model_files
from medvault.errors import ConfigError


class CountingSha256:
    """`hashlib.sha256` that counts the files it is asked to hash."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        return hashlib.sha256()


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A small model directory as a hub snapshot lays it out, with files the digest must leave out."""
    root = tmp_path / "model"
    (root / "sub").mkdir(parents=True)
    (root / ".cache").mkdir()
    files = {
        "config.json": b'{"architectures": ["Qwen2ForCausalLM"]}',
        "model-00001-of-00002.safetensors": b"weights-one" * 100,
        "sub/model-00002-of-00002.safetensors": b"weights-two" * 100,
        "tokenizer.json": b'{"model": {}}',
        "merges.txt": b"a b\n",
        "README.md": b"# not covered",
        ".cache/download.lock": b"not covered",
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root


def test_manifest_covers_weights_config_and_tokenizer_only(model_dir: Path) -> None:
    """Weights, configs and tokenizer files are covered; READMEs and hidden download state are not."""
    covered = [p.relative_to(model_dir).as_posix() for p in model_files(model_dir)]
    assert covered == [
        "config.json",
        "merges.txt",
        "model-00001-of-00002.safetensors",
        "sub/model-00002-of-00002.safetensors",
        "tokenizer.json",
    ]
    before = model_digest(model_dir)
    (model_dir / "README.md").write_bytes(b"# edited")
    assert model_digest(model_dir) == before


@pytest.mark.parametrize("name", ["sub/model-00002-of-00002.safetensors", "config.json", "merges.txt"])
def test_one_changed_byte_in_one_file_changes_the_digest(model_dir: Path, tmp_path: Path, name: str) -> None:
    """Flipping one byte of any covered file gives another digest, with the cache in use."""
    cache = tmp_path / "data"
    before = model_digest(model_dir, cache)
    path = model_dir / name
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    assert model_digest(model_dir, cache) != before


def test_cache_hit_when_nothing_changed_and_full_hash_on_request(model_dir: Path, tmp_path: Path) -> None:
    """A second digest of an unchanged directory hashes nothing; `cached=False` hashes every file again."""
    cache, counting = tmp_path / "data", CountingSha256()
    first = model_digest(model_dir, cache, new_hash=counting)
    assert counting.calls == 5
    assert model_digest(model_dir, cache, new_hash=counting) == first
    assert counting.calls == 5
    assert model_digest(model_dir, cache, cached=False, new_hash=counting) == first
    assert counting.calls == 10


def test_a_rewrite_that_keeps_the_stamp_is_caught_by_a_full_hash(model_dir: Path, tmp_path: Path) -> None:
    """Content rewritten in place with size and mtime put back fools the cache, not `cached=False`, which
    also refreshes the cache for the next start."""
    cache = tmp_path / "data"
    before = model_digest(model_dir, cache)
    weights = model_dir / "model-00001-of-00002.safetensors"
    stat = weights.stat()
    with weights.open("r+b") as fh:
        fh.write(b"X")
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert model_digest(model_dir, cache) == before  # the stamp is unchanged: the cache answers
    fresh = model_digest(model_dir, cache, cached=False)
    assert fresh != before
    assert model_digest(model_dir, cache) == fresh


def test_a_directory_without_model_files_is_refused(tmp_path: Path) -> None:
    """An empty or wrong directory has no digest to approve; the error names the fix."""
    (tmp_path / "README.md").write_text("nothing here")
    with pytest.raises(ConfigError, match="holds no weights"):
        model_digest(tmp_path)
