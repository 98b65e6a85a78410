"""Governance: risk classification of applications, model change control, pilot analytics, evidence.

Model change control (which weights may serve, approved on a passed evaluation of exactly the combination
they serve with) is exported here; the pilot analytics report lives in `medvault.governance.pilot`
(`build_report`), the evaluation harness in `medvault.governance.evaluation` (`evaluate_model`).
"""

from medvault.governance._change_control import (
    APPROVAL_TTL_S,
    SYSTEM,
    ApprovalGate,
    ApprovalRefused,
    approve_command,
    approve_model,
    decisions_of,
    held_reason,
    material_changes,
    model_history,
    record_decision,
    register_digests,
)
from medvault.governance._combination import Combination, current_combination, guard_version

__all__ = [
    "APPROVAL_TTL_S",
    "SYSTEM",
    "ApprovalGate",
    "ApprovalRefused",
    "Combination",
    "approve_command",
    "approve_model",
    "current_combination",
    "decisions_of",
    "guard_version",
    "held_reason",
    "material_changes",
    "model_history",
    "record_decision",
    "register_digests",
]
