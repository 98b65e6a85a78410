"""The supervisor behind `medvault up`: isolation, engines, gateway, monitor, restarts."""

from medvault.supervisor._instance import (
    InstanceRunning,
    data_dir_lock,
    first_holder,
    isolation_locks,
    lock_held,
    prefix_lock,
    read_holder,
)
from medvault.supervisor._process import ManagedProcess, ProcessFailed
from medvault.supervisor._run import Supervisor, state_file

__all__ = [
    "InstanceRunning",
    "ManagedProcess",
    "ProcessFailed",
    "Supervisor",
    "data_dir_lock",
    "first_holder",
    "isolation_locks",
    "lock_held",
    "prefix_lock",
    "read_holder",
    "state_file",
]
