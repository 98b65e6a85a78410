"""The evaluation harness: every enabled template over its cases, through the path clinicians use.

Each case is rendered, sent and judged exactly as a workbench run is (`medvault.templates._run`:
`chat_request`, `guard_check`, then `Template.postprocess`); the engine call is an `Engine` (in
production the gateway's own streaming call, `medvault.cli._eval_engine`). What is measured per
case is numbers only — guard verdict, schema validity, quotes found verbatim, agreement of a guideline
template with the code calculator, length ratio, latency, tokens per second — so an evaluation can be
stored and audited without any text.

Cases are synthetic (CC0) JSON lines next to the template files: `cases/<id>.<lang>.jsonl`, one object
per line: `{"id": "...", "inputs": {...}, "expected": {...}}`; `expected.nodule` holds the true features
of a guideline case, from which the calculator computes the category the model's extraction must reach.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from medvault.errors import ApiError, GuardError, MedVaultError, TemplateError
from medvault.templates import Template
from medvault.templates._fleischner import recommend_extracted
from medvault.templates._run import chat_request, guard_check, source_text

CASES_DIR = "cases"


class EvaluationError(MedVaultError):
    """Evaluation cannot start or finish: missing or invalid cases, no engine for the model."""


@dataclass(frozen=True)
class Case:
    """One synthetic input of one template, with what a correct answer must match."""

    id: str
    inputs: dict[str, Any]
    expected: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """What the engine gave for one request."""

    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    model_digest: str | None


class Engine(Protocol):
    """The engine call of a run: one chat body in, the whole answer out (ApiError on failure)."""

    async def complete(self, body: dict[str, Any]) -> Answer: ...


def case_file(template: Template) -> Path:
    """Where a template's cases live: beside its file, in `cases/<id>.<lang>.jsonl`."""
    return Path(template.source).parent / CASES_DIR / f"{template.id}.{template.lang}.jsonl"


def load_cases(template: Template) -> list[Case]:
    """The template's cases, each checked against its inputs (and, for a guideline, the calculator)."""
    path = case_file(template)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvaluationError(
            f"{path}: no evaluation cases for {template.id} ({template.lang}): {exc}"
        ) from exc
    cases: list[Case] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
            case = Case(id=str(raw["id"]), inputs=dict(raw["inputs"]), expected=dict(raw.get("expected", {})))
            template.validate_inputs(case.inputs)
            if template.decision == "fleischner-2017":
                _expected_category(template, case)
        except (ValueError, KeyError, TypeError, TemplateError) as exc:
            raise EvaluationError(f"{where}: not a valid case: {exc}") from exc
        if any(c.id == case.id for c in cases):
            raise EvaluationError(f"{where}: case id {case.id!r} is used twice")
        cases.append(case)
    if not cases:
        raise EvaluationError(f"{path}: no cases")
    return cases


def _expected_category(template: Template, case: Case) -> str:
    """The calculator's category for the case's true features (a clinician's risk input overrides)."""
    truth = dict(case.expected["nodule"])
    if case.inputs.get("risk") in ("low", "high"):
        truth["risk"] = case.inputs["risk"]
    return recommend_extracted(truth, template.lang).category


def _words(text: str) -> int:
    return len(text.split())


def _is_quote(key: Any) -> bool:
    """A key whose value `Template.postprocess` checks as a verbatim quote."""
    return isinstance(key, str) and key.endswith("quote")


def _quotes(data: Any) -> int:
    """How many non-empty quotes an answer carries (the keys `Template.postprocess` checks)."""
    if isinstance(data, dict):
        return sum(1 if _is_quote(k) and isinstance(v, str) and v else _quotes(v) for k, v in data.items())
    if isinstance(data, list):
        return sum(_quotes(v) for v in data)
    return 0


def asks_for_quotes(schema: Any) -> bool:
    """Whether an output schema has a quote property anywhere (the template then asks for quotes)."""
    if isinstance(schema, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict) and any(_is_quote(k) for k in properties):
            return True
        return any(asks_for_quotes(v) for v in schema.values())
    if isinstance(schema, list):
        return any(asks_for_quotes(v) for v in schema)
    return False


@dataclass
class CaseResult:
    """The numbers of one case (no text: it is stored and may be audited)."""

    template: str  # "<id>.<lang>"
    case_id: str
    ok: bool  # the engine answered
    error: str | None = None  # the engine's error code when it did not
    guard_verdict: str | None = None  # ok / review / unchecked; None: the template has no guard
    schema_valid: bool | None = None  # JSON templates only
    quotes: int = 0
    quotes_invalid: int = 0
    agreement: bool | None = None  # guideline templates only
    length_ratio: float | None = None  # answer words / source words
    latency_s: float = 0.0
    completion_tokens: int | None = None
    tokens_per_s: float | None = None


