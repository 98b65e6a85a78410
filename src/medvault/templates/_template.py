"""A loaded template: renders chat messages from validated inputs and post-processes the model's answer."""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from pydantic import Field

from medvault.errors import TemplateError, ValidationFailed
from medvault.templates import _fleischner
from medvault.templates._spec import PROMPT_ENV, InputSpec, TemplateSpec

_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*\n(?P<body>.*?)\n?\s*```\s*$", re.DOTALL)
_TRUE, _FALSE = frozenset({"true", "yes", "on", "1"}), frozenset({"false", "no", "off", "0"})


class TemplateInputError(TemplateError, ValidationFailed):
    """The inputs of a run do not fit the template (HTTP 422); `param` names the input."""


@dataclass(frozen=True)
class PostResult:
    """The model's answer made usable: display text, parsed JSON, problems, a computed recommendation."""

    text: str
    data: dict[str, Any] | None = None
    errors: tuple[str, ...] = ()
    recommendation: _fleischner.Recommendation | None = None
    ungrounded: tuple[str, ...] = ()  # quotes that are not verbatim in the input they claim to quote
    extracted: dict[str, Any] = field(default_factory=dict)  # what a decision table was fed

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form for the API."""
        return {
            "ok": self.ok,
            "text": self.text,
            "data": self.data,
            "errors": list(self.errors),
            "recommendation": self.recommendation.to_dict() if self.recommendation else None,
            "extracted": self.extracted,
            "ungrounded": list(self.ungrounded),
        }


def _input_error(spec: InputSpec, problem: str) -> TemplateInputError:
    return TemplateInputError(f"input {spec.name!r} ({spec.label}): {problem}", param=spec.name)


def _coerce_number(spec: InputSpec, value: Any) -> int | float:
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))  # German decimal comma from forms
        except ValueError:
            raise _input_error(spec, f"{value!r} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _input_error(spec, f"expected a number, got {type(value).__name__}")
    if spec.minimum is not None and value < spec.minimum:
        raise _input_error(spec, f"must be at least {spec.minimum:g}")
    if spec.maximum is not None and value > spec.maximum:
        raise _input_error(spec, f"must be at most {spec.maximum:g}")
    # 3.0 would read "3.0" in a prompt asking for "3 sentences".
    return int(value) if float(value).is_integer() else value


def _coerce(spec: InputSpec, value: Any) -> Any:
    """The value in its declared type, or a TemplateInputError that names the input."""
    if spec.type == "number":
        return _coerce_number(spec, value)
    if spec.type == "boolean":
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if not isinstance(value, bool):
            raise _input_error(spec, f"expected true or false, got {value!r}")
        return value
    if not isinstance(value, str):
        raise _input_error(spec, f"expected text, got {type(value).__name__}")
    if spec.type == "choice" and value not in (spec.choices or ()):
        raise _input_error(spec, f"{value!r} is not one of {list(spec.choices or ())}")
    if spec.type == "text" and len(value) > spec.char_limit:
        raise _input_error(spec, f"{len(value)} characters, at most {spec.char_limit} allowed")
    return value


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_TOO_COMPLEX = "the answer is not usable JSON: nested too deeply or a number too long"


def _parse_json(output_text: str) -> tuple[Any, str | None]:
    """The JSON in a model's answer, tolerating ``` fences and chatter around one object."""
    text = output_text.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group("body")
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        first, last = text.find("{"), text.rfind("}")
        if 0 <= first < last:
            with contextlib.suppress(ValueError, RecursionError):
                return json.loads(text[first : last + 1]), None
        return None, f"the answer is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    except (ValueError, RecursionError):  # nested deeper than Python recurses, or a number too long
        return None, _TOO_COMPLEX


class Template(TemplateSpec):
    """A validated template file plus its content-hash `version` and the file it came from."""

    version: str = Field(pattern=r"^sha256:[0-9a-f]{12}$")
    source: str

    @property
    def decision_table(self) -> str | None:
        """The decision table computed in code, as text for the prompt and the clinician."""
        return _fleischner.table_text(self.lang) if self.decision == "fleischner-2017" else None

    def _context(self) -> dict[str, Any]:
        table = self.decision_table
        return {} if table is None else {"guideline_table": table}

    def _ungrounded(self, data: Any, inputs: Mapping[str, Any], path: str = "") -> list[str]:
        """Quotes not found verbatim (up to whitespace) in their input.

        Convention of the JSON templates: a key `quote` quotes the source variable, `<input>_quote`
        quotes that input; null or empty quotes are not checked.
        """
        found: list[str] = []
        items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
        for key, value in items:
            where = f"{path}/{key}" if path else str(key)
            if isinstance(value, dict | list):
                found += self._ungrounded(value, inputs, where)
                continue
            if not (isinstance(key, str) and key.endswith("quote") and isinstance(value, str) and value):
                continue
            target = self.source_variable if key == "quote" else key.removesuffix("_quote")
            source = inputs.get(target or "")
            if isinstance(source, str) and " ".join(value.split()) not in " ".join(source.split()):
                found.append(f"{where}: not found verbatim in input {target!r}")
        return found

    def validate_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Every declared input by name, coerced to its type (None where optional and left out)."""
        unknown = sorted(set(inputs) - {i.name for i in self.inputs})
        if unknown:
            raise TemplateInputError(
                f"unknown input {unknown[0]!r} for template {self.id}; it takes "
                f"{[i.name for i in self.inputs]}",
                param=unknown[0],
            )
        values: dict[str, Any] = {}
        for spec in self.inputs:
            value = inputs.get(spec.name)
            if _is_blank(value):
                if spec.required:
                    raise _input_error(spec, "is required")
                values[spec.name] = None
            else:
                values[spec.name] = _coerce(spec, value)
        return values

    def render(self, inputs: Mapping[str, Any]) -> list[dict[str, str]]:
        """OpenAI chat messages (system, user) for these inputs, after validating them."""
        context = {**self._context(), **self.validate_inputs(inputs)}
        return [
            {"role": "system", "content": PROMPT_ENV.from_string(self.prompt.system).render(context).strip()},
            {"role": "user", "content": PROMPT_ENV.from_string(self.prompt.user).render(context).strip()},
        ]

    def postprocess(self, output_text: str, inputs: Mapping[str, Any] | None = None) -> PostResult:
        """Parse and check the answer; for a decision template, compute the recommendation in code.

        `inputs` (optional) are the run's inputs: a clinician-given value, e.g. the Fleischner risk
        group, then takes precedence over what the model extracted.
        """
        if self.output_format == "text" or self.output_schema is None:
            return PostResult(text=output_text.strip())
        data, problem = _parse_json(output_text)
        if problem is not None:
            return PostResult(text=output_text.strip(), errors=(problem,))
        validator = jsonschema.Draft202012Validator(self.output_schema)
        errors = tuple(
            f"{'/'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message}"
            for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
        )
        pretty = json.dumps(data, ensure_ascii=False, indent=2)
        if errors or not isinstance(data, dict):
            return PostResult(text=pretty, errors=errors or ("the answer is not a JSON object",))
        if self.decision == "fleischner-2017":
            extracted = dict(data)
            risk = (inputs or {}).get("risk")
            if risk in ("low", "high"):
                extracted["risk"] = risk
            recommendation = _fleischner.recommend_extracted(extracted, self.lang)
            return PostResult(recommendation.text, data, recommendation=recommendation, extracted=extracted)
        ungrounded = tuple(self._ungrounded(data, inputs)) if inputs else ()
        return PostResult(text=pretty, data=data, ungrounded=ungrounded)
