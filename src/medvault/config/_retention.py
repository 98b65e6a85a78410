"""What is kept and for how long: stored content, the audit trail, the processes' logs."""

from __future__ import annotations

from pydantic import Field

from medvault.config._base import _Frozen


class RetentionSettings(_Frozen):
    content_days: int = Field(
        default=0,
        ge=0,
        le=36500,
        description="run content, feedback and survey comments are blanked this many days after they were "
        "stored, also when stored under a longer setting; 0: never stored, and what is stored is purged",
    )
    audit_days: int = Field(
        default=3650,
        ge=1,
        description="how long the hospital's policy asks to keep audit events; nothing deletes them (the "
        "trail is a hash chain): the evidence report compares the oldest event's age with this",
    )
    log_days: int = Field(default=30, ge=1, description="rotated process logs older than this are deleted")


class LogSettings(_Frozen):
    """Process logs under `DATA_DIR/logs`: rotated by size, purged after `retention.log_days`."""

    max_file_mb: int = Field(default=10, ge=1, description="a log file is rotated when it reaches this")
    keep_files: int = Field(default=5, ge=1, description="rotated files kept per process log")
