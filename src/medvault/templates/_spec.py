"""What a template file must contain: the pydantic model every TOML file is validated against.

Checks that need more than one field (placeholders against inputs, the schema against its
meta-schema, the source variable against the inputs) live in the model validators here too, so a
file is either a complete, consistent template or a `TemplateError` naming the file, key and problem.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal, cast

import jsonschema
from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TaskType = Literal["anchored", "semi", "open"]
GuardTask = Literal["correction", "simplification", "translation", "summary", "structured"]
GuardCheck = Literal["laterality", "negation", "numbers", "new_findings", "omissions", "edit_budget"]
InputType = Literal["text", "choice", "number", "boolean"]
RegulatoryStatus = Literal["device", "not-device", "conditional"]
Jurisdiction = Literal["eu", "us", "cn"]
JURISDICTIONS: tuple[Jurisdiction, ...] = ("eu", "us", "cn")
TargetUser = Literal["professional", "patient"]
Decision = Literal["fleischner-2017"]

TEMPLATE_ID_PATTERN = r"^[a-z][a-z0-9-]{1,62}[a-z0-9]$"
LANGUAGES = ("de", "en")
DEFAULT_MAX_CHARS = 20_000

# Values a decision table adds to the prompt context besides the user's inputs.
DECISION_VARIABLES: dict[str, frozenset[str]] = {"fleischner-2017": frozenset({"guideline_table"})}

# Sandboxed: a hospital's template files are data, not code. Prompts are plain text, not HTML,
# so escaping would corrupt them; input values are passed as values and never parsed as Jinja.
PROMPT_ENV = SandboxedEnvironment(
    undefined=StrictUndefined,
    autoescape=False,  # plain-text prompts, see above
    trim_blocks=True,
    lstrip_blocks=True,
)


def placeholders(source: str) -> set[str]:
    """The variable names a prompt text refers to."""
    return set(meta.find_undeclared_variables(PROMPT_ENV.parse(source)))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSpec(_Strict):
    """One input the user fills in; `choices` only for type choice, `max_chars` only for text."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: InputType
    label: str = Field(min_length=1)
    required: bool = True
    max_chars: int | None = Field(default=None, ge=1, le=200_000)
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    @model_validator(mode="after")
    def _fits_type(self) -> InputSpec:
        if self.type == "choice" and not self.choices:
            raise ValueError("an input of type choice needs `choices`")
        if self.type != "choice" and self.choices is not None:
            raise ValueError("`choices` only fits an input of type choice")
        if self.type != "text" and self.max_chars is not None:
            raise ValueError("`max_chars` only fits an input of type text")
        if self.type != "number" and (self.minimum is not None or self.maximum is not None):
            raise ValueError("`minimum`/`maximum` only fit an input of type number")
        return self

    @property
    def char_limit(self) -> int:
        return self.max_chars or DEFAULT_MAX_CHARS


class Sampling(_Strict):
    """Sampling defaults sent with the run."""

    temperature: float = Field(ge=0, le=2)
    top_p: float = Field(gt=0, le=1)
    max_tokens: int = Field(ge=1, le=32_768)


