"""How much text a template's inputs may take, in the model's tokens, and how much they take now.

    input limit = model context window − the template's prompt (inputs empty) − the template's max_tokens

The template's prompt is counted once per model and template version (with every text input one letter
long, so the count is slightly high) and kept while it was counted by the engine's own tokenizer. The
inputs are counted as the text they are. Nothing is ever cut: a run over the limit is refused (413).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medvault.backends._tokens import TokenCount, TokenCounter
from medvault.errors import PayloadTooLarge
from medvault.templates import Template
from medvault.workbench._messages import message

_Key = tuple[str, str, str]  # model id, template id, template version


@dataclass(frozen=True, slots=True)
class Measure:
    """The inputs' tokens against the template's input limit for one model."""

    tokens: int
    limit: int
    exact: bool

    @property
    def over(self) -> bool:
        return self.tokens > self.limit


class InputTooLong(PayloadTooLarge):
    """The inputs do not fit the model's window beside the template's prompt and answer."""

    def __init__(self, measure: Measure, lang: str) -> None:
        text = message("error.input_too_long", lang, tokens=measure.tokens, limit=measure.limit)
        super().__init__(text, code="input_too_long", param="inputs")
        self.measure = measure

    def body(self) -> dict[str, Any]:
        """The 413 answer: the usual error shape with the numbers the UI shows."""
        return {
            "error": {
                "message": self.message, "type": self.error_type, "code": self.code, "param": self.param,
                "tokens": self.measure.tokens, "limit": self.measure.limit, "exact": self.measure.exact,
            }
        }  # fmt: skip


def _skeleton(template: Template) -> dict[str, Any]:
    """The smallest valid inputs: required text one letter, the first choice, the least number."""
    values: dict[str, Any] = {}
    for spec in template.inputs:
        if not spec.required:
            continue
        if spec.type == "text":
            values[spec.name] = "x"
        elif spec.type == "choice":
            values[spec.name] = (spec.choices or ("",))[0]
        elif spec.type == "number":
            values[spec.name] = spec.minimum if spec.minimum is not None else min(1, spec.maximum or 1)
        else:
            values[spec.name] = False
    return values


def input_text(template: Template, inputs: dict[str, Any]) -> str:
    """What the inputs add to the prompt: the values of its text inputs."""
    texts = (inputs.get(spec.name) for spec in template.inputs if spec.type == "text")
    return "\n".join(value for value in texts if isinstance(value, str) and value)


class Limits:
    """Input limits and counts for the workbench, over the gateway's token counter."""

    def __init__(self, counter: TokenCounter, session: Any) -> None:
        self._counter = counter
        self._session = session  # a callable giving the gateway's aiohttp session once it runs
        self._prompts: dict[_Key, int] = {}

    async def _prompt(self, template: Template, model_id: str) -> TokenCount:
        key = (model_id, template.id, template.version)
        known = self._prompts.get(key)
        if known is not None:
            return TokenCount(known, exact=True)
        counted = await self._counter.count(self._session(), model_id, template.render(_skeleton(template)))
        if counted.exact:
            self._prompts[key] = counted.tokens
        return counted

    async def limit(self, template: Template, model_id: str) -> tuple[int, bool]:
        """The template's input limit on the model, and whether the engine counted it."""
        prompt = await self._prompt(template, model_id)
        window = self._counter.window(model_id)
        return window - prompt.tokens - template.sampling.max_tokens, prompt.exact

    async def measure(self, template: Template, inputs: dict[str, Any], model_id: str) -> Measure:
        """The inputs' tokens against the limit (inputs not yet validated: only their text counts)."""
        limit, limit_exact = await self.limit(template, model_id)
        text = input_text(template, inputs)
        if not text:
            return Measure(0, limit, limit_exact)
        counted = await self._counter.count_text(self._session(), model_id, text)
        return Measure(counted.tokens, limit, limit_exact and counted.exact)
