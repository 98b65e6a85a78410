"""Network isolation: zones in network namespaces, the host firewall, drift audit, probes, kill switch.

The supervisor and the CLI use `build_isolation()` and `read_state()`; everything else here is an
implementation detail. See docs/isolation.md (operators) and docs/security-model.md (why).
"""

from medvault.isolation._isolation import Isolation, build_isolation
from medvault.isolation._monitor import Monitor
from medvault.isolation._probes import Probe, ProbeResult, Verdict
from medvault.isolation._state import read_state
from medvault.isolation.policy import Airlock, Ingress, IsolationPolicy, MonitorPolicy

__all__ = [
    "Airlock",
    "Ingress",
    "Isolation",
    "IsolationPolicy",
    "Monitor",
    "MonitorPolicy",
    "Probe",
    "ProbeResult",
    "Verdict",
    "build_isolation",
    "read_state",
]
