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

# The pilot report's bootstrap and Monte Carlo seed when none is given; here, not in `pilot`, so that
# `medvault report pilot --help` can show it without importing the report's scipy and matplotlib.
PILOT_SEED = 20_260_101

__all__ = [
    "APPROVAL_TTL_S",
    "PILOT_SEED",
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
