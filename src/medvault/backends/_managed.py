"""Managed engines besides the embedded one: `vllm serve` from the hospital's own Python environment, and
any OpenAI-compatible server given as an argv (`kind = "command"`: SGLang, llama.cpp's `llama-server`,
TGI, a hospital's build).

This module renders what the supervisor starts (argv, environment, what the sandbox shows, the GPUs'
device nodes) and checks, before anything starts, what settings validation cannot see: the model
directory (config, tokenizer, safetensors only, no custom code), the device nodes, the GPUs' free memory.
The supervisor runs the result exactly like the embedded engine: in the vault zone, as the vault user,
in the workload sandbox, waited for, restarted with back-off, killed with the zone.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from medvault.backends._embedded import OFFLINE_ENV
from medvault.config import ReplicaSettings

# Everything an engine's Python side could phone home with, switched off: the Hugging Face hub and
# datasets, vLLM's usage statistics, Ray's (multi-node vLLM), and the generic opt-out that several
# libraries honour. Caches go to
# the sandbox's private /tmp (the vault user has no home; nothing there outlives the engine).
ENGINE_ENV = {
    **OFFLINE_ENV,
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "VLLM_NO_USAGE_STATS": "1",
    "VLLM_DO_NOT_TRACK": "1",
    "RAY_USAGE_STATS_ENABLED": "0",
    "DO_NOT_TRACK": "1",
    "HOME": "/tmp",  # noqa: S108 — the sandbox's private, empty tmpfs
    "XDG_CACHE_HOME": "/tmp/.cache",  # noqa: S108
    "VLLM_CACHE_ROOT": "/tmp/vllm",  # noqa: S108
}

# Weight formats that unpickle (run code) when loaded; refused unless `allow_pickle = true`.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
# A directory has a tokenizer if it holds one of these (fast tokenizer, SentencePiece, or BPE files).
_TOKENIZER_FILES = (("tokenizer.json",), ("tokenizer.model",), ("vocab.json", "merges.txt"))
_GPU_NODES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools")


@dataclass(frozen=True)
class Launch:
    """How the supervisor starts one managed engine (before the sandbox's argv prefix)."""

    argv: list[str]
    env: dict[str, str]  # explicit variables, on top of the allow-listed base environment
    health_path: str  # absolute path on the engine's address that answers 200 once it serves
    read_only: list[Path]  # shown in the sandbox besides the system and MedVault's own environment
    devices: list[Path]  # GPU device nodes shown (and usable) in the sandbox
    startup_timeout_s: float
    python: Path  # an interpreter the vault user must be able to run: it opens `files` in the check
    files: list[Path]  # what the vault user must be able to read (the pre-start check)


def vllm_argv(replica: ReplicaSettings, *, model_id: str, host: str, port: int) -> list[str]:
    """`vllm serve` with the replica's settings: from its `python`, never trusting remote code."""
    assert replica.python is not None and replica.model is not None  # the settings' validator
    argv = [str(replica.python), "-m", "vllm.entrypoints.cli.main", "serve", str(replica.model)]
    argv += ["--served-model-name", replica.served_model_name or model_id]
    argv += ["--host", host, "--port", str(port)]
    argv += ["--tensor-parallel-size", str(replica.tensor_parallel_size)]
    argv += ["--pipeline-parallel-size", str(replica.pipeline_parallel_size)]
    argv += ["--data-parallel-size", str(replica.data_parallel_size)]
    if replica.nodes > 1:  # the only executor vLLM spans hosts with (see docs/deployment-gpu.md)
        argv += ["--distributed-executor-backend", "ray"]
    optional = {
        "--max-model-len": replica.max_model_len,
        "--gpu-memory-utilization": replica.gpu_memory_utilization,
        "--reasoning-parser": replica.reasoning_parser,
        "--quantization": replica.quantization,
        "--dtype": replica.dtype,
    }
    for flag, value in optional.items():
        if value is not None:
            argv += [flag, str(value)]
    # No --trust-remote-code: vLLM's default is not to, and the settings refuse it in `extra_args`.
    return [*argv, *replica.extra_args]


def command_argv(replica: ReplicaSettings, *, host: str, port: int) -> list[str]:
    """The replica's `argv` with `{host}`, `{port}` and `{model}` filled in (other braces stay as they are:
    an argument may be JSON)."""
    values = {"{host}": host, "{port}": str(port), "{model}": str(replica.model or "")}
    pattern = re.compile("|".join(re.escape(key) for key in values))
    return [pattern.sub(lambda found: values[found.group(0)], arg) for arg in replica.argv]


def device_nodes(gpus: list[int], dev: Path = Path("/dev")) -> list[Path]:
    """The device nodes of exactly these GPUs, plus the driver's shared ones where present; none for a CPU
    engine. `/dev/nvidiaN` is listed whether it exists or not: `check_replica` reports a missing one."""
    if not gpus:
        return []
    shared = [dev / name for name in _GPU_NODES if (dev / name).exists()]
    return [*(dev / f"nvidia{gpu}" for gpu in gpus), *shared]


def _environment_root(python: Path) -> list[Path]:
    """The directories a Python environment lives in: its own prefix (`…/bin/python` -> `…`) and, for a
    virtual environment, the base interpreter's prefix; `/usr` is in every sandbox already."""
    roots = {python.parent.parent, python.resolve().parent.parent}
    # `/bin/python3` on a merged-/usr system: `/` is no environment, the resolved `/usr` is.
    return sorted(root for root in roots if root != Path("/") and not root.is_relative_to("/usr"))


def launch(
    replica: ReplicaSettings, *, model_id: str, host: str, port: int, dev: Path = Path("/dev")
) -> Launch:
    """What the supervisor runs for a `vllm` or `command` replica bound to `host:port`."""
    if replica.kind == "vllm":
        argv = vllm_argv(replica, model_id=model_id, host=host, port=port)
    else:
        argv = command_argv(replica, host=host, port=port)
    read_only = [*replica.read_only, *([replica.model] if replica.model else [])]
    if replica.python is not None:
        read_only += _environment_root(replica.python)
    else:  # a server binary: shown (executing it needs no read access, so the check leaves it out)
        read_only.append(Path(argv[0]))
    env = {**ENGINE_ENV, "CUDA_VISIBLE_DEVICES": ",".join(map(str, replica.gpus))}
    return Launch(
        argv=argv,
        env=env,
        health_path=replica.health_path,
        read_only=read_only,
        devices=device_nodes(replica.gpus, dev),
        startup_timeout_s=replica.startup_timeout,
        python=replica.python or Path(sys.executable),
        files=[path for path in (replica.model, *_weights(replica.model)) if path is not None],
    )


def _weights(model: Path | None) -> list[Path]:
    """A model directory's config and weight files (what the vault user must read); a file is itself."""
    if model is None or not model.is_dir():
        return []
    return sorted(p for p in model.iterdir() if p.suffix in (".json", ".safetensors") and p.is_file())


# -- checks before anything starts ------------------------------------------------------------------


def check_model_dir(model: Path, *, key: str, allow_pickle: bool) -> list[str]:
    """Problems of a model directory: not a directory, no config.json or tokenizer, pickle weights, no
    safetensors, custom code (`auto_map`). Each names `key` (the replica's settings key) and the fix."""
    if not model.is_dir():
        return [f"{key}.model: {model} is not a directory; fix: point it at the model's directory"]
    problems = []
    names = {path.name for path in model.iterdir()}
    if "config.json" not in names:
        problems.append(f"{key}.model: {model} has no config.json; fix: copy the model's whole directory")
    if not any(all(name in names for name in group) for group in _TOKENIZER_FILES):
        problems.append(
            f"{key}.model: {model} has no tokenizer (tokenizer.json, tokenizer.model, or vocab.json with "
            "merges.txt); fix: copy the tokenizer files into the model directory"
        )
    pickled = sorted(name for name in names if name.endswith(PICKLE_SUFFIXES))
    if pickled and not allow_pickle:
        problems.append(
            f"{key}.model: {model} holds pickle weights ({', '.join(pickled[:3])}), which run code when "
            "loaded; fix: use the model's .safetensors files, or set `allow_pickle = true` on the "
            "replica after reviewing them"
        )
    if not any(name.endswith(".safetensors") for name in names) and not (pickled and allow_pickle):
        problems.append(f"{key}.model: {model} has no .safetensors weights; fix: copy them there")
    for name in ("config.json", "tokenizer_config.json"):
        problems += _custom_code(model / name, key)
    return problems


def _custom_code(path: Path, key: str) -> list[str]:
    """`auto_map` in a config names Python files of the model's own: custom code, never trusted."""
    if not path.is_file():
        return []
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        return [f"{key}.model: {path} is not readable JSON ({exc}); fix: restore the model's original file"]
    if isinstance(config, dict) and "auto_map" in config:
        return [
            f"{key}.model: {path} names custom code in `auto_map`, which MedVault never runs; fix: use a "
            "model the engine supports natively and remove the `auto_map` entry (see "
            "docs/deployment-gpu.md)"
        ]
    return []


GpuMemory = dict[int, tuple[int, int]]  # GPU index -> (free MiB, total MiB)


def nvidia_smi_memory() -> GpuMemory | None:
    """Free and total memory of every GPU from `nvidia-smi`, or None where it is not installed or fails."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return None
    query = [tool, "--query-gpu=index,memory.free,memory.total", "--format=csv,noheader,nounits"]
    try:
        out = subprocess.run(query, capture_output=True, text=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found: GpuMemory = {}
    for line in out.splitlines():
        fields = [field.strip() for field in line.split(",")]
        if len(fields) == 3 and all(field.isdigit() for field in fields):
            found[int(fields[0])] = (int(fields[1]), int(fields[2]))
    return found


def check_replica(
    replica: ReplicaSettings,
    *,
    key: str,
    dev: Path = Path("/dev"),
    memory: Callable[[], GpuMemory | None] = nvidia_smi_memory,
) -> tuple[list[str], list[str]]:
    """(problems, notes) of a managed replica on this host: its model, its GPUs' device nodes and, for
    vLLM, whether each GPU has the memory `gpu_memory_utilization` will claim. A note says what was
    skipped (no nvidia-smi)."""
    problems: list[str] = []
    notes: list[str] = []
    if replica.model is not None and (replica.kind == "vllm" or replica.model.is_dir()):
        problems += check_model_dir(replica.model, key=key, allow_pickle=replica.allow_pickle)
    elif replica.model is not None and not replica.model.is_file():
        problems.append(f"{key}.model: {replica.model} does not exist; fix: point it at the model")
    missing = [str(dev / f"nvidia{gpu}") for gpu in replica.gpus if not (dev / f"nvidia{gpu}").exists()]
    if missing:
        problems.append(
            f"{key}.gpus: no device {', '.join(missing)}; fix: name GPUs this host has (`nvidia-smi -L`), "
            "and check that the NVIDIA driver is loaded"
        )
    if replica.kind == "vllm" and replica.gpus and not missing:
        problems += _memory_problems(replica, key, memory(), notes)
    return problems, notes


def _memory_problems(
    replica: ReplicaSettings, key: str, memory: GpuMemory | None, notes: list[str]
) -> list[str]:
    if memory is None:
        notes.append(f"{key}: free GPU memory not checked (no working nvidia-smi)")
        return []
    share = replica.gpu_memory_utilization or 0.9  # vLLM's default
    short = []
    for gpu in replica.gpus:
        if gpu not in memory:
            short.append(f"GPU {gpu} not listed by nvidia-smi")
            continue
        free, total = memory[gpu]
        if free < share * total:
            short.append(f"GPU {gpu} has {free} MiB free of {total}, needs {share * total:.0f}")
    if not short:
        return []
    return [
        f"{key}.gpu_memory_utilization: {'; '.join(short)}; fix: stop what uses those GPUs "
        "(`nvidia-smi`), choose other `gpus`, or lower `gpu_memory_utilization`"
    ]
