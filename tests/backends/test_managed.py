"""Managed engines (`vllm`, `command`): every example configuration loads and renders the expected command
line, and every check before start-up fails with a message that names the key and the fix."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from medvault.backends._managed import ENGINE_ENV, check_replica, device_nodes, launch
from medvault.config import ReplicaSettings, load_settings
from medvault.errors import ConfigError
from medvault.isolation._sandbox import Sandbox

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HOST, PORT = "100.72.0.6", 8100
PY, SERVE = "/opt/vllm/bin/python", ["-m", "vllm.entrypoints.cli.main", "serve"]


def _vllm(model: str, name: str, port: int, parallel: tuple[int, int, int], *rest: str) -> list[str]:
    tp, pp, dp = parallel
    return [
        PY, *SERVE, f"/srv/models/{model}", "--served-model-name", name, "--host", HOST, "--port", str(port),
        "--tensor-parallel-size", str(tp), "--pipeline-parallel-size", str(pp),
        "--data-parallel-size", str(dp), *rest,
    ]  # fmt: skip


R1 = "deepseek_r1"
EXPECTED: dict[str, list[list[str]]] = {
    "deepseek-r1-671b-8xh200.toml": [
        _vllm("DeepSeek-R1", "deepseek-r1", 8100, (8, 1, 1), "--max-model-len", "65536",
              "--gpu-memory-utilization", "0.92", "--reasoning-parser", R1),
    ],
    "deepseek-r1-671b-2x8xh100-pp2.toml": [
        _vllm("DeepSeek-R1", "deepseek-r1", 8100, (8, 2, 1), "--distributed-executor-backend", "ray",
              "--max-model-len", "32768", "--gpu-memory-utilization", "0.92", "--reasoning-parser", R1),
    ],
    "deepseek-r1-distills.toml": [
        _vllm("DeepSeek-R1-Distill-Qwen-7B", "deepseek-r1-distill-qwen-7b", 8101, (1, 1, 1),
              "--max-model-len", "32768", "--reasoning-parser", R1),
        _vllm("DeepSeek-R1-Distill-Qwen-14B", "deepseek-r1-distill-qwen-14b", 8102, (1, 1, 1),
              "--max-model-len", "32768", "--reasoning-parser", R1),
        _vllm("DeepSeek-R1-Distill-Qwen-32B", "deepseek-r1-distill-qwen-32b", 8103, (2, 1, 1),
              "--max-model-len", "32768", "--reasoning-parser", R1),
        _vllm("DeepSeek-R1-Distill-Llama-70B", "deepseek-r1-distill-llama-70b", 8104, (4, 1, 1),
              "--max-model-len", "32768", "--gpu-memory-utilization", "0.9", "--reasoning-parser", R1),
    ],
    "llama-server-command.toml": [
        ["/opt/llama.cpp/bin/llama-server", "--model", "/srv/models/DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf",
         "--host", HOST, "--port", "8100", "--ctx-size", "16384", "--n-gpu-layers", "999",
         "--alias", "deepseek-r1-distill-qwen-7b"],
    ],
}  # fmt: skip


def test_every_example_is_covered() -> None:
    """Each file under examples/ has its expected command lines here, so the docs' profiles cannot rot."""
    assert sorted(p.name for p in EXAMPLES.glob("*.toml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_loads_and_renders_the_expected_argv(name: str, tmp_path: Path) -> None:
    """The example validates (GPU checks skipped) and renders, port by port, the expected command line."""
    settings = load_settings(EXAMPLES / name, data_dir=tmp_path)
    ports = iter(settings.isolation.vault_ports)
    rendered = [
        launch(replica, model_id=model.id, host=HOST, port=next(ports)).argv
        for model in settings.models
        for replica in model.replicas
    ]
    assert rendered == EXPECTED[name]
    assert not any("trust" in arg for argv in rendered for arg in argv)


def test_vllm_environment_is_offline_and_pins_the_gpus(tmp_path: Path) -> None:
    """A vLLM engine runs offline, without usage statistics, on exactly its `gpus`, which its sandbox
    shows as device nodes (and only those), with its Python environment and model read-only."""
    settings = load_settings(EXAMPLES / "deepseek-r1-distills.toml", data_dir=tmp_path)
    replica = settings.models[2].replicas[0]
    dev = tmp_path / "dev"
    dev.mkdir()
    for node in ("nvidia2", "nvidia3", "nvidia4", "nvidiactl", "nvidia-uvm"):
        (dev / node).touch()
    run = launch(replica, model_id="m", host=HOST, port=PORT, dev=dev)
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "VLLM_NO_USAGE_STATS"):
        assert run.env[key] == "1"
    assert run.env["DO_NOT_TRACK"] == "1" and run.env["RAY_USAGE_STATS_ENABLED"] == "0"
    assert run.env["CUDA_VISIBLE_DEVICES"] == "2,3"
    assert run.devices == [dev / "nvidia2", dev / "nvidia3", dev / "nvidiactl", dev / "nvidia-uvm"]
    assert Path("/opt/vllm") in run.read_only and replica.model in run.read_only
    assert run.startup_timeout_s == 1800 and run.health_path == "/v1/models"


def test_cpu_engine_gets_no_device_nodes(tmp_path: Path) -> None:
    """Without `gpus` nothing from /dev is shown, whatever the host has."""
    assert device_nodes([], Path("/dev")) == []


def test_sandbox_binds_gpu_nodes_and_refuses_any_other_device(tmp_path: Path) -> None:
    """The sandbox `--dev-bind`s exactly the GPU nodes it is given; any other device is refused (a
    positive control on the same path: the GPU node passes)."""
    seccomp = tmp_path / "f.bpf"
    gpu = Sandbox(seccomp, "h", devices=(Path("/dev/nvidia1"), Path("/dev/nvidiactl"))).argv()
    binds = [gpu[i + 1] for i, arg in enumerate(gpu) if arg == "--dev-bind"]
    assert binds == ["/dev/nvidia1", "/dev/nvidiactl"]
    assert "--dev-bind" not in Sandbox(seccomp, "h").argv()
    for other in ("/dev/sda", "/dev/nvidia1/../sda", "/dev/mem"):
        with pytest.raises(Exception, match="GPU device nodes only"):
            Sandbox(seccomp, "h", devices=(Path(other),)).argv()


# -- settings validation ------------------------------------------------------------------------

VLLM = '[[models]]\nid = "m"\n[[models.replicas]]\nkind = "vllm"\n'
GOOD_VLLM = 'python = "/opt/vllm/bin/python"\nmodel = "/srv/m"\n'
CMD = '[[models]]\nid = "m"\n[[models.replicas]]\nkind = "command"\n'
GOOD_ARGV = 'argv = ["/opt/s/server", "--host", "{host}", "--port", "{port}"]\n'


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (VLLM + 'model = "/srv/m"\ngpus = [0]\n', ["replicas.0", "needs `python`", "/opt/vllm/bin/python"]),
        (VLLM + 'python = "/opt/vllm/bin/python"\ngpus = [0]\n', ["needs `model`"]),
        (VLLM + GOOD_VLLM, ["needs `gpus`"]),
        (
            VLLM + GOOD_VLLM + "gpus = [0, 1, 2]\ntensor_parallel_size = 2\n",
            ["`tensor_parallel_size` x `pipeline_parallel_size` x `data_parallel_size` = 2", "names 3"],
        ),
        (
            VLLM + GOOD_VLLM + "gpus = [0, 1]\nnodes = 2\ntensor_parallel_size = 2\n",
            ["= 2", "x `nodes` (2)", "fix:"],
        ),
        (VLLM + GOOD_VLLM + 'gpus = [0]\nextra_args = ["--trust-remote-code"]\n', ["--trust-remote-code"]),
        (VLLM + GOOD_VLLM + 'gpus = [0]\nextra_args = ["--trust_remote_code=true"]\n', ["never runs"]),
        (VLLM + GOOD_VLLM + 'gpus = [0]\nextra_args = ["--port", "9"]\n', ["--port", "renders itself"]),
        (VLLM + GOOD_VLLM + 'gpus = [0]\nargv = ["/x"]\n', ["kind 'vllm' takes no `argv`"]),
        (VLLM + GOOD_VLLM + "gpus = [-1]\n", ["gpus.0", "greater than or equal to 0"]),
        (VLLM + GOOD_VLLM + "gpus = [0]\ngpu_memory_utilization = 1.5\n", ["gpu_memory_utilization"]),
        (
            VLLM + GOOD_VLLM + "gpus = [0]\n" + VLLM.replace('"m"', '"n"') + GOOD_VLLM + "gpus = [0]\n",
            ["GPU 0 is in `gpus` of both m#0 and n#0", "fix:"],
        ),
        (CMD, ["needs `argv`", "absolute path"]),
        (CMD + 'argv = ["server", "{host}", "{port}"]\n', ["needs `argv`"]),
        (CMD + 'argv = ["/opt/s/server", "--port", "{port}"]\n', ["no {host}", "fix:"]),
        (CMD + 'argv = ["/opt/s/server", "{host}", "{port}", "{model}"]\n', ["`model` is not set"]),
        (CMD + GOOD_ARGV.replace('"]', '", "--trust-remote-code"]'), ["--trust-remote-code"]),
        (CMD + GOOD_ARGV + "tensor_parallel_size = 2\n", ["kind 'command' takes no `tensor_parallel_size`"]),
        (CMD + GOOD_ARGV + 'health_path = "health"\n', ["health_path"]),
        ('[[models]]\nid = "m"\n[[models.replicas]]\nkind = "embedded"\ngpus = [0]\n', ["takes no `gpus`"]),
    ],
)
def test_invalid_managed_replica_names_key_and_fix(tmp_path: Path, text: str, needles: list[str]) -> None:
    """Each settings mistake of a managed replica stops the load with its key, the problem and the fix."""
    path = tmp_path / "medvault.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, data_dir=tmp_path)
    for needle in needles:
        assert needle in str(caught.value)


