"""The database: users, API keys (hashed), the hash-chained audit trail (never content),
workbench runs, feedback and survey answers (content only while retention allows), and the model
registry (which digest of which model may serve).

    store = Store.open("sqlite:////var/lib/medvault/medvault.db")   # or postgresql+psycopg://...
    store.migrate()
    writer = AuditWriter(store); await writer.start(); await writer.record(event)

Errors of SQLAlchemy, Alembic and the drivers leave this package as `medvault.errors.StoreError`.
"""

from __future__ import annotations

from medvault.store._claims import RunClaim, claim_run, finish_claim, release_claim
from medvault.store._content import CompactionFailed
from medvault.store._engine import sqlite_files
from medvault.store._evaluations import EvaluationRecord
from medvault.store._models import ID_MAX
from medvault.store._passwords import POLICY as PASSWORD_POLICY
from medvault.store._registry import ApprovalStatus, ModelApproval, check_decision
from medvault.store._shared import RateCaller, SessionRow, SigninCounts
from medvault.store._store import Store
from medvault.store._survey import RATER_ROLES, SurveyAnswer, get_survey_answer, save_survey_answer
from medvault.store._types import (
    FEEDBACK_CATEGORIES,
    AuditEvent,
    ChainReport,
    Feedback,
    KeyInfo,
    Principal,
    Role,
    Run,
    StoredAuditEvent,
    Survey,
    UserInfo,
)
from medvault.store._writer import AuditWriter

__all__ = [
    "FEEDBACK_CATEGORIES",
    "ID_MAX",
    "PASSWORD_POLICY",
    "RATER_ROLES",
    "ApprovalStatus",
    "AuditEvent",
    "AuditWriter",
    "ChainReport",
    "CompactionFailed",
    "EvaluationRecord",
    "Feedback",
    "KeyInfo",
    "ModelApproval",
    "Principal",
    "RateCaller",
    "Role",
    "Run",
    "RunClaim",
    "SessionRow",
    "SigninCounts",
    "Store",
    "StoredAuditEvent",
    "Survey",
    "SurveyAnswer",
    "UserInfo",
    "check_decision",
    "claim_run",
    "finish_claim",
    "get_survey_answer",
    "release_claim",
    "save_survey_answer",
    "sqlite_files",
]
