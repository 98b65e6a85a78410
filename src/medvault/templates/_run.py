"""What one run of a template does besides the engine call, shared by the workbench and the evaluation.

The workbench's runner (`medvault.workbench._runs`) and `medvault evaluate` must build the same request
and judge the answer the same way, or an evaluation would measure something clinicians never get:

    body = chat_request(template, inputs, model_id)      # messages + the template's sampling
    guard = guard_check(template, inputs, output)        # None: the template has no guard profile
    result = template.postprocess(output, inputs)        # JSON, quotes, the decision table
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from medvault.guard import GuardResult, check
from medvault.templates._template import Template


def chat_request(template: Template, inputs: Mapping[str, Any], model_id: str) -> dict[str, Any]:
    """The chat completion body for these inputs (TemplateInputError when they do not fit)."""
    sampling = template.sampling.model_dump(exclude_none=True)
    return {"model": model_id, "messages": template.render(inputs), **sampling}


def source_text(template: Template, inputs: Mapping[str, Any]) -> str | None:
    """The text the output is checked against (the guard) and, for anchored templates, diffed against."""
    if not template.source_variable:
        return None
    value = inputs.get(template.source_variable)
    return value if isinstance(value, str) else None


def guard_languages(template: Template, inputs: Mapping[str, Any]) -> tuple[str, str | None]:
    """Source and output language: the template's, or for a translation its `direction` (`de-en`)."""
    direction = inputs.get("direction")
    if template.guard_task == "translation" and isinstance(direction, str) and "-" in direction:
        source, _, target = direction.partition("-")
        return source, target
    return template.lang, None


def guard_check(template: Template, inputs: Mapping[str, Any], output: str) -> GuardResult | None:
    """The guard's verdict on `output`, for templates with a guard profile; GuardError when the guard
    rejects the profile (the caller decides whether that fails the run)."""
    source = source_text(template, inputs)
    if source is None or not template.guard_task:
        return None
    lang, target = guard_languages(template, inputs)
    return check(
        source, output, task=template.guard_task, lang=lang, target_lang=target, checks=template.guard_checks
    )