def _model_dir(tmp_path: Path, *files: str, config: dict[str, object] | None = None) -> Path:
    model = tmp_path / "model"
    model.mkdir()
    for name in files:
        (model / name).write_text("x")
    if config is not None:
        (model / "config.json").write_text(json.dumps(config))
    return model


GOOD_FILES = ("tokenizer.json", "model-00001-of-00001.safetensors")


def _vllm_replica(model: Path, **extra: object) -> ReplicaSettings:
    return ReplicaSettings.model_validate(
        {"kind": "vllm", "python": "/opt/vllm/bin/python", "model": str(model), "gpus": [0], **extra}
    )


def _dev(tmp_path: Path, *nodes: str) -> Path:
    dev = tmp_path / "dev"
    dev.mkdir()
    for node in nodes:
        (dev / node).touch()
    return dev


@pytest.mark.parametrize(
    ("files", "config", "needles"),
    [
        ((), None, ["replicas.0.model", "no config.json", "no tokenizer", "no .safetensors"]),
        (("tokenizer.json",), {}, ["no .safetensors weights", "fix: copy them"]),
        (GOOD_FILES[1:], {}, ["no tokenizer", "fix: copy the tokenizer files"]),
        ((*GOOD_FILES, "pytorch_model.bin"), {}, ["pickle weights (pytorch_model.bin)", "allow_pickle"]),
        (("tokenizer.json", "consolidated.pth"), {}, ["pickle", "consolidated.pth"]),
        (GOOD_FILES, {"auto_map": {"AutoConfig": "configuration_x.XConfig"}}, ["auto_map", "custom code"]),
    ],
)
def test_model_directory_checks_name_key_and_fix(
    tmp_path: Path, files: tuple[str, ...], config: dict[str, object] | None, needles: list[str]
) -> None:
    """A model directory without config, tokenizer or safetensors, with pickle weights, or naming custom
    code is refused before anything starts, with the key and the fix."""
    replica = _vllm_replica(_model_dir(tmp_path, *files, config=config))
    problems, _ = check_replica(
        replica, key="models.0.replicas.0", dev=_dev(tmp_path, "nvidia0"), memory=lambda: {0: (80000, 81559)}
    )
    text = "\n".join(problems)
    for needle in needles:
        assert needle in text


