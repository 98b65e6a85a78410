"""Digests of model files and directories, cached by path, inode, size and mtime."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medvault.errors import ConfigError

HashFactory = Callable[[], Any]  # hashlib.sha256, or a test's counting stand-in


def file_digest(
    path: Path, cache_dir: Path | None = None, *, cached: bool = True, new_hash: HashFactory = hashlib.sha256
) -> str:
    """SHA-256 of a (possibly multi-gigabyte) model file, cached in `cache_dir/digests` by path, inode, size
    and mtime. `cached=False` hashes in full and refreshes the cache (`medvault models verify`): a file
    rewritten in place with its old mtime put back keeps its stamp, and only a full hash sees the change."""
    stat = path.stat()
    stamp = f"{path.resolve()}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"
    cache = None
    if cache_dir is not None:
        cache = cache_dir / "digests" / hashlib.sha256(stamp.encode()).hexdigest()
        if cached and cache.is_file():
            return cache.read_text().strip()
    digest = new_hash()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    value = "sha256:" + digest.hexdigest()
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(f".{cache.name}.{os.getpid()}")  # a reader never sees half a digest
        partial.write_text(value)
        partial.replace(cache)
    return value


# What a model directory's digest covers: everything that shapes its answers (weights, configs including
# the chat template, tokenizer files), not READMEs, licences or images.
_MANIFEST_SUFFIXES = {
    ".safetensors", ".gguf", ".bin", ".pt", ".pth", ".json", ".model", ".jinja", ".tiktoken",
}  # fmt: skip
_MANIFEST_STEMS = {"tokenizer", "vocab", "merges"}


def model_files(directory: Path) -> list[Path]:
    """The files of a model directory that its digest covers, sorted; hidden paths (.git, .cache) aside."""
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
        and (path.suffix in _MANIFEST_SUFFIXES or path.name.split(".")[0] in _MANIFEST_STEMS)
    )


def model_digest(
    path: Path, cache_dir: Path | None = None, *, cached: bool = True, new_hash: HashFactory = hashlib.sha256
) -> str:
    """The digest of a model: a file's SHA-256, or for a directory the SHA-256 of its manifest, one line
    `relative path, size, SHA-256` per covered file (each file's hash cached as `file_digest` caches it)."""
    if not path.is_dir():
        return file_digest(path, cache_dir, cached=cached, new_hash=new_hash)
    files = model_files(path)
    if not files:
        raise ConfigError(
            f"model directory {path} holds no weights, config or tokenizer files; fix: point `model` at "
            "the directory that holds config.json and the *.safetensors files"
        )
    manifest = "".join(
        f"{file.relative_to(path).as_posix()}\t{file.stat().st_size}\t"
        f"{file_digest(file, cache_dir, cached=cached, new_hash=new_hash)}\n"
        for file in files
    )
    return "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
