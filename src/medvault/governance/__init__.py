"""Governance: risk classification of applications, model change control, pilot analytics, evidence.

Model change control (which weights may serve) is exported here; the pilot analytics report lives in
`medvault.governance.pilot` (`build_report`).
"""

from medvault.governance._change_control import (
    APPROVAL_TTL_S,
    SYSTEM,
    ApprovalGate,
    approve_command,
    decisions_of,
    held_reason,
    record_decision,
    register_digests,
)

__all__ = [
    "APPROVAL_TTL_S",
    "SYSTEM",
    "ApprovalGate",
    "approve_command",
    "decisions_of",
    "held_reason",
    "record_decision",
    "register_digests",
]