def test_a_complete_model_directory_passes(tmp_path: Path) -> None:
    """The positive control: config, tokenizer, safetensors, the device and enough memory: no problem;
    pickle weights pass too once `allow_pickle` is set."""
    model = _model_dir(tmp_path, *GOOD_FILES, config={"architectures": ["Qwen2ForCausalLM"]})
    dev = _dev(tmp_path, "nvidia0")
    roomy = {0: (80000, 81559)}
    assert check_replica(_vllm_replica(model), key="k", dev=dev, memory=lambda: roomy) == ([], [])
    (model / "extra.pt").write_text("x")
    allowed = _vllm_replica(model, allow_pickle=True)
    assert check_replica(allowed, key="k", dev=dev, memory=lambda: roomy) == ([], [])


def test_missing_device_and_short_memory_are_refused(tmp_path: Path) -> None:
    """A GPU without its /dev node, or with less free memory than `gpu_memory_utilization` claims, stops
    the start naming `gpus` / `gpu_memory_utilization`; without nvidia-smi the check is skipped, noted."""
    model = _model_dir(tmp_path, *GOOD_FILES, config={})
    dev = _dev(tmp_path, "nvidia0")
    missing = ReplicaSettings.model_validate(
        {"kind": "vllm", "python": PY, "model": str(model), "gpus": [0, 1], "tensor_parallel_size": 2}
    )
    problems, _ = check_replica(missing, key="k", dev=dev, memory=lambda: None)
    assert len(problems) == 1 and "k.gpus: no device" in problems[0] and "nvidia1" in problems[0]
    short, _ = check_replica(_vllm_replica(model), key="k", dev=dev, memory=lambda: {0: (20000, 81559)})
    assert len(short) == 1 and "k.gpu_memory_utilization: GPU 0 has 20000 MiB free" in short[0]
    skipped, notes = check_replica(_vllm_replica(model), key="k", dev=dev, memory=lambda: None)
    assert skipped == [] and notes == ["k: free GPU memory not checked (no working nvidia-smi)"]


def test_command_engine_renders_placeholders_and_shows_its_binary(tmp_path: Path) -> None:
    """`{host}`, `{port}`, `{model}` are filled in (other braces kept), the binary and model are shown
    read-only, the vault user's check reads the model, and the default start-up timeout is 180 s."""
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    replica = ReplicaSettings.model_validate(
        {
            "kind": "command",
            "argv": ["/opt/s/server", "-m", "{model}", "--listen={host}:{port}", '{"json": 1}'],
            "model": str(gguf),
        }
    )
    run = launch(replica, model_id="m", host=HOST, port=PORT)
    assert run.argv == ["/opt/s/server", "-m", str(gguf), f"--listen={HOST}:{PORT}", '{"json": 1}']
    assert Path("/opt/s/server") in run.read_only and gguf in run.read_only
    assert run.files == [gguf] and run.python == Path(sys.executable)
    assert run.startup_timeout_s == 180 and run.devices == [] and run.env["CUDA_VISIBLE_DEVICES"] == ""
    assert set(ENGINE_ENV) <= set(run.env)
    problems, _ = check_replica(replica, key="k", dev=tmp_path)
    assert problems == []