async def run_case(engine: Engine, model_id: str, template: Template, case: Case) -> CaseResult:
    """One case through the clinicians' path: render, the engine call, the guard, postprocessing."""
    result = CaseResult(template=f"{template.id}.{template.lang}", case_id=case.id, ok=False)
    body = chat_request(template, case.inputs, model_id)
    started = time.perf_counter()
    try:
        answer = await engine.complete(body)
    except ApiError as exc:
        result.latency_s = time.perf_counter() - started
        result.error = exc.code or "error"
        return result
    result.latency_s = elapsed = time.perf_counter() - started
    result.ok = True
    result.completion_tokens = answer.completion_tokens
    if answer.completion_tokens and elapsed > 0:
        result.tokens_per_s = answer.completion_tokens / elapsed
    try:
        guard = guard_check(template, case.inputs, answer.text)
    except GuardError:  # a profile the guard rejects: the run is unchecked, as in the workbench
        result.guard_verdict = "unchecked"
    else:
        result.guard_verdict = str(guard.verdict) if guard is not None else None
    post = template.postprocess(answer.text, case.inputs)
    if template.output_format == "json":
        result.schema_valid = post.ok
    result.quotes = _quotes(post.data)
    result.quotes_invalid = len(post.ungrounded)
    if template.decision == "fleischner-2017":
        got = post.recommendation.category if post.recommendation is not None else None
        result.agreement = got == _expected_category(template, case)
    source = source_text(template, case.inputs) or " ".join(
        v for v in case.inputs.values() if isinstance(v, str)
    )
    if _words(source):
        result.length_ratio = _words(answer.text) / _words(source)
    return result


def _rate(hits: Iterable[bool | None]) -> float | None:
    values = [h for h in hits if h is not None]
    return sum(values) / len(values) if values else None


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _p95(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass
class TemplateMetrics:
    """One template and language over its cases."""

    template: str  # "<id>.<lang>"
    version: str
    task_type: str
    runs: int
    failed: int
    review_per_100: float | None  # per 100 answered runs; None: the template has no guard
    unchecked_per_100: float | None
    schema_valid: float | None  # share of answers valid against the schema (JSON templates)
    quote_valid: float | None  # share of quotes found verbatim (None: no quotes given)
    agreement: float | None  # share agreeing with the calculator (guideline templates)
    length_ratio: float | None  # median
    latency_s: float | None  # median
    latency_p95_s: float | None
    tokens_per_s: float | None  # median
    quoting: bool = False  # the template's schema asks for verbatim quotes (then none at all fails)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(template: Template, results: Sequence[CaseResult]) -> TemplateMetrics:
    """Per-template numbers from its case results."""
    answered = [r for r in results if r.ok]
    guarded = [r for r in answered if r.guard_verdict is not None]

    def per_100(verdict: str) -> float | None:
        return 100 * sum(r.guard_verdict == verdict for r in guarded) / len(guarded) if guarded else None

    quotes = sum(r.quotes for r in answered)
    return TemplateMetrics(
        template=f"{template.id}.{template.lang}", version=template.version, task_type=template.task_type,
        runs=len(results), failed=len(results) - len(answered),
        review_per_100=per_100("review"), unchecked_per_100=per_100("unchecked"),
        schema_valid=_rate(r.schema_valid for r in answered),
        quote_valid=(quotes - sum(r.quotes_invalid for r in answered)) / quotes if quotes else None,
        agreement=_rate(r.agreement for r in answered),
        length_ratio=_median(r.length_ratio for r in answered),
        latency_s=_median(r.latency_s for r in answered),
        latency_p95_s=_p95([r.latency_s for r in answered]),
        tokens_per_s=_median(r.tokens_per_s for r in answered),
        quoting=asks_for_quotes(template.output_schema),
    )  # fmt: skip


@dataclass
class Plan:
    """What an evaluation runs: each template with its cases (at most `limit` per template)."""

    templates: list[tuple[Template, list[Case]]]

    @classmethod
    def of(cls, templates: Iterable[Template], limit: int | None = None) -> Plan:
        return cls([(t, load_cases(t)[:limit]) for t in templates])

    @property
    def size(self) -> int:
        return sum(len(cases) for _, cases in self.templates)


async def run_plan(
    engine: Engine,
    model_id: str,
    plan: Plan,
    *,
    max_tokens: int | None = None,
    progress: Callable[[CaseResult], None] = lambda _result: None,
) -> tuple[list[TemplateMetrics], list[CaseResult], set[str]]:
    """Run every case one after the other (one engine, so latencies are not each other's queueing);
    returns per-template metrics, per-case results and the digests the engine answered with."""
    metrics: list[TemplateMetrics] = []
    results: list[CaseResult] = []
    digests: set[str] = set()
    capped = _Capped(engine, max_tokens, digests)
    for template, cases in plan.templates:
        mine = []
        for case in cases:
            result = await run_case(capped, model_id, template, case)
            mine.append(result)
            progress(result)
        metrics.append(summarize(template, mine))
        results.extend(mine)
    return metrics, results, digests


@dataclass
class _Capped:
    """The engine with an optional cap on answer length (recorded: a capped evaluation is marked),
    noting which weights answered."""

    engine: Engine
    max_tokens: int | None
    digests: set[str]

    async def complete(self, body: dict[str, Any]) -> Answer:
        if self.max_tokens is not None:
            body = {
                **body,
                "max_tokens": min(int(body.get("max_tokens") or self.max_tokens), self.max_tokens),
            }
        answer = await self.engine.complete(body)
        if answer.model_digest:
            self.digests.add(answer.model_digest)
        return answer


def metrics_by_key(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(row["template"]): dict(row) for row in rows}
