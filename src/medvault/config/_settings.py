"""The `Settings` object that holds every section, and `load_settings`, which builds it."""

from __future__ import annotations

import os
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from medvault.config._engines import ModelSettings, _default_models
from medvault.config._gateway import AuthSettings, GatewaySettings, LimitSettings
from medvault.config._governance import GovernanceSettings, MonitoringSettings
from medvault.config._retention import LogSettings, RetentionSettings
from medvault.config._tls import TlsSettings
from medvault.config._workbench import WorkbenchSettings
from medvault.directory._settings import DirectorySettings, airlock_problem
from medvault.errors import ConfigError
from medvault.isolation.policy import IsolationPolicy


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
            raise ValueError(f"model ids must be unique; used more than once: {', '.join(dupes)}")
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
    if config_file is not None:
        if config_file.is_dir():
            raise ConfigError(
                f"{config_file}: is a directory, not a config file; fix: pass the file itself "
                f"(e.g. --config {config_file / 'medvault.toml'})"
            )
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
    given = set(overrides)  # keys set by the command's own flags (they win over the environment)
    if config_file is not None:
        overrides["_toml_file"] = config_file
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        sources: list[str] = []
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            flag = bool(err["loc"]) and err["loc"][0] in given
            variable = None if flag else _variable_for(err["loc"])
            source = (
                "the command line" if flag
                else f"environment variable {variable}" if variable
                else str(config_file or "the environment")
            )  # fmt: skip
            if source not in sources:
                sources.append(source)
            if variable:
                fix = f"; fix: correct or unset {variable}" + _env_hint(dict(err))
                lines.append(f"  key `{key}` (from {source}): {err['msg']}{fix}")
            else:
                fix = "" if "; fix: " in err["msg"] else f"; fix: {_fix_for(dict(err))}"  # says its own
                lines.append(f"  key `{key}`: {err['msg']}{fix}")
        raise ConfigError(f"invalid settings from {' and '.join(sources)}:\n" + "\n".join(lines)) from exc


def _variable_for(loc: tuple[int | str, ...]) -> str | None:
    """The MEDVAULT_* environment variable that set the value at `loc` (or a section holding it), if any:
    a bad value from the environment is not the config file's fault. Names match case-insensitively, as
    pydantic-settings reads them."""
    present = {name.upper(): name for name in os.environ}
    for end in range(len(loc), 0, -1):
        name = "MEDVAULT_" + "__".join(str(part).upper() for part in loc[:end])
        if name in present:
            return present[name]
    return None


def _env_hint(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind.startswith(("int", "float")):
        return " (a plain number)"
    if kind.startswith("bool"):
        return " (true or false)"
    return ""
