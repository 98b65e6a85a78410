"""The workbench: sessions, language, templates, cookies and the sign-in throttle."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from medvault.config._base import _Frozen


class SigninThrottleSettings(_Frozen):
    """Back-off after wrong passwords at the workbench sign-in (rules in docs/workbench.md)."""

    free_failures: int = Field(default=3, ge=1, description="per (user, address) before the back-off")
    address_free_failures: int = Field(default=10, ge=1, description="per address, any user names")
    user_free_failures: int = Field(default=10, ge=1, description="per user, from unfamiliar addresses")
    base_delay_s: float = Field(default=1.0, gt=0, description="first back-off; doubles per failure")
    max_delay_s: float = Field(default=900.0, gt=0, description="longest back-off per pair or address")
    user_max_delay_s: float = Field(default=60.0, gt=0, description="longest per-user back-off")
    forget_after_s: float = Field(default=3600.0, gt=0, description="failures forgotten this long after")
    familiar_days: float = Field(default=30.0, gt=0, description="a sign-in makes its address familiar")

    @model_validator(mode="after")
    def _forget_after_backoff(self) -> SigninThrottleSettings:
        if self.forget_after_s < max(self.max_delay_s, self.user_max_delay_s):
            raise ValueError(
                "`forget_after_s` must be at least `max_delay_s` and `user_max_delay_s`, or a back-off "
                "would be forgotten before it ends"
            )
        return self


class WorkbenchSettings(_Frozen):
    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: float = Field(default=12.0, gt=0, description="absolute lifetime of a sign-in")
    default_language: Literal["de", "en"] = "de"
    template_dirs: list[Path] = Field(default_factory=list)
    # Deprecated, read by nothing: kept so that existing config files still load (extra keys are refused).
    max_input_chars: int = Field(
        default=20_000, ge=100, description="DEPRECATED, no effect: the input limit follows the model"
    )
    secure_cookies: bool | Literal["auto"] = Field(
        default="auto", description="auto: Secure when the request came over https; true: always"
    )
    trust_forwarded_proto: bool = Field(
        default=False, description="let a reverse proxy's x-forwarded-proto: https count for `auto`"
    )
    signin_throttle: SigninThrottleSettings = SigninThrottleSettings()
