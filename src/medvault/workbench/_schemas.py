"""The bodies of the workbench's JSON API (`/api/v1`), as they appear in the OpenAPI document."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from medvault.gateway import ErrorDetail
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
    input_limit_tokens: int | None = Field(
        default=None,
        description="tokens the inputs may take on the default model: its context window − the "
        "template's prompt − the template's max_tokens",
    )

    @classmethod
    def of(cls, template: Template, limit: int | None = None) -> TemplateOut:
        return cls(**_summary(template), input_limit_tokens=limit)


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
    def of(cls, template: Template, limit: int | None = None) -> TemplateDetailOut:
        return cls(
            **_summary(template),
            input_limit_tokens=limit,
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


class TokensIn(_Body):
    """Count a run's inputs in the model's tokens, against the template's input limit."""

    template_id: str = Field(min_length=1, max_length=128)
    lang: Lang | None = Field(default=None, description="template language; default: the UI language")
    inputs: dict[str, Any] = Field(default_factory=dict, description="input name -> value")
    model: str | None = Field(default=None, description="model id; default: the first configured model")


class TokensOut(BaseModel):
    tokens: int = Field(description="tokens the inputs take")
    limit: int = Field(description="tokens they may take (the template's input_limit_tokens)")
    over: bool
    exact: bool = Field(description="counted by the engine's own tokenizer (false: a conservative estimate)")


class FlagOut(BaseModel):
    kind: str
    code: str | None = None
    message: str
    severity: str
    params: dict[str, Any] = Field(default_factory=dict)
    text: str | None = Field(default=None, description="one sentence in the UI language")
    source_span: list[int] | None = None
    output_span: list[int] | None = None


class UncheckedOut(BaseModel):
    side: Literal["source", "output"]
    span: list[int]
    reason: str
    text: str | None = None


class GuardOut(BaseModel):
    verdict: Literal["ok", "review", "unchecked"]
    task: str | None = None
    checks: list[str] = Field(default_factory=list)
    checked: list[str] = Field(default_factory=list)
    not_checked: list[str] = Field(default_factory=list)
    summary: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    flags: list[FlagOut] = Field(default_factory=list)
    unchecked: list[UncheckedOut] = Field(default_factory=list)


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
    diff_note: str | None = Field(default=None, description="why there is no word diff (too costly)")
    postprocess: Any = None
    content_retained: bool = False
    content_kept: bool = Field(default=False, description="the server keeps this run's text")
    content_note: str | None = Field(default=None, description="why the text is not kept (UI language)")
    feedback: FeedbackOut | None = Field(default=None, description="the run's rating, when read back")


class RecentRunOut(BaseModel):
    """One of the caller's own runs, as listed: metadata only."""

    id: str
    template_id: str | None
    template_title: str | None
    created_at: datetime
    status: str
    guard_verdict: str | None
    rated: bool
    has_content: bool


class RecentRunsOut(BaseModel):
    runs: list[RecentRunOut]


class FeedbackIn(_Body):
    """A clinician's rating of one run. The comment is content and follows content retention."""

    utility: int = Field(ge=0, le=10, strict=True, description="clinical utility, 0–10")
    critical_error: bool = Field(strict=True)
    categories: list[Category] = Field(default_factory=list, max_length=6)
    comment: str | None = Field(default=None, max_length=_COMMENT_MAX)


_SurveyScore = Annotated[int, Field(ge=0, le=10, strict=True)]
_TemplateId = Annotated[str, Field(min_length=1, max_length=128)]


class SurveyIn(_Body):
    """The pilot-end survey: stability, usability, utility per template, critical errors seen, role.
    The instrument's newer fields are optional so that older clients keep working."""

    stability: int = Field(ge=0, le=10, strict=True)
    ease_of_use: int = Field(ge=0, le=10, strict=True, description="usability, 0–10")
    template_utility: dict[_TemplateId, _SurveyScore] = Field(
        default_factory=dict, max_length=200, description="utility after the pilot, 0–10, by template id"
    )
    critical_errors_seen: int | None = Field(
        default=None, ge=0, le=100_000, strict=True, description="critical errors the rater saw in the pilot"
    )
    rater_role: Literal["resident", "consultant"] | None = None
    comment: str | None = Field(default=None, max_length=_COMMENT_MAX)


class SurveyOut(BaseModel):
    """The user's survey answer as stored (one per user; `replaced`: it overwrote an earlier one)."""

    id: int
    stability: int
    ease_of_use: int
    template_utility: dict[str, int] = Field(default_factory=dict)
    critical_errors_seen: int | None = None
    rater_role: str | None = None
    replaced: bool = False


class InputTooLongDetail(ErrorDetail):
    """A run's 413: with `code` input_too_long (the inputs do not fit the model) also the numbers the UI
    shows by its counter; without them the body was over the byte limit."""

    tokens: int | None = None
    limit: int | None = None
    exact: bool | None = None


class InputTooLongOut(BaseModel):
    error: InputTooLongDetail
