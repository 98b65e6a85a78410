"""One frozen settings object, read once at start-up from `medvault.toml` and `MEDVAULT_*` variables.

Precedence, highest first: keyword arguments (the CLI's flags), environment variables, the TOML file,
the defaults here. Nested keys come from the environment with a double underscore, for example
`MEDVAULT_RETENTION__CONTENT_DAYS=30`. No module reads the environment on its own: the settings are
built here and passed down explicitly.
"""

from medvault.config._digests import HashFactory, file_digest, model_digest, model_files
from medvault.config._engines import DEFAULT_MODEL_ID, ModelSettings, ReplicaSettings, bundled_model_path
from medvault.config._gateway import AuthSettings, GatewaySettings, LimitSettings
from medvault.config._governance import EvaluationPolicySettings, GovernanceSettings, MonitoringSettings
from medvault.config._retention import LogSettings, RetentionSettings
from medvault.config._settings import Settings, load_settings
from medvault.config._tls import TlsSettings
from medvault.config._workbench import SigninThrottleSettings, WorkbenchSettings

__all__ = [
    "DEFAULT_MODEL_ID",
    "AuthSettings",
    "EvaluationPolicySettings",
    "GatewaySettings",
    "GovernanceSettings",
    "HashFactory",
    "LimitSettings",
    "LogSettings",
    "ModelSettings",
    "MonitoringSettings",
    "ReplicaSettings",
    "RetentionSettings",
    "Settings",
    "SigninThrottleSettings",
    "TlsSettings",
    "WorkbenchSettings",
    "bundled_model_path",
    "file_digest",
    "load_settings",
    "model_digest",
    "model_files",
]
