"""The bodies of the workbench's JSON API (`/api/v1`), as they appear in the OpenAPI document."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from medvault.store import Feedback
from medvault.templates import Template

Category = Literal["hallucination", "omission", "laterality", "negation", "number_unit", "other"]
Lang = Literal["de", "en"]
_COMMENT_MAX = 4000


def plain(value: Any) -> Any:
    """A JSON-ready form of a template's nested metadata or result (model, `to_dict()`, dataclass)."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputOut(BaseModel):
    name: str
    type: str
    label: str
    required: bool
    max_chars: int | None = None
    choices: list[str] | None = None


class TemplateOut(BaseModel):
    """A template as listed: enough to choose one and to know its risk."""

    id: str
    lang: str
    version: str
    title: str
    description: str
    task_type: str
    warning: str | None = None
    risk: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, template: Template) -> TemplateOut:
        return cls(**_summary(template))


class TemplateDetailOut(TemplateOut):
    """A template with its inputs, output format and guard profile: enough to build its form."""

    inputs: list[InputOut]
    source_variable: str | None = None
    output_format: str
    output_schema: dict[str, Any] | None = None
    guard_task: str | None = None
    guard_checks: list[str] | None = None
    sampling: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, template: Template) -> TemplateDetailOut:
        return cls(
            **_summary(template),
            inputs=[
                InputOut(
                    name=i.name, type=str(i.type), label=i.label, required=i.required,
                    max_chars=i.max_chars, choices=list(i.choices) if i.choices else None,
                )
                for i in template.inputs
            ],
            source_variable=template.source_variable,
            output_format=str(template.output_format),
            output_schema=dict(template.output_schema) if template.output_schema else None,
            guard_task=template.guard_task,
            guard_checks=list(template.guard_checks) if template.guard_checks is not None else None,
            sampling=plain(template.sampling) or {},
        )  # fmt: skip


def _summary(template: Template) -> dict[str, Any]:
    return {
        "id": template.id,
        "lang": template.lang,
        "version": template.version,
        "title": template.title,
        "description": template.description,
        "task_type": str(template.task_type),
        "warning": template.warning,
        "risk": plain(template.risk) or {},
    }


class RunIn(_Body):
    """Start a run of a template over the given inputs."""

    template_id: str = Field(min_length=1, max_length=128)
    lang: Lang | None = Field(default=None, description="template language; default: the UI language")
    inputs: dict[str, Any] = Field(default_factory=dict, description="input name -> value")
    model: str | None = Field(default=None, description="model id; default: the first configured model")


class FlagOut(BaseModel):
    kind: str
    message: str
    severity: str
    source_span: list[int] | None = None
    output_span: list[int] | None = None


class GuardOut(BaseModel):
    verdict: Literal["ok", "review"]
    task: str | None = None
    checks: list[str] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    flags: list[FlagOut] = Field(default_factory=list)


class DiffSegment(BaseModel):
    op: Literal["equal", "delete", "insert"]
    text: str
    source_span: list[int] | None = None
    output_span: list[int] | None = None


class FeedbackOut(BaseModel):
    """A run's rating as stored (there is one per run; `replaced`: this one overwrote an earlier one)."""

    id: int
    run_id: str
    template_id: str | None
    template_version: str | None
    model_id: str | None
    model_digest: str | None
    utility: int
    critical_error: bool
    categories: list[str]
    created_at: datetime | None = None
    replaced: bool = False

    @classmethod
    def of(cls, saved: Feedback, replaced: bool = False) -> FeedbackOut:
        # The rater and the comment are left out: this model has no field for them (extra: ignore).
        return cls.model_validate({**dataclasses.asdict(saved), "replaced": replaced})


class RunOut(BaseModel):
    """A run's record. Inputs, output and reasoning are present only in the live answer and, later,
    while the deployment retains content (`retention.content_days` > 0)."""

    id: str
    created_at: datetime
    user: str
    template_id: str | None
    template_version: str | None
    task_type: str | None = None
    model_id: str | None
    model_digest: str | None
    status: str
    latency_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    guard_verdict: str | None = None
    guard_counts: dict[str, int] = Field(default_factory=dict)
    inputs: dict[str, Any] | None = None
    output: str | None = None
    reasoning: str | None = None
    source: str | None = Field(default=None, description="the input the guard and the diff compare against")
    guard: GuardOut | None = None
    diff: list[DiffSegment] | None = None
    postprocess: Any = None
    content_retained: bool = False
    feedback: FeedbackOut | None = Field(default=None, description="the run's rating, when read back")


class FeedbackIn(_Body):
    """A clinician's rating of one run. The comment is content and follows content retention."""

    utility: int = Field(ge=0, le=10, strict=True, description="clinical utility, 0–10")
    critical_error: bool = Field(strict=True)
    categories: list[Category] = Field(default_factory=list, max_length=6)
    comment: str | None = Field(default=None, max_length=_COMMENT_MAX)


class SurveyIn(_Body):
    """The pilot-end usability survey."""

    stability: int = Field(ge=0, le=10, strict=True)
    ease_of_use: int = Field(ge=0, le=10, strict=True)
    comment: str | None = Field(default=None, max_length=_COMMENT_MAX)


class SurveyOut(BaseModel):
    """The user's survey answer as stored (one per user; `replaced`: it overwrote an earlier one)."""

    id: int
    stability: int
    ease_of_use: int
    replaced: bool = False
