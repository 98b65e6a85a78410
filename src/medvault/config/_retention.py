"""What is kept and for how long: stored content, the audit trail, the processes' logs."""

from __future__ import annotations

from pydantic import Field

from medvault.config._base import _Frozen


class RetentionSettings(_Frozen):
    content_days: int = Field(default=0, ge=0, description="0: run content is never stored")
    audit_days: int = Field(default=3650, ge=1)
    log_days: int = Field(default=30, ge=1, description="rotated process logs older than this are deleted")


class LogSettings(_Frozen):
    """Process logs under `DATA_DIR/logs`: rotated by size, purged after `retention.log_days`."""

    max_file_mb: int = Field(default=10, ge=1, description="a log file is rotated when it reaches this")
    keep_files: int = Field(default=5, ge=1, description="rotated files kept per process log")
