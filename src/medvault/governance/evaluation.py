"""`medvault evaluate`: evaluate a model's running engines over every enabled template, judge, store, report.

    outcome = evaluate_model(settings, store, "smollm2-135m-instruct", run_by="root (login alice)")
    write_report(outcome, Path("eval-out"))     # HTML, CSV, PNG

The engine (`open_engine`, in production the gateway's own chat call) and the place its calls run from
(`reach`: under isolation, the gateway's zone) are given by the caller, `medvault.cli.evaluate`: the
gateway depends on this package, not the other way round. See docs/governance.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

from medvault.backends import ModelSpec, Runtime, replica_digest, replica_name
from medvault.config import Settings
from medvault.errors import ConfigError
from medvault.governance._combination import Combination, current_combination
from medvault.governance._eval_policy import Outcome, baseline_for, record_evaluation
from medvault.governance._eval_report import write_report
from medvault.governance._evaluation import (
    Answer,
    CaseResult,
    Engine,
    EvaluationError,
    Plan,
    TemplateMetrics,
    load_cases,
    run_plan,
)
from medvault.store import Store
from medvault.templates import Template, TemplateLibrary

_Work = tuple[list[TemplateMetrics], list[CaseResult], set[str]]
OpenEngine = Callable[[ModelSpec], AbstractAsyncContextManager[Engine]]
Reach = Callable[[Runtime, Callable[[], _Work]], _Work]

__all__ = [
    "Answer",
    "CaseResult",
    "Engine",
    "EvaluationError",
    "Outcome",
    "Plan",
    "evaluate_model",
    "load_cases",
    "plan_for",
    "running_model",
    "write_report",
]


def running_model(settings: Settings, model_id: str) -> tuple[ModelSpec, str, Runtime]:
    """The model's engines as the supervisor started them, and the one digest they all serve."""
    runtime_file = settings.data_dir / "run" / "runtime.json"
    if not runtime_file.is_file():
        raise EvaluationError(
            f"MedVault is not running here ({runtime_file} is missing): start it (`medvault up`); the "
            "evaluation uses the engines it runs, held or not"
        )
    runtime = Runtime.read(runtime_file)
    spec = next((m for m in runtime.models if m.id == model_id), None)
    if spec is None:
        known = ", ".join(m.id for m in runtime.models)
        raise EvaluationError(f"no running model {model_id!r}; running: {known}")
    digests = {r.digest for r in spec.replicas}
    if None in digests:
        raise EvaluationError(f"model {model_id} has a replica without a digest: nothing to approve")
    if len(digests) != 1:
        raise EvaluationError(
            f"the replicas of {model_id} serve different weights {sorted(map(str, digests))}"
        )
    check_weights_unchanged(settings, spec)
    return spec, str(digests.pop()), runtime


def check_weights_unchanged(settings: Settings, spec: ModelSpec) -> None:
    """Refuse when a replica's weights on disk are no longer those whose digest the start recorded: the
    engines may already read the new bytes, and the evaluation would be stored under the old digest."""
    model = next((m for m in settings.models if m.id == spec.id), None)
    recorded = {r.name: r.digest for r in spec.replicas}
    try:  # cached by path, inode, size and mtime: unchanged weights are not hashed again
        now = {
            replica_name(spec.id, index): replica_digest(replica, settings.data_dir)
            for index, replica in enumerate(model.replicas if model else [])
        }
    except (OSError, ConfigError) as exc:
        raise EvaluationError(f"the weights of {spec.id} cannot be read ({exc}); nothing evaluated") from exc
    if now != recorded:
        names = sorted(name for name in recorded.keys() | now.keys() if recorded.get(name) != now.get(name))
        changed = ", ".join(f"{name} {recorded.get(name)} -> {now.get(name)}" for name in names)
        raise EvaluationError(
            f"the weights of {spec.id} changed since MedVault started ({changed}): the engines may serve "
            "other weights than the digest they run under; restart it (`medvault up` registers the new "
            "digest as pending), then evaluate"
        )


def plan_for(
    settings: Settings, selected: Sequence[str] = (), limit: int | None = None
) -> tuple[Plan, list[Template]]:
    """The cases to run: of every template the deployment enables, or of those `selected`
    (`id` or `id.lang`); and the enabled templates, whose versions make up the combination."""
    enabled = TemplateLibrary.for_settings(settings).list()
    chosen = [t for t in enabled if not selected or t.id in selected or f"{t.id}.{t.lang}" in selected]
    unknown = sorted(set(selected) - {t.id for t in chosen} - {f"{t.id}.{t.lang}" for t in chosen})
    if unknown:
        raise EvaluationError(f"no enabled template {unknown}; `medvault templates list` shows them")
    return Plan.of(chosen, limit), enabled


def evaluate_model(
    settings: Settings,
    store: Store,
    model_id: str,
    *,
    open_engine: OpenEngine,
    reach: Reach,
    run_by: str,
    against: str | None = None,
    selected: Sequence[str] = (),
    limit: int | None = None,
    max_tokens: int | None = None,
    progress: Callable[[CaseResult], None] = lambda _result: None,
    on_plan: Callable[[Plan], None] = lambda _plan: None,
) -> Outcome:
    """Run, judge, store and audit one evaluation of `model_id`'s running engines.

    Its combination is the model digest with the versions of the templates it ran and the guard's; only
    an evaluation of every enabled template (no `selected`) can therefore ground an approval.
    """
    spec, digest, runtime = running_model(settings, model_id)
    plan, _enabled = plan_for(settings, selected, limit)
    on_plan(plan)
    combination: Combination = current_combination(digest, [t for t, _ in plan.templates])
    started = datetime.now(UTC)

    async def work() -> _Work:
        async with open_engine(spec) as engine:
            return await run_plan(engine, model_id, plan, max_tokens=max_tokens, progress=progress)

    metrics, results, _answered = reach(runtime, lambda: asyncio.run(work()))
    check_weights_unchanged(settings, spec)  # the files may have been swapped while the cases ran
    return record_evaluation(
        store, model_id=model_id, combination=combination, metrics=metrics, results=results,
        baseline=baseline_for(store, against or model_id), policy=settings.governance.evaluation,
        max_tokens=max_tokens, started_at=started, finished_at=datetime.now(UTC), run_by=run_by,
    )  # fmt: skip
