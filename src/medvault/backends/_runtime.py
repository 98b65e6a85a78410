"""What the gateway needs to know about the engines once the supervisor has started them.

The supervisor starts the embedded, vllm and command engines (in the vault zone under isolation) and
hands the gateway process this description as a JSON file; the gateway itself never starts engines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from medvault.backends._upstream import Replica
from medvault.config import ReplicaSettings, Settings, bundled_model_path, file_digest, model_digest


class ReplicaSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    url: str
    api_key: str | None = None  # the file holding this is written owner-only
    digest: str | None = None
    upstream_model: str | None = None  # None: the first model the engine lists


class ModelSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    reasoning_starts_inside: bool = False
    replicas: list[ReplicaSpec]

    def build_replicas(self) -> list[Replica]:
        return [
            Replica(
                name=r.name,
                url=r.url.rstrip("/"),
                api_key=r.api_key,
                digest=r.digest,
                upstream_model=r.upstream_model,
            )
            for r in self.replicas
        ]


class Runtime(BaseModel):
    """The resolved engines of every configured model."""

    model_config = ConfigDict(frozen=True)

    models: list[ModelSpec]
    isolation: Literal["on", "off"] = "off"

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2))

    @classmethod
    def read(cls, path: Path) -> Runtime:
        return cls.model_validate_json(path.read_text())


def replica_name(model_id: str, index: int) -> str:
    return f"{model_id}#{index}"


def replica_digest(replica: ReplicaSettings, cache_dir: Path) -> str | None:
    """The digest of the weights `replica` serves: its GGUF file's (embedded, default: the bundled
    model), its `model`'s file or directory digest (vllm, command; none without `model`), or the digest
    an `openai` replica declares. Cached by path, inode, size and mtime (`file_digest`)."""
    if replica.kind == "embedded":
        return file_digest(replica.gguf or bundled_model_path(), cache_dir)
    if replica.kind in ("vllm", "command"):
        return model_digest(replica.model, cache_dir) if replica.model else None
    return replica.digest


def resolve_runtime(settings: Settings, embedded_urls: dict[str, str], *, isolated: bool = False) -> Runtime:
    """Combine the settings with the URLs the supervisor gave the engines it started (embedded, vllm,
    command; keyed by replica name)."""
    models = []
    for model in settings.models:
        specs = []
        for index, replica in enumerate(model.replicas):
            name = replica_name(model.id, index)
            # The digest is a file's SHA-256 or a directory's manifest digest; change control approves
            # it (medvault.governance).
            digest = replica_digest(replica, settings.data_dir)
            if replica.kind == "embedded":
                specs.append(
                    ReplicaSpec(name=name, url=embedded_urls[name], digest=digest, upstream_model=model.id)
                )
            elif replica.kind in ("vllm", "command"):
                # vLLM serves under `served_model_name` (default: the model id); another server under
                # `upstream_model`, or else the first model it lists.
                served = (replica.served_model_name or model.id) if replica.kind == "vllm" else None
                specs.append(
                    ReplicaSpec(
                        name=name,
                        url=embedded_urls[name],
                        digest=digest,
                        upstream_model=served or model.upstream_model,
                    )
                )
            else:
                assert replica.url is not None  # guaranteed by ReplicaSettings' validator
                key = replica.api_key.get_secret_value() if replica.api_key else None
                specs.append(
                    ReplicaSpec(
                        name=name,
                        url=replica.url,
                        api_key=key,
                        digest=digest,
                        upstream_model=model.upstream_model,
                    )
                )
        models.append(
            ModelSpec(id=model.id, reasoning_starts_inside=model.reasoning_starts_inside, replicas=specs)
        )
    return Runtime(models=models, isolation="on" if isolated else "off")