class Regulatory(_Strict):
    """Likely regulatory status in the EU, the US and China if a hospital uses the template as written.

    `conditional` is a device only in some uses: `conditions` names, per jurisdiction, when ("device when
    the hint is used without the radiologist's review"), so the partition is written down, not implied.
    """

    eu: RegulatoryStatus
    us: RegulatoryStatus
    cn: RegulatoryStatus
    rationale: str = Field(min_length=10)
    conditions: dict[Jurisdiction, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _conditions_fit(self) -> Regulatory:
        conditional = {j for j in JURISDICTIONS if self.status(j) == "conditional"}
        missing, extra = (
            sorted(conditional - set(self.conditions)),
            sorted(set(self.conditions) - conditional),
        )
        if missing:
            raise ValueError(
                f"a conditional status needs `conditions.<jurisdiction>` (when it is a device): {missing}"
            )
        if extra:
            raise ValueError(f"`conditions` only for a conditional status; not conditional: {extra}")
        short = sorted(j for j, text in self.conditions.items() if len(text.strip()) < 10)
        if short:
            raise ValueError(f"say when it is a device, in 10 characters or more: conditions {short}")
        return self

    def status(self, jurisdiction: Jurisdiction) -> RegulatoryStatus:
        return cast(RegulatoryStatus, getattr(self, jurisdiction))


class Risk(_Strict):
    """The template's risk class: data-privacy and reasoning demand (1 low - 5 high), each with its
    reason, who the output is for, and the likely regulatory status."""

    privacy: int = Field(ge=1, le=5)
    privacy_reason: str = Field(min_length=10)
    reasoning: int = Field(ge=1, le=5)
    reasoning_reason: str = Field(min_length=10)
    target_user: TargetUser
    regulatory: Regulatory

    def device_in(self, jurisdictions: Iterable[Jurisdiction]) -> list[Jurisdiction]:
        """The jurisdictions, of those given, where the template as written is a medical device."""
        return [j for j in jurisdictions if self.regulatory.status(j) == "device"]


class Prompt(_Strict):
    """System and user prompt, Jinja2 text; `{{ name }}` placeholders refer to inputs."""

    system: str = Field(min_length=1)
    user: str = Field(min_length=1)


class TemplateSpec(_Strict):
    """A template file's content, validated; the runtime `Template` wraps it."""

    id: str = Field(pattern=TEMPLATE_ID_PATTERN)
    lang: Literal["de", "en"]
    title: str = Field(min_length=1, max_length=120)
    description: str = Field(min_length=1)
    task_type: TaskType
    guard_task: GuardTask | None = None
    guard_checks: tuple[GuardCheck, ...] = ()
    source_variable: str | None = None
    output_format: Literal["text", "json"] = "text"
    output_schema: dict[str, Any] | None = None
    decision: Decision | None = None
    warning: str = Field(min_length=1)
    sampling: Sampling
    risk: Risk
    inputs: tuple[InputSpec, ...] = Field(min_length=1)
    prompt: Prompt

    @field_validator("output_schema", mode="before")
    @classmethod
    def _schema_from_json(cls, value: Any) -> Any:
        # Files carry the schema as a JSON string: TOML has no null and nests schemas poorly.
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON: {exc}") from exc
        if isinstance(value, dict):
            try:
                jsonschema.Draft202012Validator.check_schema(value)
            except jsonschema.SchemaError as exc:
                raise ValueError(f"not a valid JSON Schema: {exc.message}") from exc
        return value

    @field_validator("guard_checks")
    @classmethod
    def _unique_checks(cls, checks: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(checks)) != len(checks):
            raise ValueError("a check is named twice")
        return checks

    @model_validator(mode="after")
    def _consistent(self) -> TemplateSpec:
        names = [i.name for i in self.inputs]
        if len(set(names)) != len(names):
            raise ValueError(f"input names must be unique: {names}")
        if (self.output_format == "json") != (self.output_schema is not None):
            raise ValueError("output_format json needs an output_schema, and only json has one")
        if self.decision is not None and self.output_format != "json":
            raise ValueError("a decision table reads the model's JSON: set output_format = 'json'")
        if self.task_type == "anchored" and self.source_variable is None:
            raise ValueError("an anchored template names its source text in `source_variable`")
        if (self.guard_task is None) != (not self.guard_checks):
            raise ValueError("guard_task and guard_checks go together: set both or neither")
        if self.guard_task is not None and self.source_variable is None:
            raise ValueError("the guard compares against the source: set `source_variable`")
        self._check_placeholders(set(names))
        if self.source_variable is not None:
            source = next((i for i in self.inputs if i.name == self.source_variable), None)
            if source is None or source.type != "text" or not source.required:
                raise ValueError(f"source_variable {self.source_variable!r} must be a required text input")
        return self

    def _check_placeholders(self, declared: set[str]) -> None:
        used: set[str] = set()
        for part in ("system", "user"):
            try:
                used |= placeholders(getattr(self.prompt, part))
            except TemplateSyntaxError as exc:
                raise ValueError(f"prompt.{part} line {exc.lineno}: {exc.message}") from exc
        provided = DECISION_VARIABLES.get(self.decision, frozenset()) if self.decision else frozenset()
        undeclared = used - declared - provided
        if undeclared:
            raise ValueError(f"the prompt uses undeclared placeholders {sorted(undeclared)}")
        unused = declared - used
        if unused:
            raise ValueError(f"declared inputs {sorted(unused)} are not used in the prompt")

    def input(self, name: str) -> InputSpec | None:
        return next((i for i in self.inputs if i.name == name), None)
