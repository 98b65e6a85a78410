"""The supervisor behind `medvault up`: isolation, engines, gateway, monitor, restarts."""

from medvault.supervisor._process import ManagedProcess, ProcessFailed
from medvault.supervisor._run import Supervisor, state_file

__all__ = ["ManagedProcess", "ProcessFailed", "Supervisor", "state_file"]
