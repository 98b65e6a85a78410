"""Each child's environment, built from an allow-list: never a copy of the supervisor's own.

The supervisor's environment may hold `MEDVAULT_ADMIN_KEY`, credentials for other systems, proxy
settings, `PYTHONPATH` or `LD_PRELOAD`; none of it may reach a workload by accident. Every child gets the
locale, time zone and search path it needs to run, plus what the supervisor sets explicitly:

- engines: no `MEDVAULT_*` variable at all, only the offline switches of their Python libraries;
- the gateway: the operator's `MEDVAULT_*` settings except the secrets it does not use
  (`MEDVAULT_ADMIN_KEY`: the supervisor seeds the key into the database before the gateway starts), so
  that an override such as `MEDVAULT_RETENTION__CONTENT_DAYS` means the same to the gateway as to the
  supervisor. `MEDVAULT_DATABASE_URL` is passed on: the gateway is the database's client and needs its
  password, if the URL carries one (docs/operator-guide.md advises peer or certificate authentication).
"""

from __future__ import annotations

from collections.abc import Mapping

# What llama.cpp, Python and uvicorn read to run: the search path, the locale and the time zone, and the
# operator's choice of GPUs and OpenMP threads for the engines.
_PASSED = frozenset({"PATH", "LANG", "LANGUAGE", "TZ", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS"})
_PASSED_PREFIXES = ("LC_",)
_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
# Settings the gateway never reads from its environment: secrets it has no use for, and the config path
# (the supervisor hands it its own copy with --config).
_GATEWAY_WITHHELD = frozenset({"MEDVAULT_ADMIN_KEY", "MEDVAULT_CONFIG"})


def base_environment(source: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed part of `source`, with a default search path when it has none."""
    env = {k: v for k, v in source.items() if k in _PASSED or k.startswith(_PASSED_PREFIXES)}
    env.setdefault("PATH", _DEFAULT_PATH)
    return env


def engine_environment(source: Mapping[str, str], explicit: Mapping[str, str]) -> dict[str, str]:
    """An engine's environment: the allow-list and `explicit` (its offline switches); no MEDVAULT_*."""
    return {**base_environment(source), **explicit}


def gateway_environment(source: Mapping[str, str], explicit: Mapping[str, str]) -> dict[str, str]:
    """The gateway's environment: the allow-list, the non-secret `MEDVAULT_*` settings, and `explicit`."""
    settings = {k: v for k, v in source.items() if k.startswith("MEDVAULT_") and k not in _GATEWAY_WITHHELD}
    return {**base_environment(source), **settings, **explicit}
